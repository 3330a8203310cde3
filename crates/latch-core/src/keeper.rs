//! The background refresher the tray app runs, so a person's agents never meet an expired
//! token: for every watched server with a refreshable sign-in (a refresh token, or client
//! credentials), one timer at about three quarters of the token's lifetime, and a refresh
//! then — through the same code a connection uses, under the grant's cross-process refresh
//! lock, so the keeper, the CLI and the bridge never refresh one grant twice. When another
//! process refreshed meanwhile, the keeper sees the newer token and only reschedules. Network
//! errors, server errors and timeouts are retried with jittered exponential back-off (5 s,
//! 10 s, 20 s … at most 5 minutes, ±20 %), the old token kept; a refused refresh token
//! (`invalid_grant`) leaves the store's usual result (tokens dropped, registration kept) and
//! the server marked as needing sign-in, with no retries. Outcomes are published as
//! [`Event::TokenRefreshed`], [`Event::RefreshFailed`] and [`Event::NeedsSignIn`].
//!
//! The keeper is one tokio task that sleeps until the earliest deadline or until told
//! something changed ([`Keeper::watch`], [`Keeper::forget`], [`Keeper::refresh_now`]).
//! Deadlines are wall-clock times ([`WallClock`]); tokio's timers run on the monotonic clock,
//! which stands still while the machine sleeps, so while a deadline is pending the task wakes
//! at least once a minute to compare it with the wall clock: a deadline slept through is
//! refreshed within a minute of waking. On Linux it also hears the machine wake (logind's
//! `PrepareForSleep(false)`) and re-checks every deadline at once, and hears the network come
//! back (NetworkManager), retrying at once what was backing off (`keeper/wake.rs`). With
//! nothing scheduled, it sleeps without a timer. After a person signs in again, the shell
//! calls [`Keeper::watch`] again for that server.

mod clock;
mod refresh;
mod schedule;
mod wake;

pub use self::clock::WallClock;

use std::{
    collections::{BTreeMap, HashMap},
    fmt,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use serde::Serialize;
use tokio::sync::mpsc;

use self::{
    refresh::{GrantView, Happened},
    wake::Signal,
};
use crate::{
    auth::{AuthSettings, Flow, SharedCredentialStore},
    config::{ConfigError, RemoteServer, SecretSource},
    events::{Event, EventBus},
};

/// What the keeper needs to refresh one server's sign-in.
#[derive(Clone)]
pub struct KeeperTarget {
    /// The MCP server's URL (the resource the tokens are for).
    pub url: String,
    /// The server's `auth` settings (a pre-registered client's secret, client credentials…).
    pub settings: AuthSettings,
    /// Where the server's grant is kept — the same store its connections use.
    pub store: SharedCredentialStore,
    /// Where named client credentials and `${secret:…}` values are read.
    pub secrets: Arc<dyn SecretSource>,
}

impl KeeperTarget {
    pub fn new(
        url: impl Into<String>,
        settings: AuthSettings,
        store: SharedCredentialStore,
        secrets: Arc<dyn SecretSource>,
    ) -> Self {
        Self {
            url: url.into(),
            settings,
            store,
            secrets,
        }
    }

    /// The target for the remote server `name` of the servers file, its `auth` entry read.
    pub fn for_server(
        name: &str,
        server: &RemoteServer,
        store: SharedCredentialStore,
        secrets: Arc<dyn SecretSource>,
    ) -> Result<Self, ConfigError> {
        let settings = AuthSettings::from_server(name, server, secrets.as_ref())?;
        Ok(Self::new(server.url.clone(), settings, store, secrets))
    }

    /// Signs in without a person (client credentials, workload identity): refreshed by
    /// exchanging again.
    fn unattended(&self) -> bool {
        matches!(
            self.settings.effective_flow(),
            Flow::ClientCredentials | Flow::Workload | Flow::Enterprise
        )
    }
}

impl fmt::Debug for KeeperTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeeperTarget")
            .field("url", &self.url)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Where the keeper stands with one server, for the tray and the app.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct KeeperStatus {
    pub server: String,
    /// When the keeper will refresh (or try again), unix seconds; `None` when nothing is
    /// scheduled.
    pub next_refresh_at: Option<u64>,
    /// When the current token expires, unix seconds, when known.
    pub expires_at: Option<u64>,
    /// When the keeper last refreshed this sign-in itself, unix seconds.
    pub last_refreshed_at: Option<u64>,
    pub state: KeeperState,
}

/// The outcome so far.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "state", rename_all = "camelCase")]
#[non_exhaustive]
pub enum KeeperState {
    /// Reading the store (just watched).
    Looking,
    /// All is well; the next refresh is at `next_refresh_at`.
    Waiting,
    /// A refresh is under way.
    Refreshing,
    /// `attempt` tries in a row failed (for `reason`); the next is at `next_refresh_at`.
    BackingOff { attempt: u32, reason: String },
    /// A person must sign in again; nothing is scheduled.
    NeedsSignIn { reason: String },
    /// Nothing to refresh (not signed in, no refresh token, no expiry); nothing is scheduled.
    Idle { reason: String },
}

enum Command {
    Watch(String, Box<KeeperTarget>),
    Forget(String),
    RefreshNow,
}

/// The background refresher; see the module documentation. Cheap to clone; the task ends when
/// the last clone is dropped.
#[derive(Clone)]
pub struct Keeper {
    commands: mpsc::UnboundedSender<Command>,
    statuses: Arc<Mutex<BTreeMap<String, KeeperStatus>>>,
    wake_ups: Arc<AtomicU64>,
    listening: Arc<AtomicBool>,
}

impl fmt::Debug for Keeper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keeper")
            .field("servers", &self.statuses().len())
            .finish_non_exhaustive()
    }
}

impl Keeper {
    /// Start the keeper's task (on the current tokio runtime), publishing to `events`.
    pub fn start(events: EventBus) -> Keeper {
        Self::start_with_clock(events, WallClock::system())
    }

    /// [`Keeper::start`] with deadlines read on `clock` (a test moves it ahead to play a
    /// machine that slept).
    pub fn start_with_clock(events: EventBus, clock: WallClock) -> Keeper {
        let (commands, receiver) = mpsc::unbounded_channel();
        let keeper = Keeper {
            commands,
            statuses: Default::default(),
            wake_ups: Default::default(),
            listening: Default::default(),
        };
        let (reports, report_receiver) = mpsc::unbounded_channel();
        let (signals, signal_receiver) = mpsc::unbounded_channel();
        let listener = wake::listen(signals, keeper.listening.clone()).map(AbortOnDrop);
        let task = Task {
            entries: HashMap::new(),
            events,
            statuses: keeper.statuses.clone(),
            reports,
            generations: 0,
            clock,
            _listener: listener,
        };
        tokio::spawn(task.run(
            receiver,
            report_receiver,
            signal_receiver,
            keeper.wake_ups.clone(),
        ));
        keeper
    }

    /// Keep `server`'s sign-in fresh (replacing what was watched under that name): the store
    /// is read at once and the first refresh scheduled from it — now, when the token is past
    /// three quarters of its lifetime. Call it again after the person signs in again.
    pub fn watch(&self, server: impl Into<String>, target: KeeperTarget) {
        let _ = self
            .commands
            .send(Command::Watch(server.into(), Box::new(target)));
    }

    /// Stop refreshing `server` (removed, or signed out).
    pub fn forget(&self, server: &str) {
        let _ = self.commands.send(Command::Forget(server.to_owned()));
    }

    /// The tray's "Refresh now": every watched server is refreshed at once, whatever its
    /// token's remaining lifetime — except those with a refresh already under way — and
    /// back-off is reset. Servers that need sign-in are read again, so a sign-in done
    /// meanwhile is picked up. Outcomes arrive as events.
    pub fn refresh_now(&self) {
        let _ = self.commands.send(Command::RefreshNow);
    }

    /// Where the keeper stands with each watched server, by name.
    pub fn status(&self) -> Vec<KeeperStatus> {
        self.statuses().values().cloned().collect()
    }

    /// How many times the keeper's task has woken up (a timer, its once-a-minute look at the
    /// wall clock while a deadline is pending, a command, a signal or a finished refresh): the
    /// figure that shows it does not poll.
    pub fn wake_ups(&self) -> u64 {
        self.wake_ups.load(Ordering::Relaxed)
    }

    /// Whether the keeper is subscribed to the system's sleep, wake and network signals (Linux,
    /// with a system bus). Without them a deadline slept through is still caught up, within a
    /// minute of waking.
    pub fn listening_for_wake(&self) -> bool {
        self.listening.load(Ordering::Relaxed)
    }

    fn statuses(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, KeeperStatus>> {
        self.statuses.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a finished job says about one server.
struct Report {
    server: String,
    generation: u64,
    happened: Happened,
    grant: Option<GrantView>,
}

struct Entry {
    target: KeeperTarget,
    /// Reports from jobs started for an older watch of the same name are ignored.
    generation: u64,
    /// When to refresh (or try again), unix milliseconds on the keeper's [`WallClock`].
    deadline: Option<u64>,
    in_flight: bool,
    /// Failed tries in a row.
    failures: u32,
    /// `received_at` of the token the schedule was made from.
    seen: Option<u64>,
    /// [`Event::NeedsSignIn`] was published and no token has been seen since: said once.
    announced_sign_in: bool,
    status: KeeperStatus,
}

struct Task {
    entries: HashMap<String, Entry>,
    events: EventBus,
    statuses: Arc<Mutex<BTreeMap<String, KeeperStatus>>>,
    reports: mpsc::UnboundedSender<Report>,
    generations: u64,
    clock: WallClock,
    /// The system bus listener, stopped with the task.
    _listener: Option<AbortOnDrop>,
}

impl Task {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut reports: mpsc::UnboundedReceiver<Report>,
        mut signals: mpsc::UnboundedReceiver<Signal>,
        wake_ups: Arc<AtomicU64>,
    ) {
        loop {
            let now = self.clock.now_ms();
            let nap = self
                .entries
                .values()
                .filter(|e| !e.in_flight)
                .filter_map(|e| e.deadline)
                .min()
                .map(|next| schedule::nap(next, now));
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.on_command(command),
                    None => break,
                },
                Some(report) = reports.recv() => self.on_report(report),
                Some(signal) = signals.recv() => self.on_signal(signal),
                () = sleep(nap), if nap.is_some() => self.on_deadlines(),
            }
            wake_ups.fetch_add(1, Ordering::Relaxed);
        }
        tracing::debug!("the keeper stopped");
    }

    /// The machine woke: whatever came due while it slept is refreshed now. The network came
    /// back: what was backing off (the sign-in server could not be reached) is tried now.
    fn on_signal(&mut self, signal: Signal) {
        if signal == Signal::NetworkUp {
            let now = self.clock.now_ms();
            for entry in self.entries.values_mut() {
                if entry.failures > 0 && !entry.in_flight && entry.deadline.is_some() {
                    entry.deadline = Some(now);
                }
            }
        }
        self.on_deadlines();
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Watch(server, target) => {
                self.generations += 1;
                let entry = Entry {
                    target: *target,
                    generation: self.generations,
                    deadline: None,
                    in_flight: true,
                    failures: 0,
                    seen: None,
                    announced_sign_in: false,
                    status: KeeperStatus {
                        server: server.clone(),
                        next_refresh_at: None,
                        expires_at: None,
                        last_refreshed_at: None,
                        state: KeeperState::Looking,
                    },
                };
                self.spawn(&server, &entry, Job::Look);
                self.entries.insert(server.clone(), entry);
                self.publish_status(&server);
            }
            Command::Forget(server) => {
                self.entries.remove(&server);
                self.statuses_mut().remove(&server);
            }
            Command::RefreshNow => {
                let servers: Vec<String> = self
                    .entries
                    .iter()
                    .filter(|(_, e)| !e.in_flight)
                    .map(|(s, _)| s.clone())
                    .collect();
                for server in servers {
                    if let Some(entry) = self.entries.get_mut(&server) {
                        entry.failures = 0;
                    }
                    self.start_refresh(&server, Job::Refresh { expected: None });
                }
            }
        }
    }

    fn on_deadlines(&mut self) {
        let now = self.clock.now_ms();
        let due: Vec<(String, Option<u64>)> = self
            .entries
            .iter()
            .filter(|(_, e)| !e.in_flight && e.deadline.is_some_and(|d| d <= now))
            .map(|(s, e)| (s.clone(), e.seen))
            .collect();
        for (server, seen) in due {
            self.start_refresh(
                &server,
                Job::Refresh {
                    expected: Some(seen),
                },
            );
        }
    }

    fn start_refresh(&mut self, server: &str, job: Job) {
        let Some(entry) = self.entries.get_mut(server) else {
            return;
        };
        entry.in_flight = true;
        entry.deadline = None;
        entry.status.state = KeeperState::Refreshing;
        entry.status.next_refresh_at = None;
        let entry = &self.entries[server];
        self.spawn(server, entry, job);
        self.publish_status(server);
    }

    fn spawn(&self, server: &str, entry: &Entry, job: Job) {
        let reports = self.reports.clone();
        let server = server.to_owned();
        let target = entry.target.clone();
        let generation = entry.generation;
        tokio::spawn(async move {
            let (happened, grant) = match job {
                Job::Look => refresh::look(&target).await,
                Job::Refresh { expected } => refresh::refresh(&server, &target, expected).await,
            };
            let _ = reports.send(Report {
                server,
                generation,
                happened,
                grant,
            });
        });
    }

    fn on_report(&mut self, report: Report) {
        let Some(entry) = self.entries.get_mut(&report.server) else {
            return;
        };
        if entry.generation != report.generation {
            return;
        }
        entry.in_flight = false;
        let now = self.clock.now();
        if let Some(grant) = &report.grant {
            entry.status.expires_at = grant.expires_at();
        }
        let server = report.server;
        if !matches!(
            report.happened,
            Happened::NeedsSignIn { .. } | Happened::Failed { .. }
        ) {
            entry.announced_sign_in = false;
        }
        let event = match report.happened {
            Happened::Refreshed => {
                entry.failures = 0;
                entry.status.last_refreshed_at = Some(now);
                let expires_at = entry.status.expires_at;
                tracing::info!(server, ?expires_at, "refreshed ahead of expiry");
                let failed = self.schedule(&server, report.grant, true);
                failed.or(Some(Event::TokenRefreshed {
                    server: server.clone(),
                    expires_at,
                }))
            }
            Happened::RefreshedElsewhere => {
                tracing::debug!(server, "refreshed by another program; rescheduling");
                entry.failures = 0;
                self.schedule(&server, report.grant, true)
            }
            Happened::Looked => {
                entry.failures = 0;
                self.schedule(&server, report.grant, false)
            }
            Happened::Failed { reason } => self.back_off(&server, reason),
            Happened::NeedsSignIn { reason } => {
                entry.failures = 0;
                entry.deadline = None;
                entry.status.next_refresh_at = None;
                let already = std::mem::replace(&mut entry.announced_sign_in, true);
                entry.status.state = KeeperState::NeedsSignIn {
                    reason: reason.clone(),
                };
                (!already).then(|| {
                    tracing::info!(server, reason, "needs sign-in");
                    Event::NeedsSignIn {
                        server: server.clone(),
                        reason,
                    }
                })
            }
        };
        // The status first, so whoever reacts to the event reads the new one.
        self.publish_status(&server);
        if let Some(event) = event {
            self.events.publish(event);
        }
    }

    /// Set the next refresh from the grant. After a refresh (`after_refresh`), a deadline
    /// that is already due would mean refreshing in a loop (a token that lives under a
    /// second, a store that did not keep the new token): that waits as a failure would, and
    /// the failure's event is returned.
    fn schedule(
        &mut self,
        server: &str,
        grant: Option<GrantView>,
        after_refresh: bool,
    ) -> Option<Event> {
        let entry = self.entries.get_mut(server)?;
        let grant = grant.unwrap_or_default();
        let idle = |reason: &str| KeeperState::Idle {
            reason: reason.to_owned(),
        };
        let now = self.clock.now();
        let at = if !grant.stored || !grant.has_token {
            Err(idle("not signed in"))
        } else if !grant.has_refresh_token && !entry.target.unattended() {
            Err(idle(
                "this sign-in cannot be refreshed (no refresh token); sign in again when it expires",
            ))
        } else {
            schedule::refresh_at(grant.received_at, grant.lifetime, now)
                .ok_or_else(|| idle("the token does not say when it expires"))
        };
        match at {
            Ok(at) if after_refresh && at <= now => {
                return self.back_off(server, "the new token is already due for refresh".into());
            }
            Ok(at) => {
                entry.seen = grant.received_at;
                entry.deadline = Some(at.saturating_mul(1000));
                entry.status.next_refresh_at = Some(at);
                entry.status.state = KeeperState::Waiting;
            }
            Err(state) => {
                entry.seen = grant.received_at;
                entry.deadline = None;
                entry.status.next_refresh_at = None;
                entry.status.state = state;
            }
        }
        None
    }

    /// Count a failed try and set the next one; returns the event to publish.
    fn back_off(&mut self, server: &str, reason: String) -> Option<Event> {
        let entry = self.entries.get_mut(server)?;
        entry.failures = entry.failures.saturating_add(1);
        let delay = schedule::jitter(schedule::backoff(entry.failures), schedule::random());
        let at = self
            .clock
            .now_ms()
            .saturating_add(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX));
        entry.deadline = Some(at);
        entry.status.next_refresh_at = Some(at / 1000);
        entry.status.state = KeeperState::BackingOff {
            attempt: entry.failures,
            reason: reason.clone(),
        };
        let retry_in_secs = delay.as_secs_f64().round() as u64;
        tracing::info!(
            server,
            reason,
            retry_in_secs,
            "refresh failed; trying again later"
        );
        Some(Event::RefreshFailed {
            server: server.to_owned(),
            reason,
            retry_in_secs,
        })
    }

    fn publish_status(&self, server: &str) {
        if let Some(entry) = self.entries.get(server) {
            self.statuses_mut()
                .insert(server.to_owned(), entry.status.clone());
        }
    }

    fn statuses_mut(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, KeeperStatus>> {
        self.statuses.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Clone, Copy)]
enum Job {
    /// Read the store and schedule.
    Look,
    /// Refresh; with `expected`, only if the token is still the one received then.
    Refresh { expected: Option<Option<u64>> },
}

async fn sleep(nap: Option<Duration>) {
    match nap {
        Some(nap) => tokio::time::sleep(nap).await,
        None => std::future::pending().await,
    }
}

/// Aborts its task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::Instant;

    #[tokio::test]
    async fn a_server_not_signed_in_is_idle_and_sleeps() {
        let events = EventBus::new();
        let mut listener = events.subscribe();
        let keeper = Keeper::start(events);
        keeper.watch(
            "nowhere",
            KeeperTarget::new(
                "http://127.0.0.1:9/mcp",
                AuthSettings::default(),
                SharedCredentialStore::memory(),
                Arc::new(crate::config::NoSecrets),
            ),
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        let status = loop {
            let status = keeper.status();
            if status
                .first()
                .is_some_and(|s| !matches!(s.state, KeeperState::Looking))
            {
                break status;
            }
            assert!(Instant::now() < deadline, "the keeper never looked");
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        assert_eq!(status.len(), 1);
        assert_eq!(status[0].next_refresh_at, None);
        assert!(
            matches!(&status[0].state, KeeperState::Idle { reason } if reason == "not signed in"),
            "{status:?}"
        );
        let woken = keeper.wake_ups();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(keeper.wake_ups(), woken, "no wake-ups with nothing to do");
        assert!(listener.try_recv().is_err(), "nothing to announce");
        keeper.forget("nowhere");
        let deadline = Instant::now() + Duration::from_secs(5);
        while !keeper.status().is_empty() {
            assert!(Instant::now() < deadline, "forget did not forget");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
