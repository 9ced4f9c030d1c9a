//! How many audit events one device may report: 2,000 at once, then ten a second
//! (36,000 an hour, far beyond a person viewing and copying codes). A member's
//! device cannot flood the team's log, its SIEMs, or — on SQLite, where a batch
//! holds the one write lock — every other write on the server.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::DefaultKeyedRateLimiter;
use governor::clock::{Clock as _, DefaultClock};

use crate::error::ServerError;

const BURST: u32 = 2_000;
const REFILL_EVERY: Duration = Duration::from_millis(100);

/// Shared by every request of one server; cloning shares the buckets.
#[derive(Clone)]
pub struct DeviceEventLimit {
    buckets: Arc<DefaultKeyedRateLimiter<String>>,
}

impl std::fmt::Debug for DeviceEventLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceEventLimit")
            .field("devices", &self.buckets.len())
            .finish()
    }
}

impl Default for DeviceEventLimit {
    fn default() -> Self {
        Self::new(BURST, REFILL_EVERY)
    }
}

impl DeviceEventLimit {
    /// `burst` events at once, then one more every `refill_every`.
    #[must_use]
    pub fn new(burst: u32, refill_every: Duration) -> Self {
        Self {
            buckets: Arc::new(DefaultKeyedRateLimiter::keyed(
                crate::login_throttle::quota(burst, refill_every),
            )),
        }
    }

    /// Takes `events` from the device's bucket, or says when they would fit. A
    /// refused batch takes nothing: the device sends it again later, whole.
    pub fn take(&self, device_id: &str, events: usize) -> Result<(), ServerError> {
        let Some(events) = u32::try_from(events).ok().and_then(NonZeroU32::new) else {
            return Ok(());
        };
        match self.buckets.check_key_n(&device_id.to_owned(), events) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(ServerError::DeviceRateLimited {
                retry_after_secs: not_until
                    .wait_time_from(DefaultClock::default().now())
                    .as_secs()
                    + 1,
            }),
            Err(_) => Err(ServerError::BadRequest(format!(
                "A batch this large ({events} events) can never fit the device's limit."
            ))),
        }
    }

    /// Forgets devices whose buckets are full again.
    pub fn forget_idle_devices(&self) {
        self.buckets.retain_recent();
        self.buckets.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_over_its_limit_is_told_when_to_come_back_and_others_are_not_held() {
        let limit = DeviceEventLimit::new(10, Duration::from_secs(60));
        limit.take("dev_a", 6).unwrap();
        let refused = limit.take("dev_a", 6).unwrap_err();
        assert!(
            matches!(refused, ServerError::DeviceRateLimited { retry_after_secs } if retry_after_secs > 1)
        );
        // The refused batch took nothing: what is left still fits.
        limit.take("dev_a", 4).unwrap();
        limit.take("dev_b", 10).unwrap();
        limit.take("dev_b", 0).unwrap();
    }
}
