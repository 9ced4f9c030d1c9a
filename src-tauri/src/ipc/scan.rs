//! QR scanning: image files, the clipboard, the screens and the webcam.

// Tauri hands commands their state and arguments by value.
#![allow(clippy::needless_pass_by_value, clippy::unnecessary_wraps)]

use std::time::Duration;

use tauri::{AppHandle, Manager, Runtime, State};
use tauri_plugin_clipboard_manager::ClipboardExt;

use crate::AppError;
use crate::IpcError;
use crate::state::AppState;
use crate::views::{ScanResultView, unix_now};

#[tauri::command]
pub async fn scan_image(
    state: State<'_, AppState>,
    bytes: Vec<u8>,
) -> Result<ScanResultView, IpcError> {
    state.scan_image(bytes, unix_now()).await
}

/// Scans the image on the clipboard (a screenshot of a setup page, say).
#[tauri::command]
pub async fn scan_clipboard<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<ScanResultView, IpcError> {
    // Off the main thread: reading the clipboard there can deadlock on Linux.
    let reader = app.clone();
    let image = tauri::async_runtime::spawn_blocking(move || {
        reader
            .clipboard()
            .read_image()
            .map(|image| (image.width(), image.height(), image.rgba().to_vec()))
    })
    .await
    .map_err(|error| IpcError::from(AppError::ClipboardUnavailable(error.to_string())))?
    .map_err(|_| IpcError::from(AppError::ClipboardNoImage))?;
    let frame = kaito_core::qr::Frame::from_rgba8(image.0, image.1, &image.2)?;
    state.scan_frame(frame, unix_now()).await
}

/// Scans every monitor for a QR code. Kaito's own window steps aside for the moment
/// of the capture, since it often covers the page showing the code.
#[tauri::command]
pub async fn scan_screen<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<ScanResultView, IpcError> {
    let main = app.get_webview_window("main");
    if let Some(window) = &main {
        let _ = window.hide();
        // Long enough for the window system to repaint what was underneath.
        tokio::time::sleep(Duration::from_millis(350)).await;
    }
    let captured = crate::screen::capture_monitors().await;
    if main.is_some() {
        crate::tray::show_main_window(&app);
    }
    let frames = captured?;
    state.scan_screens(frames, unix_now()).await
}

/// The cameras to choose from; none is the "No camera found" error.
#[tauri::command]
pub async fn list_cameras() -> Result<Vec<crate::camera::CameraView>, IpcError> {
    tauri::async_runtime::spawn_blocking(crate::camera::list_cameras)
        .await
        .map_err(|error| IpcError::from(AppError::Camera(error.to_string())))?
        .map_err(IpcError::from)
}

/// Starts scanning with camera `index`; previews and results arrive on `events`.
#[tauri::command]
pub fn start_camera<R: Runtime>(
    app: AppHandle<R>,
    scan: State<'_, crate::camera::CameraScan>,
    index: u32,
    events: tauri::ipc::Channel<crate::camera::CameraEvent>,
) {
    scan.start(&app, index, events);
}

/// Stops the camera scan (dialog closed); the camera is released.
#[tauri::command]
pub fn stop_camera(scan: State<'_, crate::camera::CameraScan>) {
    scan.stop();
}

#[tauri::command]
pub fn reset_scan(state: State<'_, AppState>) {
    state.reset_scan();
}
