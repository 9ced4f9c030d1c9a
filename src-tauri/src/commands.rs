//! IPC commands: each adapts one call into the app state or a crate.

// Tauri hands commands their state and arguments by value.
#![allow(clippy::needless_pass_by_value, clippy::unnecessary_wraps)]

use std::time::Duration;

use serde::Serialize;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_clipboard_manager::ClipboardExt;

use crate::IpcError;
use crate::paths::DataDir;
use crate::state::AppState;
use crate::views::{DeletedToken, PendingTokenView, TokenView, unix_now};

/// What the About line of the UI shows.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
}

#[tauri::command]
pub fn app_info(data_dir: State<'_, DataDir>) -> Result<AppInfo, IpcError> {
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        data_dir: data_dir.path().display().to_string(),
    })
}

#[tauri::command]
pub async fn list_tokens(state: State<'_, AppState>) -> Result<Vec<TokenView>, IpcError> {
    state.list(unix_now()).await
}

#[tauri::command]
pub fn stage_uri(state: State<'_, AppState>, uri: String) -> Result<PendingTokenView, IpcError> {
    state.stage_uri(&uri, unix_now())
}

#[tauri::command]
pub fn pending_code(
    state: State<'_, AppState>,
    pending_id: String,
) -> Result<PendingTokenView, IpcError> {
    state.pending_code(&pending_id, unix_now())
}

#[tauri::command]
pub async fn confirm_pending(
    state: State<'_, AppState>,
    pending_id: String,
) -> Result<TokenView, IpcError> {
    state.confirm(&pending_id, unix_now()).await
}

#[tauri::command]
pub fn discard_pending(state: State<'_, AppState>, pending_id: String) {
    state.discard_pending(&pending_id);
}

#[tauri::command]
pub async fn copy_code<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: String,
) -> Result<String, IpcError> {
    let code = state.code_for_copy(&id).await?;
    app.clipboard()
        .write_secret(code.clone())
        .map_err(|error| {
            IpcError::new(
                "clipboard.unavailable",
                format!("Could not copy to the clipboard: {error}"),
            )
        })?;
    schedule_clipboard_clear(app, code.clone(), state.clipboard_clear_after);
    Ok(code)
}

/// Clears the clipboard after `delay`, but only if it still holds `code`: whatever
/// the user copied since is theirs and stays.
fn schedule_clipboard_clear<R: Runtime>(app: AppHandle<R>, code: String, delay: Duration) {
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(delay).await;
        let clipboard = app.clipboard();
        if clipboard.read_text().is_ok_and(|current| current == code)
            && let Err(error) = clipboard.clear()
        {
            tracing::warn!(%error, "could not clear the copied code from the clipboard");
        }
    });
}

#[tauri::command]
pub async fn delete_token(
    state: State<'_, AppState>,
    id: String,
) -> Result<DeletedToken, IpcError> {
    state.delete(&id).await
}

#[tauri::command]
pub async fn undo_delete(
    state: State<'_, AppState>,
    id: String,
    deleted_at_ms: f64,
) -> Result<(), IpcError> {
    state.undo_delete(&id, deleted_at_ms).await
}
