//! Sealing seeds, fingerprinting secrets and wrapping the vault key with a passphrase.
//!
//! The vault key is never used directly: HMAC-SHA256 with a distinct label derives
//! one subkey per purpose (HKDF-Expand with a single block, which is sound because
//! the vault key is already uniformly random). A fingerprint key that differs from
//! the sealing key means the fingerprint column says nothing about the ciphertexts.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::VaultError;
use crate::keystore::{VAULT_KEY_LEN, VaultKey};

/// Bumped whenever the sealed-seed layout or AAD changes; part of the AAD, so a row
/// sealed under one version can never be opened as another.
pub const SEAL_VERSION: u32 = 1;
pub const NONCE_LEN: usize = 12;
const SALT_LEN: usize = 16;
const PASSPHRASE_AAD: &[u8] = b"kaito-vault/passphrase-wrap/v1";

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail; the fallback keeps the
    // code panic-free.
    let mut mac = HmacSha256::new_from_slice(key)
        .unwrap_or_else(|_| HmacSha256::new(&hmac::digest::Key::<HmacSha256>::default()));
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn subkey(key: &VaultKey, label: &[u8]) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(hmac(key.expose(), &[label, &[1]]))
}

/// Keys derived from the vault key, held only while the vault is unlocked.
pub struct VaultKeys {
    root: VaultKey,
    seal: Aes256Gcm,
    fingerprint: Zeroizing<[u8; 32]>,
    check: [u8; 32],
}

impl std::fmt::Debug for VaultKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VaultKeys(<redacted>)")
    }
}

impl VaultKeys {
    #[must_use]
    pub fn derive(root: VaultKey) -> Self {
        let seal_key = subkey(&root, b"kaito-vault/seal/v1");
        let fingerprint = subkey(&root, b"kaito-vault/fingerprint/v1");
        let check = *subkey(&root, b"kaito-vault/key-check/v1");
        let seal = Aes256Gcm::new(&(*seal_key).into());
        Self {
            root,
            seal,
            fingerprint,
            check,
        }
    }

    #[must_use]
    pub fn root(&self) -> &VaultKey {
        &self.root
    }

    /// Stored in the database so a different key is recognised as a mismatch
    /// rather than turning every seed into a decryption error.
    #[must_use]
    pub fn key_check(&self) -> [u8; 32] {
        self.check
    }

    /// Keyed fingerprint of a secret for duplicate detection.
    #[must_use]
    pub fn fingerprint(&self, secret: &[u8]) -> [u8; 32] {
        hmac(self.fingerprint.as_ref(), &[secret])
    }

    /// Seals `secret` for token `id`: returns (nonce, ciphertext||tag).
    pub fn seal(
        &self,
        id: &uuid::Uuid,
        secret: &[u8],
    ) -> Result<([u8; NONCE_LEN], Vec<u8>), VaultError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce)?;
        let aad = seal_aad(id, SEAL_VERSION);
        let sealed = self
            .seal
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: secret,
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::Randomness {
                detail: "AES-GCM refused the input".to_owned(),
            })?;
        Ok((nonce, sealed))
    }

    /// Opens a sealed seed; `None` when authentication fails (tampered or damaged).
    #[must_use]
    pub fn open(
        &self,
        id: &uuid::Uuid,
        version: u32,
        nonce: &[u8],
        sealed: &[u8],
    ) -> Option<Zeroizing<Vec<u8>>> {
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let aad = seal_aad(id, version);
        self.seal
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .ok()
            .map(Zeroizing::new)
    }
}

fn seal_aad(id: &uuid::Uuid, version: u32) -> [u8; 20] {
    let mut aad = [0u8; 20];
    aad[..16].copy_from_slice(id.as_bytes());
    aad[16..].copy_from_slice(&version.to_be_bytes());
    aad
}

/// Argon2id cost for the passphrase lock. Stored beside the wrapped key so raising
/// the defaults later does not lock anyone out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassphraseParams {
    pub memory_kib: u32,
    pub passes: u32,
    pub lanes: u32,
}

impl Default for PassphraseParams {
    /// 64 MiB, 3 passes, 1 lane: above OWASP's Argon2id minimum, well under a second
    /// to unlock on a modest laptop.
    fn default() -> Self {
        Self {
            memory_kib: 64 * 1024,
            passes: 3,
            lanes: 1,
        }
    }
}

/// The vault key encrypted under a passphrase-derived key.
#[derive(Debug, Clone)]
pub struct WrappedKey {
    pub params: PassphraseParams,
    pub salt: Vec<u8>,
    pub nonce: Vec<u8>,
    pub wrapped: Vec<u8>,
}

fn passphrase_key(
    passphrase: &str,
    salt: &[u8],
    params: PassphraseParams,
) -> Result<Zeroizing<[u8; 32]>, VaultError> {
    let argon_params =
        argon2::Params::new(params.memory_kib, params.passes, params.lanes, Some(32)).map_err(
            |error| VaultError::KdfParams {
                detail: error.to_string(),
            },
        )?;
    let mut out = Zeroizing::new([0u8; 32]);
    argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon_params,
    )
    .hash_password_into(passphrase.as_bytes(), salt, out.as_mut())
    .map_err(|error| VaultError::KdfParams {
        detail: error.to_string(),
    })?;
    Ok(out)
}

/// Wraps the vault key under `passphrase` (slow: runs Argon2id).
pub fn wrap_key(
    key: &VaultKey,
    passphrase: &str,
    params: PassphraseParams,
) -> Result<WrappedKey, VaultError> {
    if passphrase.is_empty() {
        return Err(VaultError::EmptyPassphrase);
    }
    let mut salt = [0u8; SALT_LEN];
    getrandom::fill(&mut salt)?;
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce)?;
    let kek = passphrase_key(passphrase, &salt, params)?;
    let wrapped = Aes256Gcm::new(&(*kek).into())
        .encrypt(
            &nonce.into(),
            Payload {
                msg: key.expose(),
                aad: PASSPHRASE_AAD,
            },
        )
        .map_err(|_| VaultError::Randomness {
            detail: "AES-GCM refused the input".to_owned(),
        })?;
    Ok(WrappedKey {
        params,
        salt: salt.to_vec(),
        nonce: nonce.to_vec(),
        wrapped,
    })
}

/// Unwraps the vault key; a wrong passphrase is [`VaultError::WrongPassphrase`].
pub fn unwrap_key(wrapped: &WrappedKey, passphrase: &str) -> Result<VaultKey, VaultError> {
    let kek = passphrase_key(passphrase, &wrapped.salt, wrapped.params)?;
    let nonce: [u8; NONCE_LEN] =
        wrapped
            .nonce
            .as_slice()
            .try_into()
            .map_err(|_| VaultError::CorruptDatabase {
                detail: "passphrase nonce has the wrong length".to_owned(),
            })?;
    let plain = Zeroizing::new(
        Aes256Gcm::new(&(*kek).into())
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: &wrapped.wrapped,
                    aad: PASSPHRASE_AAD,
                },
            )
            .map_err(|_| VaultError::WrongPassphrase)?,
    );
    let mut bytes = Zeroizing::new([0u8; VAULT_KEY_LEN]);
    if plain.len() != VAULT_KEY_LEN {
        return Err(VaultError::CorruptDatabase {
            detail: "wrapped vault key has the wrong length".to_owned(),
        });
    }
    bytes.copy_from_slice(&plain);
    Ok(VaultKey::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: PassphraseParams = PassphraseParams {
        memory_kib: 64,
        passes: 1,
        lanes: 1,
    };

    #[test]
    fn seal_binds_token_id_and_version() {
        let keys = VaultKeys::derive(VaultKey::generate().unwrap());
        let id = uuid::Uuid::new_v4();
        let (nonce, sealed) = keys.seal(&id, b"seed bytes").unwrap();
        assert_eq!(
            &**keys.open(&id, SEAL_VERSION, &nonce, &sealed).unwrap(),
            b"seed bytes"
        );
        assert!(
            keys.open(&uuid::Uuid::new_v4(), SEAL_VERSION, &nonce, &sealed)
                .is_none(),
            "moved to another row"
        );
        assert!(
            keys.open(&id, SEAL_VERSION + 1, &nonce, &sealed).is_none(),
            "other schema version"
        );
        let mut tampered = sealed.clone();
        tampered[0] ^= 1;
        assert!(keys.open(&id, SEAL_VERSION, &nonce, &tampered).is_none());
        let (nonce2, _) = keys.seal(&id, b"seed bytes").unwrap();
        assert_ne!(nonce, nonce2, "fresh nonce per seal");
    }

    #[test]
    fn fingerprints_depend_on_the_key() {
        let a = VaultKeys::derive(VaultKey::generate().unwrap());
        let b = VaultKeys::derive(VaultKey::generate().unwrap());
        assert_eq!(a.fingerprint(b"s"), a.fingerprint(b"s"));
        assert_ne!(a.fingerprint(b"s"), a.fingerprint(b"t"));
        assert_ne!(a.fingerprint(b"s"), b.fingerprint(b"s"));
        assert_ne!(a.key_check(), b.key_check());
    }

    #[test]
    fn passphrase_wrap_round_trip_and_wrong_passphrase() {
        let key = VaultKey::generate().unwrap();
        let wrapped = wrap_key(&key, "correct horse", FAST).unwrap();
        assert_eq!(
            unwrap_key(&wrapped, "correct horse").unwrap().expose(),
            key.expose()
        );
        assert!(matches!(
            unwrap_key(&wrapped, "Correct horse"),
            Err(VaultError::WrongPassphrase)
        ));
        assert!(matches!(
            wrap_key(&key, "", FAST),
            Err(VaultError::EmptyPassphrase)
        ));
    }
}
