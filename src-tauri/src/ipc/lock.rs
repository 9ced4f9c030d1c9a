//! The app lock: status, lock, unlock, and setting, changing or removing the passphrase.

// Tauri hands commands their state and arguments by value.
#![allow(clippy::needless_pass_by_value, clippy::unnecessary_wraps)]

use tauri::{AppHandle, Emitter, Runtime, State};

use crate::IpcError;
use crate::state::AppState;
use crate::views::LockStatus;

/// Event the UI listens to, to show the lock screen at once.
pub const LOCKED_EVENT: &str = "vault-locked";

#[tauri::command]
pub async fn lock_status(state: State<'_, AppState>) -> Result<LockStatus, IpcError> {
    state.lock_status().await
}

#[tauri::command]
pub async fn lock_now<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<LockStatus, IpcError> {
    let status = state.lock().await?;
    let _ = app.emit(LOCKED_EVENT, ());
    crate::tray::refresh(&app, Vec::new(), true, true);
    Ok(status)
}

#[tauri::command]
pub async fn unlock(
    state: State<'_, AppState>,
    passphrase: String,
) -> Result<LockStatus, IpcError> {
    state.unlock(&passphrase).await
}

#[tauri::command]
pub async fn set_passphrase(
    state: State<'_, AppState>,
    passphrase: String,
) -> Result<LockStatus, IpcError> {
    state.set_passphrase(&passphrase).await
}

#[tauri::command]
pub async fn change_passphrase(
    state: State<'_, AppState>,
    current: String,
    new: String,
) -> Result<LockStatus, IpcError> {
    state.change_passphrase(&current, &new).await
}

#[tauri::command]
pub async fn remove_passphrase(
    state: State<'_, AppState>,
    current: String,
) -> Result<LockStatus, IpcError> {
    state.remove_passphrase(&current).await
}
