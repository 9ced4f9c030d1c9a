//! Exponential backoff with jitter, for retry loops (the app's team sync and inbox,
//! the server's SIEM delivery). Pure: the caller draws the randomness and passes it
//! in, so the schedule is testable and a failed random source stays the caller's
//! decision. Jitter spreads a fleet of clients that failed together, so they do not
//! all retry in step.

use std::time::Duration;

/// How the wait is drawn below the exponential ceiling `base · 2^failures` (at most
/// `cap`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// Anywhere in `[0, ceiling]`: spreads retries the most.
    Full,
    /// In `[ceiling / 2, ceiling]`: never retries sooner than half the ceiling.
    Equal,
}

/// An exponential backoff schedule. Delays have millisecond resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling after no failure; it doubles with each failure.
    pub base: Duration,
    /// The ceiling never exceeds this.
    pub cap: Duration,
    pub jitter: Jitter,
}

impl Backoff {
    /// The longest wait after `failures` failures in a row: `base · 2^failures`,
    /// at most `cap`. Also the wait to use when no randomness could be drawn
    /// (correct, only in step with other clients).
    #[must_use]
    pub fn ceiling(&self, failures: u32) -> Duration {
        // 2^31 already overflows any cap worth having; saturate rather than wrap.
        self.base
            .saturating_mul(1u32 << failures.min(31))
            .min(self.cap)
    }

    /// The wait after `failures` failures in a row, drawn with `random` (any `u64`,
    /// uniformly random for a uniform wait).
    #[must_use]
    pub fn delay(&self, failures: u32, random: u64) -> Duration {
        let ceiling = millis(self.ceiling(failures));
        let floor = match self.jitter {
            Jitter::Full => 0,
            Jitter::Equal => ceiling / 2,
        };
        // `ceiling - floor + 1` cannot overflow: `millis` stays below `u64::MAX`.
        Duration::from_millis(floor + random % (ceiling - floor + 1))
    }

    /// `delay`, but never shorter than what the server asked for (an HTTP
    /// `Retry-After`).
    #[must_use]
    pub fn honour(delay: Duration, retry_after: Option<Duration>) -> Duration {
        delay.max(retry_after.unwrap_or_default())
    }
}

/// Whole milliseconds, saturating one below `u64::MAX` so a range over them has room
/// for its end.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .min(u64::MAX - 1)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The app's team sync schedule: 2 s · 2^n, at most 5 minutes.
    const SYNC: Backoff = Backoff {
        base: Duration::from_secs(2),
        cap: Duration::from_secs(300),
        jitter: Jitter::Full,
    };
    const EQUAL: Backoff = Backoff {
        jitter: Jitter::Equal,
        ..SYNC
    };

    #[test]
    fn the_ceiling_doubles_up_to_the_cap() {
        assert_eq!(SYNC.ceiling(0), Duration::from_secs(2));
        assert_eq!(SYNC.ceiling(1), Duration::from_secs(4));
        assert_eq!(SYNC.ceiling(3), Duration::from_secs(16));
        assert_eq!(SYNC.ceiling(7), Duration::from_secs(256));
        assert_eq!(SYNC.ceiling(8), Duration::from_secs(300));
        assert_eq!(SYNC.ceiling(u32::MAX), Duration::from_secs(300));
    }

    #[test]
    fn full_jitter_spans_zero_to_the_ceiling() {
        assert_eq!(SYNC.delay(3, 0), Duration::ZERO);
        assert_eq!(SYNC.delay(3, 16_000), Duration::from_secs(16));
        assert_eq!(SYNC.delay(3, 16_001), Duration::ZERO);
        assert_eq!(SYNC.delay(3, 1_234), Duration::from_millis(1_234));
        assert_eq!(SYNC.delay(40, 300_000), Duration::from_secs(300));
    }

    #[test]
    fn equal_jitter_spans_half_the_ceiling_to_the_ceiling() {
        assert_eq!(EQUAL.delay(3, 0), Duration::from_secs(8));
        assert_eq!(EQUAL.delay(3, 8_000), Duration::from_secs(16));
        assert_eq!(EQUAL.delay(3, 8_001), Duration::from_secs(8));
        assert_eq!(EQUAL.delay(40, 0), Duration::from_secs(150));
        assert_eq!(EQUAL.delay(40, 150_000), Duration::from_secs(300));
    }

    #[test]
    fn a_retry_after_is_a_minimum() {
        let short = SYNC.delay(0, 500);
        assert_eq!(Backoff::honour(short, None), short);
        assert_eq!(
            Backoff::honour(short, Some(Duration::from_secs(90))),
            Duration::from_secs(90)
        );
        assert_eq!(
            Backoff::honour(Duration::from_secs(16), Some(Duration::from_secs(1))),
            Duration::from_secs(16)
        );
    }

    #[test]
    fn huge_durations_saturate_instead_of_overflowing() {
        let huge = Backoff {
            base: Duration::MAX,
            cap: Duration::MAX,
            jitter: Jitter::Full,
        };
        assert_eq!(huge.ceiling(5), Duration::MAX);
        assert_eq!(
            huge.delay(5, u64::MAX - 1),
            Duration::from_millis(u64::MAX - 1)
        );
        let equal = Backoff {
            jitter: Jitter::Equal,
            ..huge
        };
        assert_eq!(equal.delay(5, 0), Duration::from_millis((u64::MAX - 1) / 2));
    }

    proptest! {
        #[test]
        fn delays_stay_within_the_jitters_bounds(failures: u32, random: u64) {
            let ceiling = SYNC.ceiling(failures);
            prop_assert!(ceiling <= SYNC.cap);
            prop_assert!(SYNC.delay(failures, random) <= ceiling);
            let equal = EQUAL.delay(failures, random);
            prop_assert!(equal <= ceiling);
            prop_assert!(equal >= ceiling / 2);
        }
    }
}
