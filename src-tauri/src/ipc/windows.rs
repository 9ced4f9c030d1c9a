//! Window plumbing: the palette, the main window, the launch link, activity for the idle lock.

// Tauri hands commands their state and arguments by value.
#![allow(clippy::needless_pass_by_value, clippy::unnecessary_wraps)]

use tauri::{AppHandle, Runtime, State};

use crate::state::AppState;

#[tauri::command]
pub fn hide_palette<R: Runtime>(app: AppHandle<R>) {
    crate::palette::close(&app);
}

/// From the palette: the main window, e.g. to unlock.
#[tauri::command]
pub fn show_main_window<R: Runtime>(app: AppHandle<R>) {
    crate::palette::close(&app);
    crate::tray::show_main_window(&app);
}

/// The `otpauth://` link Kaito was opened with, once.
#[tauri::command]
pub fn take_launch_uri(launch: State<'_, crate::launch::LaunchUri>) -> Option<String> {
    launch.take()
}

/// The user is active (key or pointer): restarts the auto-lock countdown.
#[tauri::command]
pub fn touch(state: State<'_, AppState>) {
    state.touch();
}
