//! The vault: one `SQLite` file whose seeds are sealed with a key from the OS
//! keychain (or unwrapped with a passphrase). This module opens it and holds the
//! key; each job's `impl Vault` lives in its own file below.

mod codes;
mod directory_cache;
mod groups;
mod lock;
mod outbox;
mod schema;
mod tokens;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use uuid::Uuid;

use crate::clock::{Clock, SystemClock, unix_millis};
use crate::crypto::{PassphraseParams, VaultKeys};
use crate::error::VaultError;
use crate::keystore::{KeyStore, VaultKey};

pub(crate) use codes::unseal;
pub use codes::{CodeUse, CopiedCode};
pub use directory_cache::{CachedDirectory, DirectoryDownload};
use schema::{corrupt, migrator};
pub(crate) use tokens::Inserted;
pub use tokens::{StoredToken, TokenEdit, TokenExtras, UndoHandle};

/// How to open a vault.
#[derive(Debug, Clone)]
pub struct VaultOptions {
    pub clock: Arc<dyn Clock>,
    /// Argon2id cost used when a passphrase is set or changed.
    pub passphrase_params: PassphraseParams,
    /// Lock after this long without [`Vault::touch`]; `None` disables auto-lock.
    pub auto_lock: Option<Duration>,
}

impl Default for VaultOptions {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            passphrase_params: PassphraseParams::default(),
            auto_lock: None,
        }
    }
}

/// An open vault. Cheap to share behind an `Arc`; all methods take `&self`.
#[derive(Debug)]
pub struct Vault {
    pool: SqlitePool,
    path: PathBuf,
    key_store: Arc<dyn KeyStore>,
    clock: Arc<dyn Clock>,
    device_id: Uuid,
    passphrase_params: PassphraseParams,
    keys: Mutex<Option<Arc<VaultKeys>>>,
    last_activity: Mutex<Instant>,
    auto_lock: Mutex<Option<Duration>>,
}

/// With a passphrase set, the plain vault key belongs nowhere but wrapped in the
/// database. A copy still in the keychain (its removal failed when the passphrase
/// was set) would let anyone in the session open the vault, so it goes now; a
/// failure is logged and tried again at the next start.
async fn forget_leftover_key(key_store: &Arc<dyn KeyStore>) {
    let store = key_store.clone();
    let cleared = tokio::task::spawn_blocking(move || match store.load() {
        Ok(Some(_)) => store.delete().map(|()| true),
        Ok(None) => Ok(false),
        Err(error) => Err(error),
    })
    .await;
    match cleared {
        Ok(Ok(true)) => tracing::warn!(
            "removed a plain copy of the vault key left in the keychain beside the passphrase"
        ),
        Ok(Ok(false)) => {}
        Ok(Err(error)) => tracing::warn!(
            code = error.code(),
            "a plain copy of the vault key may remain in the keychain; it could not be checked or removed"
        ),
        Err(error) => tracing::warn!(%error, "the keychain check did not run"),
    }
}

impl Vault {
    /// Opens (or on first run creates) the vault at `path` with default options.
    pub async fn open(
        path: impl AsRef<Path>,
        key_store: Arc<dyn KeyStore>,
    ) -> Result<Self, VaultError> {
        Self::open_with(path, key_store, VaultOptions::default()).await
    }

    /// Opens the vault. A vault with a passphrase opens locked; otherwise the key is
    /// read from `key_store` (created there on first run). The keychain is asked
    /// before a new database file is created, so a keychain failure leaves nothing
    /// behind.
    pub async fn open_with(
        path: impl AsRef<Path>,
        key_store: Arc<dyn KeyStore>,
        options: VaultOptions,
    ) -> Result<Self, VaultError> {
        let path = path.as_ref().to_path_buf();
        let existed = tokio::fs::try_exists(&path).await.unwrap_or(false);
        let mut early_key = None;
        if !existed {
            early_key = Some(load_or_create_key(&key_store).await?);
        }

        let connect = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit returned to the caller survives power loss, which the
            // HOTP counter and the audit chain rely on.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            // Freed pages (purged tokens) are zeroed rather than left in the file.
            .pragma("secure_delete", "ON");
        // One connection: every write is serialised in-process, and BEGIN IMMEDIATE
        // covers other processes.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(connect)
            .await?;
        migrator().run(&pool).await?;

        let meta = sqlx::query("SELECT key_check, device_id FROM vault_meta WHERE id = 1")
            .fetch_optional(&pool)
            .await?;
        let has_passphrase = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM passphrase_lock")
            .fetch_one(&pool)
            .await?
            > 0;

        let (keys, device_id) = if let Some(row) = meta {
            let device_text: String = row.try_get("device_id")?;
            let device_id = Uuid::parse_str(&device_text).map_err(|_| corrupt("bad device id"))?;
            let key_check: Vec<u8> = row.try_get("key_check")?;
            if has_passphrase {
                forget_leftover_key(&key_store).await;
                (None, device_id)
            } else {
                let key = if let Some(key) = early_key {
                    key
                } else {
                    let store = key_store.clone();
                    tokio::task::spawn_blocking(move || store.load())
                        .await??
                        .ok_or(VaultError::VaultKeyMissing)?
                };
                let keys = VaultKeys::derive(key);
                if keys.key_check()[..] != key_check[..] {
                    return Err(VaultError::VaultKeyMismatch);
                }
                (Some(Arc::new(keys)), device_id)
            }
        } else {
            // A database without metadata never sealed anything (metadata is
            // written before the first token), so a new key is safe here.
            let key = if let Some(key) = early_key {
                key
            } else {
                load_or_create_key(&key_store).await?
            };
            let keys = VaultKeys::derive(key);
            let device_id = Uuid::new_v4();
            sqlx::query(
                "INSERT INTO vault_meta (id, key_check, device_id, created_at) VALUES (1, ?, ?, ?)",
            )
            .bind(&keys.key_check()[..])
            .bind(device_id.to_string())
            .bind(unix_millis(options.clock.now()))
            .execute(&pool)
            .await?;
            (Some(Arc::new(keys)), device_id)
        };
        let now = options.clock.instant();
        Ok(Self {
            pool,
            path,
            key_store,
            clock: options.clock,
            device_id,
            passphrase_params: options.passphrase_params,
            keys: Mutex::new(keys),
            last_activity: Mutex::new(now),
            auto_lock: Mutex::new(options.auto_lock),
        })
    }

    /// Closes the database cleanly (checkpoints the WAL).
    pub async fn close(self) {
        self.pool.close().await;
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The id audit events carry for this vault's device.
    #[must_use]
    pub fn device_id(&self) -> Uuid {
        self.device_id
    }

    // ----- for the other modules' `impl Vault` blocks (backup, settings, team) -----

    pub(crate) fn unlocked_keys(&self) -> Result<Arc<VaultKeys>, VaultError> {
        self.keys()
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub(crate) fn now(&self) -> SystemTime {
        self.clock.now()
    }
}

/// Reads the key from the store, or creates, stores and read-back-verifies a new one.
async fn load_or_create_key(key_store: &Arc<dyn KeyStore>) -> Result<VaultKey, VaultError> {
    let store = key_store.clone();
    tokio::task::spawn_blocking(move || {
        if let Some(key) = store.load()? {
            return Ok(key);
        }
        let key = VaultKey::generate()?;
        store_verified(&*store, &key)?;
        Ok(key)
    })
    .await?
}

/// Stores the key and reads it back, so a keychain that silently drops writes is
/// caught before anything is sealed with the key.
fn store_verified(store: &dyn KeyStore, key: &VaultKey) -> Result<(), VaultError> {
    store.store(key)?;
    match store.load()? {
        Some(read) if read.expose() == key.expose() => Ok(()),
        Some(_) => Err(VaultError::VaultKeyMismatch),
        None => Err(VaultError::Keychain {
            detail: "the keychain did not keep the vault key".to_owned(),
        }),
    }
}
