//! Bitwarden JSON exports (the unencrypted ".json" choice).
//!
//! Only login items with a `login.totp` value are tokens; every other item is a
//! password or note and is passed over silently. `login.totp` holds an `otpauth://`
//! URI, `steam://SECRET`, or a bare base32 secret (then TOTP, SHA-1, 6 digits, 30 s).
//! The item name is the issuer and `login.username` the account, unless a URI names
//! them itself; the folder (or, in organisation exports, the first collection) is the
//! group.
//!
//! Encrypted exports (account- or password-protected) are recognised and refused
//! with a clear message: their keys come from the Bitwarden account or a KDF Kaito
//! does not implement.

use serde_json::{Map, Value};

use super::json::{self, Scrubbed};
use super::{Format, ImportError, ImportReport, Importer, RawEntry, SkipReason, entry_label};

const FORMAT: Format = Format::Bitwarden;

#[derive(Debug, Clone, Copy, Default)]
pub struct BitwardenImporter;

impl Importer for BitwardenImporter {
    fn format(&self) -> Format {
        FORMAT
    }

    fn sniff(&self, bytes: &[u8]) -> bool {
        json::sniff_object(bytes, |top| {
            top.get("encrypted").is_some_and(Value::is_boolean)
                && (top.contains_key("items") || top.contains_key("data"))
        })
    }

    fn import(&self, bytes: &[u8], _password: Option<&str>) -> Result<ImportReport, ImportError> {
        super::check_size(bytes)?;
        let doc = Scrubbed::parse_as(bytes, FORMAT)?;
        let top = doc
            .object()
            .ok_or(ImportError::NotThisFormat { expected: FORMAT })?;
        if !top.contains_key("items") && !top.contains_key("encrypted") {
            return Err(ImportError::NotThisFormat { expected: FORMAT });
        }
        if top.get("encrypted").and_then(Value::as_bool) == Some(true) {
            return Err(ImportError::Unsupported {
                format: FORMAT,
                detail: "encrypted Bitwarden exports cannot be read; export again choosing the unencrypted \".json\" format".to_owned(),
            });
        }
        let items = top
            .get("items")
            .and_then(Value::as_array)
            .ok_or_else(|| ImportError::corrupt(FORMAT, "the export has no `items` list"))?;
        let folders = named_list(top, "folders");
        let collections = named_list(top, "collections");

        let mut report = ImportReport::new(FORMAT);
        for (index, item) in items.iter().enumerate() {
            let Some(item) = item.as_object() else {
                report.skip(
                    index,
                    format!("item {}", index + 1),
                    SkipReason::Malformed {
                        detail: "not a JSON object".to_owned(),
                    },
                );
                continue;
            };
            let Some(login) = item.get("login").and_then(Value::as_object) else {
                continue;
            };
            let Some(totp_field) = json::text(login, "totp")
                .map(str::trim)
                .filter(|t| !t.is_empty())
            else {
                continue;
            };
            let name = json::text_or_empty(item, "name");
            let username = json::text_or_empty(login, "username");
            let group = json::text(item, "folderId")
                .and_then(|id| lookup(&folders, id))
                .or_else(|| {
                    item.get("collectionIds")
                        .and_then(Value::as_array)
                        .and_then(|ids| {
                            ids.iter()
                                .filter_map(Value::as_str)
                                .find_map(|id| lookup(&collections, id))
                        })
                })
                .map(str::to_owned);
            let label = entry_label(name, username, index);
            let outcome =
                read_totp(totp_field, name, username).map(|token| token.with_group(group));
            report.push(index, label, outcome);
        }
        Ok(report)
    }
}

fn named_list<'a>(top: &'a Map<String, Value>, key: &str) -> Vec<(&'a str, &'a str)> {
    top.get(key)
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_object)
                .filter_map(|entry| Some((json::text(entry, "id")?, json::text(entry, "name")?)))
                .collect()
        })
        .unwrap_or_default()
}

fn lookup<'a>(list: &[(&str, &'a str)], id: &str) -> Option<&'a str> {
    list.iter()
        .find(|(entry_id, _)| *entry_id == id)
        .map(|(_, name)| *name)
}

fn read_totp(totp: &str, name: &str, username: &str) -> Result<crate::token::Token, SkipReason> {
    let lower_prefix: String = totp
        .chars()
        .take(10)
        .collect::<String>()
        .to_ascii_lowercase();
    if lower_prefix.starts_with("otpauth://") {
        let mut token = super::lines::parse_uri(totp)?;
        if token.issuer.trim().is_empty() {
            name.trim().clone_into(&mut token.issuer);
        }
        if token.account.trim().is_empty() {
            username.trim().clone_into(&mut token.account);
        }
        return Ok(token);
    }
    let (kind, secret) = match lower_prefix.strip_prefix("steam://") {
        Some(_) => ("steam", totp.get("steam://".len()..).unwrap_or_default()),
        None => ("totp", totp),
    };
    RawEntry {
        issuer: name,
        account: username,
        kind,
        secret: Some(secret),
        algorithm: None,
        digits: json::Number::Absent,
        period: json::Number::Absent,
        counter: json::Number::Absent,
        group: None,
    }
    .into_token()
}
