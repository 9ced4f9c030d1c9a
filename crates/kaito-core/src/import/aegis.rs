//! Aegis JSON vaults (plain and password-encrypted), per Aegis' `docs/vault.md`.
//!
//! Encrypted vaults wrap a random master key once per credential ("slot"); only
//! password slots (type 1: scrypt → AES-256-GCM key wrap) can be opened off the
//! phone. The master key then decrypts `db` (base64) with `header.params`.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::crypto::{self, CryptoError, KdfError};
use super::json::{self, Scrubbed};
use super::{Format, ImportError, ImportReport, Importer, RawEntry, SkipReason};

const FORMAT: Format = Format::Aegis;
/// Aegis' password slot type.
const PASSWORD_SLOT: u64 = 1;
/// Content versions seen in the wild: 1 and 2 carry a `group` string per entry,
/// 3 carries `groups` (uuid list) resolved against `db.groups`.
const MAX_CONTENT_VERSION: u64 = 3;

#[derive(Debug, Clone, Copy, Default)]
pub struct AegisImporter;

impl Importer for AegisImporter {
    fn format(&self) -> Format {
        FORMAT
    }

    fn sniff(&self, bytes: &[u8]) -> bool {
        json::sniff_object(bytes, |top| {
            top.get("header").is_some_and(Value::is_object)
                && top
                    .get("db")
                    .is_some_and(|db| db.is_object() || db.is_string())
        })
    }

    fn import(&self, bytes: &[u8], password: Option<&str>) -> Result<ImportReport, ImportError> {
        super::check_size(bytes)?;
        let doc = Scrubbed::parse_as(bytes, FORMAT)?;
        let top = doc
            .object()
            .ok_or(ImportError::NotThisFormat { expected: FORMAT })?;
        let (Some(header), Some(db)) =
            (top.get("header").and_then(Value::as_object), top.get("db"))
        else {
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
                    "the vault has no valid version number",
                ));
            }
        }
        match db {
            Value::Object(content) => read_content(content),
            Value::String(encoded) => {
                let password = password.ok_or(ImportError::PasswordRequired { format: FORMAT })?;
                let plaintext = decrypt_db(header, encoded, password)?;
                let content = Scrubbed::parse(&plaintext).ok_or_else(|| {
                    ImportError::corrupt(FORMAT, "the decrypted contents are not JSON")
                })?;
                let object = content.object().ok_or_else(|| {
                    ImportError::corrupt(FORMAT, "the decrypted contents are not a JSON object")
                })?;
                read_content(object)
            }
            _ => Err(ImportError::corrupt(
                FORMAT,
                "`db` is neither an object nor a string",
            )),
        }
    }
}

fn hex_field(object: &Map<String, Value>, key: &str, what: &str) -> Result<Vec<u8>, ImportError> {
    let text = json::text(object, key)
        .ok_or_else(|| ImportError::corrupt(FORMAT, format!("{what} has no `{key}`")))?;
    data_encoding::HEXLOWER_PERMISSIVE
        .decode(text.as_bytes())
        .map_err(|_| ImportError::corrupt(FORMAT, format!("{what} `{key}` is not hexadecimal")))
}

/// `nonce` and `tag` of a `key_params` / `params` object.
fn nonce_and_tag(params: Option<&Value>, what: &str) -> Result<(Vec<u8>, Vec<u8>), ImportError> {
    let params = params
        .and_then(Value::as_object)
        .ok_or_else(|| ImportError::corrupt(FORMAT, format!("{what} is missing")))?;
    let nonce = hex_field(params, "nonce", what)?;
    let tag = hex_field(params, "tag", what)?;
    if nonce.len() != crypto::NONCE_LEN || tag.len() != crypto::TAG_LEN {
        return Err(ImportError::corrupt(
            FORMAT,
            format!("{what} has a nonce or tag of the wrong length"),
        ));
    }
    Ok((nonce, tag))
}

fn decrypt_db(
    header: &Map<String, Value>,
    encoded: &str,
    password: &str,
) -> Result<zeroize::Zeroizing<Vec<u8>>, ImportError> {
    let slots = header
        .get("slots")
        .and_then(Value::as_array)
        .ok_or_else(|| ImportError::corrupt(FORMAT, "the vault is encrypted but has no slots"))?;
    let password_slots: Vec<&Map<String, Value>> = slots
        .iter()
        .filter_map(Value::as_object)
        .filter(|slot| json::number(slot, "type") == json::Number::Value(PASSWORD_SLOT))
        .collect();
    if password_slots.is_empty() {
        return Err(ImportError::Unsupported {
            format: FORMAT,
            detail: "this vault has no password slot (only biometric unlock); set a password in Aegis and export again".to_owned(),
        });
    }
    let mut master_key = None;
    for slot in password_slots {
        if let Some(key) = unwrap_slot(slot, password)? {
            master_key = Some(key);
            break;
        }
    }
    let master_key = master_key.ok_or(ImportError::WrongPassword { format: FORMAT })?;

    let (nonce, tag) = nonce_and_tag(header.get("params"), "header.params")?;
    let mut sealed = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| ImportError::corrupt(FORMAT, "`db` is not valid base64"))?;
    sealed.extend_from_slice(&tag);
    // The password already unwrapped the master key, so a failure here is damage,
    // not a wrong password.
    crypto::aes_gcm_open(master_key.as_slice(), &nonce, &[], &sealed).map_err(|error| match error {
        CryptoError::Authentication => ImportError::corrupt(
            FORMAT,
            "the vault contents fail authentication (the file was altered or truncated)",
        ),
        CryptoError::Malformed(detail) => ImportError::corrupt(FORMAT, detail),
    })
}

/// The master key if `password` opens this slot, `None` if it does not.
fn unwrap_slot(
    slot: &Map<String, Value>,
    password: &str,
) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, ImportError> {
    let salt = hex_field(slot, "salt", "a password slot")?;
    let mut wrapped = hex_field(slot, "key", "a password slot")?;
    let (nonce, tag) = nonce_and_tag(slot.get("key_params"), "a password slot's key_params")?;
    let param = |key: &str| match json::number(slot, key) {
        json::Number::Value(v) => Ok(v),
        _ => Err(ImportError::corrupt(
            FORMAT,
            format!("a password slot has no valid scrypt `{key}`"),
        )),
    };
    let n = param("n")?;
    let r = u32::try_from(param("r")?)
        .map_err(|_| ImportError::corrupt(FORMAT, "scrypt r is out of range"))?;
    let p = u32::try_from(param("p")?)
        .map_err(|_| ImportError::corrupt(FORMAT, "scrypt p is out of range"))?;
    let derived =
        crypto::scrypt_key(password.as_bytes(), &salt, n, r, p).map_err(|error| match error {
            KdfError::TooExpensive(detail) => ImportError::Unsupported {
                format: FORMAT,
                detail: format!(
                    "the key derivation parameters are unreasonably expensive ({detail})"
                ),
            },
            KdfError::Malformed(detail) => ImportError::corrupt(FORMAT, detail),
        })?;
    wrapped.extend_from_slice(&tag);
    match crypto::aes_gcm_open(derived.as_slice(), &nonce, &[], &wrapped) {
        Ok(key) if key.len() == 32 => Ok(Some(key)),
        Ok(_) => Err(ImportError::corrupt(
            FORMAT,
            "the unwrapped master key is not 256 bits",
        )),
        Err(CryptoError::Authentication) => Ok(None),
        Err(CryptoError::Malformed(detail)) => Err(ImportError::corrupt(FORMAT, detail)),
    }
}

fn read_content(content: &Map<String, Value>) -> Result<ImportReport, ImportError> {
    match json::number(content, "version") {
        json::Number::Value(v) if (1..=MAX_CONTENT_VERSION).contains(&v) => {}
        json::Number::Value(v) => {
            return Err(ImportError::UnsupportedVersion {
                format: FORMAT,
                version: format!("content {v}"),
            });
        }
        json::Number::Absent | json::Number::Invalid => {
            return Err(ImportError::corrupt(
                FORMAT,
                "the vault contents have no valid version number",
            ));
        }
    }
    let entries = content
        .get("entries")
        .and_then(Value::as_array)
        .ok_or_else(|| ImportError::corrupt(FORMAT, "the vault contents have no `entries` list"))?;
    let groups: Vec<(&str, &str)> = content
        .get("groups")
        .and_then(Value::as_array)
        .map(|groups| {
            groups
                .iter()
                .filter_map(Value::as_object)
                .filter_map(|g| Some((json::text(g, "uuid")?, json::text(g, "name")?)))
                .collect()
        })
        .unwrap_or_default();

    let mut report = ImportReport::new(FORMAT);
    for (index, entry) in entries.iter().enumerate() {
        let Some(entry) = entry.as_object() else {
            report.skip(
                index,
                format!("entry {}", index + 1),
                SkipReason::Malformed {
                    detail: "not a JSON object".to_owned(),
                },
            );
            continue;
        };
        let info = entry.get("info").and_then(Value::as_object);
        let empty = Map::new();
        let info_or_empty = info.unwrap_or(&empty);
        // Aegis 3 lists group uuids; a token holds one group, so the first one that
        // resolves wins. Older vaults carry the name directly.
        let group = entry
            .get("groups")
            .and_then(Value::as_array)
            .and_then(|ids| {
                ids.iter().filter_map(Value::as_str).find_map(|id| {
                    groups
                        .iter()
                        .find(|(uuid, _)| *uuid == id)
                        .map(|(_, name)| (*name).to_owned())
                })
            })
            .or_else(|| json::text(entry, "group").map(str::to_owned));
        let raw = RawEntry {
            issuer: json::text_or_empty(entry, "issuer"),
            account: json::text_or_empty(entry, "name"),
            kind: json::text_or_empty(entry, "type"),
            secret: json::text(info_or_empty, "secret"),
            algorithm: json::text(info_or_empty, "algo"),
            digits: json::number(info_or_empty, "digits"),
            period: json::number(info_or_empty, "period"),
            counter: json::number(info_or_empty, "counter"),
            group,
        };
        let label = raw.label(index);
        let outcome = if info.is_none()
            && matches!(
                raw.kind.to_ascii_lowercase().as_str(),
                "totp" | "hotp" | "steam"
            ) {
            Err(SkipReason::Missing { field: "info" })
        } else {
            raw.into_token()
        };
        report.push(index, label, outcome);
    }
    Ok(report)
}
