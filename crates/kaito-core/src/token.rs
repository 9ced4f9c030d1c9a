//! A token as Kaito stores it: who it is for, how codes are made, and its secret.

use crate::secret::Secret;

/// HMAC hash of a token.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Algorithm {
    #[default]
    Sha1,
    Sha256,
    Sha512,
}

impl Algorithm {
    /// Canonical name as `otpauth://` URIs write it ("SHA1", "SHA256", "SHA512").
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
        }
    }

    /// Parses the names exporters actually write: any case, with or without a dash or
    /// underscore, optionally prefixed "Hmac" (`sha-256`, `HmacSHA1`). MD5 and anything
    /// else are refused: no `HMAC-MD5` token can produce the codes its service expects
    /// from Kaito's generator, so accepting one would only show wrong codes.
    pub fn from_name(name: &str) -> Result<Self, TokenError> {
        let mut compact = String::with_capacity(name.len());
        for character in name.trim().chars() {
            if !matches!(character, '-' | '_' | ' ') {
                compact.push(character.to_ascii_uppercase());
            }
        }
        let compact = compact.strip_prefix("HMAC").unwrap_or(&compact);
        match compact {
            "SHA1" => Ok(Self::Sha1),
            "SHA256" => Ok(Self::Sha256),
            "SHA512" => Ok(Self::Sha512),
            _ => Err(TokenError::Algorithm {
                name: name.trim().to_owned(),
            }),
        }
    }
}

/// How the moving factor is derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum OtpKind {
    /// RFC 6238: counter = unix time / period.
    Totp { period: u32 },
    /// RFC 4226: an explicit counter, advanced on use.
    Hotp { counter: u64 },
    /// Steam Guard: TOTP (SHA1, 30 s) rendered as 5 characters of Steam's alphabet.
    Steam { period: u32 },
}

impl OtpKind {
    /// Seconds per code for time-based kinds; `None` for HOTP.
    #[must_use]
    pub fn period(self) -> Option<u32> {
        match self {
            Self::Totp { period } | Self::Steam { period } => Some(period),
            Self::Hotp { .. } => None,
        }
    }
}

/// Why a token's parameters are unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("{digits} digits is not supported: codes have 6 to 8 digits (Steam: 5)")]
    Digits { digits: u32 },
    #[error("a period of {period} seconds is not supported: it must be at least 1 second")]
    Period { period: u64 },
    #[error("unknown algorithm {name:?}: use SHA1, SHA256 or SHA512")]
    Algorithm { name: String },
}

/// One enrolled token. Construct through [`Token::new`] so that digits and period are
/// always valid: code generation relies on that and never panics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Service name as shown to the user ("GitHub"); may be empty when unknown.
    pub issuer: String,
    /// Account name ("alice@example.com"); may be empty.
    pub account: String,
    pub kind: OtpKind,
    pub algorithm: Algorithm,
    /// 6–8 for TOTP/HOTP, 5 for Steam.
    pub digits: u32,
    pub secret: Secret,
    /// Folder/group name from the source, if any.
    pub group: Option<String>,
}

impl Token {
    /// Validates digits and period for the kind.
    pub fn new(
        issuer: impl Into<String>,
        account: impl Into<String>,
        kind: OtpKind,
        algorithm: Algorithm,
        digits: u32,
        secret: Secret,
    ) -> Result<Self, TokenError> {
        match kind {
            OtpKind::Steam { period } => {
                if digits != 5 {
                    return Err(TokenError::Digits { digits });
                }
                if period == 0 {
                    return Err(TokenError::Period { period: 0 });
                }
            }
            OtpKind::Totp { period } => {
                if !(6..=8).contains(&digits) {
                    return Err(TokenError::Digits { digits });
                }
                if period == 0 {
                    return Err(TokenError::Period { period: 0 });
                }
            }
            OtpKind::Hotp { .. } => {
                if !(6..=8).contains(&digits) {
                    return Err(TokenError::Digits { digits });
                }
            }
        }
        Ok(Self {
            issuer: issuer.into(),
            account: account.into(),
            kind,
            algorithm,
            digits,
            secret,
            group: None,
        })
    }

    /// Same token placed in a group.
    #[must_use]
    pub fn with_group(mut self, group: Option<String>) -> Self {
        self.group = group.filter(|g| !g.trim().is_empty());
        self
    }

    /// "Issuer (account)", "Issuer" or "account": what lists and errors show.
    #[must_use]
    pub fn display_name(&self) -> String {
        display_name(&self.issuer, &self.account)
    }
}

/// "Issuer (account)", "Issuer" or "account" (or "(unnamed token)"): how lists and
/// errors name a token, wherever its names are kept.
#[must_use]
pub fn display_name(issuer: &str, account: &str) -> String {
    match (issuer.is_empty(), account.is_empty()) {
        (false, false) => format!("{issuer} ({account})"),
        (false, true) => issuer.to_owned(),
        (true, false) => account.to_owned(),
        (true, true) => "(unnamed token)".to_owned(),
    }
}
