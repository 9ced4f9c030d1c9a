//! The 2FA directory: status, search, the match for a token, refresh; and opening its web links.

// Tauri hands commands their state and arguments by value.
#![allow(clippy::needless_pass_by_value, clippy::unnecessary_wraps)]

use std::sync::Arc;

use tauri::{AppHandle, Emitter, Runtime, State};
use tauri_plugin_opener::OpenerExt;

use crate::AppError;
use crate::IpcError;
use crate::directory::DirectoryState;
use crate::state::AppState;
use crate::views::{DirectoryStatus, ServiceView};

#[tauri::command]
pub fn directory_status(directory: State<'_, Arc<DirectoryState>>) -> DirectoryStatus {
    directory.status()
}

#[tauri::command]
pub fn directory_search(
    directory: State<'_, Arc<DirectoryState>>,
    query: String,
    limit: Option<u32>,
) -> Vec<ServiceView> {
    directory.search(&query, limit.map_or(50, |limit| limit.min(500) as usize))
}

#[tauri::command]
pub fn directory_match(
    directory: State<'_, Arc<DirectoryState>>,
    issuer: String,
) -> Option<ServiceView> {
    directory.match_issuer(&issuer)
}

#[tauri::command]
pub async fn directory_refresh<R: Runtime>(
    app: AppHandle<R>,
    directory: State<'_, Arc<DirectoryState>>,
    state: State<'_, AppState>,
) -> Result<DirectoryStatus, IpcError> {
    let result = directory.refresh(state.vault()?).await;
    let _ = app.emit(crate::directory::UPDATED_EVENT, ());
    result
}

/// Opens a documentation or recovery link in the user's browser. Only http(s): the
/// links come from downloaded data and must not launch local programs or files.
#[tauri::command]
pub fn open_link<R: Runtime>(app: AppHandle<R>, url: String) -> Result<(), IpcError> {
    let lower = url.trim().to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Err(IpcError::from(AppError::NotWebLink(url.clone())));
    }
    app.opener()
        .open_url(url.trim(), None::<&str>)
        .map_err(|error| IpcError::from(AppError::LinkOpenFailed(error.to_string())))
}
