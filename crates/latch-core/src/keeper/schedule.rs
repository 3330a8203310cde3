//! When the keeper acts, as plain arithmetic the tests can pin down: the refresh at three
//! quarters of a token's lifetime, the jittered, capped back-off after a failed refresh, and
//! how long the keeper sleeps before it looks at the wall clock again. Kept apart from the
//! task that sleeps on these times so the rules read in one place.

use std::{
    hash::{BuildHasher, Hasher},
    time::Duration,
};

/// The share of a token's lifetime after which it is refreshed, in per cent.
pub(crate) const REFRESH_AT_PERCENT: u64 = 75;
/// The wait after the first failed refresh; it doubles with every further failure.
pub(crate) const FIRST_RETRY: Duration = Duration::from_secs(5);
/// The longest wait between two tries.
pub(crate) const MAX_RETRY: Duration = Duration::from_secs(300);
/// Waits vary by up to this share either way (per cent), so machines that lost the network
/// together do not come back in step.
pub(crate) const JITTER_PERCENT: u64 = 20;

/// The longest the keeper sleeps while a deadline is pending: its timer runs on the monotonic
/// clock, which stands still while the machine sleeps, so it looks at the wall clock at least
/// this often and a deadline slept through is caught up within this time of waking.
pub(crate) const WALL_CLOCK_CHECK: Duration = Duration::from_secs(60);

/// How long to sleep when the next deadline is unix millisecond `next_ms` and it is `now_ms`:
/// until then, but at most [`WALL_CLOCK_CHECK`]; nothing when it is due.
pub(crate) fn nap(next_ms: u64, now_ms: u64) -> Duration {
    Duration::from_millis(next_ms.saturating_sub(now_ms)).min(WALL_CLOCK_CHECK)
}

/// When (unix seconds) to refresh a token received at `received_at` that lives `lifetime`
/// seconds: at [`REFRESH_AT_PERCENT`] of its lifetime. Without `received_at` the lifetime is
/// taken as what remains from `now`. Never earlier than `now`; `None` when the token has no
/// known lifetime (nothing to refresh ahead of).
pub(crate) fn refresh_at(received_at: Option<u64>, lifetime: Option<u64>, now: u64) -> Option<u64> {
    let lifetime = lifetime?;
    let start = received_at.unwrap_or(now);
    let at = start.saturating_add(lifetime.saturating_mul(REFRESH_AT_PERCENT) / 100);
    Some(at.max(now))
}

/// The wait before try number `failures + 1`, after `failures` (≥ 1) failed tries in a row,
/// before jitter: 5 s, 10 s, 20 s, … at most 5 minutes.
pub(crate) fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    FIRST_RETRY.saturating_mul(1 << doublings).min(MAX_RETRY)
}

/// `delay` moved by up to ±[`JITTER_PERCENT`], by `random` (any `u64`).
pub(crate) fn jitter(delay: Duration, random: u64) -> Duration {
    let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX / 2);
    let spread = millis * JITTER_PERCENT / 100;
    // random % (2 * spread + 1) is in 0..=2*spread; shift it to -spread..=spread.
    let offset = random % (2 * spread + 1);
    Duration::from_millis(millis - spread + offset)
}

/// A random `u64` from the standard library's per-process hash keys (no extra dependency;
/// jitter needs no cryptographic randomness).
pub(crate) fn random() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_at_three_quarters_of_the_lifetime() {
        // Received at 1000, lives an hour: refresh 45 minutes in.
        assert_eq!(refresh_at(Some(1000), Some(3600), 1000), Some(1000 + 2700));
        // Seen later, the deadline stays where it was.
        assert_eq!(refresh_at(Some(1000), Some(3600), 2000), Some(3700));
        // Past it (the keeper started late, or the machine slept): now.
        assert_eq!(refresh_at(Some(1000), Some(3600), 9000), Some(9000));
        // When the token was received is unknown: 75 % of what remains from now.
        assert_eq!(refresh_at(None, Some(400), 5000), Some(5300));
        // A token with no lifetime has nothing to refresh ahead of.
        assert_eq!(refresh_at(Some(1000), None, 1000), None);
        // Short lifetimes round down, never to zero wait past the start.
        assert_eq!(refresh_at(Some(10), Some(4), 10), Some(13));
    }

    #[test]
    fn naps_until_the_deadline_but_at_most_a_minute() {
        assert_eq!(nap(10_500, 10_000), Duration::from_millis(500));
        // 45 minutes away: look at the wall clock again in a minute.
        assert_eq!(nap(2_700_000, 0), WALL_CLOCK_CHECK);
        // Due, or slept through: no wait.
        assert_eq!(nap(10_000, 10_000), Duration::ZERO);
        assert_eq!(nap(10_000, 99_000), Duration::ZERO);
    }

    #[test]
    fn back_off_doubles_up_to_five_minutes() {
        let secs: Vec<u64> = (1..=9).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(secs, [5, 10, 20, 40, 80, 160, 300, 300, 300]);
        assert_eq!(
            backoff(u32::MAX),
            MAX_RETRY,
            "no overflow after many failures"
        );
        assert_eq!(backoff(0), FIRST_RETRY);
    }

    #[test]
    fn jitter_stays_within_twenty_per_cent() {
        for delay in [FIRST_RETRY, Duration::from_secs(40), MAX_RETRY] {
            let low = delay.mul_f64(0.8);
            let high = delay.mul_f64(1.2);
            let mut seen_low = false;
            let mut seen_high = false;
            let spread = delay.as_millis() as u64 / 5;
            for random in [0, 1, spread, 2 * spread, u64::MAX, random(), random()] {
                let jittered = jitter(delay, random);
                assert!(
                    (low..=high).contains(&jittered),
                    "{jittered:?} outside {low:?}..={high:?}"
                );
                seen_low |= jittered < delay;
                seen_high |= jittered > delay;
            }
            assert!(seen_low && seen_high, "jitter goes both ways for {delay:?}");
        }
        // The extremes are reachable.
        let spread = 1000; // 20 % of 5 s, in ms
        assert_eq!(jitter(FIRST_RETRY, 0), Duration::from_millis(4000));
        assert_eq!(jitter(FIRST_RETRY, 2 * spread), Duration::from_millis(6000));
        // Capped waits stay capped before jitter: at most 6 minutes.
        assert!(jitter(backoff(30), u64::MAX) <= Duration::from_secs(360));
    }

    #[test]
    fn random_values_differ() {
        let values: std::collections::HashSet<u64> = (0..8).map(|_| random()).collect();
        assert!(values.len() > 1);
    }
}
