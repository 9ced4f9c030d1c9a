//! The app lock covers team mode (#16 M9). Mia, signed in to her team with a
//! passphrase set, sees a shared code; she locks Kaito. From then until the unlock
//! no code reaches the window or the palette (opened with the real shortcut), the
//! server computes none for her and nothing is logged as viewed, and the team
//! sign-in in the keychain, read over the Secret Service as any other process
//! of the session could, is ciphertext. After the unlock the codes come back.
//!
//! One test in its own binary: a global shortcut belongs to one app on the display.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::doc_markdown)]

use std::time::Duration;

use kaito_e2e::team_server::{
    MEMBER_PASSWORD, SHARED, Team, sign_in_as_mia, team_with_shared_token, wait_for_audit,
};
use kaito_e2e::{
    AppSession, digits, keychain_profile, open_palette_and_type, plausible_codes, xdotool,
};
use kaito_vault::{KeyNamespace, KeychainKeyStore, SecretSlot as _};

const PASSPHRASE: &str = "correct horse battery";

/// Code views and serves in the team's log at or after `since_ms`.
async fn code_events_since(team: &Team, since_ms: i64) -> Vec<String> {
    team.server
        .audit_events(&team.owner.access_token)
        .await
        .into_iter()
        .filter(|event| event.at >= since_ms && event.kind.starts_with("code."))
        .map(|event| format!("{} {:?}", event.kind, event.details))
        .collect()
}

/// The team entry in the keychain, read over the Secret Service as any other
/// process of the desktop session could.
fn keychain_team_entry(session: &AppSession) -> String {
    let keys = KeychainKeyStore::native(KeyNamespace::current(keychain_profile(
        session.data_dir.path(),
    )))
    .unwrap();
    keys.secret("team")
        .load()
        .unwrap()
        .expect("the team sign-in is in the keychain")
        .to_string()
}

/// Invokes an app command from the page; answers the error code, or "answered"
/// (the answer is then in `window.__kaitoAnswer`).
async fn ask_core(session: &AppSession, command: &str) -> String {
    session
        .eval(&format!(
            "(window.__kaitoProbe = null, window.__TAURI_INTERNALS__.invoke('{command}', {{ tokenId: '{TOKEN}' }}) \
             .then((answer) => {{ window.__kaitoAnswer = answer; window.__kaitoProbe = 'answered'; }}, \
                   (error) => {{ window.__kaitoProbe = error.code ?? JSON.stringify(error); }}), true)"
        ))
        .await;
    let answer = session.wait_js("window.__kaitoProbe", command).await;
    answer.as_str().unwrap().to_owned()
}

/// Any well-formed shared-token id: a locked app refuses before looking it up.
const TOKEN: &str = "tok_AAAAAAAAAAAAAAAAAAAAAA";

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_locked_app_shows_fetches_and_logs_no_team_code() {
    let team = team_with_shared_token().await;
    let session = AppSession::start(&[]).await;
    sign_in_as_mia(&session, &team, MEMBER_PASSWORD).await;
    session
        .wait_content("[data-testid=team-status]", |text| text.contains("Acme"))
        .await;
    session.set_passphrase(PASSPHRASE).await;
    session.click("[data-testid=nav-tokens]").await;
    let shown = session
        .wait_content("[data-testid=team-code]", |text| digits(text).len() == 6)
        .await;
    assert!(plausible_codes(SHARED).contains(&digits(&shown)), "{shown}");
    let entry = keychain_team_entry(&session);
    assert!(
        entry.starts_with("kaito-sealed:v1:"),
        "the team sign-in is kept in the clear"
    );
    assert!(!entry.contains("refresh_token") && !entry.contains("device_key"));

    // The view is in the team's log before the lock, so nothing in flight blurs it.
    wait_for_audit(&team, "the view before the lock", |event| {
        event.kind == "code.viewed"
    })
    .await;
    session.click("[data-testid=nav-settings]").await;
    session.click("[data-testid=lock-now]").await;
    session
        .wait_js(
            "document.querySelector('[data-testid=lock-screen]')",
            "the lock screen",
        )
        .await;
    let locked_at = now_ms();

    // Asked directly, as a script in the window would, the core refuses.
    for command in ["team_tokens", "team_admin_overview", "copy_team_code"] {
        assert_eq!(
            ask_core(&session, command).await,
            "vault.locked",
            "{command} while locked"
        );
    }
    assert_eq!(ask_core(&session, "team_inbox").await, "answered");
    let inbox = session.eval("window.__kaitoAnswer.messages.length").await;
    assert_eq!(inbox, 0, "texts left a locked app");

    // The palette, opened and searched while locked, asks the core for no team code.
    open_palette_and_type("acme").await;
    xdotool(&["key", "Escape"]);
    // Long enough for the token list's polling and the inbox to have asked.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let page = session.eval("document.body.textContent").await;
    let page = digits(page.as_str().unwrap());
    for code in plausible_codes(SHARED) {
        assert!(!page.contains(&code), "a team code is in the locked window");
    }
    assert_eq!(
        code_events_since(&team, locked_at).await,
        Vec::<String>::new(),
        "the locked app fetched or logged codes"
    );
    // Every call a locked app would make on its own was refused before the server.
    assert!(keychain_team_entry(&session).starts_with("kaito-sealed:v1:"));

    // Unlocked, the codes come back, fetched from the server again.
    session
        .type_into("[data-testid=unlock-passphrase]", PASSPHRASE)
        .await;
    session.click("[data-testid=unlock-submit]").await;
    session.click("[data-testid=nav-tokens]").await;
    session
        .wait_content("[data-testid=team-code]", |text| digits(text).len() == 6)
        .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !code_events_since(&team, locked_at)
        .await
        .iter()
        .any(|event| event.starts_with("code.served"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no code after the unlock"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    session.finish().await;
}
