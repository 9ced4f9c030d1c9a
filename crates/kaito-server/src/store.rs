//! The server's database: embedded SQLite by default, PostgreSQL for larger teams
//! and several replicas. One set of queries serves both (sqlx's Any driver, `$n`
//! placeholders, portable types: text ids, BIGINT Unix milliseconds); each backend
//! has its own migrations so either can use its own DDL where they differ.

use std::borrow::Cow;
use std::path::Path;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use crate::error::ServerError;

/// Which database the store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The server's database, migrated and ready.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// For connections outside the pool (PostgreSQL LISTEN).
    url: DatabaseUrl,
}

/// A database URL, kept out of logs: it may hold a password.
#[derive(Clone)]
struct DatabaseUrl(String);

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DatabaseUrl(…)")
    }
}

macro_rules! migrations {
    ($dir:literal: $($version:literal $file:literal),+ $(,)?) => {
        Migrator::with_migrations(vec![$(
            Migration::new(
                $version,
                Cow::Borrowed($file),
                MigrationType::Simple,
                sqlx::SqlStr::from_static(include_str!(concat!(
                    "../migrations/", $dir, "/", $file, ".sql"
                ))),
                false,
            ),
        )+])
    };
}

fn migrator(backend: Backend) -> Migrator {
    match backend {
        Backend::Sqlite => {
            migrations!("sqlite": 1 "0001_accounts", 2 "0002_shared_tokens", 3 "0003_api_tokens", 4 "0004_sms", 5 "0005_devices", 6 "0006_siem", 7 "0007_invites", 8 "0008_notifications", 9 "0009_offboarding", 10 "0010_password_links", 11 "0011_needs_rotation", 12 "0012_mfa", 13 "0013_sso", 14 "0014_mfa_policy")
        }
        Backend::Postgres => {
            migrations!("postgres": 1 "0001_accounts", 2 "0002_shared_tokens", 3 "0003_api_tokens", 4 "0004_sms", 5 "0005_devices", 6 "0006_siem", 7 "0007_invites", 8 "0008_notifications", 9 "0009_offboarding", 10 "0010_password_links", 11 "0011_needs_rotation", 12 "0012_mfa", 13 "0013_sso", 14 "0014_mfa_policy")
        }
    }
}

/// Creates `dir` (and its parents) if need be, the last one private to this user.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates the database file private to this user before SQLite opens it (SQLite
/// gives its journal files the database's permissions). An existing file is left.
fn private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

impl Store {
    /// The embedded database in `data_dir` (created if need be).
    /// The directory and the database are the server user's alone (0700 and 0600
    /// on Unix): the database holds password hashes and the audit log.
    pub async fn open_data_dir(data_dir: &Path) -> Result<Self, ServerError> {
        let startup = |what: &str, error: std::io::Error| {
            ServerError::Startup(format!("{what} {}: {error}", data_dir.display()))
        };
        private_dir(data_dir)
            .map_err(|error| startup("The data directory cannot be created:", error))?;
        let path = data_dir.join("kaito-server.db");
        private_file(&path).map_err(|error| startup("The database cannot be created in", error))?;
        Self::connect(&format!("sqlite://{}?mode=rwc", path.display())).await
    }

    /// A database by URL: `postgres://…` or `sqlite://PATH?mode=rwc`.
    pub async fn connect(url: &str) -> Result<Self, ServerError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(ServerError::Startup(
                "The database URL must start with postgres:// or sqlite://".to_owned(),
            ));
        };
        let pool = AnyPoolOptions::new()
            // SQLite has one writer at a time; a few connections serve its readers.
            .max_connections(if backend == Backend::Sqlite { 4 } else { 16 })
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        // Replicas starting together run the migrations once: sqlx takes a lock.
        migrator(backend).run(&pool).await?;
        Ok(Self {
            pool,
            backend,
            url: DatabaseUrl(url.to_owned()),
        })
    }

    /// A transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a read-then-write transaction would otherwise fail with
    /// "database is locked" when another writer got in between.
    pub async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, ServerError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Checks that `key` is the key this database's seeds were sealed with (the
    /// first key used is remembered).
    pub async fn check_server_key(
        &self,
        key: &crate::custody::ServerKey,
    ) -> Result<(), ServerError> {
        use sqlx::Row as _;
        let check = key.check_value();
        let mut tx = self.write_tx().await?;
        sqlx::query("INSERT INTO server_meta (name, value) VALUES ('key_check', $1) ON CONFLICT (name) DO NOTHING")
            .bind(check.as_str())
            .execute(&mut *tx)
            .await?;
        let stored: String = sqlx::query("SELECT value FROM server_meta WHERE name = 'key_check'")
            .fetch_one(&mut *tx)
            .await?
            .try_get("value")?;
        tx.commit().await?;
        if stored == check {
            Ok(())
        } else {
            Err(ServerError::Startup(
                "This server key is not the one this database's seeds were sealed with. Start with the original key."
                    .to_owned(),
            ))
        }
    }

    #[must_use]
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The PostgreSQL URL, for a listening connection; `None` on SQLite.
    #[must_use]
    pub fn postgres_url(&self) -> Option<&str> {
        (self.backend == Backend::Postgres).then_some(self.url.0.as_str())
    }

    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    #[tokio::test]
    async fn a_new_data_directory_and_its_database_are_private() {
        let parent = tempfile::tempdir().unwrap();
        let data_dir = parent.path().join("kaito");
        super::Store::open_data_dir(&data_dir).await.unwrap();
        let mode =
            |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data_dir), 0o700);
        assert_eq!(mode(&data_dir.join("kaito-server.db")), 0o600);
        // Opening again keeps what is there.
        super::Store::open_data_dir(&data_dir).await.unwrap();
    }
}
