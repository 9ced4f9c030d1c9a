//! The system tray: one-click copy of favourite codes, Show, Lock and Quit.
//!
//! What the menu holds is decided by [`menu_model`], a pure function of the token list
//! and the lock state, so it is unit-tested without a desktop; the Tauri adapter only
//! turns the model into a native menu ([`TrayMenu`]) and menu clicks into
//! [`TrayAction`]s.

use std::sync::Mutex;

use tauri::{
    AppHandle, Emitter, Manager, Runtime,
    menu::{IsMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem},
    tray::TrayIconBuilder,
};
use tauri_plugin_clipboard_manager::ClipboardExt;

use crate::IpcError;
use crate::state::{AppState, lock};
use crate::views::TokenView;

const TRAY_ID: &str = "kaito";
const SHOW: &str = "show";
const LOCK: &str = "lock";
const QUIT: &str = "quit";
const COPY_PREFIX: &str = "copy:";
/// More than this many favourites would make the menu taller than most screens.
const MAX_QUICK_COPY: usize = 12;
/// Without favourites, the first few tokens are offered instead.
const FALLBACK_COUNT: usize = 5;
const LABEL_LIMIT: usize = 48;

/// What the tray needs to know of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayToken {
    pub id: String,
    pub issuer: String,
    pub account: String,
    pub favorite: bool,
}

/// One line of the tray menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrayLine {
    Item {
        id: String,
        label: String,
        enabled: bool,
    },
    Separator,
}

impl TrayLine {
    fn item(id: &str, label: impl Into<String>, enabled: bool) -> Self {
        TrayLine::Item {
            id: id.to_owned(),
            label: label.into(),
            enabled,
        }
    }
}

/// What a click on a menu line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrayAction {
    Copy(String),
    Show,
    Lock,
    Quit,
    None,
}

impl TrayAction {
    #[must_use]
    pub fn from_id(id: &str) -> Self {
        match id {
            SHOW => TrayAction::Show,
            LOCK => TrayAction::Lock,
            QUIT => TrayAction::Quit,
            other => other
                .strip_prefix(COPY_PREFIX)
                .filter(|token| !token.is_empty())
                .map_or(TrayAction::None, |token| TrayAction::Copy(token.to_owned())),
        }
    }
}

/// The menu for the current tokens (in list order) and lock state: favourites to copy
/// with one click (the first tokens when there are no favourites), then Show, Lock (when
/// a passphrase makes locking meaningful) and Quit. Nothing about a token shows while
/// the vault is locked.
#[must_use]
pub fn menu_model(tokens: &[TrayToken], locked: bool, can_lock: bool) -> Vec<TrayLine> {
    let mut lines = Vec::new();
    if locked {
        lines.push(TrayLine::item(
            "locked",
            "Kaito is locked — open it to unlock",
            false,
        ));
    } else {
        let favourites: Vec<&TrayToken> = tokens.iter().filter(|t| t.favorite).collect();
        let (heading, offered): (&str, Vec<&TrayToken>) = if favourites.is_empty() {
            ("Copy a code", tokens.iter().take(FALLBACK_COUNT).collect())
        } else {
            (
                "Copy a favourite's code",
                favourites.into_iter().take(MAX_QUICK_COPY).collect(),
            )
        };
        if offered.is_empty() {
            lines.push(TrayLine::item("empty", "No tokens yet", false));
        } else {
            lines.push(TrayLine::item("heading", heading, false));
            for token in offered {
                lines.push(TrayLine::item(
                    &format!("{COPY_PREFIX}{}", token.id),
                    label(token),
                    true,
                ));
            }
        }
    }
    lines.push(TrayLine::Separator);
    lines.push(TrayLine::item(SHOW, "Show Kaito", true));
    if can_lock && !locked {
        lines.push(TrayLine::item(LOCK, "Lock", true));
    }
    lines.push(TrayLine::item(QUIT, "Quit", true));
    lines
}

fn label(token: &TrayToken) -> String {
    let text = match (token.issuer.trim(), token.account.trim()) {
        ("", "") => "Unnamed token".to_owned(),
        (issuer, "") => issuer.to_owned(),
        ("", account) => account.to_owned(),
        (issuer, account) => format!("{issuer} — {account}"),
    };
    if text.chars().count() <= LABEL_LIMIT {
        return text;
    }
    let cut: String = text.chars().take(LABEL_LIMIT - 1).collect();
    format!("{cut}…")
}

/// Somewhere a menu model can be shown: the native tray, or a recorder in tests.
pub trait TrayMenu {
    fn show(&self, lines: &[TrayLine]) -> Result<(), String>;
}

/// The native tray icon of a running app.
struct NativeTray<'a, R: Runtime>(&'a AppHandle<R>);

impl<R: Runtime> TrayMenu for NativeTray<'_, R> {
    fn show(&self, lines: &[TrayLine]) -> Result<(), String> {
        let app = self.0;
        let tray = app.tray_by_id(TRAY_ID).ok_or("no tray icon")?;
        let menu = native_menu(app, lines).map_err(|error| error.to_string())?;
        tray.set_menu(Some(menu)).map_err(|error| error.to_string())
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

/// The last model shown, so an unchanged list does not rebuild the native menu.
#[derive(Debug, Default)]
pub struct TrayModelState {
    shown: Mutex<Option<Vec<TrayLine>>>,
}

impl TrayModelState {
    /// Shows `lines` unless they are what is already shown. Returns whether it updated.
    pub fn update(&self, menu: &dyn TrayMenu, lines: Vec<TrayLine>) -> bool {
        let mut shown = lock(&self.shown);
        if shown.as_ref() == Some(&lines) {
            return false;
        }
        match menu.show(&lines) {
            Ok(()) => {
                *shown = Some(lines);
                true
            }
            Err(error) => {
                tracing::debug!(%error, "tray menu not updated");
                false
            }
        }
    }
}

pub fn install<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let menu = native_menu(app, &menu_model(&[], false, false))?;
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip("Kaito")
        .menu(&menu)
        .on_menu_event(on_menu_event);
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)?;
    Ok(())
}

/// Rebuilds the tray menu from the app's current tokens and lock state.
pub fn refresh<R: Runtime>(app: &AppHandle<R>, tokens: &[TrayToken], locked: bool, can_lock: bool) {
    if let Some(model) = app.try_state::<TrayModelState>() {
        model.update(&NativeTray(app), menu_model(tokens, locked, can_lock));
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
            refresh(app, &tokens, false, can_lock);
        }
        Err(error) if error.code == "vault.locked" => refresh(app, &[], true, can_lock),
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
            tauri::async_runtime::spawn(async move { copy_from_tray(&app, &id).await });
        }
        TrayAction::Lock => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                if app.state::<AppState>().lock().await.is_ok() {
                    let _ = app.emit(crate::commands::LOCKED_EVENT, ());
                    refresh(&app, &[], true, true);
                }
            });
        }
        TrayAction::None => {}
    }
}

/// Copies a code chosen in the tray, with the same audit and clipboard clearing as a
/// copy in the window.
async fn copy_from_tray<R: Runtime>(app: &AppHandle<R>, id: &str) {
    let state = app.state::<AppState>();
    match state.code_for_copy(id).await {
        Ok(code) => {
            if let Err(error) = app.clipboard().write_secret(code.clone()) {
                tracing::warn!(%error, "could not copy from the tray");
                return;
            }
            if let Some(delay) = state.clipboard_clear_after() {
                crate::commands::schedule_clipboard_clear(app.clone(), code, delay);
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

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    fn token(id: &str, issuer: &str, account: &str, favorite: bool) -> TrayToken {
        TrayToken {
            id: id.into(),
            issuer: issuer.into(),
            account: account.into(),
            favorite,
        }
    }

    fn labels(lines: &[TrayLine]) -> Vec<String> {
        lines
            .iter()
            .map(|line| match line {
                TrayLine::Item {
                    label,
                    enabled: true,
                    ..
                } => label.clone(),
                TrayLine::Item {
                    label,
                    enabled: false,
                    ..
                } => format!("({label})"),
                TrayLine::Separator => "---".into(),
            })
            .collect()
    }

    #[test]
    fn favourites_are_offered_for_one_click_copy() {
        let tokens = [
            token("a", "GitHub", "alice", true),
            token("b", "GitLab", "", false),
            token("c", "", "root@aws", true),
        ];
        let model = menu_model(&tokens, false, true);
        assert_eq!(
            labels(&model),
            [
                "(Copy a favourite's code)",
                "GitHub — alice",
                "root@aws",
                "---",
                "Show Kaito",
                "Lock",
                "Quit"
            ]
        );
        assert_eq!(
            model.iter().find_map(|l| match l {
                TrayLine::Item { id, label, .. } if label == "root@aws" =>
                    Some(TrayAction::from_id(id)),
                _ => None,
            }),
            Some(TrayAction::Copy("c".into()))
        );
    }

    #[test]
    fn without_favourites_the_first_tokens_are_offered() {
        let tokens: Vec<TrayToken> = (0..8)
            .map(|i| token(&i.to_string(), &format!("S{i}"), "", false))
            .collect();
        let model = menu_model(&tokens, false, false);
        assert_eq!(
            labels(&model)[..6],
            ["(Copy a code)", "S0", "S1", "S2", "S3", "S4"]
        );
        assert!(
            !labels(&model).contains(&"Lock".to_owned()),
            "no Lock without a passphrase"
        );
    }

    #[test]
    fn a_locked_vault_shows_no_token() {
        let tokens = [token("a", "GitHub", "alice", true)];
        let model = menu_model(&tokens, true, true);
        assert_eq!(
            labels(&model),
            [
                "(Kaito is locked — open it to unlock)",
                "---",
                "Show Kaito",
                "Quit"
            ]
        );
    }

    #[test]
    fn empty_long_and_unnamed_labels() {
        assert_eq!(labels(&menu_model(&[], false, false))[0], "(No tokens yet)");
        let long = token("x", &"VeryLongIssuerName".repeat(4), "account", true);
        let model = menu_model(&[long, token("y", " ", " ", true)], false, false);
        let shown = labels(&model);
        assert_eq!(shown[1].chars().count(), LABEL_LIMIT);
        assert!(shown[1].ends_with('…'));
        assert_eq!(shown[2], "Unnamed token");
    }

    #[test]
    fn menu_ids_map_to_actions() {
        assert_eq!(TrayAction::from_id("show"), TrayAction::Show);
        assert_eq!(TrayAction::from_id("lock"), TrayAction::Lock);
        assert_eq!(TrayAction::from_id("quit"), TrayAction::Quit);
        assert_eq!(TrayAction::from_id("copy:"), TrayAction::None);
        assert_eq!(TrayAction::from_id("heading"), TrayAction::None);
    }

    #[derive(Default)]
    struct Recorder {
        shown: RefCell<Vec<Vec<TrayLine>>>,
        fail: bool,
    }

    impl TrayMenu for Recorder {
        fn show(&self, lines: &[TrayLine]) -> Result<(), String> {
            if self.fail {
                return Err("no tray host".into());
            }
            self.shown.borrow_mut().push(lines.to_vec());
            Ok(())
        }
    }

    #[test]
    fn the_native_menu_is_rebuilt_only_when_the_model_changes() {
        let state = TrayModelState::default();
        let recorder = Recorder::default();
        let tokens = [token("a", "GitHub", "alice", true)];
        assert!(state.update(&recorder, menu_model(&tokens, false, true)));
        assert!(!state.update(&recorder, menu_model(&tokens, false, true)));
        assert!(state.update(&recorder, menu_model(&tokens, true, true)));
        assert_eq!(recorder.shown.borrow().len(), 2);
        // A tray that cannot be updated is retried next time, not remembered as shown.
        let broken = Recorder {
            fail: true,
            ..Recorder::default()
        };
        let fresh = TrayModelState::default();
        assert!(!fresh.update(&broken, menu_model(&tokens, false, true)));
        assert!(fresh.update(&recorder, menu_model(&tokens, false, true)));
    }
}
