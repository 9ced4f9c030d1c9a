//! Importers for other authenticators' export files.
//!
//! Every format has one adapter implementing [`Importer`]. Adapters take the file's
//! bytes (and a password when the file is encrypted) and return an [`ImportReport`]:
//! the tokens that could be read plus one [`EntrySkip`] per entry that could not, so a
//! single odd entry never costs the user the rest of their tokens. Problems with the
//! file as a whole (wrong password, damaged file, unknown version) are an
//! [`ImportError`].
//!
//! [`detect_and_import`] picks the adapter by sniffing the bytes, for the common
//! "drop any file here" flow; [`Format`] lists the adapters for a format picker.
//!
//! Nothing here reads files, and no error or skip reason ever contains a secret.

mod aegis;
mod bitwarden;
pub(crate) mod crypto;
mod ente;
pub(crate) mod json;
mod kaito;
mod lines;
mod twofas;

use std::fmt;

pub use aegis::AegisImporter;
pub use bitwarden::BitwardenImporter;
pub use ente::EnteImporter;
pub use kaito::KaitoBackupImporter;
pub use lines::{GoogleMigrationImporter, UriListImporter};
pub use twofas::TwoFasImporter;

use crate::secret::SecretError;
use crate::token::{Token, TokenError};

/// Larger inputs are refused before parsing: real exports (even Aegis vaults with
/// icons) are a few MiB, and a bound keeps a hostile file from exhausting memory.
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

/// The export formats Kaito can read, in the order a format picker shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Kaito's own encrypted backup (see `docs/backup-format.md`).
    KaitoBackup,
    /// Text with one `otpauth://` (or `otpauth-migration://`) URI per line: Ente Auth's
    /// plain export, andOTP/FreeOTP+ style lists, hand-made lists.
    UriList,
    /// Google Authenticator "Transfer accounts" QR payloads, one per line.
    GoogleMigration,
    /// Aegis JSON vault, plain or password-encrypted.
    Aegis,
    /// 2FAS `.2fas` backup, plain or password-encrypted.
    TwoFas,
    /// Bitwarden unencrypted JSON export.
    Bitwarden,
    /// Ente Auth encrypted export.
    Ente,
}

impl Format {
    /// Every format, in picker order.
    pub const ALL: [Format; 7] = [
        Format::KaitoBackup,
        Format::UriList,
        Format::GoogleMigration,
        Format::Aegis,
        Format::TwoFas,
        Format::Bitwarden,
        Format::Ente,
    ];

    /// Human name for menus and messages.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Format::KaitoBackup => "Kaito backup",
            Format::UriList => "otpauth URI list",
            Format::GoogleMigration => "Google Authenticator export",
            Format::Aegis => "Aegis vault",
            Format::TwoFas => "2FAS backup",
            Format::Bitwarden => "Bitwarden JSON export",
            Format::Ente => "Ente Auth encrypted export",
        }
    }

    /// The adapter for this format.
    #[must_use]
    pub fn importer(self) -> &'static dyn Importer {
        match self {
            Format::KaitoBackup => &KaitoBackupImporter,
            Format::UriList => &UriListImporter,
            Format::GoogleMigration => &GoogleMigrationImporter,
            Format::Aegis => &AegisImporter,
            Format::TwoFas => &TwoFasImporter,
            Format::Bitwarden => &BitwardenImporter,
            Format::Ente => &EnteImporter,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One adapter per export format.
pub trait Importer: fmt::Debug + Sync {
    /// Which format this adapter reads.
    fn format(&self) -> Format;

    /// Cheap structural check: does this look like the format? It never needs the
    /// password and never fails; a `true` does not promise the import succeeds.
    fn sniff(&self, bytes: &[u8]) -> bool;

    /// Reads every entry it can. `password` is only consulted for encrypted files;
    /// an encrypted file without one gives [`ImportError::PasswordRequired`].
    fn import(&self, bytes: &[u8], password: Option<&str>) -> Result<ImportReport, ImportError>;
}

/// What an import produced.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub format: Option<Format>,
    /// Tokens read, in file order.
    pub tokens: Vec<Token>,
    /// Entries that were not imported, with why.
    pub skipped: Vec<EntrySkip>,
    /// Google Authenticator exports spread over several QR codes of which only some
    /// were in the file: the tokens on the missing codes are not in `tokens`.
    pub incomplete: Vec<MissingBatches>,
}

/// A multi-QR Google Authenticator export with codes missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingBatches {
    /// Number of QR codes in the whole export.
    pub total: u32,
    /// 1-based numbers of the codes not found ("code 2 of 3").
    pub missing: Vec<u32>,
}

impl fmt::Display for MissingBatches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<String> = self.missing.iter().map(u32::to_string).collect();
        write!(
            f,
            "QR code {} of {} missing from this Google Authenticator export",
            list.join(", "),
            self.total
        )
    }
}

impl ImportReport {
    fn new(format: Format) -> Self {
        Self {
            format: Some(format),
            tokens: Vec::new(),
            skipped: Vec::new(),
            incomplete: Vec::new(),
        }
    }

    pub(crate) fn skip(&mut self, index: usize, label: impl Into<String>, reason: SkipReason) {
        self.skipped.push(EntrySkip {
            index,
            label: label.into(),
            reason,
        });
    }

    /// Records the outcome of one entry.
    fn push(&mut self, index: usize, label: impl Into<String>, outcome: Result<Token, SkipReason>) {
        match outcome {
            Ok(token) => self.tokens.push(token),
            Err(reason) => self.skip(index, label, reason),
        }
    }
}

/// An entry that was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntrySkip {
    /// Zero-based position of the entry in the file (for text files: the line index).
    pub index: usize,
    /// What the user would recognise the entry by ("GitHub (alice)", "line 4"); never
    /// contains the secret.
    pub label: String,
    pub reason: SkipReason,
}

impl fmt::Display for EntrySkip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.label, self.reason)
    }
}

/// Why one entry was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkipReason {
    #[error("{kind:?} tokens are not supported")]
    UnsupportedKind { kind: String },
    #[error("the entry has no {field}")]
    Missing { field: &'static str },
    #[error("invalid secret: {0}")]
    Secret(#[from] SecretError),
    #[error("unusable parameters: {0}")]
    Parameters(#[from] TokenError),
    #[error("invalid URI: {detail}")]
    Uri { detail: String },
    #[error("malformed entry: {detail}")]
    Malformed { detail: String },
}

/// A problem with the file as a whole; nothing was imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("this file is not a {expected}")]
    NotThisFormat { expected: Format },
    #[error(
        "the file was not recognised as any supported export (Aegis, 2FAS, Bitwarden JSON, Ente, Google Authenticator, otpauth URI list, Kaito backup)"
    )]
    UnknownFormat,
    #[error(
        "the file is too large to be an authenticator export ({size} bytes; the limit is {limit})"
    )]
    TooLarge { size: usize, limit: usize },
    #[error("this {format} is encrypted: enter its password")]
    PasswordRequired { format: Format },
    #[error("wrong password for this {format}")]
    WrongPassword { format: Format },
    #[error("this {format} is damaged: {detail}")]
    Corrupt { format: Format, detail: String },
    #[error("this {format} uses version {version}, which Kaito cannot read yet")]
    UnsupportedVersion { format: Format, version: String },
    #[error("{format}: {detail}")]
    Unsupported { format: Format, detail: String },
}

impl ImportError {
    /// Stable machine-readable code for the UI's `{code, message}` errors.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::NotThisFormat { .. } => "import.not_this_format",
            ImportError::UnknownFormat => "import.unknown_format",
            ImportError::TooLarge { .. } => "import.too_large",
            ImportError::PasswordRequired { .. } => "import.password_required",
            ImportError::WrongPassword { .. } => "import.wrong_password",
            ImportError::Corrupt { .. } => "import.corrupt",
            ImportError::UnsupportedVersion { .. } => "import.unsupported_version",
            ImportError::Unsupported { .. } => "import.unsupported",
        }
    }

    pub(crate) fn corrupt(format: Format, detail: impl Into<String>) -> Self {
        ImportError::Corrupt {
            format,
            detail: detail.into(),
        }
    }
}

/// The format the bytes look like, if any. Encrypted formats are recognised without
/// the password.
#[must_use]
pub fn detect(bytes: &[u8]) -> Option<Format> {
    if bytes.len() > MAX_IMPORT_BYTES {
        return None;
    }
    Format::ALL
        .into_iter()
        .find(|format| format.importer().sniff(bytes))
}

/// Sniffs the format and imports with its adapter.
pub fn detect_and_import(
    bytes: &[u8],
    password: Option<&str>,
) -> Result<ImportReport, ImportError> {
    check_size(bytes)?;
    let format = detect(bytes)
        .or_else(|| guess_damaged_json(bytes))
        .ok_or(ImportError::UnknownFormat)?;
    format.importer().import(bytes, password)
}

/// For JSON that no sniffer accepts because it does not parse (usually a truncated
/// copy), a guess from the format's tell-tale keys, so the user hears "this Aegis
/// vault is damaged" rather than "unknown format".
fn guess_damaged_json(bytes: &[u8]) -> Option<Format> {
    if !json::looks_like_json_object(bytes)
        || serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
    {
        return None;
    }
    let has = |needle: &str| {
        bytes
            .windows(needle.len())
            .any(|window| window == needle.as_bytes())
    };
    if has("\"kdfParams\"") && has("\"encryptedData\"") {
        Some(Format::Ente)
    } else if has("\"schemaVersion\"") && (has("\"services\"") || has("\"servicesEncrypted\"")) {
        Some(Format::TwoFas)
    } else if has("\"header\"") && has("\"db\"") {
        Some(Format::Aegis)
    } else if has("\"encrypted\"") && has("\"items\"") {
        Some(Format::Bitwarden)
    } else {
        None
    }
}

fn check_size(bytes: &[u8]) -> Result<(), ImportError> {
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(ImportError::TooLarge {
            size: bytes.len(),
            limit: MAX_IMPORT_BYTES,
        });
    }
    Ok(())
}

/// "Issuer (account)" for skip labels, built only from the non-secret fields.
fn entry_label(issuer: &str, account: &str, index: usize) -> String {
    match (issuer.trim().is_empty(), account.trim().is_empty()) {
        (false, false) => format!("{} ({})", issuer.trim(), account.trim()),
        (false, true) => issuer.trim().to_owned(),
        (true, false) => account.trim().to_owned(),
        (true, true) => format!("entry {}", index + 1),
    }
}

/// The fields of one JSON-format entry, before validation. Shared by the JSON
/// adapters so that every format applies the same defaults and reports the same
/// reasons.
#[derive(Debug)]
pub(crate) struct RawEntry<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) account: &'a str,
    /// "totp", "hotp", "steam" in any case; anything else is an unsupported kind.
    pub(crate) kind: &'a str,
    pub(crate) secret: Option<&'a str>,
    pub(crate) algorithm: Option<&'a str>,
    pub(crate) digits: json::Number,
    pub(crate) period: json::Number,
    pub(crate) counter: json::Number,
    pub(crate) group: Option<String>,
}

impl RawEntry<'_> {
    pub(crate) fn label(&self, index: usize) -> String {
        entry_label(self.issuer, self.account, index)
    }

    pub(crate) fn into_token(self) -> Result<Token, SkipReason> {
        use crate::token::{Algorithm, OtpKind};
        let kind = match self.kind.to_ascii_lowercase().as_str() {
            "totp" => OtpKind::Totp {
                period: small_number(self.period, 30, "period")?,
            },
            "hotp" => OtpKind::Hotp {
                counter: match self.counter {
                    json::Number::Absent => 0,
                    json::Number::Value(counter) => counter,
                    json::Number::Invalid => {
                        return Err(SkipReason::Malformed {
                            detail: "counter is not a number".to_owned(),
                        });
                    }
                },
            },
            "steam" => OtpKind::Steam {
                period: small_number(self.period, 30, "period")?,
            },
            "" => return Err(SkipReason::Missing { field: "type" }),
            _ => {
                return Err(SkipReason::UnsupportedKind {
                    kind: self.kind.to_owned(),
                });
            }
        };
        let secret_text = self
            .secret
            .filter(|s| !s.trim().is_empty())
            .ok_or(SkipReason::Missing { field: "secret" })?;
        let secret = crate::secret::Secret::from_base32(secret_text)?;
        let (algorithm, digits) = if matches!(kind, OtpKind::Steam { .. }) {
            // Steam codes are always 5 characters from SHA-1, whatever the file says.
            (Algorithm::Sha1, 5)
        } else {
            (
                parse_algorithm(self.algorithm)?,
                small_number(self.digits, 6, "digits")?,
            )
        };
        Ok(Token::new(
            self.issuer.trim(),
            self.account.trim(),
            kind,
            algorithm,
            digits,
            secret,
        )?
        .with_group(self.group))
    }
}

fn parse_algorithm(name: Option<&str>) -> Result<crate::token::Algorithm, TokenError> {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        None => Ok(crate::token::Algorithm::Sha1),
        Some(name) => crate::token::Algorithm::from_name(name),
    }
}

fn small_number(value: json::Number, default: u32, field: &'static str) -> Result<u32, SkipReason> {
    match value {
        json::Number::Absent => Ok(default),
        json::Number::Value(n) => u32::try_from(n).map_err(|_| SkipReason::Malformed {
            detail: format!("{field} {n} is out of range"),
        }),
        json::Number::Invalid => Err(SkipReason::Malformed {
            detail: format!("{field} is not a number"),
        }),
    }
}
