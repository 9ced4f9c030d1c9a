//! Keeps the 2FA directory current: loads the vault's cached copy at start, downloads
//! on demand and weekly, and serves searches and token matches from memory. Parsing
//! and matching live in kaito-core, the cache in kaito-vault; this module only does
//! the HTTP and the schedule.

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use kaito_core::directory::{DEFAULT_SOURCE_URL, Directory};
use kaito_vault::{CachedDirectory, DirectoryDownload, StoredToken, Vault};
use tauri::{AppHandle, Emitter, Runtime};

use crate::AppError;
use crate::IpcError;
use crate::state::lock;
use crate::views::{DirectoryStatus, ServiceBrief, ServiceView, millis};

/// How old the cache may get before the schedule downloads again.
pub const REFRESH_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);
/// How often the schedule looks at the cache's age (cheap: no network unless due).
const CHECK_EVERY: Duration = Duration::from_secs(3600);
/// The real `all.json` is ~1 MB; anything far larger is not the directory.
const MAX_BODY: usize = 32 * 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(30);
/// Event the UI listens to, to re-read the status and results after an update.
pub const UPDATED_EVENT: &str = "directory-updated";

#[derive(Debug)]
pub struct DirectoryState {
    source_url: String,
    cache: RwLock<Option<Arc<CachedDirectory>>>,
    last_error: Mutex<Option<IpcError>>,
    /// Serialises downloads: a click on "Update now" during the weekly one waits for
    /// it. Held exactly while a download runs, so it also answers "updating?".
    download: tokio::sync::Mutex<()>,
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

impl DirectoryState {
    /// `KAITO_DIRECTORY_URL` points the app at a mirror (or a test server).
    pub fn from_env() -> Self {
        let source_url = std::env::var("KAITO_DIRECTORY_URL")
            .ok()
            .filter(|url| !url.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_SOURCE_URL.to_owned());
        Self {
            source_url,
            cache: RwLock::new(None),
            last_error: Mutex::new(None),
            download: tokio::sync::Mutex::new(()),
        }
    }

    pub fn source_url(&self) -> &str {
        &self.source_url
    }

    /// Loads the cached copy; a damaged cache is reported and then replaced by the
    /// next download.
    pub async fn load_cache(&self, vault: &Vault) {
        match vault.cached_directory().await {
            Ok(cached) => {
                *self.cache.write().unwrap_or_else(PoisonError::into_inner) = cached.map(Arc::new);
            }
            Err(error) => {
                tracing::warn!(%error, "the cached 2FA directory could not be read");
                *lock(&self.last_error) = Some(error.into());
            }
        }
    }

    fn directory(&self) -> Option<Arc<CachedDirectory>> {
        read(&self.cache).clone()
    }

    pub fn status(&self) -> DirectoryStatus {
        let cached = self.directory();
        DirectoryStatus {
            services: cached
                .as_ref()
                .map_or(0, |c| u32::try_from(c.directory.len()).unwrap_or(u32::MAX)),
            fetched_at_ms: cached.as_ref().map(|c| millis(c.fetched_at)),
            data_date_ms: cached.as_ref().and_then(|c| c.data_date.map(millis)),
            source_url: self.source_url.clone(),
            updating: self.download.try_lock().is_err(),
            last_error: lock(&self.last_error).clone(),
            attribution: kaito_core::directory::ATTRIBUTION.to_owned(),
        }
    }

    pub fn search(&self, query: &str, limit: usize) -> Vec<ServiceView> {
        self.directory().map_or_else(Vec::new, |cached| {
            cached
                .directory
                .search(query, limit)
                .into_iter()
                .map(ServiceView::from)
                .collect()
        })
    }

    pub fn match_issuer(&self, issuer: &str) -> Option<ServiceView> {
        self.with_directory(|directory| directory.match_issuer(issuer).map(ServiceView::from))
            .flatten()
    }

    /// A token's service: by its stored service domain, else by its issuer.
    pub fn brief_for(&self, token: &StoredToken) -> Option<ServiceBrief> {
        self.with_directory(|directory| {
            token
                .service_domain
                .as_deref()
                .and_then(|domain| directory.by_domain(domain))
                .or_else(|| directory.match_issuer(&token.issuer))
                .map(ServiceBrief::from)
        })
        .flatten()
    }

    /// Runs `f` on the loaded directory, if any.
    pub fn with_directory<T>(&self, f: impl FnOnce(&Directory) -> T) -> Option<T> {
        self.directory().map(|cached| f(&cached.directory))
    }

    fn is_due(&self, now: SystemTime) -> bool {
        self.directory().is_none_or(|cached| {
            now.duration_since(cached.fetched_at)
                .is_ok_and(|age| age >= REFRESH_AFTER)
        })
    }

    /// Downloads the directory now (conditional on the cached `ETag`) and caches it
    /// once it parses. On failure the cached copy stays in use and the error is kept
    /// for the status line.
    pub async fn refresh(&self, vault: &Vault) -> Result<DirectoryStatus, IpcError> {
        let one_at_a_time = self.download.lock().await;
        let result = self.download_and_cache(vault).await;
        drop(one_at_a_time);
        match result {
            Ok(()) => {
                *lock(&self.last_error) = None;
                Ok(self.status())
            }
            Err(error) => {
                tracing::warn!(code = %error.code, %error, "2FA directory update failed");
                *lock(&self.last_error) = Some(error.clone());
                Err(error)
            }
        }
    }

    async fn download_and_cache(&self, vault: &Vault) -> Result<(), IpcError> {
        let etag = self.directory().and_then(|cached| cached.etag.clone());
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .user_agent(concat!(
                "Kaito/",
                env!("CARGO_PKG_VERSION"),
                " (2FA directory)"
            ))
            .build()
            .map_err(|error| unreachable_error(&self.source_url, &error))?;
        let mut request = client.get(&self.source_url);
        if let Some(etag) = &etag {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        let mut response = request
            .send()
            .await
            .map_err(|error| unreachable_error(&self.source_url, &error))?;
        if response.status() == reqwest::StatusCode::NOT_MODIFIED && etag.is_some() {
            if let Some(fetched_at) = vault.touch_directory().await? {
                self.replace_cache(|cached| CachedDirectory {
                    fetched_at,
                    ..cached.clone()
                });
            }
            return Ok(());
        }
        if !response.status().is_success() {
            return Err(IpcError::from(AppError::DirectoryStatus {
                status: response.status().to_string(),
                url: self.source_url.clone(),
            }));
        }
        let header = |name: reqwest::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let new_etag = header(reqwest::header::ETAG);
        let data_date = header(reqwest::header::LAST_MODIFIED)
            .and_then(|value| httpdate::parse_http_date(&value).ok());
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| unreachable_error(&self.source_url, &error))?
        {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(IpcError::from(AppError::DirectoryTooLarge(
                    self.source_url.clone(),
                )));
            }
            body.extend_from_slice(&chunk);
        }
        let cached = vault
            .cache_directory(DirectoryDownload {
                body: &body,
                source_url: &self.source_url,
                data_date,
                etag: new_etag.as_deref(),
            })
            .await
            .map_err(|error| {
                IpcError::new(
                    error.code(),
                    format!(
                        "The download from {} was refused: {error}. The cached copy stays in use.",
                        self.source_url
                    ),
                )
            })?;
        tracing::info!(services = cached.directory.len(), "2FA directory updated");
        *self.cache.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(cached));
        Ok(())
    }

    fn replace_cache(&self, update: impl FnOnce(&CachedDirectory) -> CachedDirectory) {
        let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(cached) = cache.as_ref() {
            *cache = Some(Arc::new(update(cached)));
        }
    }
}

fn unreachable_error(url: &str, error: &reqwest::Error) -> IpcError {
    // reqwest's Display stops at the outermost layer; the cause says "connection refused".
    let mut detail = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail = format!("{detail}: {cause}");
        source = cause.source();
    }
    IpcError::from(AppError::DirectoryOffline {
        url: url.to_owned(),
        detail,
    })
}

/// Loads the cache, then keeps it fresh: downloads when missing or a week old, checking
/// hourly. Tells the UI after every attempt.
pub fn start_schedule<R: Runtime>(
    app: AppHandle<R>,
    directory: Arc<DirectoryState>,
    vault: Arc<Vault>,
) {
    tauri::async_runtime::spawn(async move {
        directory.load_cache(&vault).await;
        let _ = app.emit(UPDATED_EVENT, ());
        loop {
            if directory.is_due(SystemTime::now()) {
                let _ = directory.refresh(&vault).await;
                let _ = app.emit(UPDATED_EVENT, ());
            }
            tokio::time::sleep(CHECK_EVERY).await;
        }
    });
}
