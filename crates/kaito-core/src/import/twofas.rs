//! 2FAS backups (`.2fas`): JSON with a `services` array, or — when protected by a
//! password — `servicesEncrypted` = `base64(ciphertext‖tag):base64(salt):base64(iv)`,
//! sealed with AES-256-GCM under PBKDF2-HMAC-SHA256 (10 000 rounds) of the password.
//! Encrypted backups also carry `reference`, a known text sealed the same way, which
//! lets a wrong password be told apart from a damaged file.

use base64::Engine as _;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::crypto::{self, CryptoError};
use super::json::{self, Scrubbed};
use super::{Format, ImportError, ImportReport, Importer, RawEntry, SkipReason};

const FORMAT: Format = Format::TwoFas;
const PBKDF2_ROUNDS: u32 = 10_000;

#[derive(Debug, Clone, Copy, Default)]
pub struct TwoFasImporter;

impl Importer for TwoFasImporter {
    fn format(&self) -> Format {
        FORMAT
    }

    fn sniff(&self, bytes: &[u8]) -> bool {
        json::sniff_object(bytes, |top| {
            top.contains_key("schemaVersion")
                && (top.get("services").is_some_and(Value::is_array)
                    || top.contains_key("servicesEncrypted"))
        })
    }

    fn import(&self, bytes: &[u8], password: Option<&str>) -> Result<ImportReport, ImportError> {
        super::check_size(bytes)?;
        let doc = Scrubbed::parse_as(bytes, FORMAT)?;
        let top = doc
            .object()
            .ok_or(ImportError::NotThisFormat { expected: FORMAT })?;
        if !top.contains_key("services") && !top.contains_key("servicesEncrypted") {
            return Err(ImportError::NotThisFormat { expected: FORMAT });
        }
        if let json::Number::Value(version) = json::number(top, "schemaVersion") {
            // Schema 1 predates the `otp` object. Later schemas (4 when written) are
            // still read, since 2FAS has only ever added fields.
            if version < 2 {
                return Err(ImportError::UnsupportedVersion {
                    format: FORMAT,
                    version: version.to_string(),
                });
            }
        }
        let groups: Vec<(&str, &str)> = top
            .get("groups")
            .and_then(Value::as_array)
            .map(|groups| {
                groups
                    .iter()
                    .filter_map(Value::as_object)
                    .filter_map(|g| Some((json::text(g, "id")?, json::text(g, "name")?)))
                    .collect()
            })
            .unwrap_or_default();

        match top.get("servicesEncrypted") {
            Some(Value::String(sealed)) if !sealed.trim().is_empty() => {
                let password = password.ok_or(ImportError::PasswordRequired { format: FORMAT })?;
                let plaintext = decrypt_services(sealed, json::text(top, "reference"), password)?;
                let services = Scrubbed::parse(&plaintext).ok_or_else(|| {
                    ImportError::corrupt(FORMAT, "the decrypted services are not JSON")
                })?;
                let list = services.0.as_array().ok_or_else(|| {
                    ImportError::corrupt(FORMAT, "the decrypted services are not a list")
                })?;
                Ok(read_services(list, &groups))
            }
            Some(Value::String(_) | Value::Null) | None => {
                let list = top
                    .get("services")
                    .and_then(Value::as_array)
                    .ok_or_else(|| ImportError::corrupt(FORMAT, "`services` is not a list"))?;
                Ok(read_services(list, &groups))
            }
            Some(_) => Err(ImportError::corrupt(
                FORMAT,
                "`servicesEncrypted` is not a string",
            )),
        }
    }
}

/// Splits `ciphertext:salt:iv` and decodes each part.
fn split_sealed(sealed: &str, what: &str) -> Result<[Vec<u8>; 3], ImportError> {
    let parts: Vec<&str> = sealed.trim().split(':').collect();
    let [ciphertext, salt, iv] = parts.as_slice() else {
        return Err(ImportError::corrupt(
            FORMAT,
            format!("`{what}` does not have the three parts ciphertext:salt:iv"),
        ));
    };
    let decode = |part: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(part)
            .map_err(|_| ImportError::corrupt(FORMAT, format!("`{what}` is not valid base64")))
    };
    Ok([decode(ciphertext)?, decode(salt)?, decode(iv)?])
}

fn decrypt_services(
    sealed: &str,
    reference: Option<&str>,
    password: &str,
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let [ciphertext, salt, iv] = split_sealed(sealed, "servicesEncrypted")?;
    if iv.len() != crypto::NONCE_LEN {
        return Err(ImportError::corrupt(
            FORMAT,
            "the encryption IV has the wrong length",
        ));
    }
    let key = crypto::pbkdf2_sha256(password.as_bytes(), &salt, PBKDF2_ROUNDS);
    match crypto::aes_gcm_open(key.as_slice(), &iv, &[], &ciphertext) {
        Ok(plaintext) => Ok(plaintext),
        Err(CryptoError::Authentication) => {
            // If the password opens the reference, the password is right and the
            // services blob itself is damaged.
            if reference.is_some_and(|reference| opens_reference(reference, password)) {
                Err(ImportError::corrupt(
                    FORMAT,
                    "the encrypted services fail authentication (the file was altered or truncated)",
                ))
            } else {
                Err(ImportError::WrongPassword { format: FORMAT })
            }
        }
        Err(CryptoError::Malformed(detail)) => Err(ImportError::corrupt(FORMAT, detail)),
    }
}

fn opens_reference(reference: &str, password: &str) -> bool {
    let Ok([ciphertext, salt, iv]) = split_sealed(reference, "reference") else {
        return false;
    };
    let key = crypto::pbkdf2_sha256(password.as_bytes(), &salt, PBKDF2_ROUNDS);
    crypto::aes_gcm_open(key.as_slice(), &iv, &[], &ciphertext).is_ok()
}

fn read_services(services: &[Value], groups: &[(&str, &str)]) -> ImportReport {
    let mut report = ImportReport::new(FORMAT);
    let empty = Map::new();
    for (index, service) in services.iter().enumerate() {
        let Some(service) = service.as_object() else {
            report.skip(
                index,
                format!("entry {}", index + 1),
                SkipReason::Malformed {
                    detail: "not a JSON object".to_owned(),
                },
            );
            continue;
        };
        let otp = service
            .get("otp")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        // `name` is what 2FAS shows as the service; the URI issuer is the fallback.
        let issuer = Some(json::text_or_empty(service, "name"))
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| json::text_or_empty(otp, "issuer"));
        let account = Some(json::text_or_empty(otp, "account"))
            .filter(|a| !a.trim().is_empty())
            .unwrap_or_else(|| json::text_or_empty(otp, "label"));
        let group = json::text(service, "groupId")
            .and_then(|id| groups.iter().find(|(group_id, _)| *group_id == id))
            .map(|(_, name)| (*name).to_owned());
        let raw = RawEntry {
            issuer,
            account,
            kind: json::text(otp, "tokenType").unwrap_or("TOTP"),
            secret: json::text(service, "secret"),
            algorithm: json::text(otp, "algorithm"),
            digits: json::number(otp, "digits"),
            period: json::number(otp, "period"),
            counter: json::number(otp, "counter"),
            group,
        };
        let label = raw.label(index);
        report.push(index, label, raw.into_token());
    }
    report
}
