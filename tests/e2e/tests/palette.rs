//! The global shortcut and its quick-search palette, driven with real X key presses
//! (xdotool): the shortcut opens the palette over everything, typing narrows it,
//! Enter copies and the palette goes away; Escape closes it; a newly recorded
//! shortcut replaces the old one at once.
//!
//! One test in its own binary: a global shortcut belongs to one app on the display,
//! so no other Kaito may run meanwhile.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::doc_markdown)]

use std::process::Command;
use std::time::{Duration, Instant};

use kaito_e2e::{AppSession, clipboard_text, plausible_codes};

const GITHUB_URI: &str =
    "otpauth://totp/GitHub:bob?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=GitHub";
const GITLAB_URI: &str =
    "otpauth://totp/GitLab:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=GitLab";
const PALETTE_TITLE: &str = "Kaito quick copy";

fn xdotool(args: &[&str]) -> std::process::Output {
    Command::new("xdotool")
        .args(args)
        .output()
        .expect("xdotool is installed (make test installs it)")
}

/// The X ids of visible windows whose title is exactly `title`.
fn visible_windows(title: &str) -> Vec<String> {
    let output = xdotool(&["search", "--onlyvisible", "--name", &format!("^{title}$")]);
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

async fn wait_until(what: &str, limit: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what} did not happen");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn palette_shown(shown: bool) {
    let what = if shown {
        "the palette appearing"
    } else {
        "the palette going away"
    };
    wait_until(what, Duration::from_secs(20), || {
        visible_windows(PALETTE_TITLE).is_empty() != shown
    })
    .await;
}

#[tokio::test]
async fn the_shortcut_opens_a_palette_that_copies_with_enter() {
    let session = AppSession::start(&[]).await;
    session.add_by_uri(GITHUB_URI).await;
    session.add_by_uri(GITLAB_URI).await;
    session.wait_issuers(&["GitHub", "GitLab"]).await;

    // The default shortcut, pressed on the keyboard of the display.
    xdotool(&["key", "ctrl+alt+k"]);
    palette_shown(true).await;
    // It takes the keyboard itself: typing goes straight into its search.
    tokio::time::sleep(Duration::from_millis(500)).await;
    xdotool(&["type", "--delay", "60", "gitla"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    xdotool(&["key", "Return"]);
    wait_until(
        "a GitLab code on the clipboard",
        Duration::from_secs(15),
        || plausible_codes(GITLAB_URI).contains(&clipboard_text()),
    )
    .await;
    palette_shown(false).await;

    // Escape closes without copying.
    xdotool(&["key", "ctrl+alt+k"]);
    palette_shown(true).await;
    let before = clipboard_text();
    tokio::time::sleep(Duration::from_millis(500)).await;
    xdotool(&["key", "Escape"]);
    palette_shown(false).await;
    assert_eq!(clipboard_text(), before, "Escape copied something");

    // Record a new shortcut in Settings: the keys are pressed for real.
    session.click("[data-testid=nav-settings]").await;
    // The window takes the keyboard first: a focus change while recording would
    // (rightly) end the recording.
    let main = visible_windows("Kaito");
    assert_eq!(main.len(), 1, "one main window: {main:?}");
    xdotool(&["windowfocus", "--sync", &main[0]]);
    session
        .wait_js("document.hasFocus()", "the main window has the keyboard")
        .await;
    session.click("[data-testid=shortcut]").await;
    session
        .wait_content("[data-testid=shortcut]", |t| t.contains("Press the keys"))
        .await;
    xdotool(&["key", "ctrl+alt+j"]);
    session
        .wait_content("[data-testid=shortcut]", |t| t == "Ctrl+Alt+J")
        .await;
    session.screenshot("settings-shortcut").await;

    // The old combination is released, the new one opens the palette.
    xdotool(&["key", "ctrl+alt+k"]);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        visible_windows(PALETTE_TITLE).is_empty(),
        "the old shortcut still opens the palette"
    );
    xdotool(&["key", "ctrl+alt+j"]);
    palette_shown(true).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    xdotool(&["type", "--delay", "60", "hub"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    xdotool(&["key", "Return"]);
    wait_until(
        "a GitHub code on the clipboard",
        Duration::from_secs(15),
        || plausible_codes(GITHUB_URI).contains(&clipboard_text()),
    )
    .await;
    palette_shown(false).await;
    session.finish().await;
}
