//! The 2FA directory cache.

use std::time::{Duration, UNIX_EPOCH};

use super::fixture::*;
use crate::*;

const DIRECTORY_V4: &[u8] =
    include_bytes!("../../../kaito-core/tests/fixtures/directory/all-v4.json");

#[tokio::test]
async fn directory_cache_survives_reopen_and_a_broken_download_keeps_it() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    assert!(vault.cached_directory().await.unwrap().is_none());

    let modified = UNIX_EPOCH + Duration::from_secs(1_760_000_000);
    let cached = vault
        .cache_directory(DirectoryDownload {
            body: DIRECTORY_V4,
            source_url: "https://mirror.example/v4/all.json",
            data_date: Some(modified),
            etag: Some("\"v1\""),
        })
        .await
        .unwrap();
    assert_eq!(cached.directory.len(), 7);
    let first_fetch = cached.fetched_at;

    // A truncated download is refused with the parser's reason; the cache is unchanged.
    fx.clock.advance(Duration::from_secs(60));
    let error = vault
        .cache_directory(DirectoryDownload {
            body: &DIRECTORY_V4[..100],
            source_url: "https://mirror.example/v4/all.json",
            data_date: None,
            etag: None,
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), "directory.not_json");

    // Locking does not hide public data; reopening keeps it.
    vault.set_passphrase("pass words").await.unwrap();
    vault.lock().await.unwrap();
    vault.close().await;
    let vault = fx.open().await.unwrap();
    let cached = vault.cached_directory().await.unwrap().unwrap();
    assert_eq!(cached.directory.len(), 7);
    assert_eq!(cached.fetched_at, first_fetch);
    assert_eq!(cached.data_date, Some(modified));
    assert_eq!(cached.etag.as_deref(), Some("\"v1\""));
    assert_eq!(cached.source_url, "https://mirror.example/v4/all.json");
    assert!(cached.directory.match_issuer("GitHub").is_some());

    // "Not modified" restarts the schedule without a new body.
    fx.clock.advance(Duration::from_secs(3600));
    let touched = vault.touch_directory().await.unwrap().unwrap();
    assert_eq!(
        vault.cached_directory().await.unwrap().unwrap().fetched_at,
        touched
    );
}
