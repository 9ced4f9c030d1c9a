//! The Kaito team server: teams and their members, sign-in, shared tokens with
//! server-computed codes, the hash-chained audit log and its SIEM delivery, and
//! the shared SMS inbox. Storage is
//! embedded SQLite by default and PostgreSQL for larger teams ([`store`]).

pub mod accounts;
pub mod api_tokens;
pub mod audit;
pub mod audited;
pub mod custody;
pub mod device_limit;
pub mod devices;
pub mod error;
pub mod http;
pub mod ids;
pub mod invites;
pub mod login_throttle;
pub mod metrics;
pub mod password_work;
pub mod secrets;
pub mod shared;
pub mod siem;
pub mod sms;
pub mod sso;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;

/// Printed by `kaito-server --version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
