//! Password hashes and bearer tokens. Tokens are random and stored only as SHA-256
//! hashes, so a copy of the database signs nobody in; passwords are Argon2id.

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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

fn failed(error: impl std::fmt::Display) -> ServerError {
    ServerError::PasswordHash(error.to_string())
}

fn todays_params() -> Result<Params, ServerError> {
    Params::new(MEMORY_KIB, PASSES, LANES, Some(32)).map_err(failed)
}

/// Argon2's working memory (19 MiB), kept from one hash to the next. Left to
/// allocate afresh, each hash's 19 MiB tends to stay with whichever thread's
/// allocator arena freed it, and a server's memory then grows with the number of
/// threads that ever hashed rather than with the number hashing at once.
#[derive(Default)]
pub struct HashMemory(Vec<Block>);

impl HashMemory {
    fn blocks(&mut self, params: &Params) -> &mut [Block] {
        let needed = params.block_count();
        if self.0.len() < needed {
            self.0.resize(needed, Block::new());
        }
        &mut self.0[..needed]
    }

    /// Zeroes what the last hash left, before the memory serves another.
    pub fn wipe(&mut self) {
        self.0.iter_mut().for_each(zeroize::Zeroize::zeroize);
    }
}

impl std::fmt::Debug for HashMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HashMemory({} KiB)", self.0.len())
    }
}

/// What the last hash left in it is derived from a password: wiped on drop too.
impl Drop for HashMemory {
    fn drop(&mut self) {
        self.wipe();
    }
}

/// The standard PHC string, `$argon2id$v=19$m=…,t=…,p=…$salt$hash`: the parameters
/// travel with the hash, so they can be raised later without breaking accounts.
pub fn hash_password(password: &str, memory: &mut HashMemory) -> Result<String, ServerError> {
    let params = todays_params()?;
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(
            password.as_bytes(),
            &salt,
            out.as_mut(),
            memory.blocks(&params),
        )
        .map_err(failed)?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(failed)?,
        salt: Some(Salt::new(&salt).map_err(failed)?),
        hash: Some(Output::new(out.as_ref()).map_err(failed)?),
    };
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
pub fn verify_password(
    password: &str,
    stored: &str,
    memory: &mut HashMemory,
) -> Result<PasswordCheck, ServerError> {
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
    // The stored parameters, not today's, decide how the check is computed.
    let params = Params::try_from(&parsed).map_err(|_| corrupt())?;
    let version = parsed
        .version
        .map_or(Ok(Version::V0x13), Version::try_from)
        .map_err(|_| corrupt())?;
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Err(corrupt());
    };
    let mut computed = Zeroizing::new(vec![0u8; expected.len()]);
    Argon2::new(Algorithm::Argon2id, version, params.clone())
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            computed.as_mut_slice(),
            memory.blocks(&params),
        )
        .map_err(failed)?;
    let matches = constant_time_eq(&computed, expected.as_bytes());
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

/// A `kaito://{action}?server=…&{param}=…` link that opens the app on a one-time
/// token (an invite, a set-password link), when the server knows its public URL.
#[must_use]
pub fn app_link(
    public_url: Option<&str>,
    (action, param): (&str, &str),
    token: &str,
) -> Option<String> {
    public_url.map(|base| {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("server", base.trim_end_matches('/'))
            .append_pair(param, token)
            .finish();
        format!("kaito://{action}?{query}")
    })
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
    use argon2::password_hash::PasswordVerifier as _;

    #[test]
    fn a_password_verifies_and_a_wrong_one_does_not() {
        let stored =
            hash_password("correct horse battery staple", &mut HashMemory::default()).unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!stored.contains("correct"));
        // A standard PHC string: the argon2 crate's own verifier agrees.
        let parsed = PasswordHash::new(&stored).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery staple", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"wrong", &parsed)
                .is_err()
        );
        let right = verify_password(
            "correct horse battery staple",
            &stored,
            &mut HashMemory::default(),
        )
        .unwrap();
        assert_eq!(
            right,
            PasswordCheck {
                matches: true,
                outdated: false
            }
        );
        assert!(
            !verify_password(
                "correct horse battery stapl",
                &stored,
                &mut HashMemory::default()
            )
            .unwrap()
            .matches
        );
        assert_ne!(
            stored,
            hash_password("correct horse battery staple", &mut HashMemory::default()).unwrap(),
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
        let checked = verify_password(
            "correct horse battery staple",
            &legacy,
            &mut HashMemory::default(),
        )
        .unwrap();
        assert_eq!(
            checked,
            PasswordCheck {
                matches: true,
                outdated: true
            }
        );
        assert!(
            !verify_password("wrong", &legacy, &mut HashMemory::default())
                .unwrap()
                .matches
        );
        // Weaker parameters than today's, in the standard form, are outdated too.
        let weak = format!("${}", legacy_hash("pw", (8_192, 1)));
        assert_eq!(
            verify_password("pw", &weak, &mut HashMemory::default()).unwrap(),
            PasswordCheck {
                matches: true,
                outdated: true
            }
        );
    }

    #[test]
    fn the_decoy_hash_is_well_formed_and_matches_nothing_typed() {
        assert!(
            !verify_password("", decoy_hash(), &mut HashMemory::default())
                .unwrap()
                .matches
        );
        assert!(matches!(
            verify_password("x", "argon2id$v=19$m=1$bad", &mut HashMemory::default()),
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
