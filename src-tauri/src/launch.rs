//! `otpauth://` links that start Kaito: from the command line, from a second launch
//! (which hands its arguments to the running app and exits), or from the OS's URL
//! handler. The link waits here until the window asks for it, then opens in the add
//! dialog with its first-code check like any pasted link. `kaito://join` invite
//! links come the same way and open the team's join form.

use std::sync::Mutex;

use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::state::lock;

/// Event telling the window a link is waiting.
pub const OPEN_URI_EVENT: &str = "open-uri";

/// The first `otpauth://`, `otpauth-migration://` or `kaito://` argument, if any.
pub fn link_argument<I: IntoIterator<Item = S>, S: AsRef<str>>(args: I) -> Option<String> {
    args.into_iter()
        .map(|arg| arg.as_ref().trim().to_owned())
        .find(|arg| {
            let lower = arg.to_ascii_lowercase();
            lower.starts_with("otpauth://")
                || lower.starts_with("otpauth-migration://")
                || lower.starts_with("kaito://")
        })
}

#[derive(Debug, Default)]
pub struct LaunchUri(Mutex<Option<String>>);

impl LaunchUri {
    pub fn new(uri: Option<String>) -> Self {
        Self(Mutex::new(uri))
    }

    /// Hands the waiting link over once.
    pub fn take(&self) -> Option<String> {
        lock(&self.0).take()
    }

    fn put(&self, uri: String) {
        *lock(&self.0) = Some(uri);
    }
}

/// A link arrived while running: keep it, bring the window forward, tell the UI.
pub fn deliver<R: Runtime>(app: &AppHandle<R>, uri: String) {
    app.state::<LaunchUri>().put(uri);
    crate::tray::show_main_window(app);
    let _ = app.emit(OPEN_URI_EVENT, ());
}

/// The D-Bus name (Linux) that makes Kaito single-instance: one per data directory, so
/// a portable install or a test's app is not mistaken for the user's own.
pub fn instance_id(identifier: &str, profile: &str) -> String {
    if profile == "default" {
        identifier.to_owned()
    } else {
        // D-Bus names allow letters, digits, '_' and '-' between dots.
        format!(
            "{identifier}.{}",
            profile.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_link_among_other_arguments() {
        assert_eq!(
            link_argument(["/usr/bin/kaito", "--flag", " otpauth://totp/X?secret=AB "]),
            Some("otpauth://totp/X?secret=AB".to_owned())
        );
        assert_eq!(
            link_argument(["kaito", "OTPAUTH-MIGRATION://offline?data=x"]).as_deref(),
            Some("OTPAUTH-MIGRATION://offline?data=x")
        );
        assert_eq!(
            link_argument(["kaito", "kaito://join?server=x&invite=y"]).as_deref(),
            Some("kaito://join?server=x&invite=y")
        );
        assert_eq!(link_argument(["kaito", "https://example.com"]), None);
        assert_eq!(link_argument(Vec::<String>::new()), None);
    }

    #[test]
    fn a_link_is_handed_over_once() {
        let waiting = LaunchUri::new(Some("otpauth://totp/A?secret=AB".into()));
        assert!(waiting.take().is_some());
        assert_eq!(waiting.take(), None);
    }

    #[test]
    fn instance_ids_differ_per_data_directory() {
        assert_eq!(
            instance_id("dev.kaito.authenticator", "default"),
            "dev.kaito.authenticator"
        );
        assert_eq!(
            instance_id("dev.kaito.authenticator", "dir-00ff"),
            "dev.kaito.authenticator.dir_00ff"
        );
    }
}
