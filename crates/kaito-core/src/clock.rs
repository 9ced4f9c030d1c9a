//! Clock skew: TOTP codes are only as right as the clock. Given when a request left,
//! when its answer came back (local clock) and the server's `Date`, this says how far
//! off the local clock is and whether users should be warned. Pure: the caller does the
//! request and passes the times in. Also: timestamps as Unix milliseconds
//! ([`UnixMillis`]) and RFC 3339 text, and the [`Clock`] every caller reads time from.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Wall-clock time for timestamps and a monotonic clock for idle tracking. Passed in
/// (never read ad hoc) so tests can drive auto-lock and timestamps deterministically.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> SystemTime;
    fn instant(&self) -> Instant;
}

/// The real clocks: the one place in this crate that reads the system time, and
/// nothing in the crate calls it (see the crate docs).
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

/// A time as milliseconds since the Unix epoch, as the databases, the wire and
/// JavaScript keep it. Signed because `SQLite` and `PostgreSQL` integers are.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct UnixMillis(pub i64);

impl UnixMillis {
    /// The clock's current time.
    #[must_use]
    pub fn now(clock: &(impl Clock + ?Sized)) -> Self {
        Self::from(clock.now())
    }

    /// Times before 1970 come back as the epoch itself.
    #[must_use]
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(u64::try_from(self.0).unwrap_or(0))
    }

    /// `2026-11-29T15:04:05.123Z`.
    #[must_use]
    pub fn rfc3339(self) -> String {
        rfc3339(self.0)
    }

    /// As a JavaScript `Date` takes it.
    #[must_use]
    #[allow(
        clippy::cast_precision_loss,
        reason = "epoch millis stay below 2^53 for 285,000 years"
    )]
    pub fn as_js(self) -> f64 {
        self.0 as f64
    }
}

impl From<SystemTime> for UnixMillis {
    /// Times before 1970 clamp to 0, far-future times to `i64::MAX`.
    fn from(time: SystemTime) -> Self {
        Self(time.duration_since(UNIX_EPOCH).map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        }))
    }
}

impl From<UnixMillis> for SystemTime {
    fn from(at: UnixMillis) -> Self {
        at.to_system_time()
    }
}

/// Milliseconds since the Unix epoch; times before 1970 clamp to 0 and far-future
/// times to `i64::MAX`. The plain-`i64` form of [`UnixMillis::from`].
#[must_use]
pub fn unix_millis(time: SystemTime) -> i64 {
    UnixMillis::from(time).0
}

/// Whole seconds since the Unix epoch, as TOTP counts them; times before 1970 clamp
/// to 0.
#[must_use]
pub fn unix_secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// Inverse of [`unix_millis`]; the plain-`i64` form of [`UnixMillis::to_system_time`].
#[must_use]
pub fn from_unix_millis(millis: i64) -> SystemTime {
    UnixMillis(millis).to_system_time()
}

/// Below this, skew is noise (HTTP `Date` has one-second resolution, plus latency).
const TOLERANCE: Duration = Duration::from_secs(10);

/// How the local clock compares with a trusted server's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skew {
    /// Positive: the local clock is ahead of the server's.
    pub local_ahead_secs: i64,
    /// Half the round trip: the measurement is only this precise.
    pub uncertainty_secs: u64,
}

impl Skew {
    /// Measures skew from one request. `server_date` is the response's `Date` header,
    /// taken to be the server's time at the middle of the round trip.
    #[must_use]
    pub fn measure(sent: SystemTime, received: SystemTime, server_date: SystemTime) -> Skew {
        let round_trip = received.duration_since(sent).unwrap_or_default();
        let midpoint = sent + round_trip / 2;
        let local_ahead_secs = match midpoint.duration_since(server_date) {
            Ok(ahead) => i64::try_from(ahead.as_secs()).unwrap_or(i64::MAX),
            Err(behind) => -i64::try_from(behind.duration().as_secs()).unwrap_or(i64::MAX),
        };
        Skew {
            local_ahead_secs,
            uncertainty_secs: (round_trip / 2).as_secs(),
        }
    }

    /// Whether the skew, beyond the measurement's own uncertainty and the header's
    /// one-second resolution, is enough to make codes fail.
    #[must_use]
    pub fn is_significant(&self) -> bool {
        self.local_ahead_secs.unsigned_abs() > TOLERANCE.as_secs() + self.uncertainty_secs
    }

    /// A sentence for the warning banner, or `None` when the clock is fine.
    #[must_use]
    pub fn warning(&self) -> Option<String> {
        if !self.is_significant() {
            return None;
        }
        let amount = self.local_ahead_secs.unsigned_abs();
        let direction = if self.local_ahead_secs > 0 {
            "ahead"
        } else {
            "behind"
        };
        Some(format!(
            "This computer's clock is {} {direction}. Time-based codes may be rejected: turn on automatic time (NTP) in the system settings.",
            human(amount)
        ))
    }
}

fn human(secs: u64) -> String {
    match secs {
        0..=119 => format!("{secs} seconds"),
        120..=7199 => format!("{} minutes", secs / 60),
        _ => format!("{} hours", secs / 3600),
    }
}

/// The (year, month, day) of a day counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`: proleptic Gregorian, any day).
#[must_use]
pub fn civil_date(days_since_epoch: i64) -> (i64, i64, i64) {
    let z = days_since_epoch + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// `2026-11-29T15:04:05.123Z` from Unix milliseconds.
#[must_use]
pub fn rfc3339(at_ms: i64) -> String {
    let ms_of_day = at_ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_date(at_ms.div_euclid(86_400_000));
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            super::rfc3339(1_764_428_645_123),
            "2025-11-29T15:04:05.123Z"
        );
        assert_eq!(super::rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    use super::*;

    /// A clock stopped at one moment.
    #[derive(Debug)]
    struct Stopped(SystemTime, Instant);

    impl Clock for Stopped {
        fn now(&self) -> SystemTime {
            self.0
        }

        fn instant(&self) -> Instant {
            self.1
        }
    }

    #[test]
    fn unix_millis_round_trip_and_clamp() {
        let at = UNIX_EPOCH + Duration::from_millis(1_764_428_645_123);
        let millis = UnixMillis::from(at);
        assert_eq!(millis, UnixMillis(1_764_428_645_123));
        assert_eq!(millis.to_system_time(), at);
        assert_eq!(SystemTime::from(millis), at);
        assert_eq!(millis.rfc3339(), "2025-11-29T15:04:05.123Z");
        assert!((millis.as_js() - 1_764_428_645_123.0).abs() < f64::EPSILON);
        // Before 1970 clamps to the epoch, both ways.
        let before = UNIX_EPOCH - Duration::from_secs(5);
        assert_eq!(UnixMillis::from(before), UnixMillis(0));
        assert_eq!(UnixMillis(-5_000).to_system_time(), UNIX_EPOCH);
        assert_eq!(unix_millis(at), 1_764_428_645_123);
        assert_eq!(from_unix_millis(1_764_428_645_123), at);
        assert_eq!(serde_json::to_string(&millis).unwrap(), "1764428645123");
    }

    #[test]
    fn now_reads_the_given_clock() {
        assert_eq!(unix_secs(UNIX_EPOCH + Duration::from_millis(59_999)), 59);
        assert_eq!(unix_secs(UNIX_EPOCH - Duration::from_secs(5)), 0);
        let at = UNIX_EPOCH + Duration::from_millis(42);
        let clock = Stopped(at, Instant::now());
        assert_eq!(UnixMillis::now(&clock), UnixMillis(42));
        let shared: &dyn Clock = &clock;
        assert_eq!(UnixMillis::now(shared), UnixMillis(42));
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn a_clock_in_step_gives_no_warning() {
        let skew = Skew::measure(at(1_000), at(1_001), at(1_000));
        assert_eq!(skew.local_ahead_secs, 0);
        assert_eq!(skew.warning(), None);
        // 9 s off with a fast round trip is still within what the header can tell.
        assert_eq!(
            Skew::measure(at(1_009), at(1_009), at(1_000)).warning(),
            None
        );
    }

    #[test]
    fn ahead_and_behind_are_reported_in_plain_words() {
        let ahead = Skew::measure(at(1_090), at(1_090), at(1_000));
        assert_eq!(ahead.local_ahead_secs, 90);
        assert!(
            ahead
                .warning()
                .unwrap()
                .starts_with("This computer's clock is 90 seconds ahead.")
        );
        let behind = Skew::measure(at(1_000), at(1_000), at(1_600));
        assert_eq!(behind.local_ahead_secs, -600);
        assert!(behind.warning().unwrap().contains("10 minutes behind"));
        let hours = Skew::measure(at(20_000), at(20_000), at(1_000));
        assert!(hours.warning().unwrap().contains("5 hours ahead"));
    }

    #[test]
    fn a_slow_round_trip_widens_the_margin() {
        // 40 s round trip: the server's stamp could be anywhere in it.
        let skew = Skew::measure(at(1_000), at(1_040), at(1_000));
        assert_eq!(skew.uncertainty_secs, 20);
        assert_eq!(skew.local_ahead_secs, 20);
        assert!(!skew.is_significant());
    }
}
