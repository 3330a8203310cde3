"""An MCP server on the Python SDK 2.x (`mcp` pinned in requirements.lock next to this file).

The same offering as server.mjs, written the way the Python SDK 2.x documents a server for MCP
2026-07-28: an `MCPServer` whose `ask` tool fills its parameters with `Resolve(...)` resolvers
(a form elicitation, a sampling request, the client's roots) -- the SDK batches them into one
`input_required` result on 2026-07-28 and sends them as requests mid-call on 2025-11-25. Latch's
tests (crates/latch-cli/tests/era2026.rs) run the CLI against it over Streamable HTTP:

    python server.py [--port N]        Streamable HTTP on 127.0.0.1 (N = 0: any free port)
    python server.py --stdio           stdio

Over HTTP the first stdout line is `{"url": "http://127.0.0.1:PORT/mcp", "port": PORT}`, printed
once it accepts connections; it stops on SIGTERM / SIGINT (and when its stdin closes, so a test
that dies takes it along).

    tools     echo {text}, add {a, b}, count {steps} (a progress notification per step),
              slow {seconds}, ask (needs input; a declined form ends the call with
              "ask: declined, nothing done"), grow (adds a tool named extra-N and announces
              notifications/tools/list_changed)
    resources sdk2://about (text), sdk2://items/{id} (a template)
    prompts   greet {name, style?}
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import os
from typing import Annotated, Literal

import anyio
import uvicorn
from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.resolve import Elicit, ListRoots, Resolve, Sample
from mcp_types import CreateMessageResult, ListRootsResult, SamplingMessage, TextContent
from pydantic import BaseModel, Field

NAME = "latch-sdk2-py"

mcp = MCPServer(NAME, version="2.3.0")
grown = 0


class Who(BaseModel):
    name: str = Field("Ada", title="Name")
    colour: Literal["red", "green", "blue"] = Field("green", title="Colour")


def ask_who() -> Elicit[Who]:
    return Elicit("Who is asking?", Who)


# Sampling and roots only from a client that declared them (a server must not ask for what the
# client did not offer); the tool then reports no sample / no roots.
def ask_sample(ctx: Context) -> Sample | None:
    declared = ctx.client_capabilities
    if declared is None or declared.sampling is None:
        return None
    prompt = TextContent(type="text", text="Say hello in one word.")
    return Sample([SamplingMessage(role="user", content=prompt)], max_tokens=20)


def ask_roots(ctx: Context) -> ListRoots | None:
    declared = ctx.client_capabilities
    if declared is None or declared.roots is None:
        return None
    return ListRoots()


@mcp.tool(description="Echoes the text back.")
def echo(text: str) -> str:
    return f"echo: {text}"


@mcp.tool(description="Adds two numbers.")
def add(a: float, b: float) -> str:
    def show(x: float) -> str:
        return str(int(x)) if x == int(x) else str(x)

    return f"The sum of {show(a)} and {show(b)} is {show(a + b)}."


@mcp.tool(description="Counts to `steps`, sending a progress notification per step.")
async def count(steps: Annotated[int, Field(ge=1, le=20)], ctx: Context) -> str:
    for i in range(1, steps + 1):
        await ctx.report_progress(i, steps, f"step {i} of {steps}")
        await anyio.sleep(0.02)
    return f"counted to {steps}"


@mcp.tool(description="Waits `seconds` seconds; ends early when the call is cancelled.")
async def slow(seconds: Annotated[float, Field(ge=0, le=600)]) -> str:
    print(f"{NAME}: slow started", file=sys.stderr, flush=True)
    try:
        await anyio.sleep(seconds)
    except anyio.get_cancelled_exc_class():
        print(f"{NAME}: slow cancelled", file=sys.stderr, flush=True)
        raise
    return f"slept {seconds:g}s"


@mcp.tool(description="Asks who is calling (a form), for a sample from the model, and for the roots.")
async def ask(
    who: Annotated[ElicitationResult[Who], Resolve(ask_who)],
    sample: Annotated[CreateMessageResult | None, Resolve(ask_sample)],
    roots: Annotated[ListRootsResult | None, Resolve(ask_roots)],
) -> str:
    if not isinstance(who, AcceptedElicitation):
        return f"ask: {'cancelled' if who.action == 'cancel' else 'declined'}, nothing done"
    sampled = "(no sample)"
    if sample is not None and isinstance(sample.content, TextContent):
        sampled = sample.content.text
    listed = roots.roots if roots is not None else []
    uris = "".join(f" {root.uri}" for root in listed)
    return f"ask: name={who.data.name} colour={who.data.colour}; sample={sampled}; roots={len(listed)}{uris}"


@mcp.tool(description="Adds a tool named extra-N.")
async def grow(ctx: Context) -> str:
    global grown
    grown += 1
    name = f"extra-{grown}"

    def extra() -> str:
        return name

    mcp.add_tool(extra, name=name, description=f"Added by grow #{grown}.")
    await ctx.notify_tools_changed()  # subscriptions/listen streams (2026-07-28)
    try:
        await ctx.session.send_tool_list_changed()  # a 2025-era connection
    except Exception:  # no channel for it (a stateless request)
        pass
    return f"added {name}"


@mcp.resource("sdk2://about", name="about", description="What this server is.", mime_type="text/plain")
def about() -> str:
    return f"{NAME}: a Python SDK 2.x server"


@mcp.resource("sdk2://items/{id}", name="item", description="One item by id.", mime_type="text/plain")
def item(id: str) -> str:
    return f"item {id}"


@mcp.prompt(description="A greeting for someone.")
def greet(name: str, style: str | None = None) -> str:
    return f"Greet {name}{f' in a {style} way' if style else ''}."


def exit_when_stdin_closes() -> None:
    sys.stdin.read()
    os._exit(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--stdio", action="store_true")
    args = parser.parse_args()
    if args.stdio:
        mcp.run("stdio")
        return
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    port = sock.getsockname()[1]
    app = mcp.streamable_http_app(host="127.0.0.1")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    url = f"http://127.0.0.1:{port}/mcp"

    async def announce() -> None:
        while not server.started:
            await anyio.sleep(0.02)
        print(f"{NAME} listening on port {port}", file=sys.stderr, flush=True)
        print(json.dumps({"url": url, "port": port}), flush=True)

    async def run() -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(announce)
            await server.serve(sockets=[sock])

    anyio.run(run)


if __name__ == "__main__":
    main()
