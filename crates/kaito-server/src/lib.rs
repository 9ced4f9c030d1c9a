//! The Kaito team server. (Being built under its own issue.)

/// Printed by `kaito-server --version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
