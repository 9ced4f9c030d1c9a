//! The app lock and settings: set a passphrase, lock, a wrong passphrase refused, unlock;
//! a restart opens locked; the theme setting applies and persists.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::doc_markdown)]

use kaito_e2e::AppSession;

const URI: &str =
    "otpauth://totp/Vaulted:carol?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Vaulted";
const PASSPHRASE: &str = "correct horse battery staple";

#[tokio::test]
async fn passphrase_lock_unlock_restart_and_theme() {
    let session = AppSession::start(&[]).await;
    session.click("[data-testid=add-token]").await;
    session.type_into("[data-testid=add-uri]", URI).await;
    session.click("[data-testid=add-continue]").await;
    session.click("[data-testid=verify-confirm]").await;
    session
        .wait_js(
            "document.querySelector('[data-testid=token-code]')?.textContent",
            "the token's code",
        )
        .await;

    // Set a passphrase in Settings.
    session.click("[data-testid=nav-settings]").await;
    session
        .type_into("[data-testid=passphrase-new]", PASSPHRASE)
        .await;
    session
        .type_into("[data-testid=passphrase-repeat]", "something else")
        .await;
    session.click("[data-testid=passphrase-save]").await;
    let error = session
        .wait_js(
            "document.querySelector('[data-testid=passphrase-error]')?.textContent",
            "mismatch error",
        )
        .await;
    assert!(error.as_str().unwrap().contains("differ"), "{error}");
    session
        .type_into("[data-testid=passphrase-repeat]", PASSPHRASE)
        .await;
    session.click("[data-testid=passphrase-save]").await;
    session
        .wait_js(
            "document.querySelector('[data-testid=lock-now]')",
            "the Lock now button",
        )
        .await;

    // Dark theme applies at once.
    session.select("[data-testid=theme]", "dark").await;
    session
        .wait_js(
            "document.documentElement.dataset.theme === 'dark'",
            "dark theme",
        )
        .await;
    session.screenshot("settings-dark").await;

    // Lock: the lock screen replaces everything and no code stays in the page.
    session.click("[data-testid=lock-now]").await;
    session
        .wait_js(
            "document.querySelector('[data-testid=lock-screen]')",
            "the lock screen",
        )
        .await;
    assert_eq!(
        session
            .eval("document.querySelectorAll('[data-testid=token-code]').length")
            .await,
        0
    );
    session.screenshot("locked").await;

    // A wrong passphrase is refused; the right one brings the codes back.
    session
        .type_into("[data-testid=unlock-passphrase]", "wrong horse")
        .await;
    session.click("[data-testid=unlock-submit]").await;
    let error = session
        .wait_js(
            "document.querySelector('[data-testid=unlock-error]')?.textContent",
            "wrong passphrase error",
        )
        .await;
    assert!(
        error.as_str().unwrap().contains("Wrong passphrase"),
        "{error}"
    );
    session
        .type_into("[data-testid=unlock-passphrase]", PASSPHRASE)
        .await;
    session.click("[data-testid=unlock-submit]").await;
    session.click("[data-testid=nav-tokens]").await;
    session
        .wait_js(
            "document.querySelector('[data-testid=token-code]')?.textContent",
            "codes after unlock",
        )
        .await;

    reveal_asks_for_the_passphrase_and_shows_a_scannable_qr(&session).await;
    restart_opens_locked(session).await;
}

/// "Show secret and QR" wants the passphrase again; the QR on screen scans back to
/// the same token.
async fn reveal_asks_for_the_passphrase_and_shows_a_scannable_qr(session: &AppSession) {
    session.click("[data-testid=token-details]").await;
    session.click("[data-testid=reveal-secret]").await;
    session
        .type_into("[data-testid=reveal-passphrase]", "not it")
        .await;
    session.click("[data-testid=reveal-confirm]").await;
    let error = session
        .wait_js(
            "document.querySelector('[data-testid=reveal-error]')?.textContent",
            "wrong passphrase on reveal",
        )
        .await;
    assert_eq!(error.as_str().unwrap().trim(), "Wrong passphrase.");
    assert_eq!(
        session
            .eval("document.querySelectorAll('[data-testid=revealed]').length")
            .await,
        0
    );
    session
        .type_into("[data-testid=reveal-passphrase]", PASSPHRASE)
        .await;
    session.click("[data-testid=reveal-confirm]").await;
    let secret = session
        .wait_js(
            "document.querySelector('[data-testid=reveal-secret-text]')?.textContent",
            "the revealed secret",
        )
        .await;
    assert_eq!(
        secret.as_str().unwrap(),
        "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP"
    );
    session
        .eval("(document.querySelector('[data-testid=reveal-qr]').scrollIntoView({block: 'center'}), true)")
        .await;
    let shot = session.screenshot("reveal-qr").await;
    let png = std::fs::read(&shot).unwrap();
    let expected = kaito_core::uri::parse(URI).unwrap();
    match kaito_core::qr::decode_image_bytes(&png).expect("the QR on screen decodes") {
        kaito_core::qr::ScanOutcome::Token(parsed) => assert_eq!(parsed.token, expected),
        other @ kaito_core::qr::ScanOutcome::Migration(_) => {
            panic!("the QR on screen is not the token: {other:?}")
        }
    }
    session.click("[data-testid=reveal-hide]").await;
    session
        .click("[data-testid=token-detail] button[aria-label='Close details']")
        .await;
}

/// A restart opens locked (the key is no longer in the keychain), in the dark theme.
async fn restart_opens_locked(session: AppSession) {
    let data_dir = session.data_dir.clone();
    session.finish().await;
    let session = AppSession::start_in(data_dir, &[]).await;
    session
        .wait_js(
            "document.querySelector('[data-testid=lock-screen]')",
            "the lock screen after restart",
        )
        .await;
    session
        .wait_js(
            "document.documentElement.dataset.theme === 'dark'",
            "dark theme after restart",
        )
        .await;
    session
        .type_into("[data-testid=unlock-passphrase]", PASSPHRASE)
        .await;
    session.click("[data-testid=unlock-submit]").await;
    let issuer = session
        .wait_js(
            "document.querySelector('[data-testid=token-issuer]')?.textContent",
            "the token after unlock",
        )
        .await;
    assert_eq!(issuer.as_str().unwrap().trim(), "Vaulted");
    session.finish().await;
}

/// The native question asked before a secret is shown without a passphrase
/// (src-tauri's `REVEAL_DIALOG_TITLE`).
const REVEAL_DIALOG: &str = "Kaito: show a secret?";

/// Without a passphrase, a secret is shown only after a yes in a native dialog. A
/// script in the page calling the command itself, as injected code would, gets
/// nothing when the person says no; the person's own "Show secret" goes through.
#[tokio::test]
async fn without_a_passphrase_a_secret_shows_only_after_a_native_yes() {
    let session = AppSession::start(&[]).await;
    session.add_by_uri(URI).await;
    session.wait_issuers(&["Vaulted"]).await;

    session
        .eval(
            "(() => {
                const invoke = window.__TAURI_INTERNALS__.invoke;
                window.scriptReveal = null;
                invoke('list_tokens')
                    .then((tokens) => invoke('reveal_secret', { id: tokens[0].id, passphrase: null }))
                    .then((revealed) => (window.scriptReveal = { secret: revealed.secret }),
                          (failure) => (window.scriptReveal = { refused: failure.code }));
                return true;
            })()",
        )
        .await;
    session.answer_dialog(REVEAL_DIALOG, &["Escape"]);
    let outcome = session
        .wait_js("window.scriptReveal", "the script's reveal to end")
        .await;
    assert_eq!(
        outcome,
        serde_json::json!({ "refused": "reveal.not_confirmed" }),
        "a dialog answered no gives the script no secret"
    );

    session.click("[data-testid=token-details]").await;
    session.click("[data-testid=reveal-secret]").await;
    session.answer_dialog(REVEAL_DIALOG, &["Escape"]);
    let refused = session
        .wait_js(
            "document.querySelector('[data-testid=reveal-error]')?.textContent",
            "the refusal on screen",
        )
        .await;
    assert_eq!(
        refused.as_str().unwrap().trim(),
        "The secret stays hidden: showing it was not confirmed."
    );
    assert_eq!(
        session
            .eval("document.querySelectorAll('[data-testid=revealed]').length")
            .await,
        0
    );

    session.click("[data-testid=reveal-secret]").await;
    session.answer_dialog(REVEAL_DIALOG, &["Return"]);
    let secret = session
        .wait_js(
            "document.querySelector('[data-testid=reveal-secret-text]')?.textContent",
            "the revealed secret",
        )
        .await;
    assert_eq!(
        secret.as_str().unwrap(),
        "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP"
    );
    session.finish().await;
}
