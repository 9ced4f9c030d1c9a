//! IPC commands. Keep each one a one-line call into a crate or a plain accessor.

use serde::Serialize;
use tauri::State;

use crate::{IpcError, paths::DataDir};

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
