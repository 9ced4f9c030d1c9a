//! The whole team flow in two real app windows, two profiles, against a real
//! `kaito-server` on loopback: Olivia (the owner) shares a token code-only with Mia
//! from the Admin page; Mia sees the right codes and no seed reaches her device
//! (vault files or keychain); a copy made while the server is down reaches the team
//! log once when it is back; a text to the team number appears in Mia's inbox; and
//! Olivia finds the copy in the audit viewer and exports it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::doc_markdown)]

use std::time::{Duration, Instant};

use kaito_e2e::team_server::{
    MEMBER_PASSWORD, OWNER_PASSWORD, SEED, SHARED, share_and_choose_grant, sign_in_as,
    sign_in_as_mia, team_with_member, wait_for_clipboard,
};
use kaito_e2e::{AppSession, digits, keychain_profile, plausible_codes};
use kaito_vault::{KeyNamespace, KeychainKeyStore, SecretSlot as _};

/// The code copies of `member` in the team log.
async fn copies_by(team: &kaito_e2e::team_server::Team, member: &str) -> usize {
    team.server
        .audit_events(&team.owner.access_token)
        .await
        .iter()
        .filter(|event| event.kind == "code.copied" && event.actor.as_deref() == Some(member))
        .count()
}

#[tokio::test]
#[allow(clippy::too_many_lines)] // one story, told in order
async fn an_admin_shares_a_token_code_only_and_every_member_copy_is_logged_once() {
    let mut team = team_with_member().await;
    let olivia = AppSession::start(&[]).await;
    let mia = AppSession::start(&[]).await;
    sign_in_as(&olivia, &team, "olivia@example.com", OWNER_PASSWORD).await;
    sign_in_as_mia(&mia, &team, MEMBER_PASSWORD).await;
    olivia
        .wait_content("[data-testid=team-status]", |text| text.contains("(owner)"))
        .await;
    mia.wait_content("[data-testid=team-status]", |text| {
        text.contains("(member)")
    })
    .await;

    // Olivia shares the token from the Admin page and grants Mia codes only.
    olivia.click("[data-testid=nav-admin]").await;
    share_and_choose_grant(&olivia, &format!("user:{}", team.member_id), "code").await;
    olivia.click("[data-testid=grant-add]").await;
    let grants = olivia
        .wait_content("[data-testid=token-grants]", |text| text.contains("Mia"))
        .await;
    assert!(grants.contains("Mia · codes only"), "{grants}");
    olivia.screenshot("admin-tokens").await;

    // Mia sees the shared token with the server's codes.
    mia.click("[data-testid=nav-tokens]").await;
    let badge = mia
        .wait_content("[data-testid=team-badge]", |text| !text.is_empty())
        .await;
    assert_eq!(badge, "Team · codes only");
    let shown = digits(
        &mia.wait_content("[data-testid=team-code]", |text| !text.is_empty())
            .await,
    );
    assert!(plausible_codes(SHARED).contains(&shown), "{shown}");

    // No seed on Mia's device: not in her vault's files, not in her keychain.
    for entry in std::fs::read_dir(mia.data_dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(SEED),
                "the seed is in {}",
                path.display()
            );
        }
    }
    let keys =
        KeychainKeyStore::native(KeyNamespace::current(keychain_profile(mia.data_dir.path())))
            .unwrap();
    let sign_in = keys.secret("team").load().unwrap().expect("Mia's sign-in");
    assert!(!sign_in.contains(SEED), "the seed is in the keychain");

    // The server goes down; Mia copies the code she still has.
    team.server.stop().await;
    mia.click("[data-testid=team-token] button.copy").await;
    wait_for_clipboard(|text| plausible_codes(SHARED).contains(&text.to_owned())).await;
    mia.click("[data-testid=nav-settings]").await;
    mia.wait_content("[data-testid=team-sync]", |text| text.contains("waiting"))
        .await;

    // Back up: the copy arrives at the next retry (backoff: up to a minute here),
    // once.
    team.server.restart().await;
    let deadline = Instant::now() + Duration::from_secs(90);
    while copies_by(&team, &team.member_id).await == 0 {
        assert!(Instant::now() < deadline, "the copy never reached the log");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    mia.wait_content("[data-testid=team-sync]", |text| text.starts_with("Every"))
        .await;
    assert_eq!(copies_by(&team, &team.member_id).await, 1);

    // A text to the team number appears in Mia's inbox.
    team.share_inbox_with_member().await;
    team.server
        .twilio_sends("SM-e2e", "Your Contoso code is 481 516")
        .await;
    mia.click("[data-testid=nav-inbox]").await;
    let code = mia
        .wait_content("[data-testid=sms-code]", |text| !text.is_empty())
        .await;
    assert_eq!(code, "481 516");

    // Olivia finds the copy in the audit viewer and exports what she filtered.
    olivia.click("[data-testid=admin-audit]").await;
    olivia.type_into("[data-testid=audit-kind]", "code.").await;
    olivia.click("[data-testid=audit-apply]").await;
    // The filtered list: code events only, the copy among them once. (The tab's
    // first, unfiltered load must not win over it, however late it answers.)
    olivia
        .wait_js(
            "(() => { const kinds = Array.from(document.querySelectorAll('[data-testid=audit-row]'), (row) => row.dataset.kind); \
             return kinds.length > 0 && kinds.every((kind) => kind.startsWith('code.')) \
               && kinds.filter((kind) => kind === 'code.copied').length === 1; })()",
            "the filtered audit view with the copy",
        )
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let kinds = olivia
        .eval("Array.from(document.querySelectorAll('[data-testid=audit-row]'), (row) => row.dataset.kind)")
        .await;
    assert!(
        kinds
            .as_array()
            .unwrap()
            .iter()
            .all(|kind| kind.as_str().unwrap().starts_with("code.")),
        "a late answer replaced the filtered view: {kinds}"
    );
    olivia.screenshot("admin-audit").await;
    olivia.click("[data-testid=audit-export-csv]").await;
    let toast = olivia
        .wait_content("[data-testid=toast]", |text| text.starts_with("Exported"))
        .await;
    let path = toast
        .split(" to ")
        .nth(1)
        .expect("the export's path")
        .trim();
    let csv = std::fs::read_to_string(path).unwrap();
    std::fs::remove_file(path).unwrap();
    assert!(csv.starts_with("seq,time,actor,kind,subject,details,hash\r\n"));
    assert_eq!(csv.matches(",code.copied,").count(), 1, "{csv}");
    assert!(!csv.contains(",login."), "the export ignored the filter");

    mia.finish().await;
    olivia.finish().await;
}
