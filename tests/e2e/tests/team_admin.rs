//! The Admin page in the real window against a real server: the owner adds a
//! member with a first password, invites another whose app joins through the
//! `kaito://join` link (a second launch hands it to the running app), groups them
//! and shares a token with the group, rotates the token, disables a member (whose
//! seeds are then marked to rotate), adds and removes a SIEM sink, and creates
//! and revokes an API token — each change checked on the server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::doc_markdown)]

use std::time::{Duration, Instant};

use kaito_e2e::AppSession;
use kaito_e2e::team_server::{
    OWNER_PASSWORD, Team, share_and_choose_grant, sign_in_as, team_with_member,
};

/// A server read as the owner.
async fn get(team: &Team, path: &str) -> serde_json::Value {
    team.server
        .call(
            reqwest::Method::GET,
            path,
            &team.owner.access_token,
            serde_json::json!(null),
        )
        .await
}

/// Waits for a server-side fact the page's action should have made true.
async fn wait_until_server<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "{what} never happened");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
#[allow(clippy::too_many_lines)] // one admin's session, told in order
async fn the_owner_runs_the_team_from_the_admin_page() {
    let team = team_with_member().await;
    let olivia = AppSession::start(&[]).await;
    sign_in_as(&olivia, &team, "olivia@example.com", OWNER_PASSWORD).await;
    olivia
        .wait_content("[data-testid=team-status]", |text| text.contains("(owner)"))
        .await;
    olivia.click("[data-testid=nav-admin]").await;

    // A member added with a first password.
    olivia
        .type_into("[data-testid=member-email]", "noah@example.com")
        .await;
    olivia.type_into("[data-testid=member-name]", "Noah").await;
    olivia
        .type_into("[data-testid=member-password]", "noah's first passphrase")
        .await;
    olivia.click("[data-testid=member-add]").await;
    olivia
        .wait_content("[data-testid=toast]", |text| {
            text == "noah@example.com added"
        })
        .await;
    let members = get(&team, "/v1/team/members").await;
    let noah = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "noah@example.com")
        .expect("Noah on the server")["user_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // An invite: its link opens another profile's Kaito on the join form.
    olivia
        .type_into("[data-testid=invite-email]", "ava@example.com")
        .await;
    olivia.click("[data-testid=invite-create]").await;
    let link = olivia
        .wait_content("[data-testid=invite-link]", |text| {
            text.starts_with("kaito://join")
        })
        .await;
    let ava = AppSession::start(&[]).await;
    ava.text_of("[data-testid=empty-state]").await;
    ava.hand_over_link(&link);
    let intro = ava
        .wait_content("[data-testid=team-join-intro]", |text| !text.is_empty())
        .await;
    assert!(intro.contains(&team.server.url()), "{intro}");
    ava.type_into("[data-testid=team-join-name]", "Ava").await;
    ava.type_into("[data-testid=team-join-password]", "ava's own passphrase")
        .await;
    ava.type_into("[data-testid=team-join-repeat]", "ava's own passphrase")
        .await;
    ava.click("[data-testid=team-join]").await;
    let joined = ava
        .wait_content("[data-testid=team-status]", |text| text.contains("Acme"))
        .await;
    assert!(joined.contains("ava@example.com (member)"), "{joined}");
    ava.finish().await;

    // A group with Noah in it.
    olivia
        .type_into("[data-testid=group-name]", "On-call")
        .await;
    olivia.click("[data-testid=group-create]").await;
    olivia
        .wait_content("[data-testid=admin-group]", |text| text.contains("On-call"))
        .await;
    olivia.select("[data-testid=group-add-member]", &noah).await;
    olivia.click("[data-testid=group-add]").await;
    olivia
        .wait_content("[data-testid=group-members]", |text| text.contains("Noah"))
        .await;
    let groups = get(&team, "/v1/groups").await;
    let group_id = groups[0]["group_id"].as_str().unwrap().to_owned();
    assert_eq!(groups[0]["member_ids"], serde_json::json!([noah]));

    // A token shared with the group, full seed, until a date; then rotated.
    share_and_choose_grant(&olivia, &format!("group:{group_id}"), "seed").await;
    olivia
        .eval(
            "(() => { const input = document.querySelector('[data-testid=grant-expiry]'); \
             input.value = '2099-12-31'; input.dispatchEvent(new Event('input', { bubbles: true })); return true; })()",
        )
        .await;
    olivia.click("[data-testid=grant-add]").await;
    let grants = olivia
        .wait_content("[data-testid=token-grants]", |text| {
            text.contains("On-call")
        })
        .await;
    assert!(
        grants.contains("group On-call · full seed · until"),
        "{grants}"
    );
    let tokens = get(&team, "/v1/tokens").await;
    let token_id = tokens[0]["token_id"].as_str().unwrap().to_owned();
    let on_server = get(&team, &format!("/v1/tokens/{token_id}/grants")).await;
    let group_grant = on_server
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group_id"] == group_id.as_str())
        .expect("the group's grant");
    assert_eq!(group_grant["mode"], "seed");
    assert!(group_grant["expires_at"].as_i64().unwrap() > 4_000_000_000_000);

    olivia
        .type_into(
            "[data-testid=rotate-uri]",
            "otpauth://totp/Acme%20VPN:ops%40acme.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20VPN",
        )
        .await;
    olivia.click("[data-testid=rotate-save]").await;
    wait_until_server("the rotation", || async {
        get(&team, "/v1/tokens").await[0]["rotated_at"].is_i64()
    })
    .await;
    // A broken link is refused before it reaches the server.
    olivia
        .type_into("[data-testid=rotate-uri]", "otpauth://totp/X?secret=")
        .await;
    let rotated_at = get(&team, "/v1/tokens").await[0]["rotated_at"].clone();
    olivia.click("[data-testid=rotate-save]").await;
    olivia
        .wait_content("[data-testid=toast]", |text| {
            text.to_lowercase().contains("secret")
        })
        .await;
    assert_eq!(
        get(&team, "/v1/tokens").await[0]["rotated_at"],
        rotated_at,
        "a refused rotation changed the token"
    );

    // Disabling Noah.
    olivia.click("[data-testid=admin-members]").await;
    olivia
        .click(&format!(
            "[data-testid=admin-member][data-user-id={noah}] [data-testid=member-disable]"
        ))
        .await;
    wait_until_server("Noah's disabling", || async {
        get(&team, "/v1/team/members")
            .await
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["email"] == "noah@example.com" && m["disabled"] == true)
    })
    .await;

    // Noah could read the token's seed through On-call: it now needs rotating.
    olivia.click("[data-testid=admin-tokens]").await;
    olivia
        .wait_content("[data-testid=token-needs-rotation]", |text| {
            text == "needs rotation"
        })
        .await;
    olivia
        .wait_content("[data-testid=tokens-needing-rotation]", |text| {
            text.starts_with("1 shared tokens need a new seed")
        })
        .await;

    // A SIEM webhook sink, listed with its state, then removed.
    olivia.click("[data-testid=admin-sinks]").await;
    olivia.type_into("[data-testid=sink-name]", "SOC").await;
    olivia
        .type_into("[data-testid=sink-url]", "https://siem.example.com/kaito")
        .await;
    olivia
        .type_into("[data-testid=sink-secret]", "webhook signing key")
        .await;
    olivia.click("[data-testid=sink-add]").await;
    let sink = olivia
        .wait_content("[data-testid=admin-sink]", |text| text.contains("SOC"))
        .await;
    assert!(
        sink.contains("webhook → https://siem.example.com/kaito"),
        "{sink}"
    );
    assert_eq!(
        get(&team, "/v1/siem/sinks").await.as_array().unwrap().len(),
        1
    );
    olivia.screenshot("admin-sinks").await;
    olivia.click("[data-testid=sink-remove]").await;
    wait_until_server("the sink's removal", || async {
        get(&team, "/v1/siem/sinks")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    })
    .await;

    // An API token for a SIEM: shown once, listed with its maker, then revoked.
    olivia
        .type_into("[data-testid=api-token-name]", "Splunk pull")
        .await;
    olivia.click("[data-testid=api-token-create]").await;
    let secret = olivia
        .wait_content("[data-testid=api-token-secret]", |text| {
            text.starts_with("kat_")
        })
        .await;
    let listed = olivia
        .wait_content("[data-testid=api-token]", |text| {
            text.contains("Splunk pull")
        })
        .await;
    assert!(
        listed.contains("audit:read · by olivia@example.com · never used"),
        "{listed}"
    );
    assert!(!listed.contains(&secret), "the secret is in the list");
    let pulled = reqwest::Client::new()
        .get(format!("{}/v1/audit/checkpoint", team.server.url()))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(pulled.status(), 200, "the new token does not work");
    olivia.click("[data-testid=api-token-revoke]").await;
    wait_until_server("the token's revocation", || async {
        get(&team, "/v1/api-tokens").await[0]["active"] == false
    })
    .await;
    olivia.finish().await;
}
