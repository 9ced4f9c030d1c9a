//! The shared-secret ("seed") type. It zeroizes on drop and never shows its bytes in
//! `Debug`, `Display` or serde output, so a stray log line or error cannot leak it.

use std::fmt;

use zeroize::{Zeroize, Zeroizing};

/// Why a textual secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the secret is empty")]
    Empty,
    /// Only the position is kept: even one character of a secret does not belong in
    /// an error message or a log.
    #[error(
        "the secret is not valid base32: the character at position {position} is not A–Z or 2–7"
    )]
    InvalidBase32 { position: usize },
    #[error("the secret is not valid base32: its length leaves {bits} dangling bits")]
    BadLength { bits: usize },
}

/// Raw key bytes of an OTP token.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Wraps raw key bytes. Empty keys are refused: HMAC would accept them but no
    /// real service issues one, so an empty key always means a broken import.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, SecretError> {
        if bytes.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Self(Zeroizing::new(bytes)))
    }

    /// Parses base32 as people and services actually write it: any case, with
    /// spaces, dashes and `=` padding anywhere.
    pub fn from_base32(text: &str) -> Result<Self, SecretError> {
        let mut normalized = Zeroizing::new(String::with_capacity(text.len()));
        for (position, character) in text.chars().enumerate() {
            match character {
                ' ' | '\t' | '\n' | '\r' | '-' | '=' => {}
                'a'..='z' | 'A'..='Z' | '2'..='7' => {
                    normalized.push(character.to_ascii_uppercase());
                }
                _ => return Err(SecretError::InvalidBase32 { position }),
            }
        }
        if normalized.is_empty() {
            return Err(SecretError::Empty);
        }
        let dangling = (normalized.len() * 5) % 8;
        // 1, 3 or 6 trailing characters cannot come from whole bytes.
        if matches!(normalized.len() % 8, 1 | 3 | 6) {
            return Err(SecretError::BadLength { bits: dangling });
        }
        let decoded = data_encoding::BASE32_NOPAD
            .decode(normalized.as_bytes())
            .map_err(|error| SecretError::InvalidBase32 {
                position: error.position,
            })?;
        Self::from_bytes(decoded)
    }

    /// Canonical base32: uppercase, no padding — the form `otpauth://` URIs carry.
    #[must_use]
    pub fn to_base32(&self) -> Zeroizing<String> {
        Zeroizing::new(data_encoding::BASE32_NOPAD.encode(&self.0))
    }

    /// The key bytes, for HMAC and sealing. Keep the borrow short.
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Key length in bits (RFC 4226 recommends at least 160).
    #[must_use]
    pub fn bits(&self) -> usize {
        self.0.len() * 8
    }
}

/// Equality whose time does not depend on where the inputs differ, for codes, keys
/// and tokens (`subtle` keeps the compiler from short-circuiting it). Only the
/// lengths, which are not secret, are compared directly.
#[must_use]
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} bits redacted>)", self.bits())
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // Zeroizing already wipes the Vec; this also wipes spare capacity.
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_human_base32() {
        let a = Secret::from_base32("jbsw y3dp-ehpk 3pxp").unwrap();
        let b = Secret::from_base32("JBSWY3DPEHPK3PXP====").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.expose(), b"Hello!\xde\xad\xbe\xef");
        assert_eq!(&*a.to_base32(), "JBSWY3DPEHPK3PXP");
    }

    #[test]
    fn rejects_bad_base32_with_position() {
        assert_eq!(
            Secret::from_base32("JBSW1"),
            Err(SecretError::InvalidBase32 { position: 4 })
        );
        assert_eq!(Secret::from_base32(" = "), Err(SecretError::Empty));
        assert!(matches!(
            Secret::from_base32("A"),
            Err(SecretError::BadLength { .. })
        ));
    }

    #[test]
    fn constant_time_eq_is_byte_equality() {
        assert!(constant_time_eq(b"123456", b"123456"));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"123456", b"123457"));
        assert!(!constant_time_eq(b"023456", b"123456"));
        assert!(!constant_time_eq(b"12345", b"123456"));
        assert!(!constant_time_eq(b"123456", b""));
    }

    #[test]
    fn debug_never_shows_bytes() {
        let s = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("JBSW"));
        assert!(!shown.contains("72")); // 'H' as a decimal byte
        assert_eq!(shown, "Secret(<80 bits redacted>)");
    }
}
