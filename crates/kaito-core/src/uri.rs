//! `otpauth://` URIs (the Google Authenticator "Key Uri Format"): parse what real
//! services and apps emit, emit one canonical form.
//!
//! Parsing is liberal:
//! - scheme, type and parameter names in any case; surrounding whitespace ignored;
//! - types `totp`, `hotp` and `steam`; `totp` with `encoder=steam` (`KeePassXC`) or with
//!   `digits=5&issuer=Steam` is read as Steam;
//! - the label is percent-decoded (`%3A` counts as the `Issuer:account` colon) and split
//!   on its first colon, spaces after the colon dropped. When an `issuer=` parameter is
//!   present it wins; a label prefix equal to it (any case) is stripped, a different
//!   prefix stays part of the account so nothing is lost;
//! - query values are percent-decoded with `+` read as a space (form encoding);
//! - secrets in any case, with spaces, dashes or `=` padding, of any length (80-bit
//!   secrets included);
//! - the first occurrence of a known parameter wins; unknown parameters are kept, in
//!   order, in [`ParsedUri::extra_params`].
//!
//! Emission ([`to_uri`]) is exact:
//! `otpauth://TYPE/LABEL?secret=B32&issuer=ISSUER&algorithm=ALG&digits=N&period=P`
//! with `TYPE` one of `totp`, `hotp` (then `counter=C` replaces `period`) or `steam`;
//! `LABEL` is `Issuer:account`, or just `account` when there is no issuer (`:account`
//! if the account itself contains a colon, so it is not mistaken for an issuer);
//! `issuer=` is left out when empty; the secret is unpadded upper-case base32. Label
//! parts and parameter values are UTF-8 percent-encoded, keeping only ASCII letters,
//! digits, `-._~` (RFC 3986 unreserved) and `@` (common in accounts, legal in both
//! path and query) literal — so `:`, `&`, `=`, `+`, `%`, `/`, `?`, `#` and spaces are
//! always encoded and the result parses back to the same token.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use zeroize::Zeroizing;

use crate::secret::{Secret, SecretError};
use crate::token::{Algorithm, OtpKind, Token, TokenError};

/// Characters escaped in label parts and parameter values (see the module docs).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@');

const DEFAULT_PERIOD: u32 = 30;
const DEFAULT_DIGITS: u32 = 6;

/// Longest user-supplied value echoed back in an error message.
const ECHO_LIMIT: usize = 40;

/// Why an `otpauth://` URI was refused. Each message says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    #[error(
        "this is not an otpauth:// link: it should start with \"otpauth://totp/\" or \"otpauth://hotp/\""
    )]
    NotOtpauth,
    #[error(
        "this is a Google Authenticator export (otpauth-migration://): import it as an export instead"
    )]
    MigrationExport,
    #[error("unknown token type {kind:?}: use totp, hotp or steam")]
    UnknownType { kind: String },
    #[error("the link has no secret: it needs secret=… with the base32 key the service shows")]
    MissingSecret,
    #[error("the secret is not usable: {0}")]
    Secret(SecretError),
    #[error("{param}={value:?} is not a number")]
    NotANumber { param: &'static str, value: String },
    #[error("{digits} digits is not supported: use 6, 7 or 8")]
    Digits { digits: u32 },
    #[error("{digits} digits is not supported for Steam: Steam codes have 5 characters")]
    SteamDigits { digits: u32 },
    #[error("a period of 0 seconds is not possible: use at least 1 (most services use 30)")]
    ZeroPeriod,
    #[error("a period of {period} seconds is too long: at most 4294967295 is supported")]
    PeriodTooLong { period: u64 },
    #[error("unknown algorithm {name:?}: use SHA1, SHA256 or SHA512")]
    UnknownAlgorithm { name: String },
    #[error("this HOTP link has no counter: add counter=… (usually 0)")]
    MissingCounter,
    #[error("bad percent-encoding at character {position}: '%' must be followed by two hex digits")]
    PercentEncoding { position: usize },
    #[error("the link's {part} is not valid UTF-8 once percent-decoded")]
    NotUtf8 { part: &'static str },
    #[error("the link's values are not usable: {0}")]
    Token(TokenError),
}

impl From<TokenError> for UriError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::Algorithm { name } => Self::UnknownAlgorithm { name: echo(&name) },
            TokenError::Period { period: 0 } => Self::ZeroPeriod,
            other => Self::Token(other),
        }
    }
}

/// A parsed URI: the token, plus parameters Kaito does not interpret (`image=`,
/// `color=`, …) so an export can carry them on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedUri {
    pub token: Token,
    /// Unknown parameters in their original order: name as written, value decoded.
    pub extra_params: Vec<(String, String)>,
}

impl ParsedUri {
    /// The canonical URI of [`to_uri`] followed by the extra parameters.
    #[must_use]
    pub fn to_uri(&self) -> Zeroizing<String> {
        let extra_len: usize = self
            .extra_params
            .iter()
            .map(|(k, v)| 2 + 3 * (k.len() + v.len()))
            .sum();
        let mut uri = Zeroizing::new(String::with_capacity(
            canonical_capacity(&self.token) + extra_len,
        ));
        write_canonical(&self.token, &mut uri);
        for (name, value) in &self.extra_params {
            uri.push('&');
            uri.extend(utf8_percent_encode(name, COMPONENT));
            uri.push('=');
            uri.extend(utf8_percent_encode(value, COMPONENT));
        }
        uri
    }
}

/// Parses an `otpauth://` URI into a token, dropping unknown parameters.
pub fn parse(uri: &str) -> Result<Token, UriError> {
    parse_full(uri).map(|parsed| parsed.token)
}

/// Parses an `otpauth://` URI, keeping unknown parameters.
pub fn parse_full(uri: &str) -> Result<ParsedUri, UriError> {
    let uri = uri.trim();
    let Some(rest) = strip_prefix_ignore_case(uri, "otpauth://") else {
        return Err(
            if strip_prefix_ignore_case(uri, "otpauth-migration:").is_some() {
                UriError::MigrationExport
            } else {
                UriError::NotOtpauth
            },
        );
    };
    // Offsets into `uri` let error positions point at the user's text.
    let rest_start = uri.len() - rest.len();

    let (path, query, query_start) = match rest.find('?') {
        Some(at) => (&rest[..at], &rest[at + 1..], rest_start + at + 1),
        None => (rest, "", uri.len()),
    };
    let (kind_name, raw_label) = path.split_once('/').unwrap_or((path, ""));
    let label_start = rest_start + kind_name.len() + 1;

    let kind_name_lower = kind_name.to_ascii_lowercase();
    if !matches!(kind_name_lower.as_str(), "totp" | "hotp" | "steam") {
        return Err(UriError::UnknownType {
            kind: echo(kind_name),
        });
    }

    let label = decode_text(uri, raw_label, label_start, false, "label")?;
    let params = QueryParams::parse(uri, query, query_start)?;

    let secret = match &params.secret {
        Some(text) if !text.trim().is_empty() => {
            Secret::from_base32(text).map_err(UriError::Secret)?
        }
        _ => return Err(UriError::MissingSecret),
    };
    let algorithm = match &params.algorithm {
        Some(name) => Algorithm::from_name(name)?,
        None => Algorithm::Sha1,
    };
    let digits = params
        .digits
        .as_deref()
        .map(|v| parse_number::<u32>("digits", v))
        .transpose()?;
    let period = match params
        .period
        .as_deref()
        .map(|v| parse_number::<u64>("period", v))
        .transpose()?
    {
        None => DEFAULT_PERIOD,
        Some(0) => return Err(UriError::ZeroPeriod),
        Some(period) => u32::try_from(period).map_err(|_| UriError::PeriodTooLong { period })?,
    };
    let issuer_param = params
        .issuer
        .as_deref()
        .map(str::trim)
        .filter(|issuer| !issuer.is_empty());
    let (issuer, account) = split_label(&label, issuer_param);

    let steam_encoder = params
        .encoder
        .as_deref()
        .is_some_and(|e| e.trim().eq_ignore_ascii_case("steam"));
    let looks_like_steam = digits == Some(5) && issuer.eq_ignore_ascii_case("steam");
    let (kind, digits) = match kind_name_lower.as_str() {
        "hotp" => {
            let counter = params.counter.as_deref().ok_or(UriError::MissingCounter)?;
            let counter = parse_number::<u64>("counter", counter)?;
            (
                OtpKind::Hotp { counter },
                checked_digits(digits.unwrap_or(DEFAULT_DIGITS))?,
            )
        }
        "steam" => match digits {
            None | Some(5) => (OtpKind::Steam { period }, 5),
            Some(digits) => return Err(UriError::SteamDigits { digits }),
        },
        // KeePassXC and Aegis write Steam as TOTP plus a marker; their digits value
        // varies between versions, so the marker decides.
        _ if steam_encoder || looks_like_steam => (OtpKind::Steam { period }, 5),
        _ => (
            OtpKind::Totp { period },
            checked_digits(digits.unwrap_or(DEFAULT_DIGITS))?,
        ),
    };

    let token = Token::new(issuer, account, kind, algorithm, digits, secret)?;
    let mut extra_params = params.extra;
    if let Some(encoder) = params.encoder.filter(|_| !steam_encoder) {
        extra_params.insert(0, ("encoder".to_owned(), encoder));
    }
    Ok(ParsedUri {
        token,
        extra_params,
    })
}

fn checked_digits(digits: u32) -> Result<u32, UriError> {
    if (6..=8).contains(&digits) {
        Ok(digits)
    } else {
        Err(UriError::Digits { digits })
    }
}

/// The canonical `otpauth://` URI for a token (rules in the module docs). It carries
/// the secret, so it is wiped when dropped.
#[must_use]
pub fn to_uri(token: &Token) -> Zeroizing<String> {
    let mut uri = Zeroizing::new(String::with_capacity(canonical_capacity(token)));
    write_canonical(token, &mut uri);
    uri
}

/// Room for the whole URI up front: growing the string would leave copies of the
/// secret in freed memory.
fn canonical_capacity(token: &Token) -> usize {
    // Worst case every label/issuer byte becomes "%XX"; base32 is 8 chars per 5 bytes.
    96 + 3 * (2 * token.issuer.len() + token.account.len())
        + token.secret.expose().len().div_ceil(5) * 8
}

fn write_canonical(token: &Token, uri: &mut String) {
    let kind = match token.kind {
        OtpKind::Totp { .. } => "totp",
        OtpKind::Hotp { .. } => "hotp",
        OtpKind::Steam { .. } => "steam",
    };
    uri.push_str("otpauth://");
    uri.push_str(kind);
    uri.push('/');
    if !token.issuer.is_empty() {
        uri.extend(utf8_percent_encode(&token.issuer, COMPONENT));
        uri.push(':');
    } else if token.account.contains(':') {
        uri.push(':');
    }
    uri.extend(utf8_percent_encode(&token.account, COMPONENT));
    uri.push_str("?secret=");
    uri.push_str(&token.secret.to_base32());
    if !token.issuer.is_empty() {
        uri.push_str("&issuer=");
        uri.extend(utf8_percent_encode(&token.issuer, COMPONENT));
    }
    uri.push_str("&algorithm=");
    uri.push_str(token.algorithm.name());
    uri.push_str("&digits=");
    uri.push_str(&token.digits.to_string());
    match token.kind {
        OtpKind::Totp { period } | OtpKind::Steam { period } => {
            uri.push_str("&period=");
            uri.push_str(&period.to_string());
        }
        OtpKind::Hotp { counter } => {
            uri.push_str("&counter=");
            uri.push_str(&counter.to_string());
        }
    }
}

/// Splits an `Issuer:account` label (already percent-decoded) against an optional
/// issuer given separately (the `issuer=` parameter, or the issuer field of a
/// migration entry). Rules in the module docs; both parts come back trimmed.
pub(crate) fn split_label(label: &str, issuer: Option<&str>) -> (String, String) {
    let label = label.trim();
    match issuer.map(str::trim).filter(|issuer| !issuer.is_empty()) {
        Some(issuer) => {
            if label.eq_ignore_ascii_case(issuer) {
                return (issuer.to_owned(), String::new());
            }
            let after_issuer = strip_prefix_ignore_case(label, issuer)
                .and_then(|rest| rest.trim_start().strip_prefix(':'));
            let account = match (after_issuer, label.split_once(':')) {
                (Some(account), _) => account,
                (None, Some((prefix, account))) if prefix.trim().is_empty() => account,
                // A different prefix is kept: it may be the only place a detail lives.
                _ => label,
            };
            (issuer.to_owned(), account.trim().to_owned())
        }
        None => match label.split_once(':') {
            Some((prefix, account)) => (prefix.trim().to_owned(), account.trim().to_owned()),
            None => (String::new(), label.to_owned()),
        },
    }
}

/// The parameters Kaito understands, first occurrence of each, plus everything else.
#[derive(Default)]
struct QueryParams {
    secret: Option<Zeroizing<String>>,
    issuer: Option<String>,
    algorithm: Option<String>,
    digits: Option<String>,
    period: Option<String>,
    counter: Option<String>,
    encoder: Option<String>,
    extra: Vec<(String, String)>,
}

impl QueryParams {
    fn parse(uri: &str, query: &str, query_start: usize) -> Result<Self, UriError> {
        let mut params = Self::default();
        let mut offset = query_start;
        for pair in query.split('&') {
            let pair_start = offset;
            offset += pair.len() + 1;
            if pair.is_empty() {
                continue;
            }
            let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
            let value_start = pair_start + raw_name.len() + 1;
            let name = decode_text(uri, raw_name, pair_start, true, "parameter names")?;
            let slot = match name.trim().to_ascii_lowercase().as_str() {
                "secret" => {
                    if params.secret.is_none() {
                        let value = decode_bytes(uri, raw_value, value_start, true)?;
                        let text = std::str::from_utf8(&value)
                            .map_err(|_| UriError::NotUtf8 { part: "secret" })?;
                        params.secret = Some(Zeroizing::new(text.to_owned()));
                    }
                    continue;
                }
                "issuer" => &mut params.issuer,
                "algorithm" => &mut params.algorithm,
                "digits" => &mut params.digits,
                "period" => &mut params.period,
                "counter" => &mut params.counter,
                "encoder" => &mut params.encoder,
                _ => {
                    let value = decode_text(uri, raw_value, value_start, true, "parameter values")?;
                    params.extra.push((name, value));
                    continue;
                }
            };
            if slot.is_none() {
                *slot = Some(decode_text(
                    uri,
                    raw_value,
                    value_start,
                    true,
                    "parameter values",
                )?);
            }
        }
        Ok(params)
    }
}

/// A `%` not followed by two hex digits, at this character position of the whole URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadPercent {
    pub position: usize,
}

impl From<BadPercent> for UriError {
    fn from(bad: BadPercent) -> Self {
        UriError::PercentEncoding {
            position: bad.position,
        }
    }
}

/// Percent-decodes one URI component; `plus_is_space` for query parts. `start` is the
/// component's byte offset in `uri`, for error positions. Hand-written rather than
/// `percent-encoding`'s, which passes a bad `%xx` through silently.
pub(crate) fn decode_bytes(
    uri: &str,
    raw: &str,
    start: usize,
    plus_is_space: bool,
) -> Result<Zeroizing<Vec<u8>>, BadPercent> {
    let bytes = raw.as_bytes();
    let mut decoded = Zeroizing::new(Vec::with_capacity(bytes.len()));
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        match byte {
            b'%' => {
                let high = bytes.get(index + 1).and_then(|b| hex_value(*b));
                let low = bytes.get(index + 2).and_then(|b| hex_value(*b));
                let (Some(high), Some(low)) = (high, low) else {
                    let position = uri
                        .get(..start + index)
                        .map_or(start + index, |before| before.chars().count());
                    return Err(BadPercent { position });
                };
                decoded.push(high << 4 | low);
                index += 3;
            }
            b'+' if plus_is_space => {
                decoded.push(b' ');
                index += 1;
            }
            _ => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    Ok(decoded)
}

fn decode_text(
    uri: &str,
    raw: &str,
    start: usize,
    plus_is_space: bool,
    part: &'static str,
) -> Result<String, UriError> {
    let bytes = decode_bytes(uri, raw, start, plus_is_space)?;
    std::str::from_utf8(&bytes)
        .map(str::to_owned)
        .map_err(|_| UriError::NotUtf8 { part })
}

fn hex_value(byte: u8) -> Option<u8> {
    // A hex digit's value is below 16, so the narrowing is exact.
    char::from(byte)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

fn parse_number<T: std::str::FromStr>(param: &'static str, value: &str) -> Result<T, UriError> {
    value.trim().parse().map_err(|_| UriError::NotANumber {
        param,
        value: echo(value),
    })
}

/// A user-supplied value shortened for an error message.
fn echo(value: &str) -> String {
    value.chars().take(ECHO_LIMIT).collect()
}

pub(crate) fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_label_rules() {
        let split = |label, issuer| split_label(label, issuer);
        let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        assert_eq!(split("GitHub:alice", None), pair("GitHub", "alice"));
        assert_eq!(split("GitHub:  alice", None), pair("GitHub", "alice"));
        assert_eq!(split("alice", None), pair("", "alice"));
        assert_eq!(split("alice", Some("GitHub")), pair("GitHub", "alice"));
        assert_eq!(
            split("github:alice", Some("GitHub")),
            pair("GitHub", "alice")
        );
        assert_eq!(
            split("Old Name:alice", Some("GitHub")),
            pair("GitHub", "Old Name:alice")
        );
        assert_eq!(split("GitHub", Some("GitHub")), pair("GitHub", ""));
        assert_eq!(split(":a:b", None), pair("", "a:b"));
        assert_eq!(split("A:B:c", Some("A:B")), pair("A:B", "c"));
    }

    #[test]
    fn error_positions_point_at_the_bad_percent() {
        assert_eq!(
            parse("otpauth://totp/Bad%zzLabel?secret=JBSWY3DPEHPK3PXP"),
            Err(UriError::PercentEncoding { position: 18 })
        );
        assert_eq!(
            parse("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&issuer=%4"),
            Err(UriError::PercentEncoding { position: 48 })
        );
    }
}
