//! The token list: listing with codes, copying, editing, moving, deleting (with undo), revealing a seed.

// Tauri hands commands their state and arguments by value.
#![allow(clippy::needless_pass_by_value, clippy::unnecessary_wraps)]

use tauri::{AppHandle, Runtime, State};

use crate::IpcError;
use crate::state::AppState;
use crate::views::{DeletedToken, RevealedSecret, TokenEditForm, TokenView, unix_now};

#[tauri::command]
pub async fn list_tokens<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<Vec<TokenView>, IpcError> {
    let listed = state.list(unix_now()).await;
    crate::tray::sync(&app, listed.as_deref()).await;
    listed
}

#[tauri::command]
pub async fn copy_code<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: String,
) -> Result<String, IpcError> {
    let copied = crate::clipboard::copy_code(&app, &state, &id).await?;
    state.touch();
    Ok(copied.code)
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

#[tauri::command]
pub async fn edit_token(
    state: State<'_, AppState>,
    id: String,
    edit: TokenEditForm,
) -> Result<TokenView, IpcError> {
    state.edit(&id, edit).await
}

#[tauri::command]
pub async fn move_token(
    state: State<'_, AppState>,
    id: String,
    before: Option<String>,
) -> Result<(), IpcError> {
    state.move_before(&id, before.as_deref()).await
}

#[tauri::command]
pub async fn list_groups(state: State<'_, AppState>) -> Result<Vec<String>, IpcError> {
    state.groups().await
}

#[tauri::command]
pub async fn reveal_secret(
    state: State<'_, AppState>,
    id: String,
    passphrase: Option<String>,
) -> Result<RevealedSecret, IpcError> {
    state.reveal(&id, passphrase.as_deref()).await
}
