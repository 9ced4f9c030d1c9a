//! IPC commands: each adapts one call into the app state or a crate.

// Tauri hands commands their state and arguments by value.
#![allow(clippy::needless_pass_by_value, clippy::unnecessary_wraps)]

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use tauri::{AppHandle, Emitter, Manager, Runtime, State};
use tauri_plugin_autostart::ManagerExt as _;
use tauri_plugin_clipboard_manager::ClipboardExt;
use tauri_plugin_opener::OpenerExt;

use crate::IpcError;
use crate::directory::DirectoryState;
use crate::paths::DataDir;
use crate::state::AppState;
use crate::team::{TeamInboxView, TeamMode, TeamStatusView, TeamTokensView};
use crate::team_admin;
use crate::views::{
    DeletedToken, DirectoryStatus, FieldErrorView, ImportOutcome, ImportPreview, LockStatus,
    ManualEntryForm, PendingTokenView, RevealedSecret, ScanResultView, ServiceView, SettingsView,
    TokenEditForm, TokenView, unix_now,
};

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
pub async fn list_tokens<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<Vec<TokenView>, IpcError> {
    let listed = state.list(unix_now()).await;
    crate::tray::sync(&app, listed.as_deref()).await;
    listed
}

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
pub fn directory_status(directory: State<'_, Arc<DirectoryState>>) -> DirectoryStatus {
    directory.status()
}

#[tauri::command]
pub fn directory_search(
    directory: State<'_, Arc<DirectoryState>>,
    query: String,
    limit: Option<u32>,
) -> Vec<ServiceView> {
    directory.search(&query, limit.map_or(50, |limit| limit.min(500) as usize))
}

#[tauri::command]
pub fn directory_match(
    directory: State<'_, Arc<DirectoryState>>,
    issuer: String,
) -> Option<ServiceView> {
    directory.match_issuer(&issuer)
}

#[tauri::command]
pub async fn directory_refresh<R: Runtime>(
    app: AppHandle<R>,
    directory: State<'_, Arc<DirectoryState>>,
    state: State<'_, AppState>,
) -> Result<DirectoryStatus, IpcError> {
    let result = directory.refresh(state.vault()?).await;
    let _ = app.emit(crate::directory::UPDATED_EVENT, ());
    result
}

/// Opens a documentation or recovery link in the user's browser. Only http(s): the
/// links come from downloaded data and must not launch local programs or files.
#[tauri::command]
pub fn open_link<R: Runtime>(app: AppHandle<R>, url: String) -> Result<(), IpcError> {
    let lower = url.trim().to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Err(IpcError::new(
            "link.not_web",
            format!("Only web links can be opened, not {url:?}."),
        ));
    }
    app.opener()
        .open_url(url.trim(), None::<&str>)
        .map_err(|error| {
            IpcError::new(
                "link.open_failed",
                format!("Could not open the browser: {error}"),
            )
        })
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
    IpcError::new(
        "autostart.failed",
        format!("Could not change starting at login: {error}"),
    )
}

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

/// The user is active (key or pointer): restarts the auto-lock countdown.
#[tauri::command]
pub fn touch(state: State<'_, AppState>) {
    state.touch();
}

/// Event the UI listens to, to show the lock screen at once.
pub const LOCKED_EVENT: &str = "vault-locked";

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
    .map_err(|error| IpcError::new("clipboard.unavailable", error.to_string()))?
    .map_err(|_| {
        IpcError::new(
            "clipboard.no_image",
            "The clipboard holds no image. Copy a screenshot of the QR code first.",
        )
    })?;
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
        .map_err(|error| IpcError::new("camera.failed", error.to_string()))?
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

#[tauri::command]
pub async fn reveal_secret(
    state: State<'_, AppState>,
    id: String,
    passphrase: Option<String>,
) -> Result<RevealedSecret, IpcError> {
    state.reveal(&id, passphrase.as_deref()).await
}

/// Why codes may be rejected because of the system clock, if they may.
#[tauri::command]
pub fn clock_warning(warning: State<'_, crate::clock_check::ClockWarning>) -> Option<String> {
    warning.get()
}

/// The `otpauth://` link Kaito was opened with, once.
#[tauri::command]
pub fn take_launch_uri(launch: State<'_, crate::launch::LaunchUri>) -> Option<String> {
    launch.take()
}

#[tauri::command]
pub async fn team_status(
    state: State<'_, AppState>,
    team: State<'_, Arc<TeamMode>>,
) -> Result<TeamStatusView, IpcError> {
    team.status(state.vault()?).await
}

#[tauri::command]
pub async fn team_sign_in(
    state: State<'_, AppState>,
    team: State<'_, Arc<TeamMode>>,
    server_url: String,
    email: String,
    password: String,
) -> Result<TeamStatusView, IpcError> {
    let password = zeroize::Zeroizing::new(password);
    team.sign_in(state.vault()?, (&server_url, &email, &password))
        .await
}

#[tauri::command]
pub async fn team_join(
    state: State<'_, AppState>,
    team: State<'_, Arc<TeamMode>>,
    link: String,
    name: String,
    password: String,
) -> Result<TeamStatusView, IpcError> {
    let (link, password) = (
        zeroize::Zeroizing::new(link),
        zeroize::Zeroizing::new(password),
    );
    team.join(state.vault()?, &link, (&name, &password)).await
}

#[tauri::command]
pub async fn team_sign_out(
    state: State<'_, AppState>,
    team: State<'_, Arc<TeamMode>>,
) -> Result<TeamStatusView, IpcError> {
    team.sign_out(state.vault()?).await
}

#[tauri::command]
pub async fn team_tokens<R: Runtime>(
    app: AppHandle<R>,
    window: tauri::WebviewWindow<R>,
    state: State<'_, AppState>,
    team: State<'_, Arc<TeamMode>>,
) -> Result<TeamTokensView, IpcError> {
    let view = team.tokens(state.vault()?, surface(&window)).await?;
    crate::tray::sync_team(&app, &view);
    Ok(view)
}

#[tauri::command]
pub async fn copy_team_code<R: Runtime>(
    app: AppHandle<R>,
    window: tauri::WebviewWindow<R>,
    state: State<'_, AppState>,
    team: State<'_, Arc<TeamMode>>,
    token_id: String,
) -> Result<String, IpcError> {
    state.touch();
    team.copy_code(&app, &state, &token_id, surface(&window))
        .await
        .map(|copied| copied.code)
}

#[tauri::command]
pub async fn team_inbox(team: State<'_, Arc<TeamMode>>) -> Result<TeamInboxView, IpcError> {
    Ok(team.inbox().await)
}

#[tauri::command]
pub async fn copy_sms_code<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    team: State<'_, Arc<TeamMode>>,
    seq: i64,
) -> Result<String, IpcError> {
    state.touch();
    team.copy_sms_code(&app, &state, seq).await
}

/// Where a team code was shown or copied, for the team's log: the window that asked.
fn surface<R: Runtime>(window: &tauri::WebviewWindow<R>) -> &'static str {
    if window.label() == crate::palette::LABEL {
        "palette"
    } else {
        "window"
    }
}

#[tauri::command]
pub async fn team_keep_seed(
    state: State<'_, AppState>,
    team: State<'_, Arc<TeamMode>>,
    token_id: String,
) -> Result<(), IpcError> {
    team.keep_seed(state.vault()?, &token_id).await
}

#[tauri::command]
pub async fn team_forget_seed(
    state: State<'_, AppState>,
    token_id: String,
) -> Result<(), IpcError> {
    Ok(state.vault()?.forget_team_seed(&token_id).await?)
}

// The admin screens: each a one-line call into crate::team_admin (the server
// checks the caller's role).

#[tauri::command]
pub async fn team_admin_overview(
    team: State<'_, Arc<TeamMode>>,
) -> Result<team_admin::TeamAdminView, IpcError> {
    team_admin::overview(&*team.signed_in().await?).await
}

#[tauri::command]
pub async fn team_add_member(
    team: State<'_, Arc<TeamMode>>,
    email: String,
    name: String,
    role: String,
    password: String,
) -> Result<(), IpcError> {
    let password = zeroize::Zeroizing::new(password);
    let role = team_admin::role(&role)?;
    team.signed_in()
        .await?
        .add_member((email.trim(), name.trim()), role, &password)
        .await?;
    Ok(())
}

#[tauri::command]
pub async fn team_invite(
    team: State<'_, Arc<TeamMode>>,
    email: String,
    role: String,
) -> Result<team_admin::InviteRow, IpcError> {
    team_admin::invite(&*team.signed_in().await?, &email, team_admin::role(&role)?).await
}

#[tauri::command]
pub async fn team_disable_member(
    team: State<'_, Arc<TeamMode>>,
    user_id: String,
) -> Result<(), IpcError> {
    Ok(team.signed_in().await?.disable_member(&user_id).await?)
}

#[tauri::command]
pub async fn team_create_group(
    team: State<'_, Arc<TeamMode>>,
    name: String,
) -> Result<(), IpcError> {
    team.signed_in().await?.create_group(name.trim()).await?;
    Ok(())
}

#[tauri::command]
pub async fn team_add_to_group(
    team: State<'_, Arc<TeamMode>>,
    group_id: String,
    user_id: String,
) -> Result<(), IpcError> {
    Ok(team
        .signed_in()
        .await?
        .add_to_group(&group_id, &user_id)
        .await?)
}

#[tauri::command]
pub async fn team_remove_from_group(
    team: State<'_, Arc<TeamMode>>,
    group_id: String,
    user_id: String,
) -> Result<(), IpcError> {
    Ok(team
        .signed_in()
        .await?
        .remove_from_group(&group_id, &user_id)
        .await?)
}

#[tauri::command]
pub async fn team_add_shared_token(
    team: State<'_, Arc<TeamMode>>,
    uri: String,
) -> Result<String, IpcError> {
    let uri = zeroize::Zeroizing::new(uri);
    // Checked here first: the server would refuse it too, but less helpfully.
    kaito_core::uri::parse(uri.trim())?;
    Ok(team.signed_in().await?.add_shared_token(uri.trim()).await?)
}

#[tauri::command]
pub async fn team_rotate(
    team: State<'_, Arc<TeamMode>>,
    token_id: String,
    uri: String,
) -> Result<(), IpcError> {
    let uri = zeroize::Zeroizing::new(uri);
    kaito_core::uri::parse(uri.trim())?;
    Ok(team
        .signed_in()
        .await?
        .rotate(&token_id, uri.trim())
        .await?)
}

#[tauri::command]
pub async fn team_grant(
    team: State<'_, Arc<TeamMode>>,
    token_id: String,
    grant: team_admin::GrantForm,
) -> Result<(), IpcError> {
    team_admin::grant(&*team.signed_in().await?, &token_id, grant).await
}

#[tauri::command]
pub async fn team_revoke_grant(
    team: State<'_, Arc<TeamMode>>,
    grant_id: String,
) -> Result<(), IpcError> {
    Ok(team.signed_in().await?.revoke_grant(&grant_id).await?)
}

#[tauri::command]
pub async fn team_audit(
    team: State<'_, Arc<TeamMode>>,
    filter: team_admin::AuditFilterForm,
) -> Result<team_admin::AuditPageView, IpcError> {
    team_admin::audit(&*team.signed_in().await?, filter).await
}

#[tauri::command]
pub async fn team_export_audit<R: Runtime>(
    app: AppHandle<R>,
    team: State<'_, Arc<TeamMode>>,
    filter: team_admin::AuditFilterForm,
    format: String,
) -> Result<team_admin::ExportedFile, IpcError> {
    use tauri::Manager as _;
    let dir = app
        .path()
        .download_dir()
        .or_else(|_| app.path().home_dir())
        .map_err(|error| IpcError::new("export.failed", error.to_string()))?;
    team_admin::export(&*team.signed_in().await?, filter, &format, dir).await
}

#[tauri::command]
pub async fn team_sinks(
    team: State<'_, Arc<TeamMode>>,
) -> Result<Vec<team_admin::SinkRow>, IpcError> {
    team_admin::sinks(&*team.signed_in().await?).await
}

#[tauri::command]
pub async fn team_add_sink(
    team: State<'_, Arc<TeamMode>>,
    sink: team_admin::SinkForm,
) -> Result<(), IpcError> {
    team_admin::add_sink(&*team.signed_in().await?, sink).await
}

#[tauri::command]
pub async fn team_remove_sink(
    team: State<'_, Arc<TeamMode>>,
    sink_id: String,
) -> Result<(), IpcError> {
    Ok(team.signed_in().await?.remove_sink(&sink_id).await?)
}
