//! A keychain slot whose text is sealed with the vault key. Team mode keeps its
//! refresh token and device key here: with an app-lock passphrase the vault key is
//! not in the keychain, so while Kaito is locked no other process of the desktop
//! session can read a usable team sign-in out of the keychain (`secret-tool
//! lookup …` gives only ciphertext), and Kaito itself cannot use it either.

use std::sync::Arc;

use data_encoding::BASE64;
use zeroize::Zeroizing;

use crate::error::VaultError;
use crate::keystore::SecretSlot;
use crate::vault::Vault;

/// What a sealed entry starts with; anything else is an entry written before
/// sealing, resealed at its next read.
const PREFIX: &str = "kaito-sealed:v1:";
/// Binds the seal to its purpose (the AAD): a sealed seed's bytes cannot be
/// passed off as a team sign-in, nor the other way round.
const PURPOSE: uuid::Uuid = uuid::Uuid::from_u128(0x6b61_6974_6f2d_7465_616d_2d73_6563_7265);

/// A [`SecretSlot`] that seals what it stores with the vault's key, and opens it
/// only while the vault is unlocked ([`VaultError::Locked`] otherwise).
#[derive(Debug)]
pub struct SealedSlot {
    keychain: Arc<dyn SecretSlot>,
    vault: Arc<Vault>,
}

impl SealedSlot {
    #[must_use]
    pub fn new(keychain: Arc<dyn SecretSlot>, vault: Arc<Vault>) -> Self {
        Self { keychain, vault }
    }

    fn seal(&self, text: &str) -> Result<String, VaultError> {
        let (nonce, sealed) = self.vault.keys()?.seal(&PURPOSE, text.as_bytes())?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", BASE64.encode(&bytes)))
    }
}

impl SecretSlot for SealedSlot {
    fn load(&self) -> Result<Option<Zeroizing<String>>, VaultError> {
        let Some(stored) = self.keychain.load()? else {
            return Ok(None);
        };
        let keys = self.vault.keys()?;
        let Some(encoded) = stored.strip_prefix(PREFIX) else {
            // Written in the clear by an earlier Kaito: sealed now, so the lock
            // covers it from here on.
            self.keychain.store(&self.seal(&stored)?)?;
            return Ok(Some(stored));
        };
        let damaged = || VaultError::CorruptDatabase {
            detail: "the sealed team sign-in in the keychain does not open".to_owned(),
        };
        let bytes = Zeroizing::new(BASE64.decode(encoded.as_bytes()).map_err(|_| damaged())?);
        if bytes.len() < crate::crypto::NONCE_LEN {
            return Err(damaged());
        }
        let (nonce, sealed) = bytes.split_at(crate::crypto::NONCE_LEN);
        let mut plain = keys
            .open(&PURPOSE, crate::SEAL_VERSION, nonce, sealed)
            .ok_or_else(damaged)?;
        String::from_utf8(std::mem::take(&mut *plain))
            .map(|text| Some(Zeroizing::new(text)))
            .map_err(|_| damaged())
    }

    fn store(&self, text: &str) -> Result<(), VaultError> {
        self.keychain.store(&self.seal(text)?)
    }

    fn delete(&self) -> Result<(), VaultError> {
        // Signing out works while locked: nothing needs opening to forget it.
        self.keychain.delete()
    }
}
