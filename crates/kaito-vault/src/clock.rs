//! Time as the vault sees it. Passed in (never read ad hoc) so tests can drive
//! auto-lock and timestamps deterministically.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Wall-clock time for timestamps and a monotonic clock for idle tracking.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> SystemTime;
    fn instant(&self) -> Instant;
}

/// The real clocks.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn instant(&self) -> Instant {
        Instant::now()
    }
}

/// Milliseconds since the Unix epoch; times before 1970 clamp to 0 and far-future
/// times to `i64::MAX` (`SQLite` integers are signed).
#[must_use]
pub fn unix_millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |elapsed| {
        i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
    })
}

/// Inverse of [`unix_millis`].
#[must_use]
pub fn from_unix_millis(millis: i64) -> SystemTime {
    UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(millis).unwrap_or(0))
}
