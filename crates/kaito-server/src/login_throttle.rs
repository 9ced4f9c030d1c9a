//! The per-address limit on password attempts (sign-in and accepting an invite),
//! beside the per-account one in [`crate::accounts`]: it stops one source from
//! spraying guesses over many accounts or flooding the hashing slots. It limits
//! the source, never an account, so nobody can use it to lock a victim out.
//!
//! The address is the TCP peer's, or, when that peer is one of the operator's
//! trusted proxies, the last address in `X-Forwarded-For` that the proxy added
//! (the earlier entries are whatever the client wrote, so they are not trusted).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::ServerError;

/// Attempts one address may make at once, and how fast they come back: one every
/// two seconds, 30 a minute. An office behind one NAT signing in together fits.
const BURST: u32 = 30;
const REFILL_EVERY: Duration = Duration::from_secs(2);

/// Shared by every request of one server; cloning shares the buckets.
#[derive(Clone)]
pub struct LoginThrottle {
    buckets: Arc<DefaultKeyedRateLimiter<SourceKey>>,
    trusted_proxies: Arc<[IpAddr]>,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle")
            .field("sources", &self.buckets.len())
            .field("trusted_proxies", &self.trusted_proxies)
            .finish()
    }
}

/// One source: an IPv4 address, or an IPv6 /64 (one subscriber's whole network,
/// which a single machine can hop around in freely).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum SourceKey {
    V4([u8; 4]),
    V6Prefix([u8; 8]),
    /// No address is known (a request not from a socket): all such share one.
    Unknown,
}

impl From<Option<IpAddr>> for SourceKey {
    fn from(address: Option<IpAddr>) -> Self {
        match address.map(|address| address.to_canonical()) {
            Some(IpAddr::V4(v4)) => Self::V4(v4.octets()),
            Some(IpAddr::V6(v6)) => {
                let mut prefix = [0; 8];
                prefix.copy_from_slice(&v6.octets()[..8]);
                Self::V6Prefix(prefix)
            }
            None => Self::Unknown,
        }
    }
}

/// `burst` at once, then one more every `refill_every` (a zero period or burst
/// falls back to the smallest quota rather than none).
pub(crate) fn quota(burst: u32, refill_every: Duration) -> Quota {
    Quota::with_period(refill_every)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(BURST, REFILL_EVERY)
    }
}

impl LoginThrottle {
    /// `burst` attempts at once, then one more every `refill_every`.
    #[must_use]
    pub fn new(burst: u32, refill_every: Duration) -> Self {
        Self {
            buckets: Arc::new(DefaultKeyedRateLimiter::keyed(quota(burst, refill_every))),
            trusted_proxies: Arc::from([]),
        }
    }

    /// The reverse proxies whose `X-Forwarded-For` names the real client.
    #[must_use]
    pub fn trusting(mut self, proxies: Vec<IpAddr>) -> Self {
        self.trusted_proxies = proxies.into();
        self
    }

    /// The client's address: the peer's, or the one a trusted proxy forwarded.
    #[must_use]
    pub fn client_address(
        &self,
        peer: Option<IpAddr>,
        forwarded_for: Option<&str>,
    ) -> Option<IpAddr> {
        let trusted = |address: &IpAddr| {
            self.trusted_proxies
                .iter()
                .any(|proxy| proxy.to_canonical() == address.to_canonical())
        };
        let peer = peer?;
        if !trusted(&peer) {
            return Some(peer);
        }
        // Right to left: each trusted hop appended the address it saw.
        let forwarded = forwarded_for
            .into_iter()
            .flat_map(|header| header.rsplit(','))
            .map(|entry| entry.trim().parse::<IpAddr>());
        for entry in forwarded {
            match entry {
                Ok(address) if trusted(&address) => {}
                Ok(address) => return Some(address),
                // Garbage where the proxy writes: the proxy itself is the source.
                Err(_) => return Some(peer),
            }
        }
        Some(peer)
    }

    /// Takes one attempt from the client's bucket, or says when the next is allowed.
    pub fn take_attempt(&self, client: Option<IpAddr>) -> Result<(), ServerError> {
        self.buckets
            .check_key(&SourceKey::from(client))
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                ServerError::AddressRateLimited {
                    retry_after_secs: wait.as_secs() + 1,
                }
            })
    }

    /// Forgets the sources whose buckets are full again: they would allow the
    /// same as a new one. Keeps memory bounded under a flood from many addresses.
    pub fn forget_idle_sources(&self) {
        self.buckets.retain_recent();
        self.buckets.shrink_to_fit();
    }
}

/// [`LoginThrottle::forget_idle_sources`] and the same for the devices' event
/// limits, every ten minutes, while the server runs.
pub async fn forget_idle_sources_forever(
    throttle: LoginThrottle,
    devices: crate::device_limit::DeviceEventLimit,
) {
    let mut every = tokio::time::interval(Duration::from_secs(600));
    loop {
        every.tick().await;
        throttle.forget_idle_sources();
        devices.forget_idle_devices();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn one_source_runs_out_and_another_is_untouched() {
        let throttle = LoginThrottle::new(3, Duration::from_secs(3600));
        let attacker = Some(ip("203.0.113.7"));
        for _ in 0..3 {
            throttle.take_attempt(attacker).unwrap();
        }
        let refused = throttle.take_attempt(attacker).unwrap_err();
        assert!(
            matches!(refused, ServerError::AddressRateLimited { retry_after_secs } if (3500..=3601).contains(&retry_after_secs)),
            "{refused:?}"
        );
        throttle.take_attempt(Some(ip("203.0.113.8"))).unwrap();
        // The same machine over IPv4-mapped IPv6 is the same source.
        assert!(
            throttle
                .take_attempt(Some(ip("::ffff:203.0.113.7")))
                .is_err()
        );
    }

    #[test]
    fn addresses_in_one_ipv6_64_share_a_bucket() {
        let throttle = LoginThrottle::new(1, Duration::from_secs(3600));
        throttle.take_attempt(Some(ip("2001:db8:0:1::1"))).unwrap();
        assert!(
            throttle
                .take_attempt(Some(ip("2001:db8:0:1::ffff")))
                .is_err()
        );
        throttle.take_attempt(Some(ip("2001:db8:0:2::1"))).unwrap();
    }

    #[test]
    fn forwarded_addresses_count_only_from_a_trusted_proxy() {
        let proxy = ip("10.0.0.2");
        let throttle = LoginThrottle::default().trusting(vec![proxy]);
        // An untrusted peer cannot pick its own address with the header.
        assert_eq!(
            throttle.client_address(Some(ip("198.51.100.9")), Some("192.0.2.1")),
            Some(ip("198.51.100.9"))
        );
        // Through the proxy: the entry it appended, not the client's own claim.
        assert_eq!(
            throttle.client_address(Some(proxy), Some("192.0.2.1, 198.51.100.9")),
            Some(ip("198.51.100.9"))
        );
        assert_eq!(
            throttle.client_address(Some(proxy), Some("198.51.100.9, 10.0.0.2")),
            Some(ip("198.51.100.9"))
        );
        assert_eq!(throttle.client_address(Some(proxy), None), Some(proxy));
        assert_eq!(
            throttle.client_address(Some(proxy), Some("not-an-address")),
            Some(proxy)
        );
    }
}
