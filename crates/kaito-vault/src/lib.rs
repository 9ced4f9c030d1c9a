//! The local store behind the desktop app: vault key in the OS keychain, seeds sealed
//! in SQLite, and the audit outbox. (Being built under its own issue.)
