//! Ente Auth encrypted exports.
//!
//! JSON `{version: 1, kdfParams: {memLimit, opsLimit, salt}, encryptedData,
//! encryptionNonce}`. The key is libsodium's `crypto_pwhash` (Argon2id v1.3, one
//! lane, `memLimit` bytes, `opsLimit` passes) of the password; the data is one
//! libsodium secretstream (XChaCha20-Poly1305) message whose header Ente calls
//! `encryptionNonce`. The plaintext is Ente's plain export: `otpauth://` lines.
//! Secretstream is provided by `dryoc`, a pure-Rust libsodium port.

use base64::Engine as _;
use dryoc::dryocstream::DryocStream;
use serde_json::Value;
use zeroize::Zeroizing;

use super::crypto::{self, KdfError};
use super::json::{self, Scrubbed};
use super::{Format, ImportError, ImportReport, Importer};

const FORMAT: Format = Format::Ente;
const HEADER_LEN: usize = 24;
/// libsodium's `crypto_pwhash_SALTBYTES`.
const SALT_LEN: usize = 16;

#[derive(Debug, Clone, Copy, Default)]
pub struct EnteImporter;

impl Importer for EnteImporter {
    fn format(&self) -> Format {
        FORMAT
    }

    fn sniff(&self, bytes: &[u8]) -> bool {
        json::sniff_object(bytes, |top| {
            top.get("kdfParams").is_some_and(Value::is_object)
                && top.contains_key("encryptedData")
                && top.contains_key("encryptionNonce")
        })
    }

    fn import(&self, bytes: &[u8], password: Option<&str>) -> Result<ImportReport, ImportError> {
        super::check_size(bytes)?;
        let doc = Scrubbed::parse_as(bytes, FORMAT)?;
        let top = doc
            .object()
            .ok_or(ImportError::NotThisFormat { expected: FORMAT })?;
        let Some(kdf) = top.get("kdfParams").and_then(Value::as_object) else {
            return Err(ImportError::NotThisFormat { expected: FORMAT });
        };
        match json::number(top, "version") {
            json::Number::Value(1) => {}
            json::Number::Value(other) => {
                return Err(ImportError::UnsupportedVersion {
                    format: FORMAT,
                    version: other.to_string(),
                });
            }
            json::Number::Absent | json::Number::Invalid => {
                return Err(ImportError::corrupt(
                    FORMAT,
                    "the export has no valid version number",
                ));
            }
        }
        let decode = |key: &str| -> Result<Vec<u8>, ImportError> {
            let text = json::text(top, key)
                .or_else(|| json::text(kdf, key))
                .ok_or_else(|| ImportError::corrupt(FORMAT, format!("`{key}` is missing")))?;
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| ImportError::corrupt(FORMAT, format!("`{key}` is not valid base64")))
        };
        let ciphertext = decode("encryptedData")?;
        let header = decode("encryptionNonce")?;
        let salt = decode("salt")?;
        let header: [u8; HEADER_LEN] = header.try_into().map_err(|_| {
            ImportError::corrupt(
                FORMAT,
                "`encryptionNonce` is not a 24-byte secretstream header",
            )
        })?;
        if salt.len() != SALT_LEN {
            return Err(ImportError::corrupt(
                FORMAT,
                "the key derivation salt is not 16 bytes",
            ));
        }
        let (json::Number::Value(mem_limit), json::Number::Value(ops_limit)) =
            (json::number(kdf, "memLimit"), json::number(kdf, "opsLimit"))
        else {
            return Err(ImportError::corrupt(
                FORMAT,
                "`kdfParams` lacks a valid memLimit or opsLimit",
            ));
        };
        let password = password.ok_or(ImportError::PasswordRequired { format: FORMAT })?;

        let key = derive_key(password, &salt, mem_limit, ops_limit)?;
        let mut stream = DryocStream::init_pull(&*key, &header);
        let plaintext = match stream.pull_to_vec(&ciphertext, None) {
            Ok((plaintext, _tag)) => Zeroizing::new(plaintext),
            // Secretstream cannot tell a wrong key from altered data; a wrong password
            // is by far the likelier cause.
            Err(_) => return Err(ImportError::WrongPassword { format: FORMAT }),
        };
        super::lines::import_lines(&plaintext, FORMAT).or_else(|error| match error {
            // An export of an empty Ente account decrypts to no lines at all.
            ImportError::NotThisFormat { .. } if plaintext.iter().all(u8::is_ascii_whitespace) => {
                Ok(ImportReport::new(FORMAT))
            }
            ImportError::NotThisFormat { .. } => Err(ImportError::corrupt(
                FORMAT,
                "the decrypted data is not a list of otpauth:// URIs",
            )),
            other => Err(other),
        })
    }
}

/// libsodium `crypto_pwhash(ALG_ARGON2ID13)`: memory in bytes, one lane.
fn derive_key(
    password: &str,
    salt: &[u8],
    mem_limit: u64,
    ops_limit: u64,
) -> Result<Zeroizing<[u8; 32]>, ImportError> {
    let too_expensive = || ImportError::Unsupported {
        format: FORMAT,
        detail: format!(
            "the key derivation parameters are unreasonably expensive (memLimit {mem_limit}, opsLimit {ops_limit})"
        ),
    };
    let memory_kib = u32::try_from(mem_limit / 1024).map_err(|_| too_expensive())?;
    let passes = u32::try_from(ops_limit).map_err(|_| too_expensive())?;
    let mut key = Zeroizing::new([0u8; 32]);
    crypto::argon2id(
        password.as_bytes(),
        salt,
        memory_kib,
        passes,
        1,
        key.as_mut(),
    )
    .map_err(|error| match error {
        KdfError::TooExpensive(_) => too_expensive(),
        KdfError::Malformed(detail) => ImportError::corrupt(FORMAT, detail),
    })?;
    Ok(key)
}
