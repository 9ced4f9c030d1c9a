//! When to try the server again after failures.

use std::time::Duration;

/// How long to wait before the next sync after `failures` failed ones in a row:
/// "full jitter" (a random wait up to 2 s × 2^failures, at most 5 minutes), never
/// less than the server's `Retry-After`.
#[must_use]
pub fn retry_delay(failures: u32, retry_after: Option<Duration>) -> Duration {
    let ceiling_ms = 2_000u64
        .saturating_mul(1u64 << failures.min(16))
        .min(300_000);
    let mut random = [0u8; 8];
    // Without randomness, waiting the full ceiling is still correct, only in step.
    let jittered = if getrandom::fill(&mut random).is_ok() {
        u64::from_le_bytes(random) % (ceiling_ms + 1)
    } else {
        ceiling_ms
    };
    Duration::from_millis(jittered).max(retry_after.unwrap_or_default())
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
