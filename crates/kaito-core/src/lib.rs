//! Kaito's pure core. Bytes and strings in, values out: no file, network, clock or
//! keychain access happens here, so the app, the server and the fuzzers share one
//! behaviour. Callers pass the current time in.

pub mod secret;
pub mod token;

pub use secret::{Secret, SecretError};
pub use token::{Algorithm, OtpKind, Token, TokenError};
