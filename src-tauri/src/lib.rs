//! The desktop shell: windows, tray and IPC commands. Each command is a thin adapter
//! over the crates; nothing here decides domain behaviour.

mod camera;
mod clipboard;
mod clock_check;
mod directory;
mod error;
mod ipc;
mod launch;
mod palette;
mod paths;
mod screen;
mod state;
mod team;
mod team_admin;
mod team_api_tokens;
mod tray;
mod views;

use std::sync::Arc;

use tauri::Manager;
use tauri_plugin_deep_link::DeepLinkExt;
use tauri_plugin_window_state::{AppHandleExt, StateFlags};

/// The app identifier in `tauri.conf.json`.
const IDENTIFIER: &str = "dev.kaito.authenticator";
/// Passed by the login item: start in the tray, without the window.
const HIDDEN_ARG: &str = "--hidden";
/// What is remembered of the main window. Not visibility: a window closed to the
/// tray must still open at the next start.
const WINDOW_STATE: StateFlags = StateFlags::SIZE
    .union(StateFlags::POSITION)
    .union(StateFlags::MAXIMIZED);

pub use error::{AppError, IpcError};

/// Starts the app and blocks until it quits.
#[allow(
    clippy::too_many_lines,
    reason = "one builder chain: the plugins and every command in one list"
)]
pub fn run() {
    init_logging();
    let launch_uri = launch::link_argument(std::env::args().skip(1));
    let start_hidden = std::env::args().skip(1).any(|arg| arg == HIDDEN_ARG);
    let data_dir_override = std::env::var_os("KAITO_DATA_DIR").filter(|dir| !dir.is_empty());
    let profile = data_dir_override.as_ref().map_or_else(
        || "default".to_owned(),
        |dir| state::keychain_profile(std::path::Path::new(dir)),
    );
    // Window geometry belongs with the profile's data when the data dir is chosen
    // (an absolute name wins over the plugin's config directory).
    let window_state_file = data_dir_override.map_or_else(
        || ".window-state.json".to_owned(),
        |dir| {
            std::path::Path::new(&dir)
                .join("window-state.json")
                .to_string_lossy()
                .into_owned()
        },
    );
    let result = tauri::Builder::default()
        // First: a second launch must hand over before anything else starts.
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .dbus_id(launch::instance_id(IDENTIFIER, &profile))
                .callback(
                    |app, args, _cwd| match launch::link_argument(args.iter().skip(1)) {
                        Some(uri) => launch::deliver(app, uri),
                        None => tray::show_main_window(app),
                    },
                )
                .build(),
        )
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_notification::init())
        // Used from Rust only; no window is granted its commands.
        .plugin(tauri_plugin_dialog::init())
        .plugin(palette::shortcut_plugin())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![HIDDEN_ARG]),
        ))
        .plugin(
            tauri_plugin_window_state::Builder::new()
                .with_filename(window_state_file)
                .with_state_flags(WINDOW_STATE)
                .with_denylist(&[palette::LABEL])
                .build(),
        )
        .setup(move |app| setup(app, launch_uri.clone(), start_hidden))
        .on_window_event(on_window_event)
        .invoke_handler(tauri::generate_handler![
            ipc::settings::app_info,
            ipc::team::team_status,
            ipc::team::team_sign_in,
            ipc::team::team_sign_in_code,
            ipc::team::team_begin_required_setup,
            ipc::team::team_finish_required_setup,
            ipc::admin::team_mfa_policy,
            ipc::admin::team_set_mfa_policy,
            ipc::sso::team_sso_availability,
            ipc::sso::team_sign_in_sso,
            ipc::sso::team_cancel_sso,
            ipc::sso::team_sso_settings,
            ipc::sso::team_set_sso_settings,
            ipc::sso::team_remove_sso,
            ipc::team::team_sign_out,
            ipc::team::team_join,
            ipc::team::team_set_password,
            ipc::team::team_tokens,
            ipc::team::copy_team_code,
            ipc::team::team_inbox,
            ipc::team::copy_sms_code,
            ipc::team::team_keep_seed,
            ipc::team::team_forget_seed,
            ipc::admin::team_admin_overview,
            ipc::admin::team_add_member,
            ipc::admin::team_invite,
            ipc::admin::team_disable_member,
            ipc::admin::team_enable_member,
            ipc::admin::team_set_member_role,
            ipc::admin::team_password_link,
            ipc::admin::team_change_password,
            ipc::admin::team_mfa_status,
            ipc::admin::team_begin_totp,
            ipc::admin::team_confirm_totp,
            ipc::admin::team_remove_mfa,
            ipc::admin::team_reset_member_mfa,
            ipc::admin::team_new_recovery_codes,
            ipc::admin::team_create_group,
            ipc::admin::team_add_to_group,
            ipc::admin::team_remove_from_group,
            ipc::admin::team_add_shared_token,
            ipc::admin::team_rotate,
            ipc::admin::team_grant,
            ipc::admin::team_revoke_grant,
            ipc::admin::team_audit,
            ipc::admin::team_export_audit,
            ipc::admin::team_sinks,
            ipc::admin::team_add_sink,
            ipc::admin::team_remove_sink,
            ipc::admin::team_resume_sink,
            ipc::admin::team_api_tokens,
            ipc::admin::team_create_api_token,
            ipc::admin::team_revoke_api_token,
            ipc::tokens::list_tokens,
            ipc::enroll::stage_uri,
            ipc::enroll::pending_code,
            ipc::enroll::confirm_pending,
            ipc::enroll::discard_pending,
            ipc::tokens::copy_code,
            ipc::tokens::delete_token,
            ipc::tokens::undo_delete,
            ipc::directory::directory_status,
            ipc::directory::directory_search,
            ipc::directory::directory_match,
            ipc::directory::directory_refresh,
            ipc::directory::open_link,
            ipc::enroll::validate_manual,
            ipc::enroll::stage_manual,
            ipc::enroll::preview_import,
            ipc::enroll::commit_import,
            ipc::enroll::discard_import,
            ipc::tokens::edit_token,
            ipc::tokens::move_token,
            ipc::tokens::list_groups,
            ipc::settings::get_settings,
            ipc::settings::save_settings,
            ipc::lock::lock_status,
            ipc::lock::lock_now,
            ipc::lock::unlock,
            ipc::lock::set_passphrase,
            ipc::lock::change_passphrase,
            ipc::lock::remove_passphrase,
            ipc::windows::touch,
            ipc::scan::scan_image,
            ipc::scan::scan_clipboard,
            ipc::scan::scan_screen,
            ipc::scan::list_cameras,
            ipc::scan::start_camera,
            ipc::scan::stop_camera,
            ipc::scan::reset_scan,
            ipc::tokens::reveal_secret,
            ipc::settings::clock_warning,
            ipc::windows::take_launch_uri,
            ipc::settings::shortcut_problem,
            ipc::settings::autostart_enabled,
            ipc::settings::set_autostart,
            ipc::windows::hide_palette,
            ipc::windows::show_main_window,
        ])
        .run(tauri::generate_context!("../tauri.conf.json"));
    if let Err(error) = result {
        tracing::error!(%error, "Kaito stopped with an error");
        std::process::exit(1);
    }
}

/// Opens the vault and starts the app's background work: directory schedule, clock
/// check, auto-lock, tray.
fn setup(
    app: &mut tauri::App,
    launch_uri: Option<String>,
    start_hidden: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    app.manage(launch::LaunchUri::new(launch_uri));
    let links = app.handle().clone();
    app.deep_link().on_open_url(move |event| {
        if let Some(uri) = launch::link_argument(event.urls().iter().map(ToString::to_string)) {
            launch::deliver(&links, uri);
        }
    });
    let data_dir = paths::DataDir::resolve(app.handle())?;
    tracing::info!(data_dir = %data_dir.path().display(), "starting Kaito");
    let directory = Arc::new(directory::DirectoryState::from_env());
    app.manage(clock_check::ClockWarning::default());
    clock_check::start(app.handle().clone(), directory.source_url().to_owned());
    let state =
        tauri::async_runtime::block_on(state::AppState::open(data_dir.path(), directory.clone()));
    tauri::async_runtime::block_on(state.load_settings());
    if let Ok(vault) = state.vault() {
        directory::start_schedule(app.handle().clone(), directory.clone(), vault.clone());
    }
    let team = Arc::new(tauri::async_runtime::block_on(team::TeamMode::open(
        state.vault().ok(),
        &state::keychain_profile(data_dir.path()),
    )));
    team.spawn_tasks(app.handle(), state.vault().ok().cloned());
    app.manage(team);
    app.manage(state);
    app.manage(directory);
    start_auto_lock(app.handle().clone());
    app.manage(data_dir);
    // A desktop without a tray host (bare X servers, some Wayland shells) must
    // still get a working window, so a tray failure is only logged.
    let tray = match tray::install(app.handle()) {
        Ok(()) => TrayPresence(true),
        Err(error) => {
            tracing::warn!(%error, "no system tray available; continuing without it");
            TrayPresence(false)
        }
    };
    app.manage(tray);
    app.manage(WindowStateSaves::default());
    let shortcut = app.state::<state::AppState>().settings().global_shortcut;
    let problem = palette::register(app.handle(), shortcut.as_deref())
        .err()
        .map(|error| error.message);
    if let Some(problem) = &problem {
        tracing::warn!(%problem, "no global shortcut");
    }
    app.manage(palette::ShortcutProblem::default());
    app.manage(palette::PaletteFocus::default());
    app.manage(camera::CameraScan::default());
    app.state::<palette::ShortcutProblem>().set(problem);
    // The window starts hidden (tauri.conf.json) so a login start can stay in the tray.
    if !(start_hidden && tray.0) {
        tray::show_main_window(app.handle());
    }
    Ok(())
}

/// With "minimize to tray" on (and a tray to come back from), closing hides the
/// window; Quit is in the tray. The palette hides when it loses focus. Moves and
/// resizes of the main window are saved once they settle, so a crash or kill keeps
/// them too.
fn on_window_event(window: &tauri::Window, event: &tauri::WindowEvent) {
    if window.label() == palette::LABEL {
        if let tauri::WindowEvent::Focused(focused) = event {
            palette::on_focus_change(window.app_handle(), *focused);
        }
        return;
    }
    if let tauri::WindowEvent::Moved(_) | tauri::WindowEvent::Resized(_) = event {
        save_window_state_soon(window.app_handle());
    }
    if let tauri::WindowEvent::CloseRequested { api, .. } = event {
        let app = window.app_handle();
        let in_tray = app.state::<TrayPresence>().0
            && app.state::<state::AppState>().settings().minimize_to_tray;
        if in_tray {
            api.prevent_close();
            // Nobody can aim at a hidden viewfinder: free the camera.
            app.state::<camera::CameraScan>().stop();
            if let Err(error) = window.hide() {
                tracing::warn!(%error, "could not hide the window");
            }
        }
    }
}

/// Counts geometry changes, so only the last of a burst (a drag) writes the file.
#[derive(Debug, Default)]
struct WindowStateSaves(std::sync::atomic::AtomicU64);

fn save_window_state_soon<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    use std::sync::atomic::Ordering;
    let Some(saves) = app.try_state::<WindowStateSaves>() else {
        return;
    };
    let generation = saves.0.fetch_add(1, Ordering::SeqCst) + 1;
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        if app.state::<WindowStateSaves>().0.load(Ordering::SeqCst) == generation
            && let Err(error) = app.save_window_state(WINDOW_STATE)
        {
            tracing::warn!(%error, "could not save the window's size and place");
        }
    });
}

/// Whether the tray icon exists, so closing the window never strands the app.
#[derive(Debug, Clone, Copy)]
struct TrayPresence(bool);

/// Checks idleness every few seconds and locks (with the UI told) when due.
fn start_auto_lock<R: tauri::Runtime>(app: tauri::AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            if app.state::<state::AppState>().lock_if_idle() {
                tracing::info!("locked after the idle period");
                ipc::lock::announce_locked(&app).await;
            }
        }
    });
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
