//! The Kaito team server: teams and their members, sign-in, and (to come) shared
//! tokens, server-computed codes, the audit log and the SMS inbox. Storage is
//! embedded SQLite by default and PostgreSQL for larger teams ([`store`]).

pub mod accounts;
pub mod api_tokens;
pub mod audit;
pub mod audited;
pub mod custody;
pub mod devices;
pub mod error;
pub mod http;
pub mod ids;
pub mod invites;
pub mod metrics;
pub mod secrets;
pub mod shared;
pub mod siem;
pub mod sms;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;

/// Printed by `kaito-server --version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
