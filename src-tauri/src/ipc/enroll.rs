//! Adding tokens: a staged link or typed key with its first-code check, and imports with their preview.

// Tauri hands commands their state and arguments by value.
#![allow(clippy::needless_pass_by_value, clippy::unnecessary_wraps)]

use tauri::State;

use crate::IpcError;
use crate::state::AppState;
use crate::views::{
    FieldErrorView, ImportOutcome, ImportPreview, ManualEntryForm, PendingTokenView, TokenView,
    unix_now,
};

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
pub fn validate_manual(entry: ManualEntryForm) -> Vec<FieldErrorView> {
    kaito_core::manual::build(&entry.into())
        .err()
        .unwrap_or_default()
        .iter()
        .map(FieldErrorView::from)
        .collect()
}

#[tauri::command]
pub fn stage_manual(
    state: State<'_, AppState>,
    entry: ManualEntryForm,
) -> Result<PendingTokenView, IpcError> {
    state.stage_manual(&entry.into(), unix_now())
}

#[tauri::command]
pub async fn preview_import(
    state: State<'_, AppState>,
    bytes: Vec<u8>,
    password: Option<String>,
) -> Result<ImportPreview, IpcError> {
    state.preview_import(bytes, password, unix_now()).await
}

#[tauri::command]
pub async fn commit_import(
    state: State<'_, AppState>,
    import_id: String,
) -> Result<ImportOutcome, IpcError> {
    state.commit_import(&import_id).await
}

#[tauri::command]
pub fn discard_import(state: State<'_, AppState>, import_id: String) {
    state.discard_import(&import_id);
}
