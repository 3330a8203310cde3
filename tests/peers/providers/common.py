"""What both provider peers share: a listening socket on 127.0.0.1 (a free port unless one is
given), the one JSON line that tells the test where they listen, and exiting when the test's
stdin pipe closes, so a test that dies never leaves a server behind."""

import json
import os
import socket
import stat
import sys
import threading


def listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    return sock


def announce(info: dict) -> None:
    """Print the JSON line the Rust fixture waits for."""
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()


def exit_when_stdin_closes() -> None:
    """When stdin is a pipe, exit as soon as it reaches end of file."""
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return
    if not stat.S_ISFIFO(mode):
        return

    def watch():
        while os.read(0, 4096):
            pass
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()
