//! When to try the server again after failures.

use std::time::Duration;

use kaito_core::backoff::{Backoff, Jitter};

/// 2 s · 2^failures, at most 5 minutes, anywhere below: a fleet of devices that
/// lost the server together comes back spread out.
const SYNC_BACKOFF: Backoff = Backoff {
    base: Duration::from_secs(2),
    cap: Duration::from_secs(300),
    jitter: Jitter::Full,
};

/// How long to wait before the next sync after `failures` failed ones in a row:
/// "full jitter" (a random wait up to 2 s × 2^failures, at most 5 minutes), never
/// less than the server's `Retry-After`.
#[must_use]
pub fn retry_delay(failures: u32, retry_after: Option<Duration>) -> Duration {
    let mut random = [0u8; 8];
    // Without randomness, waiting the full ceiling is still correct, only in step.
    let delay = if getrandom::fill(&mut random).is_ok() {
        SYNC_BACKOFF.delay(failures, u64::from_le_bytes(random))
    } else {
        SYNC_BACKOFF.ceiling(failures)
    };
    Backoff::honour(delay, retry_after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_with_full_jitter_and_honour_retry_after() {
        for _ in 0..100 {
            assert!(retry_delay(0, None) <= Duration::from_secs(2));
            assert!(retry_delay(3, None) <= Duration::from_secs(16));
            assert!(retry_delay(40, None) <= Duration::from_secs(300));
            assert!(retry_delay(0, Some(Duration::from_secs(90))) >= Duration::from_secs(90));
        }
        // Full jitter spreads retries over the whole range, not near the ceiling.
        let spread: Vec<Duration> = (0..200).map(|_| retry_delay(8, None)).collect();
        assert!(spread.iter().any(|wait| *wait < Duration::from_secs(100)));
        assert!(spread.iter().any(|wait| *wait > Duration::from_secs(200)));
    }
}
