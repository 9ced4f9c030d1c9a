//! Exporters: turning Kaito's tokens into files other authenticators read.
//!
//! * [`to_uri_list`]: one `otpauth://` URI per line — read by nearly every
//!   authenticator (Ente Auth, Aegis, 2FAS, andOTP…) and by Kaito's own importer.
//! * [`to_google_migration`]: Google Authenticator `otpauth-migration://` payloads,
//!   split into batches small enough for one QR code each.
//!
//! Both return zeroizing strings: the output holds every secret in clear, so the
//! caller should write it out and drop it promptly.

use zeroize::Zeroizing;

use crate::token::Token;

/// All tokens as `otpauth://` URIs, one per line, each line ending in `\n`.
#[must_use]
pub fn to_uri_list(tokens: &[Token]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::new());
    let uris: Vec<Zeroizing<String>> = tokens.iter().map(crate::uri::to_uri).collect();
    // Reserve once so the buffer never reallocates and leaves secret copies behind.
    out.reserve_exact(uris.iter().map(|uri| uri.len() + 1).sum());
    for uri in &uris {
        out.push_str(uri);
        out.push('\n');
    }
    out
}

/// A token the Google format cannot carry, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unexportable {
    /// Position in the input slice.
    pub index: usize,
    /// `Token::display_name` of the token.
    pub label: String,
    pub reason: String,
}

/// Google Authenticator migration payloads for `tokens`.
#[derive(Debug)]
pub struct GoogleExport {
    /// `otpauth-migration://offline?data=…` URIs, one per QR code, in order.
    pub batches: Vec<Zeroizing<String>>,
    /// Tokens left out because the format cannot express them (e.g. Steam).
    pub left_out: Vec<Unexportable>,
}

/// How many tokens Google Authenticator itself puts in one QR code; larger batches
/// make QR codes too dense for phone cameras.
pub const GOOGLE_TOKENS_PER_BATCH: usize = 10;

/// Encodes `tokens` as Google Authenticator export URIs. `batch_id` ties the QR
/// codes of one export together; pass a random value (this crate has no RNG).
#[must_use]
pub fn to_google_migration(tokens: &[Token], batch_id: i32) -> GoogleExport {
    let export = crate::migration::encode_batches(tokens, GOOGLE_TOKENS_PER_BATCH, batch_id);
    GoogleExport {
        batches: export.uris,
        left_out: export
            .skipped
            .into_iter()
            .map(|skipped| Unexportable {
                index: skipped.index,
                label: skipped.name,
                reason: skipped.reason.to_string(),
            })
            .collect(),
    }
}

/// An unencrypted Aegis vault (content version 3) holding `tokens`, which Aegis and
/// most other authenticators import. Aegis requires entry and group UUIDs; they are
/// derived from the entry position (`00000000-0000-4000-8000-…`) because this crate
/// has no randomness and Aegis only needs them unique within the file.
#[must_use]
pub fn to_aegis_plain(tokens: &[Token]) -> Zeroizing<String> {
    use serde_json::{Value, json};

    use crate::token::OtpKind;

    let uuid = |kind: u16, n: usize| format!("00000000-0000-4000-8{kind:03x}-{n:012x}");
    let mut group_names: Vec<&str> = Vec::new();
    for token in tokens {
        if let Some(group) = token.group.as_deref()
            && !group_names.contains(&group)
        {
            group_names.push(group);
        }
    }
    let entries: Vec<Value> = tokens
        .iter()
        .enumerate()
        .map(|(index, token)| {
            let (kind, period, counter) = match token.kind {
                OtpKind::Totp { period } => ("totp", Some(period), None),
                OtpKind::Hotp { counter } => ("hotp", None, Some(counter)),
                OtpKind::Steam { period } => ("steam", Some(period), None),
            };
            let mut info = json!({
                "secret": token.secret.to_base32().as_str(),
                "algo": token.algorithm.name(),
                "digits": token.digits,
            });
            if let Some(period) = period {
                info["period"] = period.into();
            }
            if let Some(counter) = counter {
                info["counter"] = counter.into();
            }
            let groups: Vec<String> = token
                .group
                .as_deref()
                .and_then(|group| group_names.iter().position(|name| *name == group))
                .map(|position| vec![uuid(1, position)])
                .unwrap_or_default();
            json!({
                "type": kind,
                "uuid": uuid(0, index),
                "name": token.account,
                "issuer": token.issuer,
                "note": "",
                "favorite": false,
                "icon": null,
                "info": info,
                "groups": groups,
            })
        })
        .collect();
    let groups: Vec<Value> = group_names
        .iter()
        .enumerate()
        .map(|(position, name)| json!({ "uuid": uuid(1, position), "name": name }))
        .collect();
    let vault = crate::import::json::Scrubbed(json!({
        "version": 1,
        "header": { "slots": null, "params": null },
        "db": { "version": 3, "entries": entries, "groups": groups },
    }));
    let bytes = crate::import::json::to_zeroizing_vec(&vault.0, true);
    // serde_json only writes UTF-8.
    Zeroizing::new(
        std::str::from_utf8(&bytes)
            .map(str::to_owned)
            .unwrap_or_default(),
    )
}
