//! IPC commands, one module per area of the app; each command adapts one call into
//! the app state or a crate.

pub mod admin;
pub mod directory;
pub mod enroll;
pub mod lock;
pub mod scan;
pub mod settings;
pub mod sso;
pub mod team;
pub mod tokens;
pub mod windows;
