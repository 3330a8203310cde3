//! The keeper after a sleep, end to end: signed in to the oidc peer (tokens living 10
//! minutes, so its timer is minutes away), the keeper's wall clock is moved past the refresh
//! deadline — as when a machine sleeps through it, the monotonic timer not firing — and then:
//! - a fake systemd-logind (`python3 -m dbusmock --template logind`) on a private D-Bus
//!   system bus says `PrepareForSleep(false)`: exactly one refresh, at once; and a fake
//!   NetworkManager saying "connected" makes a refresh that failed while the sign-in server
//!   was unreachable try again at once, not after its back-off;
//! - with no signal at all, the keeper's once-a-minute look at the wall clock catches up.
//!
//! Needs `dbus-daemon` and `python3-dbusmock` (scripts/lib.sh installs them); without them the
//! bus test says why and skips. The keeper finds the bus in `DBUS_SYSTEM_BUS_ADDRESS`, so the
//! bus test runs its keeper half in a child process of this test binary with that set. Every
//! process started here is stopped when the test ends.

mod common;

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Output, Stdio},
    sync::Arc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use common::{assert_ok, oidc::OidcPeer};
use latch_core::{
    Event, EventBus,
    auth::{AuthSettings, SharedCredentialStore},
    keeper::{Keeper, KeeperState, KeeperStatus, KeeperTarget, WallClock},
    secrets::{GrantStore, SecretStore},
};
use tokio::sync::broadcast;

/// Access tokens live this long: the keeper's own deadline (75 %) is 7.5 minutes away, far
/// past anything this test waits for.
const TTL: u64 = 600;

const LOGIND: (&str, &str) = ("org.freedesktop.login1", "/org/freedesktop/login1");
const NETWORK_MANAGER: (&str, &str) = (
    "org.freedesktop.NetworkManager",
    "/org/freedesktop/NetworkManager",
);

/// A private D-Bus "system" bus in a temp dir, with fake logind and NetworkManager on it.
struct SystemBus {
    address: String,
    processes: Vec<Child>,
    dir: tempfile::TempDir,
}

impl SystemBus {
    /// The bus and its fakes, or why they cannot run here.
    fn start() -> Result<SystemBus, String> {
        let python = ["/usr/bin/python3", "python3"]
            .into_iter()
            .find(|python| {
                Command::new(python)
                    .args(["-c", "import dbusmock"])
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            })
            .ok_or("python3-dbusmock is not installed (apt-get install python3-dbusmock)")?;
        let dir = tempfile::Builder::new()
            .prefix("latch-system-bus-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .arg(format!(
                "--address=unix:path={}",
                dir.path().join("bus").display()
            ))
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("dbus-daemon cannot start ({e}): apt-get install dbus-daemon"))?;
        let mut address = String::new();
        BufReader::new(daemon.stdout.take().unwrap())
            .read_line(&mut address)
            .map_err(|e| e.to_string())?;
        let mut bus = SystemBus {
            address: address.trim().to_owned(),
            processes: vec![daemon],
            dir,
        };
        assert!(
            bus.address.starts_with("unix:"),
            "dbus-daemon said {address:?}"
        );
        for (template, (name, _)) in [("logind", LOGIND), ("networkmanager", NETWORK_MANAGER)] {
            let log = std::fs::File::create(bus.dir.path().join(format!("{template}.log")))
                .map_err(|e| e.to_string())?;
            let mock = Command::new(python)
                .args(["-m", "dbusmock", "--system", "--template", template])
                .env("DBUS_SYSTEM_BUS_ADDRESS", &bus.address)
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .map_err(|e| e.to_string())?;
            bus.processes.push(mock);
            let waited = gdbus(&bus.address, &["wait", "--system", "--timeout", "30", name]);
            assert!(
                waited.status.success(),
                "the fake {template} did not appear on the bus: {}",
                bus.log(template)
            );
        }
        Ok(bus)
    }

    fn log(&self, template: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{template}.log"))).unwrap_or_default()
    }
}

impl Drop for SystemBus {
    fn drop(&mut self) {
        // The fakes first, then the bus.
        for process in self.processes.iter_mut().rev() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }
}

fn gdbus(address: &str, args: &[&str]) -> Output {
    Command::new("gdbus")
        .args(args)
        .env("DBUS_SYSTEM_BUS_ADDRESS", address)
        .output()
        .expect("gdbus runs (libglib2.0-bin)")
}

/// Has the fake `(name, path)` on the bus at `address` emit `interface.member(args)` (a
/// GVariant list).
fn emit(
    address: &str,
    (name, path): (&str, &str),
    interface: &str,
    member: &str,
    sig: &str,
    args: &str,
) {
    let out = gdbus(
        address,
        &[
            "call",
            "--system",
            "-d",
            name,
            "-o",
            path,
            "-m",
            "org.freedesktop.DBus.Mock.EmitSignal",
            interface,
            member,
            sig,
            args,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `latch ARGS`, off the async workers.
async fn latch(home: &Path, args: &[&str]) -> Output {
    common::latch_async(home, args).await
}

/// The peer, a `LATCH_HOME` signed in to it as `oidc`, and a keeper on `clock` watching it.
async fn keeper_signed_in(
    clock: &WallClock,
) -> (
    OidcPeer,
    tempfile::TempDir,
    Keeper,
    broadcast::Receiver<Event>,
) {
    let peer = tokio::task::spawn_blocking(|| OidcPeer::start(TTL))
        .await
        .unwrap();
    let home = common::latch_home();
    assert_ok(&latch(home.path(), &["servers", "add", "oidc", &peer.mcp_url]).await);
    assert_ok(&latch(home.path(), &["login", "oidc", "--browser", "headless"]).await);
    let events = EventBus::new();
    let listener = events.subscribe();
    let keeper = Keeper::start_with_clock(events, clock.clone());
    keeper.watch(
        "oidc",
        KeeperTarget::new(
            peer.mcp_url.clone(),
            AuthSettings::default(),
            SharedCredentialStore::new(GrantStore::for_grant(
                SecretStore::file(home.path()),
                "oidc",
                "",
                "default",
            )),
            Arc::new(SecretStore::file(home.path())),
        ),
    );
    (peer, home, keeper, listener)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// The keeper's status of `oidc` once it has looked at the store.
async fn settled(keeper: &Keeper) -> KeeperStatus {
    for _ in 0..1000 {
        if let Some(status) = keeper.status().into_iter().next()
            && !matches!(status.state, KeeperState::Looking | KeeperState::Refreshing)
        {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the keeper never settled: {:?}", keeper.status());
}

/// Move `clock` one second past the keeper's refresh deadline, as if the machine had slept
/// through it. First waits until the token is 5 s old, so that after the refresh the skewed
/// clock is still short of the new token's deadline (which the sign-in server dates by the
/// real clock).
async fn sleep_through_the_deadline(keeper: &Keeper, clock: &WallClock) {
    let status = settled(keeper).await;
    assert_eq!(status.state, KeeperState::Waiting, "{status:?}");
    let deadline = status.next_refresh_at.expect("a refresh is scheduled") * 1000;
    let received = (status.expires_at.expect("an expiry") - TTL) * 1000;
    assert_eq!(deadline, received + TTL * 750, "at 75 % of the lifetime");
    if let Some(wait) = (received + 5_000).checked_sub(now_ms()) {
        tokio::time::sleep(Duration::from_millis(wait)).await;
    }
    clock.set_ahead(Duration::from_millis(deadline + 1_000 - now_ms()));
}

fn refresh_requests(peer: &OidcPeer) -> u64 {
    peer.stats()["tokenRequests"]["refresh_token"]
        .as_u64()
        .unwrap_or(0)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn wake_and_network_signals_on_the_system_bus_refresh_at_once() {
    let bus = match SystemBus::start() {
        Ok(bus) => bus,
        Err(reason) => {
            eprintln!("SKIPPED: no private system bus with fake logind: {reason}");
            return;
        }
    };
    let out = Command::new(std::env::current_exe().unwrap())
        .args([KEEPER_ON_THE_BUS, "--exact", "--ignored", "--nocapture"])
        .env("DBUS_SYSTEM_BUS_ADDRESS", &bus.address)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the keeper's half failed (above)");
    assert!(stdout.contains("1 passed"), "the keeper's half did not run");
    drop(bus);
}

const KEEPER_ON_THE_BUS: &str = "the_keeper_on_a_private_system_bus";

#[test]
#[ignore = "the keeper's half of wake_and_network_signals_on_the_system_bus_refresh_at_once"]
fn the_keeper_on_a_private_system_bus() {
    let address = std::env::var("DBUS_SYSTEM_BUS_ADDRESS").expect("run with a private bus");
    let emit =
        |fake, interface, member, sig, args| emit(&address, fake, interface, member, sig, args);
    runtime().block_on(async {
        let clock = WallClock::system();
        let (peer, _home, keeper, mut listener) = keeper_signed_in(&clock).await;
        for _ in 0..1000 {
            if keeper.listening_for_wake() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(keeper.listening_for_wake(), "the keeper never subscribed on the bus");

        // Going to sleep changes nothing.
        emit(LOGIND, "org.freedesktop.login1.Manager", "PrepareForSleep", "b", "[<true>]");
        sleep_through_the_deadline(&keeper, &clock).await;
        assert_eq!(refresh_requests(&peer), 0, "nothing refreshed before the wake");

        let woke = Instant::now();
        emit(LOGIND, "org.freedesktop.login1.Manager", "PrepareForSleep", "b", "[<false>]");
        let event = common::next_keeper_event(&mut listener, Duration::from_secs(30)).await;
        let after_wake = woke.elapsed();
        clock.set_ahead(Duration::ZERO);
        assert!(matches!(event, Event::TokenRefreshed { .. }), "{event:?}");
        eprintln!(
            "sleep/wake: refresh {} ms after the wake signal",
            after_wake.as_millis()
        );
        // Exactly one: a second wake finds nothing due.
        emit(LOGIND, "org.freedesktop.login1.Manager", "PrepareForSleep", "b", "[<false>]");
        common::quiet_keeper(&mut listener, Duration::from_secs(2)).await;
        let stats = peer.stats();
        assert_eq!(stats["tokenRequests"]["refresh_token"], 1, "{stats}");
        assert_eq!(stats["tokenSuccesses"]["refresh_token"], 1, "{stats}");
        assert_eq!(settled(&keeper).await.state, KeeperState::Waiting);

        // Offline: the sign-in server cannot be reached, and the refresh backs off.
        drop(peer);
        keeper.refresh_now();
        let Event::RefreshFailed { reason, retry_in_secs, .. } =
            common::next_keeper_event(&mut listener, Duration::from_secs(30)).await
        else {
            panic!("expected a failed refresh");
        };
        let failed = Instant::now();
        assert_eq!(reason, "could not reach the sign-in server");
        assert!(retry_in_secs >= 4, "the first back-off is 5 s ± 20 %: {retry_in_secs}");
        // Connecting (40) is not yet back.
        emit(NETWORK_MANAGER, "org.freedesktop.NetworkManager", "StateChanged", "u", "[<uint32 40>]");
        // Connected (70): tried again at once.
        let online = Instant::now();
        emit(NETWORK_MANAGER, "org.freedesktop.NetworkManager", "StateChanged", "u", "[<uint32 70>]");
        let event = common::next_keeper_event(&mut listener, Duration::from_secs(30)).await;
        let (after_network, since_failure) = (online.elapsed(), failed.elapsed());
        assert!(matches!(event, Event::RefreshFailed { .. }), "{event:?}");
        eprintln!(
            "network back: retried {} ms after the signal ({} ms after the failure, whose back-off was {retry_in_secs} s)",
            after_network.as_millis(),
            since_failure.as_millis()
        );
        // Without the signal the next try would wait out the back-off: at least 4 s.
        assert!(
            since_failure < Duration::from_secs(3),
            "retried at once, not after the back-off: {since_failure:?}"
        );
        assert!(
            matches!(settled(&keeper).await.state, KeeperState::BackingOff { attempt: 2, .. }),
            "{:?}",
            keeper.status()
        );
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_signal_the_wall_clock_check_catches_up_within_a_minute() {
    let clock = WallClock::system();
    let (peer, _home, keeper, mut listener) = keeper_signed_in(&clock).await;
    sleep_through_the_deadline(&keeper, &clock).await;
    // The deadline passed a second ago on the keeper's clock; its timer is minutes away.
    let missed = Instant::now() - Duration::from_secs(1);
    let event = common::next_keeper_event(&mut listener, Duration::from_secs(90)).await;
    let caught_up = missed.elapsed();
    clock.set_ahead(Duration::ZERO);
    assert!(matches!(event, Event::TokenRefreshed { .. }), "{event:?}");
    eprintln!(
        "sleep/wake: caught up {:.1} s after the missed deadline without a signal",
        caught_up.as_secs_f64()
    );
    assert!(
        caught_up <= Duration::from_secs(62),
        "within a minute of the missed deadline (and the refresh itself): {caught_up:?}"
    );
    assert_eq!(refresh_requests(&peer), 1, "{}", peer.stats());
}
