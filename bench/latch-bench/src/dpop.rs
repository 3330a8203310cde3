//! `latch-bench dpop MCP_URL`: what a DPoP-bound call costs over a bearer one. It signs in to
//! the MCP server of `tests/peers/oidc/dpop-mcp.mjs` the way `latch` does (a 401 on connect
//! starts a headless sign-in; the grant, and with DPoP its key, kept in a token store), then
//! calls `echo` `--calls` times one after another (per-call latency) and `--calls` times with
//! `--concurrency` in flight. `bench/run` runs it twice against the same peer script, once with
//! `DPOP_MODE=dpop` (every request carries a fresh ES256 proof, which the server verifies) and
//! once with `DPOP_MODE=bearer` (the baseline), and divides.

use std::time::Instant;

use anyhow::{Context, Result};
use latch_core::{
    ConnectOptions, Connection,
    auth::{BrowserMode, SharedCredentialStore},
    config::ServerConfig,
    secrets::{GrantStore, SecretStore},
};
use serde_json::{Value, json};

use crate::{Options, concurrent, percentiles, sequential};

pub async fn dpop(options: &Options) -> Result<Value> {
    let calls = options.number("calls", 2000)? as usize;
    let in_flight = options.number("concurrency", 16)? as usize;
    let runs = options.number("runs", 5)?;
    let warmup = options.number("warmup", 1)?;
    let store = SharedCredentialStore::new(GrantStore::for_grant(
        SecretStore::memory(),
        "bench-dpop",
        "",
        "default",
    ));
    let server = ServerConfig::remote(options.url.clone());
    let connect = ConnectOptions {
        credentials: Some(store),
        sign_in: Some(BrowserMode::Headless),
        ..ConnectOptions::default()
    };
    let connection = Connection::connect("bench-dpop", &server, connect)
        .await
        .context("signing in and connecting with latch-core")?;
    connection.list_tools().await?;

    let mut sequential_rates = Vec::new();
    let mut latencies = Vec::new();
    for run in 0..warmup + runs {
        let start = Instant::now();
        let run_latencies = sequential(&connection, "message", calls).await?;
        let rate = calls as f64 / start.elapsed().as_secs_f64();
        if run >= warmup {
            sequential_rates.push(rate);
            latencies.push(run_latencies);
        }
    }
    let mut concurrent_rates = Vec::new();
    for run in 0..warmup + runs {
        let start = Instant::now();
        concurrent(&connection, "message", calls, in_flight).await?;
        let rate = calls as f64 / start.elapsed().as_secs_f64();
        if run >= warmup {
            concurrent_rates.push(rate);
        }
    }
    connection.close().await;
    let per_run: Vec<Value> = latencies.iter_mut().map(|l| percentiles(l)).collect();
    let field =
        |name: &str| -> Vec<f64> { per_run.iter().filter_map(|p| p[name].as_f64()).collect() };
    Ok(json!({
        "calls": calls,
        "concurrency": in_flight,
        "sequential_calls_per_s": sequential_rates,
        "concurrent_calls_per_s": concurrent_rates,
        "latency_p50_us": field("p50"),
        "latency_p99_us": field("p99"),
    }))
}
