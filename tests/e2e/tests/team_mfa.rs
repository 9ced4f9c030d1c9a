//! Signing in with a second factor from the real window against a real server
//! (#17): Mia's account has an authenticator, so her right password alone opens
//! nothing; the app asks for the code, refuses a wrong one with a clear message,
//! and signs her in with the authenticator's code. The sign-in is in the team's log
//! as a second factor passed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::doc_markdown,
    clippy::too_many_lines
)]

use kaito_core::CodeGenerator;
use kaito_e2e::AppSession;
use kaito_e2e::team_server::{
    MEMBER_PASSWORD, OWNER_PASSWORD, Team, sign_in_as, sign_in_as_mia, team_with_shared_token,
    wait_for_audit,
};
use serde_json::json;

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Sets up Mia's authenticator on the server, as she would from another device.
async fn enrol_mia(team: &Team) -> CodeGenerator {
    team.server
        .enrol_authenticator("mia@example.com", MEMBER_PASSWORD)
        .await
}

#[tokio::test]
async fn a_member_with_an_authenticator_signs_in_with_its_code() {
    let team = team_with_shared_token().await;
    let generator = enrol_mia(&team).await;
    let session = AppSession::start(&[]).await;
    session.text_of("[data-testid=empty-state]").await;

    sign_in_as_mia(&session, &team, MEMBER_PASSWORD).await;
    let intro = session.text_of("[data-testid=team-code-intro]").await;
    assert!(intro.contains("mia@example.com"), "{intro}");
    assert_eq!(
        session
            .eval("document.querySelectorAll('[data-testid=team-status]').length")
            .await,
        0,
        "not signed in on the password alone"
    );

    session.type_into("[data-testid=team-code]", "000000").await;
    session.click("[data-testid=team-code-submit]").await;
    let refused = session
        .wait_content("[data-testid=team-error]", |text| !text.is_empty())
        .await;
    assert!(refused.contains("That code is wrong"), "{refused}");

    // The next step's code: newer than the one used to set it up.
    let code = generator.code_at(now_secs() + 30);
    session
        .type_into("[data-testid=team-code]", code.as_str())
        .await;
    session.click("[data-testid=team-code-submit]").await;
    let status = session
        .wait_content("[data-testid=team-status]", |text| text.contains("Acme"))
        .await;
    assert!(status.contains("mia@example.com (member)"), "{status}");

    wait_for_audit(&team, "the second factor's sign-in", |event| {
        event.kind == "mfa.verified" && event.details["method"] == "totp"
    })
    .await;
    session.finish().await;
}

/// Mia turns two-step sign-in on from Settings (the secret read off the screen, as
/// she would type it into her phone), keeps the recovery codes shown once, signs in
/// again with one of them, and turns it off with her password.
#[tokio::test]
async fn a_member_turns_two_step_sign_in_on_and_off_in_settings() {
    let team = team_with_shared_token().await;
    let session = AppSession::start(&[]).await;
    session.text_of("[data-testid=empty-state]").await;
    sign_in_as_mia(&session, &team, MEMBER_PASSWORD).await;
    session
        .wait_content("[data-testid=team-status]", |text| text.contains("Acme"))
        .await;
    session.text_of("[data-testid=mfa-off]").await;

    session.click("[data-testid=mfa-begin]").await;
    let secret = session
        .wait_content("[data-testid=mfa-secret]", |text| !text.is_empty())
        .await;
    let token = kaito_core::Token::new(
        "",
        "",
        kaito_core::OtpKind::Totp { period: 30 },
        kaito_core::Algorithm::Sha1,
        6,
        kaito_core::Secret::from_base32(&secret).unwrap(),
    )
    .unwrap();
    let phone = CodeGenerator::new(&token);
    assert_eq!(
        session
            .eval("document.querySelectorAll('[data-testid=mfa-qr] svg').length")
            .await,
        1,
        "a QR code to scan"
    );
    session.type_into("[data-testid=mfa-code]", "000000").await;
    session
        .type_into("[data-testid=mfa-password]", MEMBER_PASSWORD)
        .await;
    session.click("[data-testid=mfa-confirm]").await;
    let wrong = session
        .wait_content("[data-testid=mfa-error]", |text| !text.is_empty())
        .await;
    assert!(
        wrong.contains("not the authenticator's current code"),
        "{wrong}"
    );
    session
        .type_into("[data-testid=mfa-code]", phone.code_at(now_secs()).as_str())
        .await;
    session
        .type_into("[data-testid=mfa-password]", MEMBER_PASSWORD)
        .await;
    session.click("[data-testid=mfa-confirm]").await;
    session.text_of("[data-testid=mfa-recovery-codes]").await;
    let codes = session
        .eval("[...document.querySelectorAll('[data-testid=mfa-recovery-codes] code')].map((c) => c.textContent)")
        .await;
    let codes: Vec<String> = serde_json::from_value(codes).unwrap();
    assert_eq!(codes.len(), 10, "{codes:?}");
    let recovery = codes[0].clone();
    session.click("[data-testid=mfa-codes-saved]").await;
    let on = session
        .wait_content("[data-testid=mfa-on]", |text| {
            text.contains("recovery codes left")
        })
        .await;
    assert!(on.contains("10 recovery codes left"), "{on}");

    // Signed in again on this device: the password, then a recovery code.
    session.click("[data-testid=team-sign-out]").await;
    session.text_of("[data-testid=team-form]").await;
    sign_in_as_mia(&session, &team, MEMBER_PASSWORD).await;
    session.text_of("[data-testid=team-code-intro]").await;
    session
        .type_into("[data-testid=team-code]", &recovery)
        .await;
    session.click("[data-testid=team-code-submit]").await;
    session
        .wait_content("[data-testid=team-status]", |text| text.contains("Acme"))
        .await;
    let on = session
        .wait_content("[data-testid=mfa-on]", |text| {
            text.contains("recovery codes left")
        })
        .await;
    assert!(on.contains("9 recovery codes left"), "{on}");

    // A fresh set, with the password: shown once, ten again.
    session
        .type_into("[data-testid=mfa-remove-password]", MEMBER_PASSWORD)
        .await;
    session.click("[data-testid=mfa-new-codes]").await;
    session.text_of("[data-testid=mfa-recovery-codes]").await;
    session.click("[data-testid=mfa-codes-saved]").await;
    let on = session
        .wait_content("[data-testid=mfa-on]", |text| {
            text.contains("10 recovery codes left")
        })
        .await;
    assert!(on.contains("10 recovery codes left"), "{on}");

    session
        .type_into("[data-testid=mfa-remove-password]", MEMBER_PASSWORD)
        .await;
    session.click("[data-testid=mfa-remove]").await;
    session.text_of("[data-testid=mfa-off]").await;
    wait_for_audit(&team, "turning two-step sign-in off", |event| {
        event.kind == "mfa.removed"
    })
    .await;
    session.finish().await;
}

/// Mia lost her phone: Olivia sees on the Admin page that Mia has two-step sign-in,
/// resets it, and Mia's password alone signs her in again.
#[tokio::test]
async fn an_owner_resets_a_lost_authenticator_from_the_admin_page() {
    let team = team_with_shared_token().await;
    enrol_mia(&team).await;
    let olivia = AppSession::start(&[]).await;
    sign_in_as(&olivia, &team, "olivia@example.com", OWNER_PASSWORD).await;
    olivia
        .wait_content("[data-testid=team-status]", |text| text.contains("(owner)"))
        .await;
    olivia.click("[data-testid=nav-admin]").await;
    let row = format!(
        "[data-testid=admin-member][data-user-id={}]",
        team.member_id
    );
    let shown = olivia
        .wait_content(&format!("{row} [data-testid=member-mfa]"), |text| {
            !text.is_empty()
        })
        .await;
    assert!(shown.contains("two-step sign-in"), "{shown}");
    olivia
        .click(&format!("{row} [data-testid=member-reset-mfa]"))
        .await;
    olivia
        .wait_content(&format!("{row} [data-testid=member-mfa]"), |text| {
            text.contains("password only")
        })
        .await;
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/v1/auth/login", team.server.url()))
        .json(&json!({ "email": "mia@example.com", "password": MEMBER_PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(answer["access_token"].is_string(), "{answer}");
    wait_for_audit(&team, "the reset", |event| event.kind == "mfa.reset").await;
    olivia.finish().await;
}

/// Olivia requires two-step sign-in of everyone on the Admin page; Mia, who has
/// no authenticator, signs in with her password and is walked through setting one
/// up (the secret read off the screen), keeps the recovery codes, and is signed in.
#[tokio::test]
async fn a_team_that_requires_two_step_sign_in_has_a_member_set_it_up_as_she_signs_in() {
    let team = team_with_shared_token().await;
    let olivia = AppSession::start(&[]).await;
    olivia.text_of("[data-testid=empty-state]").await;
    sign_in_as(&olivia, &team, "olivia@example.com", OWNER_PASSWORD).await;
    olivia
        .wait_content("[data-testid=team-status]", |text| text.contains("(owner)"))
        .await;
    olivia.click("[data-testid=nav-admin]").await;
    olivia.click("[data-testid=admin-sso]").await;
    olivia.text_of("[data-testid=mfa-policy-required]").await;
    olivia.click("[data-testid=mfa-policy-required]").await;
    wait_for_audit(&team, "the policy change", |event| {
        event.kind == "mfa.policy_changed" && event.details["required"] == true
    })
    .await;
    olivia.finish().await;

    let mia = AppSession::start(&[]).await;
    mia.text_of("[data-testid=empty-state]").await;
    sign_in_as_mia(&mia, &team, MEMBER_PASSWORD).await;
    let intro = mia.text_of("[data-testid=team-setup-intro]").await;
    assert!(intro.contains("requires two-step sign-in"), "{intro}");
    let secret = mia
        .wait_content("[data-testid=team-setup-secret]", |text| !text.is_empty())
        .await;
    assert_eq!(
        mia.eval("document.querySelectorAll('[data-testid=team-setup-qr] svg').length")
            .await,
        1,
        "a QR code to scan"
    );
    let phone = CodeGenerator::new(
        &kaito_core::Token::new(
            "",
            "",
            kaito_core::OtpKind::Totp { period: 30 },
            kaito_core::Algorithm::Sha1,
            6,
            kaito_core::Secret::from_base32(&secret).unwrap(),
        )
        .unwrap(),
    );
    mia.type_into("[data-testid=team-setup-code]", "000000")
        .await;
    mia.click("[data-testid=team-setup-submit]").await;
    let wrong = mia
        .wait_content("[data-testid=team-setup-error]", |text| !text.is_empty())
        .await;
    assert!(wrong.contains("not the code the app shows"), "{wrong}");
    mia.type_into(
        "[data-testid=team-setup-code]",
        phone.code_at(now_secs()).as_str(),
    )
    .await;
    mia.click("[data-testid=team-setup-submit]").await;
    mia.text_of("[data-testid=team-setup-recovery-codes]").await;
    let codes = mia
        .eval("[...document.querySelectorAll('[data-testid=team-setup-recovery-codes] code')].map((c) => c.textContent)")
        .await;
    assert_eq!(codes.as_array().map(Vec::len), Some(10), "{codes}");
    mia.click("[data-testid=team-setup-done]").await;
    let status = mia
        .wait_content("[data-testid=team-status]", |text| text.contains("Acme"))
        .await;
    assert!(status.contains("mia@example.com (member)"), "{status}");
    // Settings shows it on, as if she had turned it on herself.
    mia.text_of("[data-testid=mfa-on]").await;
    wait_for_audit(&team, "the set-up at sign-in", |event| {
        event.kind == "mfa.enrolled" && event.details["at_sign_in"] == true
    })
    .await;
    mia.finish().await;
}
