//! The app lock: status, lock, unlock, and setting, changing or removing the passphrase.

// Tauri hands commands their state and arguments by value.
#![allow(clippy::needless_pass_by_value, clippy::unnecessary_wraps)]

use tauri::{AppHandle, Emitter, Manager, Runtime, State};

use crate::IpcError;
use crate::state::AppState;
use crate::team::TeamMode;
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
    announce_locked(&app).await;
    Ok(status)
}

/// What follows every lock (the button, the tray, auto-lock): team mode stops,
/// the window shows the lock screen, the tray forgets its codes.
pub async fn announce_locked<R: Runtime>(app: &AppHandle<R>) {
    if let Some(team) = app.try_state::<std::sync::Arc<TeamMode>>() {
        team.session().set_locked(true).await;
    }
    let _ = app.emit(LOCKED_EVENT, ());
    crate::tray::refresh(app, Vec::new(), true, true);
}

#[tauri::command]
pub async fn unlock(
    state: State<'_, AppState>,
    team: State<'_, std::sync::Arc<TeamMode>>,
    passphrase: String,
) -> Result<LockStatus, IpcError> {
    let status = state.unlock(&passphrase).await?;
    team.session().set_locked(false).await;
    Ok(status)
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
