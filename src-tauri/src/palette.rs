//! The quick-search palette: a small window the global shortcut opens over whatever
//! the user is doing; type, Enter copies, and it goes away.

use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tauri::{
    AppHandle, Emitter, Manager, Runtime, WebviewUrl, WebviewWindow, WebviewWindowBuilder,
};
use tauri_plugin_global_shortcut::{GlobalShortcutExt, Shortcut, ShortcutState};

use crate::AppError;
use crate::IpcError;
use crate::state::lock;

pub const LABEL: &str = "palette";
/// Tells the palette's page to start afresh: empty query, focus, current codes.
pub const OPENED_EVENT: &str = "palette-opened";

/// The global-shortcut plugin, calling the palette on each press.
pub fn shortcut_plugin<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_global_shortcut::Builder::new()
        .with_handler(|app, _shortcut, event| {
            if event.state() == ShortcutState::Pressed {
                toggle(app);
            }
        })
        .build()
}

/// Whether the palette has had the keyboard since it was last shown: only then does
/// losing it mean the user went elsewhere.
#[derive(Debug, Default)]
pub struct PaletteFocus(AtomicBool);

/// Focus may bounce while a shortcut's keyboard grab ends; only a loss that lasts
/// this long means the user moved on.
const BLUR_SETTLE: Duration = Duration::from_millis(250);

/// Follows the palette's focus; hides it when the user has moved on.
pub fn on_focus_change<R: Runtime>(app: &AppHandle<R>, focused: bool) {
    let Some(state) = app.try_state::<PaletteFocus>() else {
        return;
    };
    if focused {
        state.0.store(true, Ordering::SeqCst);
        return;
    }
    if !state.0.load(Ordering::SeqCst) {
        return;
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(BLUR_SETTLE).await;
        if let Some(window) = app.get_webview_window(LABEL)
            && window.is_visible().unwrap_or(false)
            && !window.is_focused().unwrap_or(true)
        {
            hide(&window);
        }
    });
}

/// Why the stored shortcut could not be registered at start, for the settings page.
#[derive(Debug, Default)]
pub struct ShortcutProblem(Mutex<Option<String>>);

impl ShortcutProblem {
    pub fn get(&self) -> Option<String> {
        lock(&self.0).clone()
    }

    pub fn set(&self, problem: Option<String>) {
        *lock(&self.0) = problem;
    }
}

/// Makes `wanted` Kaito's only global shortcut (`None`: none). On failure nothing is
/// registered; the caller puts the previous one back.
pub fn register<R: Runtime>(app: &AppHandle<R>, wanted: Option<&str>) -> Result<(), IpcError> {
    let parsed = wanted
        .map(|text| {
            Shortcut::from_str(text).map_err(|error| {
                IpcError::from(AppError::ShortcutInvalid {
                    text: text.to_owned(),
                    detail: error.to_string(),
                })
            })
        })
        .transpose()?;
    let shortcuts = app.global_shortcut();
    if let Err(error) = shortcuts.unregister_all() {
        tracing::warn!(%error, "could not release the previous global shortcut");
    }
    if let (Some(shortcut), Some(text)) = (parsed, wanted) {
        shortcuts.register(shortcut).map_err(|error| {
            tracing::info!(%error, "global shortcut refused");
            IpcError::from(AppError::ShortcutTaken(readable(text)))
        })?;
    }
    Ok(())
}

/// An accelerator as the keys read: "CommandOrControl+Alt+K" → "Ctrl+Alt+K".
fn readable(accelerator: &str) -> String {
    let command = if cfg!(target_os = "macos") {
        "Cmd"
    } else {
        "Ctrl"
    };
    accelerator
        .split('+')
        .map(|part| match part.to_ascii_lowercase().as_str() {
            "commandorcontrol" | "cmdorctrl" | "cmdorcontrol" | "commandorctrl" => command,
            "control" | "ctrl" => "Ctrl",
            _ => part,
        })
        .collect::<Vec<_>>()
        .join("+")
}

/// Replaces the registered shortcut, putting the previous one back if the new one
/// is refused.
pub fn replace<R: Runtime>(
    app: &AppHandle<R>,
    previous: Option<&str>,
    wanted: Option<&str>,
) -> Result<(), IpcError> {
    if previous == wanted {
        return Ok(());
    }
    register(app, wanted).inspect_err(|_| {
        if let Err(error) = register(app, previous) {
            tracing::warn!(code = %error.code, "the previous global shortcut is lost too");
        }
    })
}

/// Opens the palette, or closes it if it is showing.
pub fn toggle<R: Runtime>(app: &AppHandle<R>) {
    match app.get_webview_window(LABEL) {
        Some(window) if window.is_visible().unwrap_or(false) => hide(&window),
        Some(window) => reveal(&window),
        // Built off the event loop's callback: creating a webview from inside one
        // can deadlock on some platforms.
        None => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                match build(&app) {
                    Ok(window) => reveal(&window),
                    Err(error) => tracing::warn!(%error, "could not open the palette"),
                }
            });
        }
    }
}

fn build<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<WebviewWindow<R>> {
    WebviewWindowBuilder::new(app, LABEL, WebviewUrl::App("index.html".into()))
        .title("Kaito quick copy")
        .inner_size(460.0, 360.0)
        .resizable(false)
        .decorations(false)
        .always_on_top(true)
        .skip_taskbar(true)
        .center()
        .visible(false)
        .build()
}

fn reveal<R: Runtime>(window: &WebviewWindow<R>) {
    if let Some(focus) = window.try_state::<PaletteFocus>() {
        focus.0.store(false, Ordering::SeqCst);
    }
    let shown = window
        .center()
        .and_then(|()| window.show())
        .and_then(|()| window.set_focus());
    if let Err(error) = shown {
        tracing::warn!(%error, "could not show the palette");
    }
    let _ = window.emit_to(LABEL, OPENED_EVENT, ());
}

pub fn hide<R: Runtime>(window: &WebviewWindow<R>) {
    if let Some(focus) = window.try_state::<PaletteFocus>() {
        focus.0.store(false, Ordering::SeqCst);
    }
    if let Err(error) = window.hide() {
        tracing::warn!(%error, "could not hide the palette");
    }
}

/// Hides the palette if it exists (after a copy, Escape, or losing focus).
pub fn close<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window(LABEL) {
        hide(&window);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn problems_name_the_keys_as_printed_on_them() {
        let expected = if cfg!(target_os = "macos") {
            "Cmd+Alt+K"
        } else {
            "Ctrl+Alt+K"
        };
        assert_eq!(super::readable("CommandOrControl+Alt+K"), expected);
        assert_eq!(super::readable("Control+Shift+J"), "Ctrl+Shift+J");
    }
}
