//! Pushing each team's audit log to its SIEMs. A sink has a delivery cursor: the
//! events up to it have reached the sink at least once. A background task on every
//! replica sends what lies past each cursor, in order and in batches, and moves the
//! cursor only after a batch went through, so a crash or an outage repeats events
//! rather than losing them. A lease in the database keeps two replicas from
//! sending to one sink at once; a failing sink is retried with growing pauses and
//! its last error is shown to admins.
//!
//! Formats: RFC 5424 syslog over TCP or TLS with octet-counting framing (RFC 5425 /
//! RFC 6587), carrying CEF or JSON; Splunk's HTTP Event Collector; a JSON webhook
//! signed with HMAC-SHA256.
//!
//! A sink is reached only at public addresses unless the operator allows private
//! ranges ([`DestinationPolicy`]); cleartext targets need the admin's explicit
//! `insecure`; redirects are not followed; each batch has a time limit and each
//! sink its own task.

mod deliver;
mod destination;
mod format;
mod sinks;
mod transport;

pub use deliver::{Deliverer, DeliveryError};
pub(crate) use destination::CheckedResolver;
pub use destination::{DestinationPolicy, RefusedAddress, ResolveError};
pub use format::{cef, octet_counted, syslog_record, webhook_signature};
pub(crate) use sinks::hold_made_by;
pub use sinks::{add_sink, list_sinks, remove_sink, resume_sink};

/// Events per delivery (one syslog write, one HTTP request).
pub const BATCH: i64 = 500;
