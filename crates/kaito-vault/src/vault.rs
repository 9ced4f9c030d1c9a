//! The vault: opening (key from the keychain or a passphrase), token storage and
//! the lock state.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use kaito_core::directory::Directory;
use kaito_core::{Algorithm, OtpKind, Secret, Token};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

use crate::TokenId;
use crate::audit::{self, Acknowledgement, AuditAction, AuditEvent, ChainReport};
use crate::clock::{Clock, SystemClock, from_unix_millis, unix_millis};
use crate::crypto::{self, PassphraseParams, SEAL_VERSION, VaultKeys, WrappedKey};
use crate::error::VaultError;
use crate::keystore::{KeyStore, VaultKey};

/// A 2FA directory body as downloaded, with what the server said about it.
#[derive(Debug, Clone, Copy)]
pub struct DirectoryDownload<'a> {
    pub body: &'a [u8],
    pub source_url: &'a str,
    /// The server's `Last-Modified`, shown as the data's date.
    pub data_date: Option<SystemTime>,
    pub etag: Option<&'a str>,
}

/// The cached 2FA directory and where and when it came from.
#[derive(Debug, Clone)]
pub struct CachedDirectory {
    pub directory: Directory,
    pub source_url: String,
    pub fetched_at: SystemTime,
    pub data_date: Option<SystemTime>,
    pub etag: Option<String>,
}

/// A token as listed: everything but the seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub id: TokenId,
    pub issuer: String,
    pub account: String,
    pub kind: OtpKind,
    pub algorithm: Algorithm,
    pub digits: u32,
    pub group: Option<String>,
    /// Domain of the service ("github.com"), for the icon and the 2FA directory.
    pub service_domain: Option<String>,
    /// Icon reference chosen by the user or importer.
    pub icon: Option<String>,
    pub favorite: bool,
    pub sort_order: i64,
    pub created_at: SystemTime,
    pub updated_at: SystemTime,
}

impl StoredToken {
    /// "Issuer (account)", as lists show it.
    #[must_use]
    pub fn display_name(&self) -> String {
        match (self.issuer.is_empty(), self.account.is_empty()) {
            (false, false) => format!("{} ({})", self.issuer, self.account),
            (false, true) => self.issuer.clone(),
            (true, false) => self.account.clone(),
            (true, true) => "(unnamed token)".to_owned(),
        }
    }
}

/// Vault-only metadata given when adding a token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenExtras {
    pub service_domain: Option<String>,
    pub icon: Option<String>,
    pub favorite: bool,
}

/// A metadata edit; `None` leaves a field as it is. `Some(None)` clears an optional
/// field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenEdit {
    pub issuer: Option<String>,
    pub account: Option<String>,
    pub group: Option<Option<String>>,
    pub service_domain: Option<Option<String>>,
    pub icon: Option<Option<String>>,
    pub favorite: Option<bool>,
    pub kind: Option<OtpKind>,
    pub algorithm: Option<Algorithm>,
    pub digits: Option<u32>,
}

/// Returned by [`Vault::delete`]; hand it back to [`Vault::undo_delete`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UndoHandle {
    pub id: TokenId,
    pub deleted_at: SystemTime,
}

/// Why a code's secret is being read, for the audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeUse {
    View,
    Copy,
}

impl CodeUse {
    fn action(self) -> AuditAction {
        match self {
            Self::View => AuditAction::CodeView,
            Self::Copy => AuditAction::CodeCopy,
        }
    }
}

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

fn migrator() -> Migrator {
    Migrator::with_migrations(vec![
        Migration::new(
            1,
            Cow::Borrowed("initial"),
            MigrationType::Simple,
            sqlx::SqlStr::from_static(include_str!("../migrations/0001_initial.sql")),
            false,
        ),
        Migration::new(
            2,
            Cow::Borrowed("directory_cache"),
            MigrationType::Simple,
            sqlx::SqlStr::from_static(include_str!("../migrations/0002_directory_cache.sql")),
            false,
        ),
        Migration::new(
            3,
            Cow::Borrowed("settings"),
            MigrationType::Simple,
            sqlx::SqlStr::from_static(include_str!("../migrations/0003_settings.sql")),
            false,
        ),
        Migration::new(
            4,
            Cow::Borrowed("team"),
            MigrationType::Simple,
            sqlx::SqlStr::from_static(include_str!("../migrations/0004_team.sql")),
            false,
        ),
        Migration::new(
            5,
            Cow::Borrowed("team_outbox"),
            MigrationType::Simple,
            sqlx::SqlStr::from_static(include_str!("../migrations/0005_team_outbox.sql")),
            false,
        ),
        Migration::new(
            6,
            Cow::Borrowed("team_seeds"),
            MigrationType::Simple,
            sqlx::SqlStr::from_static(include_str!("../migrations/0006_team_seeds.sql")),
            false,
        ),
    ])
}

macro_rules! token_columns {
    () => {
        "id, issuer, account, kind, algorithm, digits, period, counter, group_name, service_domain, icon, \
         favorite, sort_order, created_at, updated_at"
    };
}

/// Case- and space-insensitive form for duplicate checks and search.
fn fold(text: &str) -> String {
    text.trim().to_lowercase()
}

fn corrupt(detail: impl Into<String>) -> VaultError {
    VaultError::CorruptDatabase {
        detail: detail.into(),
    }
}

fn kind_columns(kind: OtpKind) -> Result<(&'static str, Option<i64>, Option<i64>), VaultError> {
    Ok(match kind {
        OtpKind::Totp { period } => ("totp", Some(i64::from(period)), None),
        OtpKind::Steam { period } => ("steam", Some(i64::from(period)), None),
        OtpKind::Hotp { counter } => (
            "hotp",
            None,
            Some(i64::try_from(counter).map_err(|_| VaultError::InvalidCounter { counter })?),
        ),
    })
}

fn stored_from_row(row: &SqliteRow) -> Result<StoredToken, VaultError> {
    let id_text: String = row.try_get("id")?;
    let id =
        TokenId::from_str(&id_text).map_err(|_| corrupt(format!("bad token id {id_text:?}")))?;
    let kind_name: String = row.try_get("kind")?;
    let period: Option<i64> = row.try_get("period")?;
    let counter: Option<i64> = row.try_get("counter")?;
    let period = || -> Result<u32, VaultError> {
        period
            .and_then(|p| u32::try_from(p).ok())
            .ok_or_else(|| corrupt(format!("token {id}: bad period")))
    };
    let kind = match kind_name.as_str() {
        "totp" => OtpKind::Totp { period: period()? },
        "steam" => OtpKind::Steam { period: period()? },
        "hotp" => OtpKind::Hotp {
            counter: counter
                .and_then(|c| u64::try_from(c).ok())
                .ok_or_else(|| corrupt(format!("token {id}: bad counter")))?,
        },
        other => return Err(corrupt(format!("token {id}: unknown kind {other:?}"))),
    };
    let algorithm_name: String = row.try_get("algorithm")?;
    let digits: i64 = row.try_get("digits")?;
    Ok(StoredToken {
        id,
        issuer: row.try_get("issuer")?,
        account: row.try_get("account")?,
        kind,
        algorithm: Algorithm::from_name(&algorithm_name)?,
        digits: u32::try_from(digits).map_err(|_| corrupt(format!("token {id}: bad digits")))?,
        group: row.try_get("group_name")?,
        service_domain: row.try_get("service_domain")?,
        icon: row.try_get("icon")?,
        favorite: row.try_get::<i64, _>("favorite")? != 0,
        sort_order: row.try_get("sort_order")?,
        created_at: from_unix_millis(row.try_get("created_at")?),
        updated_at: from_unix_millis(row.try_get("updated_at")?),
    })
}

async fn ensure_group(conn: &mut SqliteConnection, group: Option<&str>) -> Result<(), VaultError> {
    if let Some(name) = group {
        sqlx::query("INSERT OR IGNORE INTO groups (name) VALUES (?)")
            .bind(name)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

fn clean_group(group: Option<String>) -> Option<String> {
    group.map(|g| g.trim().to_owned()).filter(|g| !g.is_empty())
}

/// A live token with the same issuer, account and seed fingerprint, if any.
async fn find_duplicate(
    conn: &mut SqliteConnection,
    fingerprint: &[u8; 32],
    issuer: &str,
    account: &str,
    except: Option<TokenId>,
) -> Result<Option<TokenId>, VaultError> {
    let rows = sqlx::query(
        "SELECT id, issuer, account FROM tokens WHERE fingerprint = ? AND deleted_at IS NULL",
    )
    .bind(&fingerprint[..])
    .fetch_all(&mut *conn)
    .await?;
    let (issuer, account) = (fold(issuer), fold(account));
    for row in rows {
        let id_text: String = row.try_get("id")?;
        let id = TokenId::from_str(&id_text)
            .map_err(|_| corrupt(format!("bad token id {id_text:?}")))?;
        if Some(id) == except {
            continue;
        }
        if fold(&row.try_get::<String, _>("issuer")?) == issuer
            && fold(&row.try_get::<String, _>("account")?) == account
        {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// The outcome of inserting one token inside a larger transaction.
pub(crate) enum Inserted {
    New(TokenId),
    Duplicate(TokenId),
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

    // ----- lock state -------------------------------------------------------------

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
    /// [`VaultError::Locked`] until an unlock.
    pub fn lock(&self) {
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
            self.lock();
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        self.write_wrapped(&mut tx, &wrapped, now).await?;
        audit::append(
            &mut tx,
            self.device_id,
            now,
            AuditAction::PassphraseSet,
            None,
            None,
        )
        .await?;
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        self.write_wrapped(&mut tx, &rewrapped, now).await?;
        audit::append(
            &mut tx,
            self.device_id,
            now,
            AuditAction::PassphraseChange,
            None,
            None,
        )
        .await?;
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("DELETE FROM passphrase_lock")
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            self.device_id,
            now,
            AuditAction::PassphraseRemove,
            None,
            None,
        )
        .await?;
        tx.commit().await?;
        self.install_keys(keys);
        Ok(())
    }

    // ----- tokens -----------------------------------------------------------------

    /// Inserts inside the caller's transaction; duplicates are reported, not added.
    /// The live token `token` duplicates, if any.
    pub(crate) async fn duplicate_of(
        &self,
        conn: &mut SqliteConnection,
        keys: &VaultKeys,
        token: &Token,
    ) -> Result<Option<TokenId>, VaultError> {
        let fingerprint = keys.fingerprint(token.secret.expose());
        find_duplicate(conn, &fingerprint, &token.issuer, &token.account, None).await
    }

    pub(crate) async fn insert_token(
        &self,
        conn: &mut SqliteConnection,
        keys: &VaultKeys,
        token: &Token,
        extras: &TokenExtras,
        now: SystemTime,
    ) -> Result<Inserted, VaultError> {
        let fingerprint = keys.fingerprint(token.secret.expose());
        if let Some(existing) =
            find_duplicate(conn, &fingerprint, &token.issuer, &token.account, None).await?
        {
            return Ok(Inserted::Duplicate(existing));
        }
        let id = TokenId(Uuid::new_v4());
        let (kind, period, counter) = kind_columns(token.kind)?;
        let (nonce, sealed) = keys.seal(&id.0, token.secret.expose())?;
        let group = clean_group(token.group.clone());
        ensure_group(conn, group.as_deref()).await?;
        let millis = unix_millis(now);
        sqlx::query(
            "INSERT INTO tokens (id, issuer, account, kind, algorithm, digits, period, counter, service_domain, icon,
                                 group_name, favorite, sort_order, created_at, updated_at, deleted_at, seal_version,
                                 seed_nonce, seed_sealed, fingerprint)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(sort_order), -1) + 1 FROM tokens),
                     ?, ?, NULL, ?, ?, ?, ?)",
        )
        .bind(id.to_string())
        .bind(token.issuer.trim())
        .bind(token.account.trim())
        .bind(kind)
        .bind(token.algorithm.name())
        .bind(i64::from(token.digits))
        .bind(period)
        .bind(counter)
        .bind(extras.service_domain.as_deref())
        .bind(extras.icon.as_deref())
        .bind(group.as_deref())
        .bind(i64::from(extras.favorite))
        .bind(millis)
        .bind(millis)
        .bind(i64::from(SEAL_VERSION))
        .bind(&nonce[..])
        .bind(&sealed)
        .bind(&fingerprint[..])
        .execute(&mut *conn)
        .await?;
        audit::append(conn, self.device_id, now, AuditAction::Add, Some(id), None).await?;
        Ok(Inserted::New(id))
    }

    /// Adds a token. The same issuer + account + secret already present (ignoring
    /// case and surrounding spaces) is [`VaultError::Duplicate`].
    pub async fn add(&self, token: &Token, extras: TokenExtras) -> Result<StoredToken, VaultError> {
        let keys = self.keys()?;
        let now = self.clock.now();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        match self
            .insert_token(&mut tx, &keys, token, &extras, now)
            .await?
        {
            Inserted::Duplicate(existing) => Err(VaultError::Duplicate { existing }),
            Inserted::New(id) => {
                let stored = fetch_live(&mut tx, id).await?;
                tx.commit().await?;
                Ok(stored)
            }
        }
    }

    /// One live token's metadata.
    pub async fn get(&self, id: TokenId) -> Result<StoredToken, VaultError> {
        self.keys()?;
        let mut conn = self.pool.acquire().await?;
        fetch_live(&mut conn, id).await
    }

    /// Live tokens: favourites first, then by sort order.
    pub async fn list(&self) -> Result<Vec<StoredToken>, VaultError> {
        self.keys()?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM tokens WHERE deleted_at IS NULL ORDER BY favorite DESC, sort_order, created_at"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(stored_from_row).collect()
    }

    /// Soft-deleted tokens still restorable, newest deletion first.
    pub async fn list_deleted(&self) -> Result<Vec<(StoredToken, UndoHandle)>, VaultError> {
        self.keys()?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            ", deleted_at FROM tokens WHERE deleted_at IS NOT NULL ORDER BY deleted_at DESC"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let token = stored_from_row(row)?;
                let handle = UndoHandle {
                    id: token.id,
                    deleted_at: from_unix_millis(row.try_get("deleted_at")?),
                };
                Ok((token, handle))
            })
            .collect()
    }

    /// Live tokens whose issuer, account, group or service domain contains `query`
    /// (case-insensitive, Unicode-aware), in list order. An empty query lists all.
    pub async fn search(&self, query: &str) -> Result<Vec<StoredToken>, VaultError> {
        let needle = fold(query);
        let mut tokens = self.list().await?;
        if needle.is_empty() {
            return Ok(tokens);
        }
        tokens.retain(|token| {
            [
                Some(&token.issuer),
                Some(&token.account),
                token.group.as_ref(),
                token.service_domain.as_ref(),
            ]
            .into_iter()
            .flatten()
            .any(|field| field.to_lowercase().contains(&needle))
        });
        Ok(tokens)
    }

    /// The seed for generating codes without an audit event (e.g. refreshing the
    /// list). Use [`Vault::secret_for_code`] when the user views or copies a code.
    pub async fn secret(&self, id: TokenId) -> Result<Secret, VaultError> {
        let keys = self.keys()?;
        let mut conn = self.pool.acquire().await?;
        unseal(&mut conn, &keys, id).await
    }

    /// Every live token's seed in one query, for rendering the whole code list.
    /// A damaged token yields its own [`VaultError::Corrupt`] and the rest still
    /// decrypt.
    pub async fn secrets(&self) -> Result<Vec<(TokenId, Result<Secret, VaultError>)>, VaultError> {
        let keys = self.keys()?;
        let rows = sqlx::query(
            "SELECT id, seal_version, seed_nonce, seed_sealed FROM tokens WHERE deleted_at IS NULL
             ORDER BY favorite DESC, sort_order, created_at",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let id_text: String = row.try_get("id")?;
                let id = TokenId::from_str(&id_text)
                    .map_err(|_| corrupt(format!("bad token id {id_text:?}")))?;
                Ok((id, open_row(&keys, id, row)))
            })
            .collect()
    }

    /// The seed for a code the user is viewing or copying, with the audit event
    /// written in the same transaction.
    pub async fn secret_for_code(&self, id: TokenId, used: CodeUse) -> Result<Secret, VaultError> {
        self.secret_with_event(id, used.action()).await
    }

    /// The seed for showing it to the user (QR/base32 reveal); audited.
    pub async fn reveal_secret(&self, id: TokenId) -> Result<Secret, VaultError> {
        self.secret_with_event(id, AuditAction::SeedReveal).await
    }

    async fn secret_with_event(
        &self,
        id: TokenId,
        action: AuditAction,
    ) -> Result<Secret, VaultError> {
        let keys = self.keys()?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let secret = unseal(&mut tx, &keys, id).await?;
        audit::append(
            &mut tx,
            self.device_id,
            self.clock.now(),
            action,
            Some(id),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(secret)
    }

    /// Records a code view or copy when the caller already holds the secret.
    pub async fn record_code_use(
        &self,
        id: TokenId,
        used: CodeUse,
    ) -> Result<AuditEvent, VaultError> {
        self.keys()?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        fetch_live(&mut tx, id).await?;
        let event = audit::append(
            &mut tx,
            self.device_id,
            self.clock.now(),
            used.action(),
            Some(id),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(event)
    }

    /// Edits metadata. Changing kind, algorithm or digits re-validates the token
    /// as `kaito_core::Token::new` would.
    pub async fn edit(&self, id: TokenId, edit: TokenEdit) -> Result<StoredToken, VaultError> {
        let keys = self.keys()?;
        let now = self.clock.now();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let current = fetch_live(&mut tx, id).await?;
        let issuer = edit
            .issuer
            .map_or(current.issuer.clone(), |s| s.trim().to_owned());
        let account = edit
            .account
            .map_or(current.account.clone(), |s| s.trim().to_owned());
        let kind = edit.kind.unwrap_or(current.kind);
        let algorithm = edit.algorithm.unwrap_or(current.algorithm);
        let digits = edit.digits.unwrap_or(current.digits);
        if (kind, algorithm, digits) != (current.kind, current.algorithm, current.digits) {
            let secret = unseal(&mut tx, &keys, id).await?;
            Token::new(
                issuer.clone(),
                account.clone(),
                kind,
                algorithm,
                digits,
                secret,
            )?;
        }
        if fold(&issuer) != fold(&current.issuer) || fold(&account) != fold(&current.account) {
            let fingerprint: Vec<u8> =
                sqlx::query_scalar("SELECT fingerprint FROM tokens WHERE id = ?")
                    .bind(id.to_string())
                    .fetch_one(&mut *tx)
                    .await?;
            let fingerprint: [u8; 32] = fingerprint
                .try_into()
                .map_err(|_| corrupt("bad fingerprint"))?;
            if let Some(existing) =
                find_duplicate(&mut tx, &fingerprint, &issuer, &account, Some(id)).await?
            {
                return Err(VaultError::Duplicate { existing });
            }
        }
        let group = match edit.group {
            Some(group) => clean_group(group),
            None => current.group.clone(),
        };
        ensure_group(&mut tx, group.as_deref()).await?;
        let (kind_name, period, counter) = kind_columns(kind)?;
        sqlx::query(
            "UPDATE tokens SET issuer = ?, account = ?, kind = ?, algorithm = ?, digits = ?, period = ?, counter = ?,
                               group_name = ?, service_domain = ?, icon = ?, favorite = ?, updated_at = ?
             WHERE id = ?",
        )
        .bind(&issuer)
        .bind(&account)
        .bind(kind_name)
        .bind(algorithm.name())
        .bind(i64::from(digits))
        .bind(period)
        .bind(counter)
        .bind(group.as_deref())
        .bind(edit.service_domain.unwrap_or(current.service_domain).as_deref())
        .bind(edit.icon.unwrap_or(current.icon).as_deref())
        .bind(i64::from(edit.favorite.unwrap_or(current.favorite)))
        .bind(unix_millis(now))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            self.device_id,
            now,
            AuditAction::Edit,
            Some(id),
            None,
        )
        .await?;
        let stored = fetch_live(&mut tx, id).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Replaces the seed (re-keyed account), sealed under a fresh nonce.
    pub async fn replace_secret(
        &self,
        id: TokenId,
        secret: &Secret,
    ) -> Result<StoredToken, VaultError> {
        let keys = self.keys()?;
        let now = self.clock.now();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let current = fetch_live(&mut tx, id).await?;
        let fingerprint = keys.fingerprint(secret.expose());
        if let Some(existing) = find_duplicate(
            &mut tx,
            &fingerprint,
            &current.issuer,
            &current.account,
            Some(id),
        )
        .await?
        {
            return Err(VaultError::Duplicate { existing });
        }
        let (nonce, sealed) = keys.seal(&id.0, secret.expose())?;
        sqlx::query(
            "UPDATE tokens SET seal_version = ?, seed_nonce = ?, seed_sealed = ?, fingerprint = ?, updated_at = ?
             WHERE id = ?",
        )
        .bind(i64::from(SEAL_VERSION))
        .bind(&nonce[..])
        .bind(&sealed)
        .bind(&fingerprint[..])
        .bind(unix_millis(now))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            self.device_id,
            now,
            AuditAction::SeedReplace,
            Some(id),
            None,
        )
        .await?;
        let stored = fetch_live(&mut tx, id).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Soft-deletes a token; it disappears from lists and can be restored with the
    /// handle until [`Vault::purge_deleted`] removes it.
    pub async fn delete(&self, id: TokenId) -> Result<UndoHandle, VaultError> {
        self.keys()?;
        let now = self.clock.now();
        let millis = unix_millis(now);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let done = sqlx::query(
            "UPDATE tokens SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL",
        )
        .bind(millis)
        .bind(millis)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(VaultError::NotFound { id });
        }
        audit::append(
            &mut tx,
            self.device_id,
            now,
            AuditAction::Delete,
            Some(id),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(UndoHandle {
            id,
            deleted_at: from_unix_millis(millis),
        })
    }

    /// Restores a soft-deleted token to its old place.
    pub async fn undo_delete(&self, handle: UndoHandle) -> Result<StoredToken, VaultError> {
        self.keys()?;
        let now = self.clock.now();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let done = sqlx::query(
            "UPDATE tokens SET deleted_at = NULL, updated_at = ? WHERE id = ? AND deleted_at = ?",
        )
        .bind(unix_millis(now))
        .bind(handle.id.to_string())
        .bind(unix_millis(handle.deleted_at))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(VaultError::UndoExpired { id: handle.id });
        }
        audit::append(
            &mut tx,
            self.device_id,
            now,
            AuditAction::UndoDelete,
            Some(handle.id),
            None,
        )
        .await?;
        let stored = fetch_live(&mut tx, handle.id).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Permanently removes tokens deleted before `older_than`; returns how many.
    pub async fn purge_deleted(&self, older_than: SystemTime) -> Result<u64, VaultError> {
        self.keys()?;
        let now = self.clock.now();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT id FROM tokens WHERE deleted_at IS NOT NULL AND deleted_at < ? ORDER BY deleted_at")
                .bind(unix_millis(older_than))
                .fetch_all(&mut *tx)
                .await?;
        for id_text in &ids {
            let id = TokenId::from_str(id_text)
                .map_err(|_| corrupt(format!("bad token id {id_text:?}")))?;
            sqlx::query("DELETE FROM tokens WHERE id = ?")
                .bind(id_text)
                .execute(&mut *tx)
                .await?;
            audit::append(
                &mut tx,
                self.device_id,
                now,
                AuditAction::Purge,
                Some(id),
                None,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(ids.len() as u64)
    }

    /// Moves a token to `position` (0-based, clamped) in the sort order, shifting
    /// the others; the order is rewritten densely so it stays stable.
    pub async fn move_to(&self, id: TokenId, position: usize) -> Result<(), VaultError> {
        self.keys()?;
        let now = self.clock.now();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut order: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM tokens WHERE deleted_at IS NULL ORDER BY sort_order, created_at",
        )
        .fetch_all(&mut *tx)
        .await?;
        let id_text = id.to_string();
        let from = order
            .iter()
            .position(|candidate| *candidate == id_text)
            .ok_or(VaultError::NotFound { id })?;
        let moved = order.remove(from);
        order.insert(position.min(order.len()), moved);
        for (index, token) in order.iter().enumerate() {
            sqlx::query("UPDATE tokens SET sort_order = ? WHERE id = ? AND sort_order != ?")
                .bind(i64::try_from(index).unwrap_or(i64::MAX))
                .bind(token)
                .bind(i64::try_from(index).unwrap_or(i64::MAX))
                .execute(&mut *tx)
                .await?;
        }
        audit::append(
            &mut tx,
            self.device_id,
            now,
            AuditAction::Reorder,
            Some(id),
            Some(format!("position {position}")),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Advances an HOTP token's counter and returns the value to generate this code
    /// with. The increment and its audit event commit together and durably, so a
    /// counter value is never handed out twice, even across a crash.
    pub async fn next_hotp_counter(&self, id: TokenId) -> Result<u64, VaultError> {
        self.keys()?;
        let now = self.clock.now();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let current = fetch_live(&mut tx, id).await?;
        let OtpKind::Hotp { .. } = current.kind else {
            return Err(VaultError::NotHotp { id });
        };
        let new_counter: Option<i64> = sqlx::query_scalar(
            "UPDATE tokens SET counter = counter + 1, updated_at = ?
             WHERE id = ? AND deleted_at IS NULL AND counter < 9223372036854775807 RETURNING counter",
        )
        .bind(unix_millis(now))
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let new_counter = new_counter.ok_or(VaultError::InvalidCounter { counter: u64::MAX })?;
        let used = u64::try_from(new_counter - 1).map_err(|_| corrupt("negative HOTP counter"))?;
        audit::append(
            &mut tx,
            self.device_id,
            now,
            AuditAction::HotpAdvance,
            Some(id),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(used)
    }

    // ----- 2FA directory cache ------------------------------------------------------

    /// Parses a downloaded 2FA directory and, only if it parses, makes it the cached
    /// copy; a broken download leaves the previous cache untouched. Public data: works
    /// while the vault is locked.
    pub async fn cache_directory(
        &self,
        download: DirectoryDownload<'_>,
    ) -> Result<CachedDirectory, VaultError> {
        let directory = Directory::parse(download.body)?;
        let fetched_at = self.clock.now();
        sqlx::query(
            "INSERT INTO directory_cache (id, body, source_url, fetched_at, data_date, etag) \
             VALUES (1, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body, source_url = excluded.source_url, \
             fetched_at = excluded.fetched_at, data_date = excluded.data_date, etag = excluded.etag",
        )
        .bind(download.body)
        .bind(download.source_url)
        .bind(unix_millis(fetched_at))
        .bind(download.data_date.map(unix_millis))
        .bind(download.etag)
        .execute(&self.pool)
        .await?;
        Ok(CachedDirectory {
            directory,
            source_url: download.source_url.to_owned(),
            fetched_at,
            data_date: download.data_date,
            etag: download.etag.map(str::to_owned),
        })
    }

    /// Records that the cached directory is still current (HTTP 304), so the weekly
    /// schedule restarts without re-downloading.
    pub async fn touch_directory(&self) -> Result<Option<SystemTime>, VaultError> {
        let now = self.clock.now();
        let updated = sqlx::query("UPDATE directory_cache SET fetched_at = ? WHERE id = 1")
            .bind(unix_millis(now))
            .execute(&self.pool)
            .await?;
        Ok((updated.rows_affected() > 0).then_some(now))
    }

    /// The cached 2FA directory, if one was ever downloaded.
    pub async fn cached_directory(&self) -> Result<Option<CachedDirectory>, VaultError> {
        let Some(row) = sqlx::query(
            "SELECT body, source_url, fetched_at, data_date, etag FROM directory_cache WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let body: Vec<u8> = row.try_get("body")?;
        let directory = Directory::parse(&body)
            .map_err(|error| corrupt(format!("cached 2FA directory: {error}")))?;
        Ok(Some(CachedDirectory {
            directory,
            source_url: row.try_get("source_url")?,
            fetched_at: from_unix_millis(row.try_get("fetched_at")?),
            data_date: row
                .try_get::<Option<i64>, _>("data_date")?
                .map(from_unix_millis),
            etag: row.try_get("etag")?,
        }))
    }

    // ----- groups -------------------------------------------------------------------

    /// Every group (folder) name, including empty ones, alphabetically.
    pub async fn groups(&self) -> Result<Vec<String>, VaultError> {
        self.keys()?;
        Ok(
            sqlx::query_scalar("SELECT name FROM groups ORDER BY name COLLATE NOCASE")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Creates an empty group (no-op when it exists).
    pub async fn create_group(&self, name: &str) -> Result<(), VaultError> {
        self.keys()?;
        let mut conn = self.pool.acquire().await?;
        ensure_group(&mut conn, clean_group(Some(name.to_owned())).as_deref()).await
    }

    /// Renames a group; its tokens follow (foreign key `ON UPDATE CASCADE`).
    /// Renaming onto an existing group merges the two.
    pub async fn rename_group(&self, from: &str, to: &str) -> Result<(), VaultError> {
        self.keys()?;
        let Some(to) = clean_group(Some(to.to_owned())) else {
            return self.delete_group(from).await;
        };
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM groups WHERE name = ?")
            .bind(&to)
            .fetch_one(&mut *tx)
            .await?;
        if exists > 0 {
            sqlx::query("UPDATE tokens SET group_name = ? WHERE group_name = ?")
                .bind(&to)
                .bind(from)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM groups WHERE name = ?")
                .bind(from)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query("UPDATE groups SET name = ? WHERE name = ?")
                .bind(&to)
                .bind(from)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a group; its tokens become ungrouped (`ON DELETE SET NULL`), never
    /// deleted.
    pub async fn delete_group(&self, name: &str) -> Result<(), VaultError> {
        self.keys()?;
        sqlx::query("DELETE FROM groups WHERE name = ?")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ----- audit outbox -----------------------------------------------------------

    /// Up to `limit` unacknowledged audit events, oldest first, for the sync client.
    pub async fn pending(&self, limit: u32) -> Result<Vec<AuditEvent>, VaultError> {
        let mut conn = self.pool.acquire().await?;
        audit::pending(&mut conn, limit).await
    }

    /// Marks events as stored by the server and deletes what can be deleted without
    /// breaking the chain. Returns how many events were deleted.
    pub async fn acknowledge(&self, ack: &Acknowledgement) -> Result<u64, VaultError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let deleted = audit::acknowledge(&mut tx, ack).await?;
        tx.commit().await?;
        Ok(deleted)
    }

    /// Verifies the hash chain of every locally stored audit event.
    pub async fn verify_chain(&self) -> Result<ChainReport, VaultError> {
        let mut conn = self.pool.acquire().await?;
        audit::verify(&mut conn).await
    }

    // ----- for the backup module ---------------------------------------------------

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

async fn fetch_live(conn: &mut SqliteConnection, id: TokenId) -> Result<StoredToken, VaultError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        token_columns!(),
        " FROM tokens WHERE id = ? AND deleted_at IS NULL"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(VaultError::NotFound { id })?;
    stored_from_row(&row)
}

pub(crate) async fn unseal(
    conn: &mut SqliteConnection,
    keys: &VaultKeys,
    id: TokenId,
) -> Result<Secret, VaultError> {
    let row = sqlx::query("SELECT seal_version, seed_nonce, seed_sealed FROM tokens WHERE id = ? AND deleted_at IS NULL")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(VaultError::NotFound { id })?;
    open_row(keys, id, &row)
}

/// Decrypts the seed columns of one row; any failure is that token's `Corrupt`.
fn open_row(keys: &VaultKeys, id: TokenId, row: &SqliteRow) -> Result<Secret, VaultError> {
    let version = row
        .try_get::<i64, _>("seal_version")
        .ok()
        .and_then(|version| u32::try_from(version).ok())
        .ok_or(VaultError::Corrupt { id })?;
    let nonce: &[u8] = row
        .try_get("seed_nonce")
        .map_err(|_| VaultError::Corrupt { id })?;
    let sealed: &[u8] = row
        .try_get("seed_sealed")
        .map_err(|_| VaultError::Corrupt { id })?;
    let mut plain = keys
        .open(&id.0, version, nonce, sealed)
        .ok_or(VaultError::Corrupt { id })?;
    Secret::from_bytes(std::mem::take(&mut *plain)).map_err(|_| VaultError::Corrupt { id })
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
