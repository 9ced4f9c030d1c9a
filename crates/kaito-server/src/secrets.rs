//! Password hashes and bearer tokens. Tokens are random and stored only as SHA-256
//! hashes, so a copy of the database signs nobody in; passwords are Argon2id.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::error::ServerError;

/// Equality whose time does not depend on where the inputs differ (for secrets):
/// kaito-core's one `subtle`-based compare.
pub use kaito_core::secret::constant_time_eq;

/// OWASP's Argon2id minimum (19 MiB, 2 passes, 1 lane): ~50 ms a sign-in here.
const MEMORY_KIB: u32 = 19_456;
const PASSES: u32 = 2;
const LANES: u32 = 1;

fn argon2(
    memory_kib: u32,
    passes: u32,
    lanes: u32,
) -> Result<argon2::Argon2<'static>, ServerError> {
    let params = argon2::Params::new(memory_kib, passes, lanes, Some(32))
        .map_err(|error| ServerError::PasswordHash(error.to_string()))?;
    Ok(argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params,
    ))
}

/// `argon2id$v=19$m=…,t=…,p=…$salt$hash` (base64): the parameters travel with the
/// hash, so they can be raised later without breaking existing accounts.
pub fn hash_password(password: &str) -> Result<String, ServerError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)?;
    let mut hash = Zeroizing::new([0u8; 32]);
    argon2(MEMORY_KIB, PASSES, LANES)?
        .hash_password_into(password.as_bytes(), &salt, hash.as_mut())
        .map_err(|error| ServerError::PasswordHash(error.to_string()))?;
    Ok(format!(
        "argon2id$v=19$m={MEMORY_KIB},t={PASSES},p={LANES}${}${}",
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(hash.as_ref())
    ))
}

/// Whether `password` matches `stored` (from [`hash_password`]).
pub fn verify_password(password: &str, stored: &str) -> Result<bool, ServerError> {
    let corrupt = || ServerError::Corrupt("a password hash is malformed".to_owned());
    let mut parts = stored.split('$');
    let (Some("argon2id"), Some("v=19"), Some(params), Some(salt), Some(expected), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(corrupt());
    };
    let mut values = [0u32; 3];
    for (slot, (part, key)) in values
        .iter_mut()
        .zip(params.split(',').zip(["m=", "t=", "p="]))
    {
        *slot = part
            .strip_prefix(key)
            .and_then(|number| number.parse().ok())
            .ok_or_else(corrupt)?;
    }
    let salt = STANDARD_NO_PAD.decode(salt).map_err(|_| corrupt())?;
    let expected = STANDARD_NO_PAD.decode(expected).map_err(|_| corrupt())?;
    let mut actual = Zeroizing::new(vec![0u8; expected.len()]);
    argon2(values[0], values[1], values[2])?
        .hash_password_into(password.as_bytes(), &salt, &mut actual)
        .map_err(|error| ServerError::PasswordHash(error.to_string()))?;
    Ok(constant_time_eq(&actual, &expected))
}

/// A hash to check against when the email is unknown, so the answer takes as long
/// as for a known one and does not reveal who has an account.
#[must_use]
pub fn decoy_hash() -> &'static str {
    "argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
}

/// A new bearer token: 32 random bytes, URL-safe.
pub fn new_token() -> Result<Zeroizing<String>, ServerError> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(bytes.as_mut())?;
    Ok(Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes.as_ref())))
}

/// What the database keeps of a token.
#[must_use]
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Lowercase hex, as hashes are stored and shown.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
            let _ = write!(out, "{byte:02x}");
            out
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_and_a_wrong_one_does_not() {
        let stored = hash_password("correct horse battery staple").unwrap();
        assert!(stored.starts_with("argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!stored.contains("correct"));
        assert!(verify_password("correct horse battery staple", &stored).unwrap());
        assert!(!verify_password("correct horse battery stapl", &stored).unwrap());
        assert_ne!(
            stored,
            hash_password("correct horse battery staple").unwrap(),
            "salted"
        );
    }

    #[test]
    fn the_decoy_hash_is_well_formed_and_matches_nothing_typed() {
        assert!(!verify_password("", decoy_hash()).unwrap());
        assert!(matches!(
            verify_password("x", "argon2id$v=19$m=1$bad"),
            Err(ServerError::Corrupt(_))
        ));
    }

    #[test]
    fn tokens_are_unique_and_stored_hashed() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(*a, *b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
