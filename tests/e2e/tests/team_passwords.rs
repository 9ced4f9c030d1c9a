//! Team passwords in the real window against a real server (#16 M10): the owner
//! resets Mia's password from the Admin page (two clicks: it ends her password and
//! sessions at once), the `kaito://set-password` link — handed to Mia's running
//! Kaito by a second launch — lets her choose a new one and signs her in, and she
//! changes it again in Settings, where a wrong current password is refused. The
//! owner also promotes, disables and re-enables her from the page.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::doc_markdown,
    clippy::too_many_lines
)]

use std::time::{Duration, Instant};

use kaito_e2e::AppSession;
use kaito_e2e::team_server::{
    MEMBER_PASSWORD, OWNER_PASSWORD, Team, sign_in_as, sign_in_as_mia, team_with_member,
};

const SET_PASSWORD: &str = "mia's chosen passphrase";
const CHANGED_PASSWORD: &str = "mia's second passphrase";

/// The status of a sign-in on the server, as another device would try it.
async fn login_status(team: &Team, password: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/v1/auth/login", team.server.url()))
        .json(&serde_json::json!({ "email": "mia@example.com", "password": password }))
        .send()
        .await
        .expect("the server answers")
        .status()
        .as_u16()
}

/// Mia's row on the server, as the owner reads it.
async fn mia_on_server(team: &Team) -> serde_json::Value {
    let members = team
        .server
        .call(
            reqwest::Method::GET,
            "/v1/team/members",
            &team.owner.access_token,
            serde_json::json!(null),
        )
        .await;
    members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "mia@example.com")
        .expect("Mia on the server")
        .clone()
}

async fn wait_for_mia(team: &Team, what: &str, check: impl Fn(&serde_json::Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check(&mia_on_server(team).await) {
        assert!(Instant::now() < deadline, "{what} never happened");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn an_owner_resets_a_password_and_the_member_chooses_and_changes_it_in_the_app() {
    let team = team_with_member().await;
    let mia = AppSession::start(&[]).await;
    sign_in_as_mia(&mia, &team, MEMBER_PASSWORD).await;
    mia.wait_content("[data-testid=team-status]", |text| {
        text.contains("(member)")
    })
    .await;

    let olivia = AppSession::start(&[]).await;
    sign_in_as(&olivia, &team, "olivia@example.com", OWNER_PASSWORD).await;
    olivia
        .wait_content("[data-testid=team-status]", |text| text.contains("(owner)"))
        .await;
    olivia.click("[data-testid=nav-admin]").await;
    let reset = format!(
        "[data-testid=admin-member][data-user-id={}] [data-testid=member-reset-password]",
        team.member_id
    );
    olivia.click(&reset).await;
    olivia
        .wait_content(&reset, |text| text.starts_with("Confirm"))
        .await;
    assert_eq!(
        login_status(&team, MEMBER_PASSWORD).await,
        200,
        "one click changed nothing"
    );
    olivia.click(&reset).await;
    let link = olivia
        .wait_content("[data-testid=password-link]", |text| {
            text.starts_with("kaito://set-password")
        })
        .await;
    assert_eq!(
        login_status(&team, MEMBER_PASSWORD).await,
        401,
        "the old password still works"
    );

    // The link opens Mia's running Kaito on the set-password form.
    mia.hand_over_link(&link);
    let intro = mia
        .wait_content("[data-testid=team-reset-intro]", |text| !text.is_empty())
        .await;
    assert!(intro.contains(&team.server.url()), "{intro}");
    mia.type_into("[data-testid=team-join-password]", SET_PASSWORD)
        .await;
    mia.type_into("[data-testid=team-join-repeat]", SET_PASSWORD)
        .await;
    mia.click("[data-testid=team-set-password]").await;
    let signed_in = mia
        .wait_content("[data-testid=team-status]", |text| text.contains("Acme"))
        .await;
    assert!(
        signed_in.contains("mia@example.com (member)"),
        "{signed_in}"
    );
    assert_eq!(login_status(&team, SET_PASSWORD).await, 200);

    // In Settings: a wrong current password is refused and changes nothing.
    mia.type_into("[data-testid=team-current-password]", "not my password")
        .await;
    mia.type_into("[data-testid=team-new-password]", CHANGED_PASSWORD)
        .await;
    mia.type_into("[data-testid=team-new-repeat]", CHANGED_PASSWORD)
        .await;
    mia.click("[data-testid=team-change-password]").await;
    let refused = mia
        .wait_content("[data-testid=team-error]", |text| !text.is_empty())
        .await;
    assert!(refused.contains("current password is wrong"), "{refused}");
    assert_eq!(login_status(&team, SET_PASSWORD).await, 200);
    mia.type_into("[data-testid=team-current-password]", SET_PASSWORD)
        .await;
    mia.click("[data-testid=team-change-password]").await;
    mia.wait_content("[data-testid=team-password-changed]", |text| {
        text.starts_with("Password changed")
    })
    .await;
    assert_eq!(login_status(&team, SET_PASSWORD).await, 401);
    assert_eq!(login_status(&team, CHANGED_PASSWORD).await, 200);
    // This device's own session goes on.
    mia.wait_content("[data-testid=team-status]", |text| text.contains("Acme"))
        .await;
    mia.finish().await;

    // The owner promotes Mia, disables her, and lets her back in.
    olivia
        .select(
            &format!(
                "[data-testid=admin-member][data-user-id={}] [data-testid=member-set-role]",
                team.member_id
            ),
            "admin",
        )
        .await;
    wait_for_mia(&team, "the promotion", |mia| mia["role"] == "admin").await;
    olivia
        .click(&format!(
            "[data-testid=admin-member][data-user-id={}] [data-testid=member-disable]",
            team.member_id
        ))
        .await;
    wait_for_mia(&team, "the disabling", |mia| mia["disabled"] == true).await;
    olivia
        .click(&format!(
            "[data-testid=admin-member][data-user-id={}] [data-testid=member-enable]",
            team.member_id
        ))
        .await;
    wait_for_mia(&team, "the enabling", |mia| mia["disabled"] == false).await;
    assert_eq!(login_status(&team, CHANGED_PASSWORD).await, 200);
    olivia.finish().await;
}
