//! Team-mode tests: the in-process server of `kaito_server::testing`, and the steps
//! a person takes in the app to use it.

use std::time::{Duration, Instant};

pub use kaito_server::testing::*;

use crate::AppSession;

/// Signs Mia in from Settings, as she would.
pub async fn sign_in_as_mia(session: &AppSession, team: &Team, password: &str) {
    sign_in_as(session, team, "mia@example.com", password).await;
}

/// Signs `email` in from Settings, as they would.
pub async fn sign_in_as(session: &AppSession, team: &Team, email: &str, password: &str) {
    session.click("[data-testid=nav-settings]").await;
    session
        .type_into("[data-testid=team-server]", &team.server.url())
        .await;
    session.type_into("[data-testid=team-email]", email).await;
    session
        .type_into("[data-testid=team-password]", password)
        .await;
    session.click("[data-testid=team-sign-in]").await;
}

/// Waits until the team's log holds an event `matches` accepts.
pub async fn wait_for_audit(
    team: &Team,
    what: &str,
    matches: impl Fn(&kaito_api::AuditEventView) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !team
        .server
        .audit_events(&team.owner.access_token)
        .await
        .iter()
        .any(&matches)
    {
        assert!(
            Instant::now() < deadline,
            "{what} did not reach the team log"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits until the clipboard holds a text `matches` accepts; returns it.
pub async fn wait_for_clipboard(matches: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let copied = crate::clipboard_text();
        if matches(&copied) {
            return copied;
        }
        assert!(Instant::now() < deadline, "the clipboard holds {copied:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// On the Admin page: shares [`SHARED`] and picks a grant for it — `subject` as the
/// form's value (`user:ID` or `group:ID`), `mode` `code` or `seed` — leaving the
/// Grant button to the caller (an end date may come first).
pub async fn share_and_choose_grant(session: &AppSession, subject: &str, mode: &str) {
    session.click("[data-testid=admin-tokens]").await;
    session.type_into("[data-testid=shared-uri]", SHARED).await;
    session.click("[data-testid=shared-add]").await;
    session
        .wait_content("[data-testid=admin-token]", |text| {
            text.contains("Acme VPN")
        })
        .await;
    session.select("[data-testid=grant-subject]", subject).await;
    session.select("[data-testid=grant-mode]", mode).await;
}
