//! Google Authenticator's "Transfer accounts" export: `otpauth-migration://offline?data=…`
//! where `data` is base64 of a protobuf `MigrationPayload`:
//!
//! ```text
//! MigrationPayload { repeated OtpParameters otp_parameters = 1; int32 version = 2;
//!                    int32 batch_size = 3; int32 batch_index = 4; int32 batch_id = 5; }
//! OtpParameters    { bytes secret = 1; string name = 2; string issuer = 3;
//!                    Algorithm algorithm = 4; DigitCount digits = 5; OtpType type = 6;
//!                    int64 counter = 7; }
//! ```
//!
//! Decoding choices:
//! - `data` may be percent-encoded or not, standard or URL-safe base64, padded or not,
//!   and may contain whitespace (QR readers and copy-paste add it);
//! - one bad entry never drops the others: each entry is its own `Result`;
//! - enum value 0 ("unspecified") means the proto default everywhere: SHA1, 6 digits,
//!   and TOTP — exporters that leave the type out write time-based tokens, and a wrong
//!   guess shows up at once in the "verify the first code" step;
//! - digits 6, 7 or 8 written literally (instead of the enum's 1/2) are accepted;
//! - MD5 entries are refused (no service verifies HMAC-MD5 codes);
//! - the export has no period field, so every TOTP entry gets 30 seconds;
//! - `name` may be `Issuer:account`: it is split as `otpauth://` labels are.
//!
//! Exports too big for one QR code come as several batches: [`MigrationCollector`]
//! gathers them in any order.

mod proto;

use std::collections::BTreeMap;
use std::fmt;

use zeroize::Zeroizing;

pub use proto::ProtoError;
use proto::{Reader, Writer};

use crate::secret::Secret;
use crate::token::{Algorithm, OtpKind, Token, TokenError};
use crate::uri::{decode_bytes, split_label, strip_prefix_ignore_case};

const SCHEME: &str = "otpauth-migration://";
/// Google Authenticator's only period.
const PERIOD: u32 = 30;

/// Why a whole export could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrationError {
    #[error(
        "this is not a Google Authenticator export: it should start with \"otpauth-migration://\""
    )]
    NotMigrationUri,
    #[error("this is a single-token otpauth:// link, not a Google Authenticator export")]
    SingleTokenUri,
    #[error("the export link has no data=… part; scan the QR code again")]
    MissingData,
    #[error("bad percent-encoding in the export data at character {position}")]
    PercentEncoding { position: usize },
    #[error(
        "the export data is not valid base64 (character {position} of the data); scan the QR code again"
    )]
    Base64 { position: usize },
    #[error("the export data is damaged: {0}; scan the QR code again")]
    Payload(#[from] ProtoError),
    #[error(
        "the export claims to be part {index} of {size}, which is impossible; scan the QR code again"
    )]
    BatchIndex { index: i64, size: i64 },
}

/// Why one entry of an export was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryProblem {
    #[error("its data is damaged ({0})")]
    Malformed(ProtoError),
    #[error("it has no secret")]
    MissingSecret,
    #[error("it uses MD5, which no service accepts codes from; re-enroll it with SHA1")]
    Md5,
    #[error("it uses an unknown algorithm (code {value})")]
    UnknownAlgorithm { value: u64 },
    #[error("it uses an unknown digit count (code {value})")]
    UnknownDigits { value: u64 },
    #[error("it is of an unknown type (code {value}), neither TOTP nor HOTP")]
    UnknownType { value: u64 },
    #[error("{0}")]
    Token(TokenError),
}

/// One skipped entry: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{problem}", describe(name))]
pub struct EntryError {
    /// Position within its batch, from 0.
    pub position: usize,
    /// "Issuer (account)" when the entry got far enough to have one, else empty.
    pub name: String,
    pub problem: EntryProblem,
}

fn describe(name: &str) -> String {
    if name.is_empty() {
        String::new()
    } else {
        format!("{name}: ")
    }
}

/// One decoded QR code of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationBatch {
    pub version: i32,
    /// Number of QR codes in the whole export (at least 1).
    pub batch_size: u32,
    /// This code's place in the export, from 0 (below `batch_size`).
    pub batch_index: u32,
    /// Shared by every batch of one export.
    pub batch_id: i32,
    pub entries: Vec<Result<Token, EntryError>>,
}

impl IntoIterator for MigrationBatch {
    type Item = Result<Token, EntryError>;
    type IntoIter = std::vec::IntoIter<Self::Item>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

/// Decodes one `otpauth-migration://` URI.
pub fn decode(uri: &str) -> Result<MigrationBatch, MigrationError> {
    let payload = payload_bytes(uri)?;
    decode_payload(&payload)
}

/// Extracts and base64-decodes the `data` parameter.
fn payload_bytes(uri: &str) -> Result<Zeroizing<Vec<u8>>, MigrationError> {
    let uri = uri.trim();
    let Some(rest) = strip_prefix_ignore_case(uri, SCHEME) else {
        return Err(if strip_prefix_ignore_case(uri, "otpauth:").is_some() {
            MigrationError::SingleTokenUri
        } else {
            MigrationError::NotMigrationUri
        });
    };
    let query = rest.split_once('?').map_or("", |(_, query)| query);
    let raw = query
        .split('&')
        .find_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            name.trim().eq_ignore_ascii_case("data").then_some(value)
        })
        .ok_or(MigrationError::MissingData)?;

    // Normalise to unpadded standard base64: percent-decoded, whitespace and padding
    // dropped, URL-safe letters mapped. '+' stays '+': base64 never has spaces.
    // `raw` is a slice of `uri`: its address difference is its offset.
    let start = raw.as_ptr() as usize - uri.as_ptr() as usize;
    let decoded =
        decode_bytes(uri, raw, start, false).map_err(|bad| MigrationError::PercentEncoding {
            position: bad.position,
        })?;
    let mut text = Zeroizing::new(Vec::with_capacity(decoded.len()));
    for &byte in decoded.iter() {
        match byte {
            b' ' | b'\t' | b'\r' | b'\n' | b'=' => {}
            b'-' => text.push(b'+'),
            b'_' => text.push(b'/'),
            other => text.push(other),
        }
    }
    if text.is_empty() {
        return Err(MigrationError::MissingData);
    }

    let mut spec = data_encoding::BASE64_NOPAD.specification();
    // Some encoders leave stray bits in the last character; they carry no data.
    spec.check_trailing_bits = false;
    let encoding = spec
        .encoding()
        .map_err(|_| MigrationError::Base64 { position: 0 })?;
    let len = encoding
        .decode_len(text.len())
        .map_err(|error| MigrationError::Base64 {
            position: error.position,
        })?;
    let mut payload = Zeroizing::new(vec![0u8; len]);
    let written = encoding
        .decode_mut(&text, &mut payload)
        .map_err(|partial| MigrationError::Base64 {
            position: partial.error.position,
        })?;
    payload.truncate(written);
    Ok(payload)
}

/// Decodes the protobuf payload of one export QR code (for callers that already hold
/// the raw bytes, and for fuzzing).
pub fn decode_payload(payload: &[u8]) -> Result<MigrationBatch, MigrationError> {
    let mut reader = Reader::new(payload);
    let mut raw_entries = Vec::new();
    let (mut version, mut batch_size, mut batch_index, mut batch_id) = (0, 0, 0, 0);
    while let Some(field) = reader.next_field()? {
        let (number, offset) = (field.number, field.offset);
        match number {
            1 => {
                let bytes = field.value.bytes(number, offset)?;
                raw_entries.push((bytes, reader.bytes_start(bytes)));
            }
            2 => version = int32(field.value.varint(number, offset)?),
            3 => batch_size = int32(field.value.varint(number, offset)?),
            4 => batch_index = int32(field.value.varint(number, offset)?),
            5 => batch_id = int32(field.value.varint(number, offset)?),
            _ => {}
        }
    }
    // proto3 leaves out zero values: a missing size means a single-code export.
    let size = batch_size.max(1);
    if batch_index < 0 || batch_index >= size {
        return Err(MigrationError::BatchIndex {
            index: i64::from(batch_index) + 1,
            size: i64::from(size),
        });
    }
    let entries = raw_entries
        .into_iter()
        .enumerate()
        .map(|(position, (bytes, base))| decode_entry(bytes, base, position))
        .collect();
    Ok(MigrationBatch {
        version,
        batch_size: size.unsigned_abs(),
        batch_index: batch_index.unsigned_abs(),
        batch_id,
        entries,
    })
}

/// protobuf `int32` on the wire: the low 32 bits of the varint, two's complement.
#[allow(
    clippy::cast_possible_truncation,
    reason = "int32 is the low 32 bits by definition"
)]
fn int32(value: u64) -> i32 {
    (value as u32).cast_signed()
}

#[derive(Default)]
struct RawEntry {
    secret: Option<Zeroizing<Vec<u8>>>,
    name: String,
    issuer: String,
    algorithm: u64,
    digits: u64,
    kind: u64,
    counter: u64,
}

fn read_entry(bytes: &[u8], base: usize, entry: &mut RawEntry) -> Result<(), ProtoError> {
    let mut reader = Reader::nested(bytes, base);
    while let Some(field) = reader.next_field()? {
        let (number, offset, value) = (field.number, field.offset, field.value);
        match number {
            1 => entry.secret = Some(Zeroizing::new(value.bytes(number, offset)?.to_vec())),
            // Names are for display: a stray invalid byte should not cost the token.
            2 => entry.name = String::from_utf8_lossy(value.bytes(number, offset)?).into_owned(),
            3 => entry.issuer = String::from_utf8_lossy(value.bytes(number, offset)?).into_owned(),
            4 => entry.algorithm = value.varint(number, offset)?,
            5 => entry.digits = value.varint(number, offset)?,
            6 => entry.kind = value.varint(number, offset)?,
            7 => entry.counter = value.varint(number, offset)?,
            _ => {}
        }
    }
    Ok(())
}

fn decode_entry(bytes: &[u8], base: usize, position: usize) -> Result<Token, EntryError> {
    let mut raw = RawEntry::default();
    let read = read_entry(bytes, base, &mut raw);
    let (issuer, account) = split_label(&raw.name, Some(&raw.issuer));
    let fail = |problem| EntryError {
        position,
        name: display_name(&issuer, &account),
        problem,
    };
    read.map_err(|error| fail(EntryProblem::Malformed(error)))?;

    let secret = raw
        .secret
        .take()
        .filter(|secret| !secret.is_empty())
        .and_then(|secret| Secret::from_bytes(secret.to_vec()).ok())
        .ok_or_else(|| fail(EntryProblem::MissingSecret))?;
    let algorithm = match raw.algorithm {
        0 | 1 => Algorithm::Sha1,
        2 => Algorithm::Sha256,
        3 => Algorithm::Sha512,
        4 => return Err(fail(EntryProblem::Md5)),
        value => return Err(fail(EntryProblem::UnknownAlgorithm { value })),
    };
    let digits = match raw.digits {
        0 | 1 => 6,
        2 => 8,
        literal @ 6..=8 => u32::try_from(literal).unwrap_or(6),
        value => return Err(fail(EntryProblem::UnknownDigits { value })),
    };
    let kind = match raw.kind {
        1 => OtpKind::Hotp {
            counter: raw.counter,
        },
        0 | 2 => OtpKind::Totp { period: PERIOD },
        value => return Err(fail(EntryProblem::UnknownType { value })),
    };
    Token::new(
        issuer.clone(),
        account.clone(),
        kind,
        algorithm,
        digits,
        secret,
    )
    .map_err(|error| fail(EntryProblem::Token(error)))
}

fn display_name(issuer: &str, account: &str) -> String {
    match (issuer.is_empty(), account.is_empty()) {
        (false, false) => format!("{issuer} ({account})"),
        (false, true) => issuer.to_owned(),
        (true, _) => account.to_owned(),
    }
}

// ---------------------------------------------------------------------------------
// Collecting multi-code exports

/// How far a multi-code export has been scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub scanned: u32,
    pub total: u32,
}

impl Progress {
    #[must_use]
    pub fn is_complete(self) -> bool {
        self.scanned >= self.total
    }
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of {} scanned", self.scanned, self.total)
    }
}

/// What adding one scanned code did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// A code not seen before.
    New(Progress),
    /// The same code again (cameras re-read the code on screen): nothing changed.
    AlreadyScanned(Progress),
}

/// Why a scanned code does not belong with the ones collected so far.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollectError {
    #[error(transparent)]
    Decode(#[from] MigrationError),
    #[error(
        "this QR code is from a different export than the codes scanned so far; finish that export first or start over"
    )]
    DifferentExport { expected: i32, found: i32 },
    #[error(
        "this QR code says the export has {found} codes, but the earlier ones said {expected}; start over"
    )]
    DifferentSize { expected: u32, found: u32 },
}

/// Gathers the batches of one export, scanned in any order.
#[derive(Debug, Clone, Default)]
pub struct MigrationCollector {
    batches: BTreeMap<u32, MigrationBatch>,
}

impl MigrationCollector {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes and adds one scanned URI.
    pub fn add_uri(&mut self, uri: &str) -> Result<Added, CollectError> {
        self.add(decode(uri)?)
    }

    /// Adds one decoded batch; refuses one from another export.
    pub fn add(&mut self, batch: MigrationBatch) -> Result<Added, CollectError> {
        if let Some(first) = self.batches.values().next() {
            if first.batch_id != batch.batch_id {
                return Err(CollectError::DifferentExport {
                    expected: first.batch_id,
                    found: batch.batch_id,
                });
            }
            if first.batch_size != batch.batch_size {
                return Err(CollectError::DifferentSize {
                    expected: first.batch_size,
                    found: batch.batch_size,
                });
            }
        }
        if self.batches.contains_key(&batch.batch_index) {
            return Ok(Added::AlreadyScanned(self.progress()));
        }
        self.batches.insert(batch.batch_index, batch);
        Ok(Added::New(self.progress()))
    }

    /// "2 of 3 scanned". Before the first code, 0 of 1.
    #[must_use]
    pub fn progress(&self) -> Progress {
        let total = self
            .batches
            .values()
            .next()
            .map_or(1, |batch| batch.batch_size);
        Progress {
            scanned: u32::try_from(self.batches.len()).unwrap_or(u32::MAX),
            total,
        }
    }

    #[must_use]
    pub fn is_complete(&self) -> bool {
        !self.batches.is_empty() && self.progress().is_complete()
    }

    /// Codes still to scan, numbered from 1 as the exporting app shows them.
    #[must_use]
    pub fn missing(&self) -> Vec<u32> {
        let total = self.progress().total;
        (0..total)
            .filter(|index| !self.batches.contains_key(index))
            .map(|index| index + 1)
            .collect()
    }

    /// Every entry collected so far, in export order, for a preview before import.
    pub fn entries(&self) -> impl Iterator<Item = &Result<Token, EntryError>> {
        self.batches.values().flat_map(|batch| &batch.entries)
    }

    /// Every entry collected so far, in export order.
    #[must_use]
    pub fn into_entries(self) -> Vec<Result<Token, EntryError>> {
        self.batches
            .into_values()
            .flat_map(|batch| batch.entries)
            .collect()
    }
}

// ---------------------------------------------------------------------------------
// Encoding

/// Why a token was left out of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ExportSkip {
    #[error("Steam tokens cannot be expressed in a Google Authenticator export")]
    Steam,
    #[error("Google Authenticator only supports 6 or 8 digits, not {digits}")]
    Digits { digits: u32 },
    #[error("Google Authenticator only supports a 30-second period, not {period}")]
    Period { period: u32 },
}

/// A token left out of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedToken {
    /// Index in the slice given to [`encode_batches`].
    pub index: usize,
    pub name: String,
    pub reason: ExportSkip,
}

/// The QR payloads of an export, plus the tokens it could not carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationExport {
    pub uris: Vec<Zeroizing<String>>,
    pub skipped: Vec<SkippedToken>,
}

/// Encodes tokens as Google Authenticator export URIs, at most `max_per_batch` per
/// URI (0 counts as 1). `batch_id` ties the URIs together; the caller chooses it
/// (at random) because this crate has no randomness. An empty export yields no URIs.
#[must_use]
pub fn encode_batches(tokens: &[Token], max_per_batch: usize, batch_id: i32) -> MigrationExport {
    let mut skipped = Vec::new();
    let mut encodable = Vec::with_capacity(tokens.len());
    for (index, token) in tokens.iter().enumerate() {
        match exportable(token) {
            Ok(()) => encodable.push(token),
            Err(reason) => skipped.push(SkippedToken {
                index,
                name: token.display_name(),
                reason,
            }),
        }
    }
    let chunks: Vec<&[&Token]> = encodable.chunks(max_per_batch.max(1)).collect();
    let batch_size = u64::try_from(chunks.len()).unwrap_or(u64::MAX);
    let uris = chunks
        .iter()
        .enumerate()
        .map(|(batch_index, chunk)| {
            let mut payload = Writer::with_capacity(64 + chunk.len() * 128);
            for token in *chunk {
                payload.bytes_field(1, &encode_entry(token));
            }
            payload.varint_field(2, 1);
            payload.varint_field(3, batch_size);
            payload.varint_field(4, u64::try_from(batch_index).unwrap_or(u64::MAX));
            // int32 on the wire: negative ids are sign-extended to 64 bits.
            payload.varint_field(5, i64::from(batch_id).cast_unsigned());
            to_migration_uri(&payload.into_bytes())
        })
        .collect();
    MigrationExport { uris, skipped }
}

fn exportable(token: &Token) -> Result<(), ExportSkip> {
    match token.kind {
        OtpKind::Steam { .. } => return Err(ExportSkip::Steam),
        OtpKind::Totp { period } if period != PERIOD => return Err(ExportSkip::Period { period }),
        OtpKind::Totp { .. } | OtpKind::Hotp { .. } => {}
    }
    if !matches!(token.digits, 6 | 8) {
        return Err(ExportSkip::Digits {
            digits: token.digits,
        });
    }
    Ok(())
}

fn encode_entry(token: &Token) -> Zeroizing<Vec<u8>> {
    // Same label rules as otpauth:// URIs, so the decoder's split gives the names back.
    let name = if token.issuer.is_empty() {
        if token.account.contains(':') {
            format!(":{}", token.account)
        } else {
            token.account.clone()
        }
    } else {
        format!("{}:{}", token.issuer, token.account)
    };
    let secret = token.secret.expose();
    let mut entry = Writer::with_capacity(secret.len() + name.len() + token.issuer.len() + 48);
    entry.bytes_field(1, secret);
    entry.bytes_field(2, name.as_bytes());
    if !token.issuer.is_empty() {
        entry.bytes_field(3, token.issuer.as_bytes());
    }
    let algorithm = match token.algorithm {
        Algorithm::Sha1 => 1,
        Algorithm::Sha256 => 2,
        Algorithm::Sha512 => 3,
    };
    entry.varint_field(4, algorithm);
    entry.varint_field(5, if token.digits == 8 { 2 } else { 1 });
    match token.kind {
        OtpKind::Hotp { counter } => {
            entry.varint_field(6, 1);
            entry.varint_field(7, counter);
        }
        OtpKind::Totp { .. } | OtpKind::Steam { .. } => entry.varint_field(6, 2),
    }
    entry.into_bytes()
}

/// `otpauth-migration://offline?data=` + padded standard base64, percent-encoded as
/// Google Authenticator writes it.
fn to_migration_uri(payload: &[u8]) -> Zeroizing<String> {
    let base64 = Zeroizing::new(data_encoding::BASE64.encode(payload));
    let mut uri = Zeroizing::new(String::with_capacity(SCHEME.len() + 13 + base64.len() * 3));
    uri.push_str(SCHEME);
    uri.push_str("offline?data=");
    for character in base64.chars() {
        match character {
            '+' => uri.push_str("%2B"),
            '/' => uri.push_str("%2F"),
            '=' => uri.push_str("%3D"),
            other => uri.push(other),
        }
    }
    uri
}
