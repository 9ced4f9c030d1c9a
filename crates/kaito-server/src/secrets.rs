//! Password hashes and bearer tokens. Tokens are random and stored only as SHA-256
//! hashes, so a copy of the database signs nobody in; passwords are Argon2id.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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

fn hasher() -> Result<argon2::Argon2<'static>, ServerError> {
    let params = argon2::Params::new(MEMORY_KIB, PASSES, LANES, Some(32))
        .map_err(|error| ServerError::PasswordHash(error.to_string()))?;
    Ok(argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params,
    ))
}

/// The standard PHC string, `$argon2id$v=19$m=…,t=…,p=…$salt$hash`: the parameters
/// travel with the hash, so they can be raised later without breaking accounts.
pub fn hash_password(password: &str) -> Result<String, ServerError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)?;
    let hash = hasher()?
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|error| ServerError::PasswordHash(error.to_string()))?;
    Ok(hash.to_string())
}

/// What checking a password against its stored hash found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordCheck {
    pub matches: bool,
    /// The stored hash should be replaced (an older format or weaker parameters):
    /// done at sign-in, the one moment the password is at hand.
    pub outdated: bool,
}

/// Checks `password` against `stored`, a PHC string, or the form Kaito wrote
/// before it: the same string without its leading `$`.
pub fn verify_password(password: &str, stored: &str) -> Result<PasswordCheck, ServerError> {
    let corrupt = || ServerError::Corrupt("a password hash is malformed".to_owned());
    let legacy = !stored.starts_with('$');
    let phc = if legacy {
        std::borrow::Cow::Owned(format!("${stored}"))
    } else {
        std::borrow::Cow::Borrowed(stored)
    };
    let parsed = PasswordHash::new(&phc).map_err(|_| corrupt())?;
    if parsed.algorithm.as_str() != "argon2id" {
        return Err(corrupt());
    }
    let params = argon2::Params::try_from(&parsed).map_err(|_| corrupt())?;
    // The stored parameters, not today's, decide how the check is computed.
    let matches = match hasher()?.verify_password(password.as_bytes(), &parsed) {
        Ok(()) => true,
        Err(argon2::password_hash::Error::PasswordInvalid) => false,
        Err(error) => return Err(ServerError::PasswordHash(error.to_string())),
    };
    Ok(PasswordCheck {
        matches,
        outdated: legacy || params.m_cost() < MEMORY_KIB || params.t_cost() < PASSES,
    })
}

/// A hash to check against when the email is unknown, so the answer takes as long
/// as for a known one and does not reveal who has an account.
#[must_use]
pub fn decoy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
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
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!stored.contains("correct"));
        let right = verify_password("correct horse battery staple", &stored).unwrap();
        assert_eq!(
            right,
            PasswordCheck {
                matches: true,
                outdated: false
            }
        );
        assert!(
            !verify_password("correct horse battery stapl", &stored)
                .unwrap()
                .matches
        );
        assert_ne!(
            stored,
            hash_password("correct horse battery staple").unwrap(),
            "salted"
        );
    }

    /// A hash as Kaito stored them before the PHC string, made the way it made them.
    fn legacy_hash(password: &str, (memory_kib, passes): (u32, u32)) -> String {
        use base64::engine::general_purpose::STANDARD_NO_PAD;
        let salt = [7u8; 16];
        let mut hash = [0u8; 32];
        let params = argon2::Params::new(memory_kib, passes, 1, Some(32)).unwrap();
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password_into(password.as_bytes(), &salt, &mut hash)
            .unwrap();
        format!(
            "argon2id$v=19$m={memory_kib},t={passes},p=1${}${}",
            STANDARD_NO_PAD.encode(salt),
            STANDARD_NO_PAD.encode(hash)
        )
    }

    #[test]
    fn older_hashes_still_verify_and_ask_to_be_replaced() {
        let legacy = legacy_hash("correct horse battery staple", (MEMORY_KIB, PASSES));
        let checked = verify_password("correct horse battery staple", &legacy).unwrap();
        assert_eq!(
            checked,
            PasswordCheck {
                matches: true,
                outdated: true
            }
        );
        assert!(!verify_password("wrong", &legacy).unwrap().matches);
        // Weaker parameters than today's, in the standard form, are outdated too.
        let weak = format!("${}", legacy_hash("pw", (8_192, 1)));
        assert_eq!(
            verify_password("pw", &weak).unwrap(),
            PasswordCheck {
                matches: true,
                outdated: true
            }
        );
    }

    #[test]
    fn the_decoy_hash_is_well_formed_and_matches_nothing_typed() {
        assert!(!verify_password("", decoy_hash()).unwrap().matches);
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
