//! The local store behind the desktop app.
//!
//! - The 256-bit vault key lives in the OS keychain ([`KeychainKeyStore`]), namespaced
//!   by build channel and profile; a missing key for an existing vault is an error
//!   ([`VaultError::VaultKeyMissing`]), never a fresh empty vault.
//! - Seeds are sealed with AES-256-GCM in a `SQLite` file (WAL, foreign keys on); the
//!   rest of each token is plain metadata so listing and search need no decryption.
//! - Every sensitive action writes a hash-chained audit event in the same
//!   transaction ([`audit`]), drained by a sync client via [`Vault::pending`].
//! - Team mode's storage ([`team_store`]): the link to a team server, the last list of
//!   shared tokens, the outbox for the team's audit log and kept seeds; the client
//!   that talks to the server is the `kaito-team` crate.
//! - Team mode's keychain entry (refresh token, device key) is sealed with the vault
//!   key ([`SealedSlot`]), so the passphrase lock covers the team sign-in too.
//! - An optional passphrase (Argon2id) wraps the vault key; while it is set the key
//!   is kept only in wrapped form in the database and the keychain entry is removed,
//!   so the lock protects the seeds and is not merely cosmetic.

pub mod audit;
mod audited;
mod backup;
pub mod clock;
mod crypto;
mod error;
pub mod keystore;
mod sealed_slot;
mod settings;
pub mod team_store;
mod vault;

#[cfg(test)]
mod tests;

use std::fmt;

pub use audit::{Acknowledgement, AuditAction, AuditEvent, ChainReport};
pub use backup::ImportReport;
pub use clock::{Clock, SystemClock};
pub use crypto::{PassphraseParams, SEAL_VERSION};
pub use error::VaultError;
pub use keystore::{
    Channel, KeyNamespace, KeyStore, KeychainKeyStore, KeychainSecret, SecretSlot, VaultKey,
};
pub use sealed_slot::SealedSlot;
pub use settings::{Settings, SettingsError, Theme};
pub use team_store::OutboxEvent;
pub use vault::{
    CachedDirectory, CodeUse, CopiedCode, DirectoryDownload, StoredToken, TokenEdit, TokenExtras,
    UndoHandle, Vault, VaultOptions,
};

/// Identifies a token in the vault (and in audit events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenId(pub uuid::Uuid);

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for TokenId {
    type Err = uuid::Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(text).map(Self)
    }
}
