//! Latch's benchmark driver, run by `bench/run` (not part of the test suite): it uses
//! `latch-core` directly and prints one JSON object per command on stdout. Speed figures are
//! never asserted; `bench/run` turns them into the table in `docs/BENCHMARKS.md`.
//!
//! ```text
//! latch-bench throughput URL [--calls N] [--concurrency C] [--runs R] [--warmup W]
//!                             [--protocol auto|2026-07-28|2025-11-25] [--echo-arg NAME]
//!                             [--raw-protocol-version V] [--raw on|off]
//! latch-bench sign-in MCP_URL [--runs R] [--warmup W]
//! latch-bench keeper MCP_URL [--servers N] [--seconds S]
//! latch-bench dpop MCP_URL [--calls N] [--concurrency C] [--runs R] [--warmup W]
//! ```
//!
//! - `throughput`: one Latch session to a Streamable HTTP server (server-everything), `echo`
//!   called `--calls` times one after another, then `--calls` times with `--concurrency` in
//!   flight; per-call latency of the sequential calls; and the same `tools/call` JSON-RPC sent
//!   by a minimal raw HTTP client (reqwest, one POST per call, on a session it opened itself,
//!   speaking the protocol version Latch's session negotiated) as the baseline the client-side
//!   overhead is measured against, sequentially and with `--concurrency` in flight (the ceiling
//!   any client can reach against that server). `--protocol` is the server entry's `"protocol"`
//!   (default `auto`); on the 2026-07-28 wire the raw client is stateless too (no `initialize`,
//!   the per-request `_meta` envelope and the `Mcp-Method` / `Mcp-Name` headers on every POST).
//!   `--echo-arg` names `echo`'s argument (`message` for server-everything, `text` for the TS SDK
//!   2.x peer in `tests/peers/sdk2`). `--raw off` leaves the raw client out (its figures are
//!   then empty): `bench/run` uses it to count the HTTP requests Latch's calls make.
//! - `sign-in`: `latch_core::auth::sign_in` with the headless agent against the oidc peer, a
//!   fresh in-memory token store each time (so discovery, registration, authorization and the
//!   code exchange all run).
//! - `keeper`: signs in `--servers` servers (fresh grants at the same MCP server), has a
//!   `Keeper` watch them, waits until it settled, then counts its wake-ups and this process's
//!   CPU time over `--seconds`.
//! - `dpop`: signs in to the DPoP peer (`tests/peers/oidc/dpop-mcp.mjs`) and times `echo` calls
//!   with its token, DPoP-bound or bearer as the peer's mode says (see `dpop.rs`).

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use futures::{StreamExt, stream};
use latch_core::{
    CallOptions, ConnectOptions, Connection, EventBus,
    auth::{AuthSettings, BrowserMode, SharedCredentialStore, SignInOptions, sign_in},
    config::{NoSecrets, ProtocolChoice, RemoteServer, ServerConfig},
    keeper::{Keeper, KeeperState, KeeperTarget},
};
use serde_json::{Map, Value, json};

mod dpop;

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        bail!("usage: latch-bench throughput|sign-in|keeper|dpop URL [options] (see the source)");
    };
    let options = Options::parse(rest)?;
    let report = match command.as_str() {
        "throughput" => throughput(&options).await?,
        "sign-in" => sign_in_runs(&options).await?,
        "keeper" => keeper(&options).await?,
        "dpop" => dpop::dpop(&options).await?,
        other => bail!("unknown command {other:?}: throughput, sign-in, keeper or dpop"),
    };
    println!("{report}");
    Ok(())
}

/// `URL` and `--name value` pairs.
struct Options {
    url: String,
    values: HashMap<String, String>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self> {
        let mut url = None;
        let mut values = HashMap::new();
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            if let Some(name) = arg.strip_prefix("--") {
                let value = iter
                    .next()
                    .with_context(|| format!("--{name} needs a value"))?;
                values.insert(name.to_owned(), value.clone());
            } else if url.is_none() {
                url = Some(arg.clone());
            } else {
                bail!("unexpected argument {arg:?}");
            }
        }
        Ok(Self {
            url: url.context("the server URL is missing")?,
            values,
        })
    }

    fn number(&self, name: &str, default: u64) -> Result<u64> {
        self.values
            .get(name)
            .map(|v| v.parse().with_context(|| format!("--{name} {v:?}")))
            .transpose()
            .map(|v| v.unwrap_or(default))
    }
}

// ---- throughput ------------------------------------------------------------------------------

/// `echo`'s arguments: `{arg: "bench i"}`.
fn echo_args(arg: &str, i: usize) -> Map<String, Value> {
    let mut args = Map::new();
    args.insert(arg.into(), json!(format!("bench {i}")));
    args
}

async fn echo(connection: &Connection, arg: &str, i: usize) -> Result<Duration> {
    let start = Instant::now();
    let result = connection
        .call_tool("echo", echo_args(arg, i), CallOptions::default())
        .await?;
    let elapsed = start.elapsed();
    if result.is_error {
        bail!("echo answered isError: {}", result.text());
    }
    Ok(elapsed)
}

/// `calls` sequential echo calls; their latencies.
async fn sequential(connection: &Connection, arg: &str, calls: usize) -> Result<Vec<Duration>> {
    let mut latencies = Vec::with_capacity(calls);
    for i in 0..calls {
        latencies.push(echo(connection, arg, i).await?);
    }
    Ok(latencies)
}

/// `calls` echo calls, `in_flight` at a time.
async fn concurrent(
    connection: &Connection,
    arg: &str,
    calls: usize,
    in_flight: usize,
) -> Result<()> {
    let results: Vec<Result<Duration>> = stream::iter(0..calls)
        .map(|i| echo(connection, arg, i))
        .buffer_unordered(in_flight)
        .collect()
        .await;
    for result in results {
        result?;
    }
    Ok(())
}

async fn throughput(options: &Options) -> Result<Value> {
    let calls = options.number("calls", 2000)? as usize;
    let in_flight = options.number("concurrency", 16)? as usize;
    let runs = options.number("runs", 5)?;
    let warmup = options.number("warmup", 1)?;
    let arg = options
        .values
        .get("echo-arg")
        .map_or("message", String::as_str);
    let protocol: ProtocolChoice = match options.values.get("protocol") {
        Some(v) => v.parse().map_err(anyhow::Error::msg)?,
        None => ProtocolChoice::Auto,
    };
    let server = ServerConfig::Remote(RemoteServer {
        url: options.url.clone(),
        protocol,
        ..RemoteServer::default()
    });
    let connection = Connection::connect("bench", &server, ConnectOptions::default())
        .await
        .context("connecting with latch-core")?;
    connection.list_tools().await?;
    // The raw baseline must speak the same protocol version: servers answer differently by
    // version (the TS SDK's server sends 2025-11-25 clients a priming SSE event first, and
    // @hono/node-server then waits a `setTimeout` tick, ~1 ms, before writing the response).
    // `--raw-protocol-version` overrides it, to see what the version alone costs.
    let protocol_version = match options.values.get("raw-protocol-version") {
        Some(version) => version.clone(),
        None => connection.server_info().protocol_version,
    };
    // `--raw off`: Latch's calls only (bench/run counts the HTTP requests they make).
    let raw = match options.values.get("raw").map(String::as_str) {
        Some("off") => None,
        Some("on") | None => Some(RawSession::open(&options.url, &protocol_version, arg).await?),
        Some(other) => bail!("--raw {other:?}: on or off"),
    };

    // Each Latch run is followed by the raw client's run, so that both see the same machine
    // (other work on the cores drifts over seconds, and it shows in every figure).
    let mut sequential_rates = Vec::new();
    let mut raw_sequential_rates = Vec::new();
    let mut latencies = Vec::new();
    let mut raw_latencies = Vec::new();
    // This process's CPU time per sequential call (all its threads: what the client costs).
    let mut cpu_per_call = Vec::new();
    let mut raw_cpu_per_call = Vec::new();
    let cpu_us = || cpu_time().map(|(_, run_ms)| run_ms * 1e3);
    for run in 0..warmup + runs {
        let (start, cpu) = (Instant::now(), cpu_us()?);
        let run_latencies = sequential(&connection, arg, calls).await?;
        let rate = calls as f64 / start.elapsed().as_secs_f64();
        let cpu = (cpu_us()? - cpu) / calls as f64;
        if run >= warmup {
            sequential_rates.push(rate);
            latencies.push(run_latencies);
            cpu_per_call.push(cpu);
        }
        let Some(raw) = &raw else { continue };
        let (start, raw_cpu) = (Instant::now(), cpu_us()?);
        let raw_run_latencies = raw.sequential(calls).await?;
        let raw_rate = calls as f64 / start.elapsed().as_secs_f64();
        let raw_cpu = (cpu_us()? - raw_cpu) / calls as f64;
        if run >= warmup {
            raw_sequential_rates.push(raw_rate);
            raw_latencies.push(raw_run_latencies);
            raw_cpu_per_call.push(raw_cpu);
        }
    }
    let mut concurrent_rates = Vec::new();
    let mut raw_concurrent_rates = Vec::new();
    for run in 0..warmup + runs {
        let start = Instant::now();
        concurrent(&connection, arg, calls, in_flight).await?;
        let rate = calls as f64 / start.elapsed().as_secs_f64();
        if run >= warmup {
            concurrent_rates.push(rate);
        }
        let Some(raw) = &raw else { continue };
        let start = Instant::now();
        raw.concurrent(calls, in_flight).await?;
        let raw_rate = calls as f64 / start.elapsed().as_secs_f64();
        if run >= warmup {
            raw_concurrent_rates.push(raw_rate);
        }
    }
    let connection_stateless = connection.server_info().stateless;
    connection.close().await;
    if let Some(raw) = raw {
        raw.close().await;
    }

    // Per measured run: p50 and p99 of Latch's and of the raw client's sequential calls.
    let latch: Vec<Value> = latencies.iter_mut().map(|l| percentiles(l)).collect();
    let raw: Vec<Value> = raw_latencies.iter_mut().map(|l| percentiles(l)).collect();
    let field = |list: &[Value], name: &str| -> Vec<f64> {
        list.iter().filter_map(|p| p[name].as_f64()).collect()
    };
    let minus = |a: Vec<f64>, b: Vec<f64>| -> Vec<f64> {
        a.iter().zip(b.iter()).map(|(a, b)| a - b).collect()
    };
    Ok(json!({
        "calls": calls,
        "concurrency": in_flight,
        "protocol_version": protocol_version,
        "stateless": connection_stateless,
        "sequential_calls_per_s": sequential_rates,
        "concurrent_calls_per_s": concurrent_rates,
        "latency_p50_us": field(&latch, "p50"),
        "latency_p99_us": field(&latch, "p99"),
        "cpu_per_call_us": cpu_per_call,
        "raw_cpu_per_call_us": raw_cpu_per_call,
        "raw_sequential_calls_per_s": raw_sequential_rates,
        "raw_concurrent_calls_per_s": raw_concurrent_rates,
        "raw_latency_p50_us": field(&raw, "p50"),
        "raw_latency_p99_us": field(&raw, "p99"),
        "overhead_p50_us": minus(field(&latch, "p50"), field(&raw, "p50")),
        "overhead_p99_us": minus(field(&latch, "p99"), field(&raw, "p99")),
    }))
}

fn percentiles(samples: &mut [Duration]) -> Value {
    samples.sort();
    let at = |q: f64| -> f64 {
        if samples.is_empty() {
            return 0.0;
        }
        let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[index].as_secs_f64() * 1e6
    };
    json!({ "p50": at(0.5), "p99": at(0.99), "min": at(0.0), "max": at(1.0), "n": samples.len() })
}

/// A minimal Streamable HTTP client, the baseline: reqwest, one `POST` of the same `tools/call`
/// echo request per call, the answer (JSON or a short SSE stream) read to the end, on a session
/// opened with `protocol_version` (sent in `initialize` and as `MCP-Protocol-Version` on every
/// request, as the spec asks). From 2026-07-28 on there is no session: no `initialize`, and every
/// request carries the `_meta` envelope (version, client info, capabilities) and the
/// `Mcp-Method` / `Mcp-Name` headers.
struct RawSession {
    client: reqwest::Client,
    url: String,
    protocol_version: String,
    /// The 2026-07-28 wire (stateless).
    modern: bool,
    /// `echo`'s argument name.
    arg: String,
    session: Option<String>,
    next_id: std::sync::atomic::AtomicUsize,
}

impl RawSession {
    async fn open(url: &str, protocol_version: &str, arg: &str) -> Result<Self> {
        let mut raw = Self {
            client: reqwest::Client::new(),
            url: url.to_owned(),
            protocol_version: protocol_version.to_owned(),
            // Dated versions compare in order as text.
            modern: protocol_version >= "2026-07-28",
            arg: arg.to_owned(),
            session: None,
            next_id: 1.into(),
        };
        if raw.modern {
            return Ok(raw);
        }
        let init = raw
            .post(
                json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": protocol_version, "capabilities": {},
                "clientInfo": {"name": "raw-baseline", "version": "0"}}}),
            )
            .await?
            .error_for_status()?;
        raw.session = init
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        init.bytes().await?;
        raw.post(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        Ok(raw)
    }

    async fn post(&self, body: Value) -> reqwest::Result<reqwest::Response> {
        let mut request = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", &self.protocol_version);
        if self.modern {
            if let Some(method) = body["method"].as_str() {
                request = request.header("mcp-method", method);
            }
            if let Some(name) = body.pointer("/params/name").and_then(Value::as_str) {
                request = request.header("mcp-name", name);
            }
        }
        if let Some(session) = &self.session {
            request = request.header("mcp-session-id", session);
        }
        request.body(body.to_string()).send().await
    }

    /// One echo call; its round trip.
    async fn call(&self) -> Result<Duration> {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let start = Instant::now();
        let mut params = json!({"name": "echo", "arguments": echo_args(&self.arg, id)});
        if self.modern {
            params["_meta"] = json!({
                "io.modelcontextprotocol/protocolVersion": self.protocol_version,
                "io.modelcontextprotocol/clientInfo": {"name": "raw-baseline", "version": "0"},
                "io.modelcontextprotocol/clientCapabilities": {},
            });
        }
        let body = self
            .post(json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params}))
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        let elapsed = start.elapsed();
        if !body.windows(8).any(|w| w == b"\"result\"") {
            bail!(
                "raw tools/call got no result: {}",
                String::from_utf8_lossy(&body)
            );
        }
        Ok(elapsed)
    }

    async fn sequential(&self, calls: usize) -> Result<Vec<Duration>> {
        let mut latencies = Vec::with_capacity(calls);
        for _ in 0..calls {
            latencies.push(self.call().await?);
        }
        Ok(latencies)
    }

    async fn concurrent(&self, calls: usize, in_flight: usize) -> Result<()> {
        let results: Vec<Result<Duration>> = stream::iter(0..calls)
            .map(|_| self.call())
            .buffer_unordered(in_flight)
            .collect()
            .await;
        for result in results {
            result?;
        }
        Ok(())
    }

    async fn close(self) {
        if let Some(session) = &self.session {
            let _ = self
                .client
                .delete(&self.url)
                .header("mcp-session-id", session)
                .send()
                .await;
        }
    }
}

// ---- sign-in ---------------------------------------------------------------------------------

fn headless_options(store: SharedCredentialStore) -> SignInOptions {
    let mut options = SignInOptions::new(store);
    options.browser = BrowserMode::Headless;
    options.timeout = Duration::from_secs(60);
    options
}

async fn sign_in_runs(options: &Options) -> Result<Value> {
    let runs = options.number("runs", 5)?;
    let warmup = options.number("warmup", 1)?;
    let mut times = Vec::new();
    for run in 0..warmup + runs {
        let store = SharedCredentialStore::memory();
        let start = Instant::now();
        sign_in(
            &format!("bench{run}"),
            &options.url,
            &AuthSettings::default(),
            None,
            &headless_options(store.clone()),
        )
        .await
        .context("signing in with the headless agent")?;
        let elapsed = start.elapsed();
        if store.load().await?.is_none() {
            bail!("the sign-in stored no grant");
        }
        if run >= warmup {
            times.push(elapsed.as_secs_f64() * 1e3);
        }
    }
    Ok(json!({ "sign_in_ms": times }))
}

// ---- keeper ----------------------------------------------------------------------------------

/// CPU time of this process: (utime + stime from /proc/self/stat in ms, the sum of every
/// thread's schedstat run time in ms).
fn cpu_time() -> Result<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    let after = &stat[stat.rfind(')').context("/proc/self/stat")? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); `after` starts at field 3.
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    let per_second = clock_ticks_per_second();
    let mut run_ns = 0u64;
    for task in std::fs::read_dir("/proc/self/task")? {
        let path = task?.path().join("schedstat");
        if let Ok(text) = std::fs::read_to_string(path) {
            run_ns += text
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Ok((ticks as f64 * 1e3 / per_second, run_ns as f64 / 1e6))
}

fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

async fn keeper(options: &Options) -> Result<Value> {
    let servers = options.number("servers", 5)?;
    let seconds = options.number("seconds", 60)?;
    let keeper = Keeper::start(EventBus::new());
    for i in 0..servers {
        let name = format!("server{i}");
        let store = SharedCredentialStore::memory();
        sign_in(
            &name,
            &options.url,
            &AuthSettings::default(),
            None,
            &headless_options(store.clone()),
        )
        .await
        .with_context(|| format!("signing in {name}"))?;
        keeper.watch(
            name,
            KeeperTarget::new(
                options.url.clone(),
                AuthSettings::default(),
                store,
                Arc::new(NoSecrets),
            ),
        );
    }
    // Settled: every server looked at and scheduled.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = keeper.status();
        if status.len() == servers as usize
            && status
                .iter()
                .all(|s| !matches!(s.state, KeeperState::Looking | KeeperState::Refreshing))
        {
            break;
        }
        if Instant::now() > deadline {
            bail!("the keeper did not settle: {status:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let status = keeper.status();
    let next_refresh_in_s: Vec<i64> = status
        .iter()
        .filter_map(|s| s.next_refresh_at)
        .map(|at| at as i64 - unix_now() as i64)
        .collect();
    let wake_ups_before = keeper.wake_ups();
    let (ticks_before, run_before) = cpu_time()?;
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let (ticks_after, run_after) = cpu_time()?;
    let wake_ups = keeper.wake_ups() - wake_ups_before;
    Ok(json!({
        "servers": servers,
        "seconds": seconds,
        "states": status.iter().map(|s| format!("{:?}", s.state)).collect::<Vec<_>>(),
        "next_refresh_in_s": next_refresh_in_s,
        "wake_ups_at_setup": wake_ups_before,
        "wake_ups": wake_ups,
        "cpu_ms_stat": ticks_after - ticks_before,
        "cpu_ms_schedstat": run_after - run_before,
    }))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
