//! The lock state: the key in memory, auto-lock, and the optional passphrase that
//! wraps the key.

use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use sqlx::{Row, SqliteConnection};

use super::schema::corrupt;
use super::{Vault, store_verified};
use crate::audit::AuditAction;
use crate::clock::unix_millis;
use crate::crypto::{self, PassphraseParams, VaultKeys, WrappedKey};
use crate::error::VaultError;
use crate::keystore::VaultKey;

impl Vault {
    pub(crate) fn keys(&self) -> Result<Arc<VaultKeys>, VaultError> {
        self.keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or(VaultError::Locked)
    }

    fn install_keys(&self, keys: VaultKeys) {
        *self.keys.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(keys));
        self.touch();
    }

    #[must_use]
    pub fn is_locked(&self) -> bool {
        self.keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none()
    }

    /// Forgets the key material now. Operations then fail with
    /// [`VaultError::Locked`] until an unlock. Only a vault with a passphrase can be
    /// locked ([`VaultError::LockWithoutPassphrase`] otherwise): without one, the key
    /// comes straight back from the keychain.
    pub async fn lock(&self) -> Result<(), VaultError> {
        if !self.has_passphrase().await? {
            return Err(VaultError::LockWithoutPassphrase);
        }
        self.forget_keys();
        Ok(())
    }

    fn forget_keys(&self) {
        self.keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }

    /// Records user activity for auto-lock.
    pub fn touch(&self) {
        *self
            .last_activity
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = self.clock.instant();
    }

    pub fn set_auto_lock(&self, idle: Option<Duration>) {
        *self
            .auto_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = idle;
    }

    #[must_use]
    pub fn auto_lock(&self) -> Option<Duration> {
        *self
            .auto_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Locks when auto-lock is on and nothing touched the vault for the idle period
    /// before `now`. The app calls this from its own timer; returns whether it
    /// locked just now.
    pub fn lock_if_idle(&self, now: Instant) -> bool {
        let Some(idle) = self.auto_lock() else {
            return false;
        };
        if self.is_locked() {
            return false;
        }
        let last = *self
            .last_activity
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if now.saturating_duration_since(last) >= idle {
            self.forget_keys();
            return true;
        }
        false
    }

    /// Whether an app-lock passphrase is set.
    pub async fn has_passphrase(&self) -> Result<bool, VaultError> {
        Ok(
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM passphrase_lock")
                .fetch_one(&self.pool)
                .await?
                > 0,
        )
    }

    async fn wrapped_key(&self) -> Result<Option<WrappedKey>, VaultError> {
        let Some(row) =
            sqlx::query("SELECT memory_kib, passes, lanes, salt, nonce, wrapped_key FROM passphrase_lock WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?
        else {
            return Ok(None);
        };
        let param = |name: &str| -> Result<u32, VaultError> {
            u32::try_from(row.try_get::<i64, _>(name)?)
                .map_err(|_| corrupt(format!("bad passphrase {name}")))
        };
        Ok(Some(WrappedKey {
            params: PassphraseParams {
                memory_kib: param("memory_kib")?,
                passes: param("passes")?,
                lanes: param("lanes")?,
            },
            salt: row.try_get("salt")?,
            nonce: row.try_get("nonce")?,
            wrapped: row.try_get("wrapped_key")?,
        }))
    }

    async fn key_check(&self) -> Result<Vec<u8>, VaultError> {
        Ok(
            sqlx::query_scalar("SELECT key_check FROM vault_meta WHERE id = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Unwraps the key with `passphrase` (slow by design: Argon2id).
    async fn unwrap_with(
        &self,
        wrapped: WrappedKey,
        passphrase: &str,
    ) -> Result<VaultKeys, VaultError> {
        let passphrase = zeroize::Zeroizing::new(passphrase.to_owned());
        let key = tokio::task::spawn_blocking(move || crypto::unwrap_key(&wrapped, &passphrase))
            .await??;
        let keys = VaultKeys::derive(key);
        if keys.key_check()[..] != self.key_check().await?[..] {
            return Err(VaultError::VaultKeyMismatch);
        }
        Ok(keys)
    }

    /// Unlocks a passphrase-protected vault. A wrong passphrase changes nothing.
    pub async fn unlock(&self, passphrase: &str) -> Result<(), VaultError> {
        let wrapped = self.wrapped_key().await?.ok_or(VaultError::NoPassphrase)?;
        let keys = self.unwrap_with(wrapped, passphrase).await?;
        self.install_keys(keys);
        Ok(())
    }

    /// Unlocks a vault without a passphrase by reading the key from the keychain
    /// again (after [`Vault::lock`]).
    pub async fn unlock_with_keychain(&self) -> Result<(), VaultError> {
        if self.has_passphrase().await? {
            return Err(VaultError::PassphraseRequired);
        }
        let store = self.key_store.clone();
        let key = tokio::task::spawn_blocking(move || store.load())
            .await??
            .ok_or(VaultError::VaultKeyMissing)?;
        let keys = VaultKeys::derive(key);
        if keys.key_check()[..] != self.key_check().await?[..] {
            return Err(VaultError::VaultKeyMismatch);
        }
        self.install_keys(keys);
        Ok(())
    }

    async fn wrap(&self, key: &VaultKey, passphrase: &str) -> Result<WrappedKey, VaultError> {
        if passphrase.is_empty() {
            return Err(VaultError::EmptyPassphrase);
        }
        let key = key.clone();
        let passphrase = zeroize::Zeroizing::new(passphrase.to_owned());
        let params = self.passphrase_params;
        tokio::task::spawn_blocking(move || crypto::wrap_key(&key, &passphrase, params)).await?
    }

    async fn write_wrapped(
        &self,
        conn: &mut SqliteConnection,
        wrapped: &WrappedKey,
        now: SystemTime,
    ) -> Result<(), VaultError> {
        sqlx::query(
            "INSERT OR REPLACE INTO passphrase_lock (id, memory_kib, passes, lanes, salt, nonce, wrapped_key, created_at)
             VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(i64::from(wrapped.params.memory_kib))
        .bind(i64::from(wrapped.params.passes))
        .bind(i64::from(wrapped.params.lanes))
        .bind(&wrapped.salt)
        .bind(&wrapped.nonce)
        .bind(&wrapped.wrapped)
        .bind(unix_millis(now))
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Protects the vault with a passphrase: the key is stored wrapped in the
    /// database and then removed from the keychain. The vault stays unlocked.
    pub async fn set_passphrase(&self, passphrase: &str) -> Result<(), VaultError> {
        let keys = self.keys()?;
        if self.has_passphrase().await? {
            return Err(VaultError::PassphraseAlreadySet);
        }
        let wrapped = self.wrap(keys.root(), passphrase).await?;
        let now = self.clock.now();
        let mut tx = self.audited(now).await?;
        self.write_wrapped(&mut tx, &wrapped, now).await?;
        tx.record(AuditAction::PassphraseSet, None, None).await?;
        tx.commit().await?;
        // Only after the wrapped copy is durable: a crash in between leaves both
        // copies, never neither.
        let store = self.key_store.clone();
        tokio::task::spawn_blocking(move || store.delete()).await??;
        Ok(())
    }

    /// Replaces the passphrase. A wrong `current` changes nothing.
    pub async fn change_passphrase(&self, current: &str, new: &str) -> Result<(), VaultError> {
        let wrapped = self.wrapped_key().await?.ok_or(VaultError::NoPassphrase)?;
        let keys = self.unwrap_with(wrapped, current).await?;
        let rewrapped = self.wrap(keys.root(), new).await?;
        let now = self.clock.now();
        let mut tx = self.audited(now).await?;
        self.write_wrapped(&mut tx, &rewrapped, now).await?;
        tx.record(AuditAction::PassphraseChange, None, None).await?;
        tx.commit().await?;
        self.install_keys(keys);
        Ok(())
    }

    /// Removes the passphrase: the key goes back into the keychain (verified by
    /// reading it back) before the wrapped copy is deleted.
    pub async fn remove_passphrase(&self, current: &str) -> Result<(), VaultError> {
        let wrapped = self.wrapped_key().await?.ok_or(VaultError::NoPassphrase)?;
        let keys = self.unwrap_with(wrapped, current).await?;
        let store = self.key_store.clone();
        let key = keys.root().clone();
        tokio::task::spawn_blocking(move || store_verified(&*store, &key)).await??;
        let now = self.clock.now();
        let mut tx = self.audited(now).await?;
        sqlx::query("DELETE FROM passphrase_lock")
            .execute(&mut *tx)
            .await?;
        tx.record(AuditAction::PassphraseRemove, None, None).await?;
        tx.commit().await?;
        self.install_keys(keys);
        Ok(())
    }
}
