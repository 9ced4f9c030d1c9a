//! Which addresses a sink may reach. A team admin is not the server's operator, so
//! a sink must not become a way into the operator's network: loopback, private
//! (RFC 1918, IPv6 ULA), carrier-grade NAT, link-local (where cloud metadata
//! services answer) and non-unicast addresses are refused. The operator may allow
//! the private and loopback ranges for an on-premises SIEM
//! (`--siem-allow-private`); link-local and non-unicast addresses stay refused even
//! then. The check runs on every address a name resolves to, each time a sink is
//! connected to, so a name that resolves elsewhere later (DNS rebinding) is caught.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The operator's choice of what sinks may reach.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DestinationPolicy {
    /// Let sinks reach loopback and private addresses (an on-premises SIEM).
    pub allow_private: bool,
}

/// An address a sink may not connect to, and why.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{host} is {address}, {kind}; sinks may not reach it{hint}")]
pub struct RefusedAddress {
    pub host: String,
    pub address: IpAddr,
    kind: &'static str,
    hint: &'static str,
}

/// The kinds of address a sink may not reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Range {
    /// Allowed with `allow_private`.
    Private(&'static str),
    /// Never allowed.
    Forbidden(&'static str),
}

fn range(address: IpAddr) -> Option<Range> {
    match address {
        IpAddr::V4(v4) => range_v4(v4),
        IpAddr::V6(v6) => {
            // An IPv4 address written as IPv6 reaches the IPv4 host.
            if let Some(v4) = v6.to_ipv4_mapped() {
                return range_v4(v4);
            }
            range_v6(v6)
        }
    }
}

fn range_v4(address: Ipv4Addr) -> Option<Range> {
    let [first, second, ..] = address.octets();
    if address.is_loopback() {
        Some(Range::Private("a loopback address"))
    } else if address.is_private() {
        Some(Range::Private("a private address"))
    } else if first == 100 && (64..128).contains(&second) {
        Some(Range::Private("a carrier-grade NAT address"))
    } else if address.is_link_local() {
        Some(Range::Forbidden(
            "a link-local address (where cloud metadata services answer)",
        ))
    } else if address.is_unspecified() || first == 0 {
        Some(Range::Forbidden("an unspecified address"))
    } else if address.is_multicast() || address.is_broadcast() || first >= 240 {
        Some(Range::Forbidden("not a unicast address"))
    } else {
        None
    }
}

fn range_v6(address: Ipv6Addr) -> Option<Range> {
    let first = address.segments()[0];
    if address.is_loopback() {
        Some(Range::Private("a loopback address"))
    } else if first & 0xfe00 == 0xfc00 {
        Some(Range::Private("a unique local (private) address"))
    } else if first & 0xffc0 == 0xfe80 {
        Some(Range::Forbidden(
            "a link-local address (where cloud metadata services answer)",
        ))
    } else if address.is_unspecified() {
        Some(Range::Forbidden("an unspecified address"))
    } else if address.is_multicast() {
        Some(Range::Forbidden("not a unicast address"))
    } else {
        None
    }
}

impl DestinationPolicy {
    /// Whether a sink may connect to `address` (which `host` named).
    /// Checks `host` when it is an address written out (`10.0.0.5`, `[::1]`);
    /// `None` for a name, which only its resolved addresses can answer for.
    #[must_use]
    pub fn check_literal(self, host: &str) -> Option<Result<(), RefusedAddress>> {
        let address = host.trim_matches(['[', ']']).parse().ok()?;
        Some(self.check(host, address))
    }

    pub fn check(self, host: &str, address: IpAddr) -> Result<(), RefusedAddress> {
        let refused = |kind, hint| RefusedAddress {
            host: host.to_owned(),
            address,
            kind,
            hint,
        };
        match range(address) {
            None => Ok(()),
            Some(Range::Private(_)) if self.allow_private => Ok(()),
            Some(Range::Private(kind)) => Err(refused(
                kind,
                " (the operator can allow private ranges with --siem-allow-private)",
            )),
            Some(Range::Forbidden(kind)) => Err(refused(kind, "")),
        }
    }

    /// Resolves `host` and checks every address it gives: one refused address
    /// refuses the name, since the connection could go to any of them.
    pub async fn resolve(self, host: &str, port: u16) -> Result<Vec<SocketAddr>, ResolveError> {
        let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|source| ResolveError::Lookup {
                host: host.to_owned(),
                source,
            })?
            .collect();
        if addresses.is_empty() {
            return Err(ResolveError::Lookup {
                host: host.to_owned(),
                source: std::io::ErrorKind::NotFound.into(),
            });
        }
        for address in &addresses {
            self.check(host, address.ip())?;
        }
        Ok(addresses)
    }
}

/// Why a sink's host gave no address to connect to.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("cannot resolve {host}: {source}")]
    Lookup {
        host: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Refused(#[from] RefusedAddress),
}

/// Name resolution for the sinks' HTTP client: a name is resolved and checked as
/// [`DestinationPolicy::resolve`] does, at every connection reqwest opens.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CheckedResolver(pub DestinationPolicy);

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // Port 0: reqwest puts the URL's port in.
            let addresses = policy.resolve(&host, 0).await?;
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(policy: DestinationPolicy, address: &str) -> bool {
        policy.check("h", address.parse().unwrap()).is_ok()
    }

    #[test]
    fn public_addresses_pass_and_internal_ones_do_not() {
        let strict = DestinationPolicy::default();
        for public in ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "100.128.0.1"] {
            assert!(allowed(strict, public), "{public}");
        }
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.9",
            "192.168.1.1",
            "100.64.0.1",
            "100.100.100.200",
            "169.254.169.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(!allowed(strict, internal), "{internal}");
        }
    }

    #[test]
    fn allowing_private_ranges_never_opens_metadata_or_non_unicast() {
        let on_prem = DestinationPolicy {
            allow_private: true,
        };
        for private in ["127.0.0.1", "10.1.2.3", "192.168.1.1", "fd12::5", "::1"] {
            assert!(allowed(on_prem, private), "{private}");
        }
        for forbidden in [
            "169.254.169.254",
            "fe80::1",
            "0.0.0.0",
            "224.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(!allowed(on_prem, forbidden), "{forbidden}");
        }
    }

    #[test]
    fn the_refusal_names_the_host_the_address_and_the_way_out() {
        let error = DestinationPolicy::default()
            .check("siem.internal", "10.0.0.5".parse().unwrap())
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "siem.internal is 10.0.0.5, a private address; sinks may not reach it \
             (the operator can allow private ranges with --siem-allow-private)"
        );
    }
}
