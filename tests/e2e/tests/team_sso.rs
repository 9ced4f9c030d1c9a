//! Signing in with SSO from the real window (#17), through the system browser,
//! against a real kaito-server and a real OpenID provider (`oidc-provider`, from
//! scripts/with-oidc-provider.sh). The app is started with `BROWSER` set to a
//! script that writes down the page it is asked to open (xdg-open hands it over,
//! as it would to Firefox); the test then does what the person does in that
//! browser: signs in at the provider's own page and is sent back to the app.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::doc_markdown)]

use std::time::{Duration, Instant};

use kaito_e2e::team_server::{
    OWNER_PASSWORD, Team, identity_provider, sign_in_as, team_with_shared_token, wait_for_audit,
};
use kaito_e2e::{AppSession, workspace_root};

/// Waits until the app has asked the browser to open a page; that page.
async fn opened_url(log: &std::path::Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(url) = std::fs::read_to_string(log)
            .ok()
            .and_then(|text| text.lines().last().map(str::to_owned))
        {
            return url;
        }
        assert!(
            Instant::now() < deadline,
            "the app opened no page in the browser"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn start_with_browser(log: &std::path::Path) -> AppSession {
    let browser = workspace_root().join("tests/e2e/record-opened-url.sh");
    AppSession::start(&[
        ("BROWSER", browser.to_str().unwrap()),
        ("KAITO_E2E_OPENED_URLS", log.to_str().unwrap()),
        // xdg-open asks the desktop first when it knows one; here it must not.
        ("XDG_CURRENT_DESKTOP", ""),
    ])
    .await
}

async fn type_server_and_email(session: &AppSession, team: &Team, email: &str) {
    session.click("[data-testid=nav-settings]").await;
    session
        .type_into("[data-testid=team-server]", &team.server.url())
        .await;
    session.type_into("[data-testid=team-email]", email).await;
}

#[tokio::test]
async fn a_member_signs_in_with_sso_through_the_system_browser() {
    let team = team_with_shared_token().await;
    identity_provider::use_for_example_com(&team.server, &team.owner.access_token, true).await;
    identity_provider::set_account("mia@example.com", &[], true).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("opened.txt");
    let session = start_with_browser(&log).await;
    session.text_of("[data-testid=empty-state]").await;

    type_server_and_email(&session, &team, "mia@example.com").await;
    // SSO only: the button, and no password field until an owner asks for one.
    session.text_of("[data-testid=team-sso]").await;
    session.text_of("[data-testid=team-sso-only]").await;
    assert_eq!(
        session
            .eval("document.querySelectorAll('[data-testid=team-password]').length")
            .await,
        0
    );
    session.click("[data-testid=team-sso]").await;
    session.text_of("[data-testid=team-sso-waiting]").await;

    let page = opened_url(&log).await;
    assert!(
        page.starts_with(&identity_provider::issuer()),
        "the provider's page, in the system browser: {page}"
    );
    let shown = identity_provider::browse_and_return(&page, "mia@example.com").await;
    assert!(shown.contains("Signed in to Kaito"), "{shown}");

    let status = session
        .wait_content("[data-testid=team-status]", |text| text.contains("Acme"))
        .await;
    assert!(status.contains("mia@example.com (member)"), "{status}");
    // The shared token is there, as after a password sign-in.
    session.click("[data-testid=nav-tokens]").await;
    let issuer = session
        .wait_content("[data-testid=team-issuer]", |text| !text.is_empty())
        .await;
    assert_eq!(issuer, "Acme VPN");

    wait_for_audit(&team, "the SSO sign-in", |event| {
        event.kind == "login" && event.details["via"] == "sso"
    })
    .await;
    session.finish().await;
}

#[tokio::test]
async fn a_cancelled_sso_sign_in_leaves_the_form_and_signs_nobody_in() {
    let team = team_with_shared_token().await;
    identity_provider::use_for_example_com(&team.server, &team.owner.access_token, false).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("opened.txt");
    let session = start_with_browser(&log).await;
    session.text_of("[data-testid=empty-state]").await;

    type_server_and_email(&session, &team, "mia@example.com").await;
    session.click("[data-testid=team-sso]").await;
    opened_url(&log).await;
    session.click("[data-testid=team-sso-cancel]").await;
    // Back to the form, with the password way still offered (not SSO-only).
    session.text_of("[data-testid=team-sso]").await;
    session.text_of("[data-testid=team-password]").await;
    assert_eq!(
        session
            .eval("document.querySelectorAll('[data-testid=team-status], [data-testid=team-error]').length")
            .await,
        0,
        "nobody signed in, and a cancel is no error"
    );
    session.finish().await;
}

/// Olivia, the owner, sets the team's identity provider up on the Admin page: a
/// provider that does not answer is refused with the reason, a real one is saved
/// (the server checked its metadata) and the sign-in form starts offering SSO.
#[tokio::test]
async fn an_owner_sets_up_sso_on_the_admin_page() {
    let team = team_with_shared_token().await;
    let session = AppSession::start(&[]).await;
    session.text_of("[data-testid=empty-state]").await;
    sign_in_as(&session, &team, "olivia@example.com", OWNER_PASSWORD).await;
    session
        .wait_content("[data-testid=team-status]", |text| text.contains("Acme"))
        .await;
    session.click("[data-testid=nav-admin]").await;
    session.click("[data-testid=admin-sso]").await;
    let off = session.text_of("[data-testid=sso-state]").await;
    assert!(off.contains("Off"), "{off}");

    session
        .type_into("[data-testid=sso-issuer]", "http://127.0.0.1:9/")
        .await;
    session
        .type_into("[data-testid=sso-client-id]", identity_provider::CLIENT_ID)
        .await;
    session
        .type_into(
            "[data-testid=sso-client-secret]",
            identity_provider::CLIENT_SECRET,
        )
        .await;
    session
        .type_into("[data-testid=sso-domains]", "example.com")
        .await;
    session.click("[data-testid=sso-only]").await;
    session.click("[data-testid=sso-save]").await;
    let refused = session
        .wait_content("[data-testid=sso-error]", |text| !text.is_empty())
        .await;
    assert!(refused.contains("could not be reached"), "{refused}");

    session
        .type_into("[data-testid=sso-issuer]", &identity_provider::issuer())
        .await;
    session.click("[data-testid=sso-save]").await;
    let saved = session
        .wait_content("[data-testid=sso-state]", |text| {
            text.contains("sign in through")
        })
        .await;
    assert!(saved.contains("example.com"), "{saved}");
    assert!(saved.contains("passwords off"), "{saved}");
    let availability = kaito_team::sso_availability(&team.server.url(), "mia@example.com")
        .await
        .unwrap();
    assert!(
        availability.available && availability.sso_only,
        "{availability:?}"
    );
    wait_for_audit(&team, "the settings change", |event| {
        event.kind == "sso.settings_changed"
    })
    .await;

    // Turning it off takes a second click.
    session.click("[data-testid=sso-remove]").await;
    session.click("[data-testid=sso-remove]").await;
    session
        .wait_content("[data-testid=sso-state]", |text| text.contains("Off"))
        .await;
    session.finish().await;
}
