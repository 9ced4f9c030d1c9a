//! The system tray: favourite codes with their seconds left for one-click copy, the
//! team's shared tokens (copied with one click, their codes unshown), Show, Lock and
//! Quit.
//!
//! What the menu holds is decided by [`menu_model`], a pure function of the token list,
//! their live codes and the lock state, so it is unit-tested without a desktop; the
//! Tauri adapter only turns the model into a native menu ([`TrayMenu`]) and menu clicks
//! into [`TrayAction`]s. A ticker relabels the items every second (the codes change
//! each period); the menu is rebuilt only when its items change.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tauri::{
    AppHandle, Manager, Runtime,
    menu::{IsMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem},
    tray::TrayIconBuilder,
};
use tauri_plugin_notification::NotificationExt;

use crate::IpcError;
use crate::state::{AppState, lock};
use crate::team::{TeamMode, TeamTokensView};
use crate::views::TokenView;

mod model;

pub use model::*;

/// The native tray icon of a running app.
struct NativeTray<'a, R: Runtime>(&'a AppHandle<R>);

/// The menu attached to the tray, kept to relabel its items in place.
struct NativeMenu<R: Runtime>(Mutex<Option<Menu<R>>>);

impl<R: Runtime> TrayMenu for NativeTray<'_, R> {
    fn show(&self, lines: &[TrayLine]) -> Result<(), String> {
        let app = self.0;
        let tray = app.tray_by_id(TRAY_ID).ok_or("no tray icon")?;
        let menu = native_menu(app, lines).map_err(|error| error.to_string())?;
        tray.set_menu(Some(menu.clone()))
            .map_err(|error| error.to_string())?;
        if let Some(kept) = app.try_state::<NativeMenu<R>>() {
            *lock(&kept.0) = Some(menu);
        }
        Ok(())
    }

    fn relabel(&self, labels: &[(&str, &str)]) -> Result<(), String> {
        let kept = self.0.try_state::<NativeMenu<R>>().ok_or("no tray menu")?;
        let menu = lock(&kept.0).clone().ok_or("no tray menu")?;
        for (id, label) in labels {
            let item = menu.get(*id).ok_or("a tray item went missing")?;
            if let Some(item) = item.as_menuitem() {
                item.set_text(*label).map_err(|error| error.to_string())?;
            }
        }
        Ok(())
    }
}

fn native_menu<R: Runtime>(app: &AppHandle<R>, lines: &[TrayLine]) -> tauri::Result<Menu<R>> {
    let mut items: Vec<Box<dyn IsMenuItem<R>>> = Vec::with_capacity(lines.len());
    for line in lines {
        match line {
            TrayLine::Item { id, label, enabled } => {
                items.push(Box::new(MenuItem::with_id(
                    app,
                    id,
                    label,
                    *enabled,
                    None::<&str>,
                )?));
            }
            TrayLine::Separator => items.push(Box::new(PredefinedMenuItem::separator(app)?)),
        }
    }
    let refs: Vec<&dyn IsMenuItem<R>> = items.iter().map(AsRef::as_ref).collect();
    Menu::with_items(app, &refs)
}

/// The tokens the tray offers and the menu last shown, so an unchanged menu is left
pub fn install<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let menu = native_menu(
        app,
        &menu_model((&[], &[]), &LiveCodes::new(), false, false),
    )?;
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip("Kaito")
        .menu(&menu)
        .on_menu_event(on_menu_event);
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)?;
    app.manage(NativeMenu(Mutex::new(Some(menu))));
    app.manage(TrayModelState::default());
    start_ticker(app.clone());
    Ok(())
}

/// Relabels the menu once a second, on the second, so the seconds left and each new
/// period's codes show without the user reopening it.
fn start_ticker<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        loop {
            let now = kaito_core::clock::unix_millis(std::time::SystemTime::now());
            let into_second = now.rem_euclid(1000).unsigned_abs();
            tokio::time::sleep(Duration::from_millis(1000 - into_second)).await;
            render(&app);
        }
    });
}

/// Shows the current model with codes as of now.
fn render<R: Runtime>(app: &AppHandle<R>) {
    let Some(model) = app.try_state::<TrayModelState>() else {
        return;
    };
    // Shared tokens' codes stay out of the menu: its labels exist whether or not
    // anyone opens it, so a code there would be a view the team's log cannot
    // account for. A click fetches and copies one, audited.
    let ids = model.offered_ids();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let live = app
        .state::<AppState>()
        .live_codes(&ids, crate::views::unix_now());
    model.render(&NativeTray(app), &live);
}

/// Brings the tray's team part in line with the shared tokens the window just got.
pub fn sync_team<R: Runtime>(app: &AppHandle<R>, view: &TeamTokensView) {
    if let Some(model) = app.try_state::<TrayModelState>() {
        model.set_team(
            view.tokens
                .iter()
                .filter(|token| token.access != "none")
                .map(|token| TrayToken {
                    id: token.token_id.clone(),
                    issuer: token.issuer.clone(),
                    account: token.account.clone(),
                    favorite: false,
                })
                .collect(),
        );
        render(app);
    }
}

/// Rebuilds the tray menu from the app's current tokens and lock state.
pub fn refresh<R: Runtime>(
    app: &AppHandle<R>,
    tokens: Vec<TrayToken>,
    locked: bool,
    can_lock: bool,
) {
    if let Some(model) = app.try_state::<TrayModelState>() {
        model.set(tokens, locked, can_lock);
        render(app);
    }
}

/// Brings the tray in line with the list the window just got (or the lock).
pub async fn sync<R: Runtime>(app: &AppHandle<R>, listed: Result<&[TokenView], &IpcError>) {
    let state = app.state::<AppState>();
    let can_lock = match state.vault() {
        Ok(vault) => vault.has_passphrase().await.unwrap_or(false),
        Err(_) => false,
    };
    match listed {
        Ok(views) => {
            let tokens: Vec<TrayToken> = views
                .iter()
                .map(|view| TrayToken {
                    id: view.id.clone(),
                    issuer: view.issuer.clone(),
                    account: view.account.clone(),
                    favorite: view.favorite,
                })
                .collect();
            refresh(app, tokens, false, can_lock);
        }
        Err(error) if error.code == "vault.locked" => refresh(app, Vec::new(), true, can_lock),
        Err(_) => {}
    }
}

#[allow(clippy::needless_pass_by_value)] // the signature Tauri calls
fn on_menu_event<R: Runtime>(app: &AppHandle<R>, event: MenuEvent) {
    match TrayAction::from_id(event.id().as_ref()) {
        TrayAction::Show => show_main_window(app),
        TrayAction::Quit => app.exit(0),
        TrayAction::Copy(id) => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move { copy_from_tray(&app, &id, false).await });
        }
        TrayAction::CopyTeam(id) => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move { copy_from_tray(&app, &id, true).await });
        }
        TrayAction::Lock => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                if app.state::<AppState>().lock().await.is_ok() {
                    crate::ipc::lock::announce_locked(&app).await;
                }
            });
        }
        TrayAction::None => {}
    }
}

/// Copies a code chosen in the tray (a shared token's when `team`), with the same
/// audit and clipboard clearing as a copy in the window, and says so in a
/// notification (the menu has closed).
async fn copy_from_tray<R: Runtime>(app: &AppHandle<R>, id: &str, team: bool) {
    let state = app.state::<AppState>();
    let copied = if team {
        let team_mode = app.state::<Arc<TeamMode>>();
        team_mode
            .copy_code(app, &state, id, kaito_team::Surface::Tray)
            .await
    } else {
        crate::clipboard::copy_code(app, &state, id).await
    };
    match copied {
        Ok(copied) => {
            let name = app
                .try_state::<TrayModelState>()
                .and_then(|model| model.name_of(id))
                .unwrap_or_else(|| "Kaito".to_owned());
            // No notification service (bare X, some minimal desktops): the copy stands.
            if let Err(error) = app
                .notification()
                .builder()
                .title("Kaito")
                .body(copied_notice(&name, copied.valid_for))
                .show()
            {
                tracing::debug!(%error, "no notification for the tray copy");
            }
        }
        // A locked vault or a deleted token: the window explains, so show it.
        Err(error) => {
            tracing::info!(code = %error.code, "tray copy refused");
            show_main_window(app);
        }
    }
}

pub fn show_main_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        // Each step can fail on exotic window managers; the others still help.
        if let Err(error) = window
            .unminimize()
            .and_then(|()| window.show())
            .and_then(|()| window.set_focus())
        {
            tracing::warn!(%error, "could not bring the main window forward");
        }
    }
}
