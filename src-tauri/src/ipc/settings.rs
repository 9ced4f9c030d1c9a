//! Settings, start at login, the About line and the clock-skew warning.

// Tauri hands commands their state and arguments by value.
#![allow(clippy::needless_pass_by_value, clippy::unnecessary_wraps)]

use serde::Serialize;

use tauri::{AppHandle, Runtime, State};
use tauri_plugin_autostart::ManagerExt as _;

use crate::AppError;
use crate::IpcError;
use crate::paths::DataDir;
use crate::state::AppState;
use crate::views::SettingsView;

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
pub fn get_settings(state: State<'_, AppState>) -> SettingsView {
    state.settings().into()
}

/// Saves the preferences; a new global shortcut must be accepted by the desktop first,
/// and is given back if saving fails.
#[tauri::command]
pub async fn save_settings<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    problem: State<'_, crate::palette::ShortcutProblem>,
    settings: SettingsView,
) -> Result<SettingsView, IpcError> {
    let previous = state.settings().global_shortcut;
    let wanted = settings.global_shortcut.clone();
    crate::palette::replace(&app, previous.as_deref(), wanted.as_deref())?;
    match state.save_settings(settings.into()).await {
        Ok(saved) => {
            problem.set(None);
            Ok(saved.into())
        }
        Err(error) => {
            let _ = crate::palette::replace(&app, wanted.as_deref(), previous.as_deref());
            Err(error)
        }
    }
}

/// Why the chosen global shortcut is not active, if it is not.
#[tauri::command]
pub fn shortcut_problem(problem: State<'_, crate::palette::ShortcutProblem>) -> Option<String> {
    problem.get()
}

/// Whether Kaito starts at login (asked of the OS, which the user can also change).
#[tauri::command]
pub fn autostart_enabled<R: Runtime>(app: AppHandle<R>) -> Result<bool, IpcError> {
    app.autolaunch().is_enabled().map_err(autostart_error)
}

#[tauri::command]
pub fn set_autostart<R: Runtime>(app: AppHandle<R>, enabled: bool) -> Result<bool, IpcError> {
    let launcher = app.autolaunch();
    if enabled {
        launcher.enable()
    } else {
        launcher.disable()
    }
    .map_err(autostart_error)?;
    launcher.is_enabled().map_err(autostart_error)
}

fn autostart_error(error: tauri_plugin_autostart::Error) -> IpcError {
    IpcError::from(AppError::Autostart(error.to_string()))
}

/// Why codes may be rejected because of the system clock, if they may.
#[tauri::command]
pub fn clock_warning(warning: State<'_, crate::clock_check::ClockWarning>) -> Option<String> {
    warning.get()
}
