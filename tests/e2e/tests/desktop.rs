//! Living on the desktop: copied codes leave the clipboard when they expire (but
//! never the user's own later copy), start at login writes a real login item, the
//! window comes back at the size it was left, and an idle app locks itself.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::doc_markdown)]

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kaito_e2e::{AppSession, clipboard_text, plausible_codes};

/// A 10-second period: expiry comes well before the 30-second clear delay.
const SHORT_URI: &str = "otpauth://totp/Shortlived:dan?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Shortlived&period=10";
const URI: &str =
    "otpauth://totp/Vaulted:carol?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Vaulted";
const PASSPHRASE: &str = "correct horse battery staple";

fn set_clipboard(text: &str) {
    let mut xclip = Command::new("xclip")
        .args(["-selection", "clipboard", "-i"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("xclip is installed");
    xclip
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    xclip.wait().unwrap();
}

async fn clipboard_becomes(what: &str, limit: Duration, accept: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let text = clipboard_text();
        if accept(&text) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: the clipboard still holds {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn copied_codes_leave_the_clipboard_when_they_expire() {
    let session = AppSession::start(&[]).await;
    session.add_by_uri(SHORT_URI).await;
    session.wait_issuers(&["Shortlived"]).await;

    session.click("[data-token-id] button.copy").await;
    let copied = clipboard_becomes("copy", Duration::from_secs(10), |text| {
        plausible_codes(SHORT_URI).contains(&text.to_owned())
    })
    .await;
    // Expires within 10 s (at least 5 s to paste): cleared long before the 30 s delay.
    let cleared_by = Instant::now() + Duration::from_secs(13);
    clipboard_becomes("expiry", Duration::from_secs(13), |text| text != copied).await;
    assert!(Instant::now() < cleared_by);

    // Something the user copies afterwards is theirs: it stays.
    session.click("[data-token-id] button.copy").await;
    clipboard_becomes("second copy", Duration::from_secs(10), |text| {
        plausible_codes(SHORT_URI).contains(&text.to_owned())
    })
    .await;
    set_clipboard("my own note");
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert_eq!(clipboard_text(), "my own note");
    session.finish().await;
}

#[tokio::test]
async fn start_at_login_writes_and_removes_a_login_item() {
    // The login item goes to ~/.config/autostart: a throwaway home keeps the real one
    // untouched (the keychain is reached over D-Bus, not through HOME).
    let home = tempfile::tempdir().unwrap();
    let session = AppSession::start(&[("HOME", home.path().to_str().unwrap())]).await;
    session.click("[data-testid=nav-settings]").await;
    session
        .wait_js(
            "document.querySelector('[data-testid=autostart]')?.disabled === false",
            "the start-at-login switch",
        )
        .await;
    assert_eq!(
        session
            .eval("document.querySelector('[data-testid=autostart]').checked")
            .await,
        false,
        "off by default"
    );
    session.click("[data-testid=autostart]").await;
    let item = home.path().join(".config/autostart/Kaito.desktop");
    let deadline = Instant::now() + Duration::from_secs(15);
    while !item.is_file() {
        assert!(
            Instant::now() < deadline,
            "no login item at {}",
            item.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let entry = std::fs::read_to_string(&item).unwrap();
    let exec = entry
        .lines()
        .find(|line| line.starts_with("Exec="))
        .expect("an Exec line");
    assert!(
        exec.contains("kaito") && exec.contains("--hidden"),
        "the login item starts Kaito in the tray: {exec}"
    );
    session.click("[data-testid=autostart]").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while item.exists() {
        assert!(Instant::now() < deadline, "the login item stayed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    session.finish().await;
}

#[tokio::test]
async fn the_window_comes_back_at_the_size_it_was_left() {
    let session = AppSession::start(&[]).await;
    session.text_of("[data-testid=empty-state]").await;
    let (width, height) = session.client.get_window_size().await.unwrap();
    let wanted = (width + 123, height - 67);
    session.resize_main_window(
        u32::try_from(wanted.0).unwrap(),
        u32::try_from(wanted.1).unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while session.client.get_window_size().await.unwrap() != wanted {
        assert!(Instant::now() < deadline, "the window did not resize");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Saved once the resize settles (no clean quit needed).
    let saved = session.data_dir.path().join("window-state.json");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&saved).is_ok_and(|text| text.contains(&wanted.0.to_string())) {
        assert!(Instant::now() < deadline, "the window size was not saved");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let data_dir = session.data_dir.clone();
    session.finish().await;

    let again = AppSession::start_in(data_dir, &[]).await;
    again.text_of("[data-testid=empty-state]").await;
    assert_eq!(again.client.get_window_size().await.unwrap(), wanted);
    again.finish().await;
}

#[tokio::test]
async fn an_idle_app_locks_itself() {
    let session = AppSession::start(&[]).await;
    session.add_by_uri(URI).await;
    session.wait_issuers(&["Vaulted"]).await;
    session.set_passphrase(PASSPHRASE).await;
    session.select("[data-testid=auto-lock]", "1").await;
    session
        .wait_content("[data-testid=settings-saved]", |t| t == "Saved")
        .await;
    session.click("[data-testid=nav-tokens]").await;
    // Nobody touches it: one idle minute (checked every 5 s) later it is locked.
    session
        .wait_js_for(
            Duration::from_secs(120),
            "document.querySelector('[data-testid=lock-screen]')",
            "the lock screen after a minute idle",
        )
        .await;
    assert_eq!(
        session
            .eval("document.querySelectorAll('[data-testid=token-code]').length")
            .await,
        0,
        "no code stays on screen once locked"
    );
    session.finish().await;
}
