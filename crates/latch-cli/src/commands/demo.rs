//! `latch demo`: run the bundled demo MCP server (`latch-demo`) on 127.0.0.1 until Ctrl-C, and
//! say how to add it and sign in. With `--json`, one line `{"url": …}` once it listens, so a
//! script or a test can start it and read where it is.

use std::{io::ErrorKind, process::ExitCode, time::Duration};

use anyhow::bail;
use latch_demo::{DemoOptions, DemoServer};
use serde_json::json;

pub async fn run(port: u16, token_ttl: u64, json: bool) -> anyhow::Result<ExitCode> {
    if token_ttl == 0 {
        bail!("--token-ttl must be at least 1 second");
    }
    let options = DemoOptions {
        port,
        access_token_ttl: Duration::from_secs(token_ttl),
    };
    let server = match DemoServer::start(options).await {
        Ok(server) => server,
        Err(error) if error.kind() == ErrorKind::AddrInUse => bail!(
            "port {port} on 127.0.0.1 is taken (is the demo already running, in the Latch app \
             or another `latch demo`?) — choose another with --port N, or --port 0 for any free one"
        ),
        Err(error) => bail!("could not start the demo server on 127.0.0.1:{port}: {error}"),
    };
    let url = server.url();
    if json {
        println!("{}", json!({ "url": url }));
    } else {
        println!("Latch demo MCP server listening on {url}");
        println!(
            "It runs on this computer only; signing in is approved at once, and access tokens \
             last {token_ttl} s (then Latch refreshes them)."
        );
        println!();
        println!("Add it and sign in:");
        println!("  latch servers add demo {url}");
        println!("  latch login demo");
        println!("Then try:");
        println!("  latch tools demo");
        println!("  latch call demo add a=2 b=3");
        println!("  latch call demo long_task seconds=5");
        println!();
        println!("Press Ctrl-C to stop.");
    }
    let stopped = tokio::signal::ctrl_c().await;
    server.stop().await;
    if !json {
        println!("Demo server stopped.");
    }
    stopped?;
    Ok(ExitCode::SUCCESS)
}
