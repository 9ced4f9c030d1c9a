//! Seeds of server-managed tokens, envelope-encrypted: each seed is sealed with
//! AES-256-GCM under a key of its own, and that key under the server key — read
//! from a file or the environment, never stored in the database. The ciphertexts
//! are bound to their token id, so rows cannot be swapped between tokens.

use std::path::Path;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::error::ServerError;

const NONCE_LEN: usize = 12;
const SEED_AAD: &str = "kaito-server/seed/v1";
const KEY_AAD: &str = "kaito-server/data-key/v1";

/// The key every replica shares; it opens every seed.
pub struct ServerKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(…)")
    }
}

impl ServerKey {
    /// A key from its base64 text (as in the key file or `KAITO_SERVER_KEY`).
    pub fn from_base64(text: &str) -> Result<Self, ServerError> {
        let bytes =
            Zeroizing::new(STANDARD.decode(text.trim()).map_err(|_| {
                ServerError::Startup("The server key is not base64 text.".to_owned())
            })?);
        let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            ServerError::Startup(format!(
                "The server key must be 32 bytes; this one is {}.",
                bytes.len()
            ))
        })?;
        Ok(Self(Zeroizing::new(key)))
    }

    /// The key in `path`, created (readable by the owner only) if there is none yet:
    /// the embedded set-up needs no key management to start.
    pub fn load_or_create(path: &Path) -> Result<Self, ServerError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                if let Some(mode) = loose_mode(path) {
                    tracing::warn!(
                        path = %path.display(),
                        mode = format!("{mode:o}"),
                        "the server key can be read by other users; run chmod 600 on it"
                    );
                }
                Self::from_base64(&text)
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let mut key = Zeroizing::new([0u8; 32]);
                getrandom::fill(key.as_mut())?;
                let text = Zeroizing::new(STANDARD.encode(key.as_ref()));
                write_private(path, &text).map_err(|error| {
                    ServerError::Startup(format!(
                        "The server key {} cannot be written: {error}",
                        path.display()
                    ))
                })?;
                tracing::info!(path = %path.display(), "created a new server key; back it up with the database");
                Ok(Self(key))
            }
            Err(error) => Err(ServerError::Startup(format!(
                "The server key {} cannot be read: {error}",
                path.display()
            ))),
        }
    }

    /// A value stored beside the seeds, to tell at start-up whether this key is the
    /// one that sealed them (a wrong key would otherwise show as broken tokens).
    #[must_use]
    pub fn check_value(&self) -> String {
        let digest = Sha256::new()
            .chain_update(b"kaito-server/key-check/v1")
            .chain_update(self.0.as_ref())
            .finalize();
        crate::secrets::hex(&digest)
    }

    /// The server's Ed25519 key for signing audit checkpoints, derived from the
    /// server key so replicas sign alike and nothing more needs keeping.
    #[must_use]
    pub fn checkpoint_signer(&self) -> ed25519_dalek::SigningKey {
        let seed: [u8; 32] = Sha256::new()
            .chain_update(b"kaito-server/checkpoint-signing/v1")
            .chain_update(self.0.as_ref())
            .finalize()
            .into();
        ed25519_dalek::SigningKey::from_bytes(&seed)
    }

    /// Seals `plaintext` for token `token_id`: (wrapped data key, sealed plaintext).
    pub fn seal(
        &self,
        token_id: &str,
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>), ServerError> {
        let mut data_key = Zeroizing::new([0u8; 32]);
        getrandom::fill(data_key.as_mut())?;
        let sealed = encrypt(&data_key, &aad(SEED_AAD, token_id), plaintext)?;
        let wrapped = encrypt(&self.0, &aad(KEY_AAD, token_id), data_key.as_ref())?;
        Ok((wrapped, sealed))
    }

    /// Opens what [`Self::seal`] made for `token_id`.
    pub fn open(
        &self,
        token_id: &str,
        wrapped: &[u8],
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, ServerError> {
        let data_key = decrypt(&self.0, &aad(KEY_AAD, token_id), wrapped)?;
        let data_key: [u8; 32] = data_key
            .as_slice()
            .try_into()
            .map_err(|_| corrupt(token_id))?;
        decrypt(&Zeroizing::new(data_key), &aad(SEED_AAD, token_id), sealed)
    }
}

fn aad(purpose: &str, token_id: &str) -> Vec<u8> {
    format!("{purpose}|{token_id}").into_bytes()
}

fn corrupt(token_id: &str) -> ServerError {
    ServerError::Corrupt(format!("the sealed seed of token {token_id} does not open"))
}

/// nonce || ciphertext || tag
fn encrypt(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, ServerError> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce)?;
    let cipher = Aes256Gcm::new(&(*key).into());
    let sealed = cipher
        .encrypt(
            &nonce.into(),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| ServerError::Corrupt("AES-GCM refused to seal".to_owned()))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(out)
}

fn decrypt(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, ServerError> {
    let token = String::from_utf8_lossy(aad).into_owned();
    if sealed.len() < NONCE_LEN {
        return Err(corrupt(&token));
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| corrupt(&token))?;
    Aes256Gcm::new(&(*key).into())
        .decrypt(&nonce.into(), Payload { msg: body, aad })
        .map(Zeroizing::new)
        .map_err(|_| corrupt(&token))
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    // Windows: a new file in the data directory inherits its ACL, which the
    // operator restricts (README); there is no mode to set here.
    std::fs::write(path, text)
}

/// The key file's permission bits when others than its owner may read or write it.
#[cfg(unix)]
pub(crate) fn loose_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

#[cfg(not(unix))]
pub(crate) fn loose_mode(_path: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ServerKey {
        ServerKey::from_base64(&STANDARD.encode([7u8; 32])).unwrap()
    }

    #[test]
    fn a_sealed_seed_opens_only_for_its_token_and_key() {
        let uri = b"otpauth://totp/X?secret=JBSWY3DPEHPK3PXP";
        let (wrapped, sealed) = key().seal("tok_a", uri).unwrap();
        assert!(
            !sealed.windows(6).any(|w| w == b"JBSWY3"),
            "no seed in clear"
        );
        assert_eq!(
            key().open("tok_a", &wrapped, &sealed).unwrap().as_slice(),
            uri
        );
        assert!(
            key().open("tok_b", &wrapped, &sealed).is_err(),
            "bound to its token"
        );
        let other = ServerKey::from_base64(&STANDARD.encode([8u8; 32])).unwrap();
        assert!(other.open("tok_a", &wrapped, &sealed).is_err());
        assert_ne!(other.check_value(), key().check_value());
    }

    #[test]
    fn a_key_file_is_created_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.key");
        let created = ServerKey::load_or_create(&path).unwrap();
        let again = ServerKey::load_or_create(&path).unwrap();
        assert_eq!(created.check_value(), again.check_value());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
            assert_eq!(loose_mode(&path), None);
            // A key others can read is still used, with a warning naming the mode.
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert_eq!(loose_mode(&path), Some(0o644));
            ServerKey::load_or_create(&path).unwrap();
        }
        assert!(
            ServerKey::from_base64("AAAA")
                .unwrap_err()
                .to_string()
                .contains("32 bytes")
        );
    }
}
