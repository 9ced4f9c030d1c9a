//! The cached copy of the public 2FA directory (works while locked).

use std::time::SystemTime;

use kaito_core::directory::Directory;
use sqlx::Row;

use super::Vault;
use super::schema::corrupt;
use crate::clock::{from_unix_millis, unix_millis};
use crate::error::VaultError;

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

impl Vault {
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
}
