//! The keeper's wall clock. Refresh deadlines are unix times, compared with this clock and not
//! with tokio's monotonic one, which stands still while the machine sleeps. It is the system
//! clock; a test can move it ahead ([`WallClock::set_ahead`]) to play a machine that slept
//! through a deadline while the keeper's timer did not fire.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// The keeper's notion of "now": the system clock, plus whatever a test moved it ahead by
/// (nothing, in the app). Cheap to clone; clones share the offset.
#[derive(Debug, Clone, Default)]
pub struct WallClock {
    ahead_ms: Arc<AtomicU64>,
}

impl WallClock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// From now on, read `ahead` later than the system clock (0 puts it back). For tests: the
    /// keeper's deadline passes on the wall clock without its timer firing, as in a sleep.
    pub fn set_ahead(&self, ahead: Duration) {
        let ms = u64::try_from(ahead.as_millis()).unwrap_or(u64::MAX);
        self.ahead_ms.store(ms, Ordering::Relaxed);
    }

    /// Unix milliseconds.
    pub fn now_ms(&self) -> u64 {
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        u64::try_from(system)
            .unwrap_or(u64::MAX)
            .saturating_add(self.ahead_ms.load(Ordering::Relaxed))
    }

    /// Unix seconds.
    pub fn now(&self) -> u64 {
        self.now_ms() / 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_ahead_and_back() {
        let clock = WallClock::system();
        let shared = clock.clone();
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(clock.now().abs_diff(system) <= 1);
        shared.set_ahead(Duration::from_secs(3600));
        assert!(clock.now().abs_diff(system + 3600) <= 1, "clones share it");
        clock.set_ahead(Duration::ZERO);
        assert!(clock.now().abs_diff(system) <= 1);
    }
}
