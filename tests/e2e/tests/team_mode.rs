//! Team mode in the real window against a real `kaito-server`: a code-only member
//! signs in from Settings, sees the shared token with its badge and the server's
//! code beside their personal tokens, copies it (cleared from the clipboard like any
//! code), and the copy reaches the team's audit log; a wrong password gets a clear
//! message. The shared SMS inbox shows texts live, with the code highlighted, and
//! copying it is audited too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::doc_markdown)]

use std::time::{Duration, Instant};

use kaito_e2e::team_server::{
    MEMBER_PASSWORD, SHARED, sign_in_as_mia, team_with_shared_token, wait_for_audit,
    wait_for_clipboard,
};
use kaito_e2e::{AppSession, clipboard_text, digits, plausible_codes};

#[tokio::test]
async fn a_member_signs_in_sees_the_shared_code_and_its_copy_is_audited() {
    let team = team_with_shared_token().await;
    let session = AppSession::start(&[]).await;

    sign_in_as_mia(&session, &team, "not her password").await;
    let refused = session
        .wait_content("[data-testid=team-error]", |text| !text.is_empty())
        .await;
    assert_eq!(refused, "The email or the password is wrong.");

    session
        .type_into("[data-testid=team-password]", MEMBER_PASSWORD)
        .await;
    session.click("[data-testid=team-sign-in]").await;
    let status = session
        .wait_content("[data-testid=team-status]", |text| text.contains("Acme"))
        .await;
    assert!(status.contains("mia@example.com (member)"), "{status}");
    session.screenshot("team-settings").await;

    session.click("[data-testid=nav-tokens]").await;
    let badge = session
        .wait_content("[data-testid=team-badge]", |text| !text.is_empty())
        .await;
    assert_eq!(badge, "Team · codes only");
    assert_eq!(
        session.content("[data-testid=team-issuer]").await,
        "Acme VPN"
    );
    let shown = digits(
        &session
            .wait_content("[data-testid=team-code]", |text| !text.is_empty())
            .await,
    );
    assert!(
        plausible_codes(SHARED).contains(&shown),
        "{shown} is not the shared token's code"
    );
    let next = session.content("[data-testid=team-next]").await;
    let next = digits(next.trim_start_matches("next"));
    assert!(
        plausible_codes(SHARED).contains(&next),
        "{next} is not the shared token's next code"
    );
    session.screenshot("team-tokens").await;

    // Showing the code is a view in the team's log — once per code, however often
    // the list is shown again.
    for _ in 0..3 {
        session.click("[data-testid=nav-settings]").await;
        session.click("[data-testid=nav-tokens]").await;
        session
            .wait_content("[data-testid=team-code]", |text| !text.is_empty())
            .await;
    }
    let is_window_view = |event: &kaito_api::AuditEventView| {
        event.kind == "code.viewed" && event.details["details"]["surface"] == "window"
    };
    wait_for_audit(&team, "the view", is_window_view).await;
    let views = team
        .server
        .audit_events(&team.owner.access_token)
        .await
        .into_iter()
        .filter(|event| is_window_view(event))
        .count();
    assert!(views <= 2, "{views} views for at most two periods' codes");

    // A copy lands on the clipboard and, through the outbox, in the team's log.
    session.click("[data-testid=team-token] button.copy").await;
    let copied =
        wait_for_clipboard(|text| plausible_codes(SHARED).contains(&text.to_owned())).await;
    wait_for_audit(&team, "the copy", |event| {
        event.kind == "code.copied" && event.details["details"]["surface"] == "window"
    })
    .await;
    // Like any copied code, it leaves the clipboard when it expires (at the latest
    // after the clipboard setting's 30 s).
    let deadline = Instant::now() + Duration::from_secs(45);
    while clipboard_text() == copied {
        assert!(
            Instant::now() < deadline,
            "the team code stayed on the clipboard"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    session.finish().await;
}

#[tokio::test]
async fn texts_to_a_shared_number_appear_live_in_the_members_inbox() {
    let team = team_with_shared_token().await;
    let number_id = team.share_inbox_with_member().await;
    // Before Mia's app runs: history, listed but not news.
    team.server
        .twilio_sends("SM-old", "Your Contoso code is 111 222")
        .await;
    let session = AppSession::start(&[]).await;
    sign_in_as_mia(&session, &team, MEMBER_PASSWORD).await;
    session
        .wait_content("[data-testid=team-status]", |text| text.contains("Acme"))
        .await;

    session.click("[data-testid=nav-inbox]").await;
    session
        .wait_content("[data-testid=inbox-state]", |text| text.starts_with("Live"))
        .await;
    let history = session
        .wait_content("[data-testid=sms-code]", |text| !text.is_empty())
        .await;
    assert_eq!(history, "111 222");

    // A text arriving while Mia looks at her tokens: counted on the tab, then shown
    // first in the inbox with its code highlighted.
    session.click("[data-testid=nav-tokens]").await;
    team.server
        .twilio_sends("SM-new", "G-230442 is your Google verification code")
        .await;
    let unread = session
        .wait_content("[data-testid=inbox-unread]", |text| !text.is_empty())
        .await;
    assert_eq!(unread, "1");
    session.click("[data-testid=nav-inbox]").await;
    let newest = session
        .wait_content("[data-testid=sms-body]", |text| text.contains("Google"))
        .await;
    assert_eq!(newest, "G-230442 is your Google verification code");
    assert_eq!(session.content("[data-testid=sms] mark").await, "230442");
    session.screenshot("team-inbox").await;

    session.click("[data-testid=sms-copy]").await;
    wait_for_clipboard(|text| text == "230442").await;
    wait_for_audit(&team, "the inbox copy", |event| {
        event.kind == "sms.code_copied"
            && event.subject.as_deref() == Some(number_id.as_str())
            && event.details["details"]["surface"] == "inbox"
    })
    .await;
    assert!(
        session
            .text_of("[data-testid=toast]")
            .await
            .starts_with("Copied 230 442"),
    );
    session.finish().await;
}

#[tokio::test]
async fn a_kept_seed_gives_codes_while_the_server_is_down() {
    let mut team = team_with_shared_token().await;
    team.server
        .call(
            reqwest::Method::POST,
            &format!("/v1/tokens/{}/grants", team.token_id),
            &team.owner.access_token,
            serde_json::json!({ "user_id": team.member_id, "mode": "seed" }),
        )
        .await;
    let session = AppSession::start(&[]).await;
    sign_in_as_mia(&session, &team, MEMBER_PASSWORD).await;
    session
        .wait_content("[data-testid=team-status]", |text| text.contains("Acme"))
        .await;
    session.click("[data-testid=nav-tokens]").await;
    let badge = session
        .wait_content("[data-testid=team-badge]", |text| !text.is_empty())
        .await;
    assert_eq!(badge, "Team · full seed");
    session.click("[data-testid=team-keep]").await;
    session
        .wait_content("[data-testid=team-keep]", |text| text == "On this device ✓")
        .await;

    // The server goes away: the list is marked stale, and the kept seed's code is
    // still there, computed on the device.
    team.server.stop().await;
    session.click("[data-testid=nav-settings]").await;
    session.click("[data-testid=nav-tokens]").await;
    session
        .wait_content("[data-testid=team-stale]", |text| !text.is_empty())
        .await;
    let shown = digits(
        &session
            .wait_content("[data-testid=team-code]", |text| !text.is_empty())
            .await,
    );
    assert!(
        plausible_codes(SHARED).contains(&shown),
        "{shown} is not the shared token's code"
    );
    // With only shared tokens, the personal list's emptiness is one line.
    assert_eq!(
        session.content("[data-testid=empty-state]").await,
        "No personal tokens yet. Add one"
    );
    session.screenshot("team-kept-seed").await;
    session.finish().await;
}
