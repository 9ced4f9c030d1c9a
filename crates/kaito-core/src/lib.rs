//! Kaito's pure core. Bytes and strings in, values out: no file, network, clock or
//! keychain access happens here, so the app, the server and the fuzzers share one
//! behaviour. Callers pass the current time (and, for encryption and backoff jitter,
//! random bytes) in.
//!
//! One exception, kept at the edge: [`clock::SystemClock`], the real implementation of
//! the [`clock::Clock`] trait. It lives here so the app, the vault and the server share
//! one clock type, but nothing in this crate calls it: every function still takes its
//! time as an argument, and tests pass a fixed clock.

pub mod backoff;
pub mod backup;
pub mod clock;
pub mod directory;
pub mod export;
pub mod import;
#[cfg(feature = "qr")]
pub mod live;
pub mod manual;
pub mod migration;
pub mod otp;
#[cfg(feature = "qr")]
pub mod qr;
pub mod secret;
pub mod sms;
pub mod token;
pub mod uri;

pub use import::{Format, ImportError, ImportReport, detect_and_import};
pub use otp::{Code, CodeGenerator, TotpWindow};
pub use secret::{Secret, SecretError};
pub use token::{Algorithm, OtpKind, Token, TokenError};
pub use uri::{ParsedUri, UriError};
