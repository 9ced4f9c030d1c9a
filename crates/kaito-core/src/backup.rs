//! Kaito's own encrypted backup file.
//!
//! A fixed binary header (magic, version, Argon2id parameters, salt, a password
//! check, cipher id, nonce) followed by AES-256-GCM ciphertext of a JSON document
//! listing the tokens. The whole header is the GCM associated data, so any change to
//! it makes the file fail to open. The exact layout is in `docs/backup-format.md`.
//!
//! Randomness is the caller's: [`BackupRandomness`] carries a fresh salt and nonce
//! from the OS CSPRNG, keeping this crate free of I/O and its tests deterministic.

use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use crate::import::crypto::{self, CryptoError, KdfError};
use crate::import::json::{self as lenient, Scrubbed};
use crate::import::{EntrySkip, RawEntry, SkipReason};
use crate::secret::constant_time_eq;
use crate::token::{OtpKind, Token};

/// First bytes of every backup file.
pub const MAGIC: &[u8; 8] = b"KAITOBAK";
/// The layout version written by this code.
pub const FORMAT_VERSION: u16 = 1;
/// KDF id 1: Argon2id, version 0x13.
const KDF_ARGON2ID: u8 = 1;
/// Cipher id 1: AES-256-GCM with a 96-bit nonce and 128-bit tag.
const CIPHER_AES_256_GCM: u8 = 1;
const SALT_LEN: usize = 16;
const CHECK_LEN: usize = 16;
/// Byte length of the header (also the associated data).
pub const HEADER_LEN: usize = 8 + 2 + 1 + 4 + 4 + 4 + SALT_LEN + CHECK_LEN + 1 + crypto::NONCE_LEN;
/// `kind` value inside the JSON payload, so a decrypted payload is self-describing.
const PAYLOAD_KIND: &str = "kaito-backup";

/// Argon2id cost parameters, stored in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub passes: u32,
    /// Lanes (parallelism).
    pub lanes: u32,
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane: well past OWASP's Argon2id floor while still
    /// opening in well under a second on a modest laptop.
    fn default() -> Self {
        Self {
            memory_kib: 64 * 1024,
            passes: 3,
            lanes: 1,
        }
    }
}

/// Fresh random bytes for one backup. Both must come from a CSPRNG and never be
/// reused: a repeated nonce under the same key breaks AES-GCM.
#[derive(Debug, Clone, Copy)]
pub struct BackupRandomness {
    pub salt: [u8; SALT_LEN],
    pub nonce: [u8; crypto::NONCE_LEN],
}

/// A decrypted backup.
#[derive(Debug)]
pub struct Backup {
    pub tokens: Vec<Token>,
    /// Entries that were stored but are unusable (only possible if a newer or buggy
    /// writer produced them); reported rather than failing the restore.
    pub skipped: Vec<EntrySkip>,
    /// Opaque vault metadata (favourites, order…) exactly as sealed.
    pub extra: Option<Value>,
}

/// Why a backup could not be written or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackupError {
    #[error("this is not a Kaito backup file")]
    NotABackup,
    #[error("the backup is truncated: {len} bytes is too short to hold a header and its data")]
    Truncated { len: usize },
    #[error(
        "this backup was written by a newer Kaito (format version {version}); update Kaito to open it"
    )]
    UnsupportedVersion { version: u16 },
    #[error("wrong password (or the backup's key-derivation header was altered)")]
    WrongPassword,
    #[error("the backup was altered or damaged: its contents fail authentication")]
    Tampered,
    #[error("the backup is damaged: {detail}")]
    Corrupt { detail: String },
    #[error("a backup password must not be empty")]
    EmptyPassword,
    #[error("invalid key-derivation parameters: {detail}")]
    InvalidParams { detail: String },
}

impl BackupError {
    /// Stable machine-readable code for the UI's `{code, message}` errors.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            BackupError::NotABackup => "backup.not_a_backup",
            BackupError::Truncated { .. } => "backup.truncated",
            BackupError::UnsupportedVersion { .. } => "backup.unsupported_version",
            BackupError::WrongPassword => "backup.wrong_password",
            BackupError::Tampered => "backup.tampered",
            BackupError::Corrupt { .. } => "backup.corrupt",
            BackupError::EmptyPassword => "backup.empty_password",
            BackupError::InvalidParams { .. } => "backup.invalid_params",
        }
    }
}

/// True when the bytes start like a Kaito backup (no password needed).
#[must_use]
pub fn looks_like_backup(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// Encrypts `tokens` (and the caller's opaque `extra` metadata) under `password`.
pub fn seal_backup(
    tokens: &[Token],
    extra: Option<&Value>,
    password: &str,
    params: KdfParams,
    randomness: BackupRandomness,
) -> Result<Vec<u8>, BackupError> {
    if password.is_empty() {
        return Err(BackupError::EmptyPassword);
    }
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    header.push(KDF_ARGON2ID);
    header.extend_from_slice(&params.memory_kib.to_be_bytes());
    header.extend_from_slice(&params.passes.to_be_bytes());
    header.extend_from_slice(&params.lanes.to_be_bytes());
    header.extend_from_slice(&randomness.salt);
    let derived = derive(password, &randomness.salt, params).map_err(
        |(KdfError::Malformed(detail) | KdfError::TooExpensive(detail))| {
            BackupError::InvalidParams { detail }
        },
    )?;
    header.extend_from_slice(&derived[32..32 + CHECK_LEN]);
    header.push(CIPHER_AES_256_GCM);
    header.extend_from_slice(&randomness.nonce);
    debug_assert_eq!(header.len(), HEADER_LEN);

    let plaintext = payload_json(tokens, extra);
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&derived[..32]);
    let sealed = crypto::aes_gcm_seal(&key, &randomness.nonce, &header, &plaintext);
    header.extend_from_slice(&sealed);
    Ok(header)
}

/// Decrypts a backup made by [`seal_backup`].
pub fn open_backup(bytes: &[u8], password: &str) -> Result<Backup, BackupError> {
    if !looks_like_backup(bytes) {
        return Err(if MAGIC.starts_with(bytes) && !bytes.is_empty() {
            BackupError::Truncated { len: bytes.len() }
        } else {
            BackupError::NotABackup
        });
    }
    if bytes.len() < 10 {
        return Err(BackupError::Truncated { len: bytes.len() });
    }
    let version = u16::from_be_bytes([bytes[8], bytes[9]]);
    if version != FORMAT_VERSION {
        return Err(BackupError::UnsupportedVersion { version });
    }
    if bytes.len() < HEADER_LEN + crypto::TAG_LEN {
        return Err(BackupError::Truncated { len: bytes.len() });
    }
    let (header, sealed) = bytes.split_at(HEADER_LEN);
    let mut reader = HeaderReader {
        bytes: header,
        position: 10,
    };
    if reader.byte() != KDF_ARGON2ID {
        return Err(BackupError::Corrupt {
            detail: "unknown key-derivation function id".to_owned(),
        });
    }
    let params = KdfParams {
        memory_kib: reader.u32(),
        passes: reader.u32(),
        lanes: reader.u32(),
    };
    let salt = reader.take(SALT_LEN);
    let check = reader.take(CHECK_LEN);
    if reader.byte() != CIPHER_AES_256_GCM {
        return Err(BackupError::Corrupt {
            detail: "unknown cipher id".to_owned(),
        });
    }
    let nonce = reader.take(crypto::NONCE_LEN);

    let derived = derive(password, salt, params).map_err(
        |(KdfError::Malformed(detail) | KdfError::TooExpensive(detail))| BackupError::Corrupt {
            detail: format!("unusable key-derivation parameters ({detail})"),
        },
    )?;
    if !constant_time_eq(&derived[32..32 + CHECK_LEN], check) {
        return Err(BackupError::WrongPassword);
    }
    let plaintext = crypto::aes_gcm_open(&derived[..32], nonce, header, sealed).map_err(
        |error| match error {
            CryptoError::Authentication => BackupError::Tampered,
            CryptoError::Malformed(detail) => BackupError::Corrupt { detail },
        },
    )?;
    read_payload(&plaintext)
}

/// Argon2id to 48 bytes: 32 for the AES key, 16 for the password check. Both come
/// from one Argon2 output, whose bytes are independent, so the check reveals
/// nothing about the key.
fn derive(password: &str, salt: &[u8], params: KdfParams) -> Result<Zeroizing<[u8; 48]>, KdfError> {
    let mut out = Zeroizing::new([0u8; 48]);
    crypto::argon2id(
        password.as_bytes(),
        salt,
        params.memory_kib,
        params.passes,
        params.lanes,
        out.as_mut(),
    )?;
    Ok(out)
}

/// Reads fixed-size fields; only ever called on a slice of exactly `HEADER_LEN`.
struct HeaderReader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> HeaderReader<'a> {
    fn take(&mut self, len: usize) -> &'a [u8] {
        let end = (self.position + len).min(self.bytes.len());
        let field = self.bytes.get(self.position..end).unwrap_or_default();
        self.position = end;
        field
    }

    fn byte(&mut self) -> u8 {
        self.take(1).first().copied().unwrap_or_default()
    }

    fn u32(&mut self) -> u32 {
        self.take(4).try_into().map_or(0, u32::from_be_bytes)
    }
}

/// The payload as JSON bytes in a zeroizing buffer.
fn payload_json(tokens: &[Token], extra: Option<&Value>) -> Zeroizing<Vec<u8>> {
    let entries: Vec<Value> = tokens.iter().map(token_json).collect();
    let document = Scrubbed(json!({
        "kind": PAYLOAD_KIND,
        "version": 1,
        "tokens": entries,
        "extra": extra.cloned().unwrap_or(Value::Null),
    }));
    lenient::to_zeroizing_vec(&document.0, false)
}

fn token_json(token: &Token) -> Value {
    let mut entry = Map::new();
    entry.insert("issuer".into(), token.issuer.clone().into());
    entry.insert("account".into(), token.account.clone().into());
    match token.kind {
        OtpKind::Totp { period } => {
            entry.insert("type".into(), "totp".into());
            entry.insert("period".into(), period.into());
        }
        OtpKind::Hotp { counter } => {
            entry.insert("type".into(), "hotp".into());
            entry.insert("counter".into(), counter.into());
        }
        OtpKind::Steam { period } => {
            entry.insert("type".into(), "steam".into());
            entry.insert("period".into(), period.into());
        }
    }
    entry.insert("algorithm".into(), token.algorithm.name().into());
    entry.insert("digits".into(), token.digits.into());
    entry.insert(
        "secret".into(),
        Value::String(token.secret.to_base32().as_str().to_owned()),
    );
    entry.insert(
        "group".into(),
        token.group.clone().map_or(Value::Null, Value::String),
    );
    Value::Object(entry)
}

fn read_payload(plaintext: &[u8]) -> Result<Backup, BackupError> {
    let corrupt = |detail: &str| BackupError::Corrupt {
        detail: detail.to_owned(),
    };
    let document =
        Scrubbed::parse(plaintext).ok_or_else(|| corrupt("the decrypted payload is not JSON"))?;
    let top = document
        .object()
        .ok_or_else(|| corrupt("the decrypted payload is not a JSON object"))?;
    if lenient::text(top, "kind") != Some(PAYLOAD_KIND) {
        return Err(corrupt("the decrypted payload is not a Kaito token list"));
    }
    let entries = top
        .get("tokens")
        .and_then(Value::as_array)
        .ok_or_else(|| corrupt("the payload has no token list"))?;
    let mut tokens = Vec::with_capacity(entries.len());
    let mut skipped = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let Some(entry) = entry.as_object() else {
            skipped.push(EntrySkip {
                index,
                label: format!("entry {}", index + 1),
                reason: SkipReason::Malformed {
                    detail: "not a JSON object".to_owned(),
                },
            });
            continue;
        };
        let raw = RawEntry {
            issuer: lenient::text_or_empty(entry, "issuer"),
            account: lenient::text_or_empty(entry, "account"),
            kind: lenient::text_or_empty(entry, "type"),
            secret: lenient::text(entry, "secret"),
            algorithm: lenient::text(entry, "algorithm"),
            digits: lenient::number(entry, "digits"),
            period: lenient::number(entry, "period"),
            counter: lenient::number(entry, "counter"),
            group: lenient::text(entry, "group").map(str::to_owned),
        };
        let label = raw.label(index);
        match raw.into_token() {
            Ok(token) => tokens.push(token),
            Err(reason) => skipped.push(EntrySkip {
                index,
                label,
                reason,
            }),
        }
    }
    let extra = top.get("extra").filter(|extra| !extra.is_null()).cloned();
    Ok(Backup {
        tokens,
        skipped,
        extra,
    })
}
