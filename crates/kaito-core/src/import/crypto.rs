//! The few primitives the encrypted formats share, wrapped so that every length and
//! cost parameter read from a file is checked before it reaches a crypto crate: the
//! crates panic or allocate without bound on some inputs, and a hostile file must
//! only ever produce an error.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit};
use zeroize::Zeroizing;

/// AES-GCM's tag length.
pub(crate) const TAG_LEN: usize = 16;
/// AES-GCM nonce length used by every format here.
pub(crate) const NONCE_LEN: usize = 12;

/// Memory a KDF may ask for. 1 GiB covers libsodium's "sensitive" preset (Ente) and
/// is well above Aegis' 32 MiB; beyond it a file is more likely an attack than a
/// backup.
pub(crate) const MAX_KDF_MEMORY_BYTES: u64 = 1024 * 1024 * 1024;
/// Upper bound on Argon2 memory × passes. Ente derives keys by starting at
/// libsodium's "sensitive" preset (1 GiB × 4 passes) and halving memory while
/// doubling passes until the device copes, so memory and passes are bounded
/// together: 8 GiB·passes admits every step of that ladder with room to spare.
pub(crate) const MAX_KDF_WORK_BYTES: u64 = 8 * 1024 * 1024 * 1024;
/// Upper bound on Argon2/scrypt parallelism.
pub(crate) const MAX_KDF_LANES: u32 = 16;

/// Why a decryption or derivation did not produce a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CryptoError {
    /// The tag did not verify: wrong key or altered data.
    Authentication,
    /// A field has the wrong size or value for the primitive.
    Malformed(String),
}

/// Why a key derivation did not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KdfError {
    /// The parameters are not valid for the function.
    Malformed(String),
    /// The parameters exceed what Kaito is willing to spend.
    TooExpensive(String),
}

/// Decrypts `ciphertext || tag` with AES-256-GCM.
pub(crate) fn aes_gcm_open(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let cipher = Aes256Gcm::new_from_slice(key)
        .map_err(|_| CryptoError::Malformed(format!("the key is {} bytes, not 32", key.len())))?;
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| {
        CryptoError::Malformed(format!(
            "the nonce is {} bytes, not {NONCE_LEN}",
            nonce.len()
        ))
    })?;
    if ciphertext_and_tag.len() < TAG_LEN {
        return Err(CryptoError::Malformed(
            "the ciphertext is shorter than its tag".to_owned(),
        ));
    }
    cipher
        .decrypt(
            &nonce.into(),
            Payload {
                msg: ciphertext_and_tag,
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Authentication)
}

/// Encrypts with AES-256-GCM, returning `ciphertext || tag`.
pub(crate) fn aes_gcm_seal(
    key: &[u8; 32],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let cipher = Aes256Gcm::new(&(*key).into());
    // Encryption only fails for inputs beyond GCM's 64 GiB limit, which a token
    // list never reaches; an empty result would then fail authentication on open.
    cipher
        .encrypt(
            &(*nonce).into(),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .unwrap_or_default()
}

/// scrypt with the parameters as Aegis stores them (`n` is the cost itself, not its
/// logarithm).
pub(crate) fn scrypt_key(
    password: &[u8],
    salt: &[u8],
    n: u64,
    r: u32,
    p: u32,
) -> Result<Zeroizing<[u8; 32]>, KdfError> {
    if n < 2 || !n.is_power_of_two() {
        return Err(KdfError::Malformed(format!(
            "scrypt N = {n} is not a power of two ≥ 2"
        )));
    }
    if r == 0 || p == 0 {
        return Err(KdfError::Malformed(
            "scrypt r and p must be at least 1".to_owned(),
        ));
    }
    if p > MAX_KDF_LANES || r > 64 {
        return Err(KdfError::TooExpensive(format!("scrypt r = {r}, p = {p}")));
    }
    // scrypt's memory is 128 · r · N bytes.
    let memory = 128u64.saturating_mul(u64::from(r)).saturating_mul(n);
    if memory > MAX_KDF_MEMORY_BYTES {
        return Err(KdfError::TooExpensive(format!(
            "scrypt would need {} MiB",
            memory / (1024 * 1024)
        )));
    }
    let log_n =
        u8::try_from(n.trailing_zeros()).map_err(|_| KdfError::Malformed("scrypt N".to_owned()))?;
    let params = scrypt::Params::new(log_n, r, p).map_err(|_| {
        KdfError::Malformed(format!(
            "invalid scrypt parameters N = {n}, r = {r}, p = {p}"
        ))
    })?;
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(password, salt, &params, key.as_mut())
        .map_err(|_| KdfError::Malformed("scrypt output length".to_owned()))?;
    Ok(key)
}

/// PBKDF2-HMAC-SHA256 to a 256-bit key.
pub(crate) fn pbkdf2_sha256(password: &[u8], salt: &[u8], rounds: u32) -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, rounds, key.as_mut());
    key
}

/// Argon2id v1.3 into `out`, with memory in KiB.
pub(crate) fn argon2id(
    password: &[u8],
    salt: &[u8],
    memory_kib: u32,
    passes: u32,
    lanes: u32,
    out: &mut [u8],
) -> Result<(), KdfError> {
    let memory = u64::from(memory_kib) * 1024;
    if memory > MAX_KDF_MEMORY_BYTES
        || memory.saturating_mul(u64::from(passes)) > MAX_KDF_WORK_BYTES
        || lanes > MAX_KDF_LANES
    {
        return Err(KdfError::TooExpensive(format!(
            "Argon2id m = {memory_kib} KiB, t = {passes}, p = {lanes}"
        )));
    }
    let params = argon2::Params::new(memory_kib, passes, lanes, Some(out.len())).map_err(|error| {
        KdfError::Malformed(format!(
            "invalid Argon2id parameters m = {memory_kib} KiB, t = {passes}, p = {lanes}: {error}"
        ))
    })?;
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(password, salt, out)
        .map_err(|error| KdfError::Malformed(format!("Argon2id: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_scrypt_parameters_error_instead_of_panicking_or_allocating() {
        // r · p overflows u32 inside the scrypt crate's own check.
        assert!(matches!(
            scrypt_key(b"pw", b"salt", 1024, u32::MAX, u32::MAX),
            Err(KdfError::TooExpensive(_))
        ));
        assert!(matches!(
            scrypt_key(b"pw", b"salt", 1 << 40, 8, 1),
            Err(KdfError::TooExpensive(_))
        ));
        assert!(matches!(
            scrypt_key(b"pw", b"salt", 0, 8, 1),
            Err(KdfError::Malformed(_))
        ));
        assert!(matches!(
            scrypt_key(b"pw", b"salt", 1000, 8, 1),
            Err(KdfError::Malformed(_))
        ));
        assert!(matches!(
            scrypt_key(b"pw", b"salt", 1024, 0, 1),
            Err(KdfError::Malformed(_))
        ));
    }

    #[test]
    fn hostile_argon2_parameters_error() {
        let mut out = [0u8; 32];
        assert!(matches!(
            argon2id(b"pw", b"saltsalt", u32::MAX, 1, 1, &mut out),
            Err(KdfError::TooExpensive(_))
        ));
        assert!(matches!(
            argon2id(b"pw", b"saltsalt", 64, u32::MAX, 1, &mut out),
            Err(KdfError::TooExpensive(_))
        ));
        assert!(matches!(
            argon2id(b"pw", b"saltsalt", 1, 1, 1, &mut out),
            Err(KdfError::Malformed(_))
        ));
        // Argon2 needs at least 8 bytes of salt.
        assert!(matches!(
            argon2id(b"pw", b"s", 64, 1, 1, &mut out),
            Err(KdfError::Malformed(_))
        ));
    }

    #[test]
    fn gcm_rejects_bad_lengths_and_wrong_keys() {
        let key = [1u8; 32];
        let sealed = aes_gcm_seal(&key, &[2; 12], b"aad", b"hello");
        assert_eq!(
            &**aes_gcm_open(&key, &[2; 12], b"aad", &sealed).unwrap(),
            b"hello"
        );
        assert_eq!(
            aes_gcm_open(&[3; 32], &[2; 12], b"aad", &sealed),
            Err(CryptoError::Authentication)
        );
        assert_eq!(
            aes_gcm_open(&key, &[2; 12], b"other", &sealed),
            Err(CryptoError::Authentication)
        );
        assert!(matches!(
            aes_gcm_open(&key[..16], &[2; 12], b"aad", &sealed),
            Err(CryptoError::Malformed(_))
        ));
        assert!(matches!(
            aes_gcm_open(&key, &[2; 8], b"aad", &sealed),
            Err(CryptoError::Malformed(_))
        ));
        assert!(matches!(
            aes_gcm_open(&key, &[2; 12], b"aad", &sealed[..15]),
            Err(CryptoError::Malformed(_))
        ));
    }
}
