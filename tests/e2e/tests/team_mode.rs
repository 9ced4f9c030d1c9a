//! Team mode in the real window against a real `kaito-server`: a code-only member
//! signs in from Settings, sees the shared token with its badge and the server's
//! code beside their personal tokens, copies it (cleared from the clipboard like any
//! code), and the copy reaches the team's audit log; a wrong password gets a clear
//! message.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::doc_markdown)]

use kaito_e2e::team_server::{MEMBER_PASSWORD, SHARED, team_with_shared_token};
use kaito_e2e::{AppSession, clipboard_text, digits, plausible_codes};

#[tokio::test]
async fn a_member_signs_in_sees_the_shared_code_and_its_copy_is_audited() {
    let team = team_with_shared_token().await;
    let session = AppSession::start(&[]).await;

    session.click("[data-testid=nav-settings]").await;
    session
        .type_into("[data-testid=team-server]", &team.server.url())
        .await;
    session
        .type_into("[data-testid=team-email]", "mia@example.com")
        .await;
    session
        .type_into("[data-testid=team-password]", "not her password")
        .await;
    session.click("[data-testid=team-sign-in]").await;
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
    session.screenshot("team-tokens").await;

    // A copy lands on the clipboard and, through the outbox, in the team's log.
    session.click("[data-testid=team-token] button.copy").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let copied = clipboard_text();
        if plausible_codes(SHARED).contains(&copied) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the clipboard holds {copied:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    loop {
        let events = team.server.audit_events(&team.owner.access_token).await;
        if events.iter().any(|event| {
            event.kind == "code.copied" && event.details["details"]["surface"] == "window"
        }) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the copy did not reach the team log"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    // Like any copied code, it leaves the clipboard when it expires (at the latest
    // after the clipboard setting's 30 s).
    let copied = clipboard_text();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(45);
    while clipboard_text() == copied {
        assert!(
            std::time::Instant::now() < deadline,
            "the team code stayed on the clipboard"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    session.finish().await;
}
