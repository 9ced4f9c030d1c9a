//! The desktop shell: windows, tray and IPC commands. Each command is a thin adapter
//! over the crates; nothing here decides domain behaviour.

mod commands;
mod directory;
mod error;
mod paths;
mod state;
mod tray;
mod views;

use std::sync::Arc;

use tauri::Manager;

pub use error::IpcError;

/// Starts the app and blocks until it quits.
pub fn run() {
    init_logging();
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_opener::init())
        .setup(|app| {
            let data_dir = paths::DataDir::resolve(app.handle())?;
            tracing::info!(data_dir = %data_dir.path().display(), "starting Kaito");
            let directory = Arc::new(directory::DirectoryState::from_env());
            let state = tauri::async_runtime::block_on(state::AppState::open(
                data_dir.path(),
                directory.clone(),
            ));
            if let Ok(vault) = state.vault() {
                directory::start_schedule(app.handle().clone(), directory.clone(), vault.clone());
            }
            app.manage(state);
            app.manage(directory);
            app.manage(data_dir);
            // A desktop without a tray host (bare X servers, some Wayland shells) must
            // still get a working window, so a tray failure is only logged.
            if let Err(error) = tray::install(app.handle()) {
                tracing::warn!(%error, "no system tray available; continuing without it");
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::list_tokens,
            commands::stage_uri,
            commands::pending_code,
            commands::confirm_pending,
            commands::discard_pending,
            commands::copy_code,
            commands::delete_token,
            commands::undo_delete,
            commands::directory_status,
            commands::directory_search,
            commands::directory_match,
            commands::directory_refresh,
            commands::open_link,
            commands::validate_manual,
            commands::stage_manual,
            commands::preview_import,
            commands::commit_import,
            commands::discard_import,
            commands::edit_token,
            commands::move_token,
            commands::list_groups,
        ])
        .run(tauri::generate_context!("../tauri.conf.json"));
    if let Err(error) = result {
        tracing::error!(%error, "Kaito stopped with an error");
        std::process::exit(1);
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KAITO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // try_init: a second call (tests) must not panic.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
