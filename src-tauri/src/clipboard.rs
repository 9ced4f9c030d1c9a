//! Copying codes: one path for the window, the tray and the palette, so each copy is
//! audited and cleared from the clipboard the same way.

use std::time::Duration;

use tauri::{AppHandle, Runtime};
use tauri_plugin_clipboard_manager::ClipboardExt;

use crate::AppError;
use crate::IpcError;
use crate::state::{AppState, CopiedCode};

/// A code copied in its last moments still gets this long to be pasted; servers
/// accept the previous step for a while anyway.
const MIN_PASTE_WINDOW: Duration = Duration::from_secs(5);

/// When a copied code leaves the clipboard: after the configured delay, or when the
/// code expires if that comes first. `None` when the user chose never to clear.
#[must_use]
pub fn clear_after(setting: Option<Duration>, valid_for: Option<Duration>) -> Option<Duration> {
    let delay = setting?;
    Some(match valid_for {
        Some(valid) => delay.min(valid.max(MIN_PASTE_WINDOW)),
        None => delay,
    })
}

/// Computes the token's code now, puts it on the clipboard and schedules its removal.
pub async fn copy_code<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    id: &str,
) -> Result<CopiedCode, IpcError> {
    let copied = state.code_for_copy(id).await?;
    place(app, &copied, state.clipboard_clear_after())?;
    Ok(copied)
}

/// Puts a code on the clipboard and schedules its removal after `clear_setting`
/// (or when it expires): every copy, personal or team, goes through here.
pub fn place<R: Runtime>(
    app: &AppHandle<R>,
    copied: &CopiedCode,
    clear_setting: Option<Duration>,
) -> Result<(), IpcError> {
    app.clipboard()
        .write_secret(copied.code.clone())
        .map_err(|error| {
            IpcError::from(AppError::ClipboardUnavailable(format!(
                "Could not copy to the clipboard: {error}"
            )))
        })?;
    if let Some(delay) = clear_after(clear_setting, copied.valid_for) {
        schedule_clear(app.clone(), copied.code.clone(), delay);
    }
    Ok(())
}

/// Clears the clipboard after `delay`, but only if it still holds `code`: whatever
/// the user copied since is theirs and stays.
fn schedule_clear<R: Runtime>(app: AppHandle<R>, code: String, delay: Duration) {
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(delay).await;
        let clipboard = app.clipboard();
        if clipboard.read_text().is_ok_and(|current| current == code)
            && let Err(error) = clipboard.clear()
        {
            tracing::warn!(%error, "could not clear the copied code from the clipboard");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::unnecessary_wraps)] // shorthand for the Option arguments
    const fn secs(n: u64) -> Option<Duration> {
        Some(Duration::from_secs(n))
    }

    #[test]
    fn cleared_at_expiry_or_after_the_delay_whichever_comes_first() {
        assert_eq!(clear_after(secs(30), secs(12)), secs(12), "expires first");
        assert_eq!(clear_after(secs(10), secs(25)), secs(10), "delay first");
        assert_eq!(clear_after(secs(30), None), secs(30), "HOTP: the delay");
        assert_eq!(
            clear_after(secs(30), secs(1)),
            secs(5),
            "a last-second copy can still be pasted"
        );
        assert_eq!(clear_after(None, secs(3)), None, "never means never");
    }
}
