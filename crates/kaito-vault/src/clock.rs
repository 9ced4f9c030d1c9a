//! Time as the vault sees it. Passed in (never read ad hoc) so tests can drive
//! auto-lock and timestamps deterministically. The clock and the millisecond
//! conversions live in [`kaito_core::clock`], shared with the server; these are the
//! vault's existing paths to them.

pub use kaito_core::clock::{Clock, SystemClock, UnixMillis, from_unix_millis, unix_millis};
