//! The one error type of the vault. Every variant maps to a stable code (see
//! [`VaultError::code`]) so the UI can show a specific explanation and action.

use kaito_core::TokenError;
use kaito_core::backup::BackupError;
use kaito_core::directory::DirectoryError;

use crate::TokenId;

/// Why a vault operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// No keychain service answered (e.g. no Secret Service provider on the session
    /// bus, no D-Bus session at all).
    #[error("the system keychain is not available: {detail}")]
    KeychainUnavailable { detail: String },
    /// The keychain exists but is locked and was not unlocked.
    #[error("the system keychain is locked; unlock it and try again ({detail})")]
    KeychainLocked { detail: String },
    /// The keychain refused access (prompt dismissed, access control).
    #[error("access to the system keychain was denied ({detail})")]
    KeychainAccessDenied { detail: String },
    /// Any other keychain failure.
    #[error("the system keychain failed: {detail}")]
    Keychain { detail: String },
    /// The vault database exists but its key is gone from the keychain: the seeds
    /// cannot be decrypted. Never answered by creating a new, empty vault.
    #[error(
        "the vault key is missing from the system keychain, so the existing vault cannot be opened"
    )]
    VaultKeyMissing,
    /// The keychain holds a key, but not the one this vault was sealed with (or the
    /// entry holds something that is not a Kaito vault key).
    #[error("the key in the system keychain does not belong to this vault")]
    VaultKeyMismatch,
    /// The vault is locked; unlock it first.
    #[error("the vault is locked")]
    Locked,
    /// The passphrase did not unwrap the vault key. Nothing was changed.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// The operation needs a passphrase-protected vault.
    #[error("the vault has no passphrase set")]
    NoPassphrase,
    /// Locking was asked for without a passphrase: the key would come straight
    /// back from the keychain, so the lock would keep nobody out.
    #[error("set a passphrase first: without one, locking would not keep anyone out")]
    LockWithoutPassphrase,
    /// A passphrase is already set: change or remove it instead.
    #[error("a passphrase is already set for this vault")]
    PassphraseAlreadySet,
    /// The vault is protected by a passphrase; unlock with it.
    #[error("the vault is protected by a passphrase")]
    PassphraseRequired,
    /// Passphrases must not be empty.
    #[error("the passphrase must not be empty")]
    EmptyPassphrase,
    /// The same issuer, account and secret is already in the vault.
    #[error("this token is already in the vault")]
    Duplicate { existing: TokenId },
    /// No live token with that id (never added, deleted, or purged).
    #[error("no such token")]
    NotFound { id: TokenId },
    /// The deletion can no longer be undone (purged or already restored).
    #[error("the deletion can no longer be undone")]
    UndoExpired { id: TokenId },
    /// An HOTP counter beyond what the vault can store (2^63 - 1).
    #[error("HOTP counter {counter} is out of range")]
    InvalidCounter { counter: u64 },
    /// The operation only applies to HOTP tokens.
    #[error("this token is not counter-based (HOTP)")]
    NotHotp { id: TokenId },
    /// The token's sealed seed fails authentication: it was altered or damaged.
    /// Other tokens are unaffected.
    #[error("the secret of this token is damaged and cannot be decrypted")]
    Corrupt { id: TokenId },
    /// A stored row is unreadable (unknown kind, bad column) outside the seed.
    #[error("the vault database is damaged: {detail}")]
    CorruptDatabase { detail: String },
    /// The audit chain does not verify at this sequence number.
    #[error("the audit log chain is broken at event {sequence}")]
    AuditChainBroken { sequence: i64 },
    /// Token parameters (digits, period) are invalid.
    #[error(transparent)]
    InvalidToken(#[from] TokenError),
    /// A downloaded 2FA directory did not parse; the cached copy was kept.
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    /// A preference outside what the app can honour; nothing was saved.
    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),
    /// Backup could not be written or opened.
    #[error(transparent)]
    Backup(#[from] BackupError),
    /// The OS random number generator failed.
    #[error("the system random number generator failed: {detail}")]
    Randomness { detail: String },
    /// Key-derivation parameters are unusable.
    #[error("invalid passphrase key-derivation parameters: {detail}")]
    KdfParams { detail: String },
    /// Opening or migrating the database failed.
    #[error("the vault database could not be migrated: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// `SQLite` failed (disk full, I/O error, file locked by another process…).
    #[error("vault database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A blocking task (keychain, KDF) was cancelled or panicked.
    #[error("a background task failed: {detail}")]
    Task { detail: String },
}

impl VaultError {
    /// Stable machine-readable code for the UI's `{code, message}` errors.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::KeychainUnavailable { .. } => "vault.keychain_unavailable",
            Self::KeychainLocked { .. } => "vault.keychain_locked",
            Self::KeychainAccessDenied { .. } => "vault.keychain_access_denied",
            Self::Keychain { .. } => "vault.keychain_failed",
            Self::VaultKeyMissing => "vault.key_missing",
            Self::VaultKeyMismatch => "vault.key_mismatch",
            Self::Locked => "vault.locked",
            Self::WrongPassphrase => "vault.wrong_passphrase",
            Self::NoPassphrase | Self::LockWithoutPassphrase => "vault.no_passphrase",
            Self::PassphraseAlreadySet => "vault.passphrase_already_set",
            Self::PassphraseRequired => "vault.passphrase_required",
            Self::EmptyPassphrase => "vault.empty_passphrase",
            Self::Duplicate { .. } => "vault.duplicate",
            Self::NotFound { .. } => "vault.not_found",
            Self::UndoExpired { .. } => "vault.undo_expired",
            Self::NotHotp { .. } => "vault.not_hotp",
            Self::InvalidCounter { .. } => "vault.invalid_counter",
            Self::Corrupt { .. } => "vault.corrupt_secret",
            Self::CorruptDatabase { .. } => "vault.corrupt_database",
            Self::AuditChainBroken { .. } => "vault.audit_chain_broken",
            Self::InvalidToken(_) => "vault.invalid_token",
            Self::Backup(error) => error.code(),
            Self::Directory(error) => error.code(),
            Self::Settings(error) => error.code(),
            Self::Randomness { .. } => "vault.randomness",
            Self::KdfParams { .. } => "vault.kdf_params",
            Self::Migration(_) => "vault.migration",
            Self::Database(_) => "vault.database",
            Self::Task { .. } => "vault.task",
        }
    }
}

impl From<tokio::task::JoinError> for VaultError {
    fn from(error: tokio::task::JoinError) -> Self {
        Self::Task {
            detail: error.to_string(),
        }
    }
}

impl From<getrandom::Error> for VaultError {
    fn from(error: getrandom::Error) -> Self {
        Self::Randomness {
            detail: error.to_string(),
        }
    }
}
