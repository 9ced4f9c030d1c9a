//! Wire types shared by the desktop app and the team server. Both sides compile
//! against these definitions so a renamed field breaks the build, not production.

/// Version of the HTTP API; a server answers 400 to clients of a newer major version.
pub const API_VERSION: u32 = 1;
