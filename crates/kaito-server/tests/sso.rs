//! Single sign-on with OpenID Connect (#17), on SQLite and PostgreSQL, against a
//! real OpenID provider (`oidc-provider`, started by `scripts/with-oidc-provider.sh`):
//! an owner sets the team's provider, a member signs in through it with PKCE and
//! a loopback redirect, and every kind of bad answer is refused with its own
//! error: a replayed code, a wrong audience, an expired token, a forged
//! signature, a verifier not the app's, an unknown or unverified email.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod common;

use base64::Engine as _;
use common::{MEMBER_PASSWORD, OWNER_PASSWORD, TestServer, servers};
use kaito_api::{AuditEventView, MeView, SsoRedirect, SsoSettings, TokenPair};
use kaito_server::testing::identity_provider::{
    CLIENT_ID, CLIENT_SECRET, issuer, set_account, sign_in_at_provider, tamper_next_id_token,
};
use serde_json::json;
use sha2::Digest as _;

/// Where the app would listen; nothing needs to, the tests read the redirect.
const REDIRECT: &str = "http://127.0.0.1:47011/callback";

/// A PKCE verifier and its S256 challenge, as the app makes them.
fn pkce() -> (String, String) {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).unwrap();
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let verifier = engine.encode(bytes);
    let challenge = engine.encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn settings(extra: &serde_json::Value) -> serde_json::Value {
    let mut body = json!({
        "issuer": issuer(),
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "email_domains": ["example.com"],
    });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

async fn configure(server: &TestServer, owner: &TokenPair, extra: serde_json::Value) {
    let saved = server
        .call(
            reqwest::Method::PUT,
            "/v1/team/sso",
            Some(&owner.access_token),
            Some(&settings(&extra)),
        )
        .await;
    assert_eq!(saved.status, 200, "{}: {}", server.label, saved.body);
}

/// What the app does before the browser: start, with its own challenge.
async fn start(server: &TestServer, email: &str, challenge: &str) -> SsoRedirect {
    let started = server
        .post(
            "/v1/auth/sso/start",
            None,
            &json!({ "email": email, "redirect_uri": REDIRECT, "code_challenge": challenge }),
        )
        .await;
    assert_eq!(started.status, 200, "{}: {}", server.label, started.body);
    started.parse()
}

/// The `code` and `state` the provider sent the browser back with.
fn returned(redirect: &str) -> (String, String) {
    assert!(redirect.starts_with(REDIRECT), "{redirect}");
    let url = reqwest::Url::parse(redirect).unwrap();
    let value = |name: &str| {
        url.query_pairs().find(|(key, _)| key == name).map_or_else(
            || panic!("no {name} in {redirect}"),
            |(_, value)| value.into_owned(),
        )
    };
    (value("code"), value("state"))
}

async fn finish(server: &TestServer, state: &str, code: &str, verifier: &str) -> common::Answer {
    server
        .post(
            "/v1/auth/sso/finish",
            None,
            &json!({ "state": state, "code": code, "code_verifier": verifier }),
        )
        .await
}

/// Start, the browser's part as `email`, and the redirect's code and state.
async fn through_browser(server: &TestServer, email: &str) -> (String, String, String) {
    let (verifier, challenge) = pkce();
    let redirect = start(server, email, &challenge).await;
    let (code, state) = returned(&sign_in_at_provider(&redirect.authorize_url, email).await);
    assert_eq!(state, redirect.state, "{}", server.label);
    (code, state, verifier)
}

async fn events(server: &TestServer, owner: &TokenPair, kind: &str) -> Vec<AuditEventView> {
    let answer = server
        .get(
            &format!("/v1/audit/events?kind={kind}&limit=100"),
            Some(&owner.access_token),
        )
        .await;
    assert_eq!(answer.status, 200, "{}: {}", server.label, answer.body);
    answer.parse()
}

#[tokio::test]
async fn a_member_signs_in_through_the_teams_identity_provider() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        server
            .add_member(&owner, "ana.sso@example.com", "member")
            .await;
        set_account("ana.sso@example.com", &[], true).await;

        let before = server
            .get("/v1/auth/sso?email=ana.sso@example.com", None)
            .await;
        assert_eq!(
            before.body,
            json!({ "available": false, "sso_only": false }),
            "{label}"
        );
        configure(&server, &owner, json!({})).await;
        let shown: SsoSettings = server
            .get("/v1/team/sso", Some(&owner.access_token))
            .await
            .parse();
        assert!(shown.configured, "{label}");
        assert_eq!(shown.issuer, issuer(), "{label}");
        assert_eq!(shown.email_domains, ["example.com"], "{label}");
        let shown_text = serde_json::to_string(&shown).unwrap();
        assert!(!shown_text.contains(CLIENT_SECRET), "{label}: {shown_text}");
        // By domain, so anyone's email of it answers the same.
        for email in ["ana.sso@example.com", "nobody-here@EXAMPLE.com"] {
            let answer = server
                .get(&format!("/v1/auth/sso?email={email}"), None)
                .await;
            assert_eq!(
                answer.body,
                json!({ "available": true, "sso_only": false }),
                "{label}: {email}"
            );
        }
        let elsewhere = server
            .get("/v1/auth/sso?email=ana@other.example", None)
            .await;
        assert_eq!(elsewhere.body["available"], json!(false), "{label}");
        let not_here = server
            .post(
                "/v1/auth/sso/start",
                None,
                &json!({ "email": "ana@other.example", "redirect_uri": REDIRECT, "code_challenge": pkce().1 }),
            )
            .await;
        assert_eq!(
            (not_here.status, not_here.code()),
            (404, "sso.not_configured"),
            "{label}"
        );

        let (verifier, challenge) = pkce();
        let redirect = start(&server, "ana.sso@example.com", &challenge).await;
        let authorize = reqwest::Url::parse(&redirect.authorize_url).unwrap();
        assert!(redirect.authorize_url.starts_with(&issuer()), "{label}");
        let query: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
        for (name, value) in [
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("response_type", "code"),
        ] {
            assert!(
                query
                    .iter()
                    .any(|(key, given)| key == name && given == value),
                "{label}: {name} in {query:?}"
            );
        }
        let (code, state) =
            returned(&sign_in_at_provider(&redirect.authorize_url, "ana.sso@example.com").await);
        let signed_in = finish(&server, &state, &code, &verifier).await;
        assert_eq!(signed_in.status, 200, "{label}: {}", signed_in.body);
        let session: TokenPair = signed_in.parse();
        let me: MeView = server
            .get("/v1/me", Some(&session.access_token))
            .await
            .parse();
        assert_eq!(me.email, "ana.sso@example.com", "{label}");

        // The same redirect shown again finishes nothing.
        let again = finish(&server, &state, &code, &verifier).await;
        assert_eq!(
            (again.status, again.code()),
            (401, "sso.attempt_invalid"),
            "{label}"
        );

        let logins = events(&server, &owner, "login").await;
        assert!(
            logins.iter().any(|event| event.kind == "login"
                && event.actor.as_deref() == Some(me.user_id.as_str())
                && event.details["via"] == json!("sso")
                && event.details["issuer"] == json!(issuer())),
            "{label}: {logins:?}"
        );
        let changed = events(&server, &owner, "sso.settings_changed").await;
        assert_eq!(changed.len(), 1, "{label}");
        assert!(
            !changed[0].details.to_string().contains(CLIENT_SECRET),
            "{label}: {:?}",
            changed[0].details
        );
    }
}

#[tokio::test]
async fn replayed_codes_forged_expired_and_misaddressed_id_tokens_are_refused() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        server
            .add_member(&owner, "ben.sso@example.com", "member")
            .await;
        set_account("ben.sso@example.com", &[], true).await;
        configure(&server, &owner, json!({})).await;

        // A verifier that is not the one the sign-in started with.
        let (code, state, _) = through_browser(&server, "ben.sso@example.com").await;
        let (stranger, _) = pkce();
        let wrong_verifier = finish(&server, &state, &code, &stranger).await;
        assert_eq!(
            (wrong_verifier.status, wrong_verifier.code()),
            (401, "sso.attempt_invalid"),
            "{label}: {}",
            wrong_verifier.body
        );

        // A code the provider issued and then saw traded: a second sign-in that
        // brings it again (same verifier, so only the provider can tell) is refused.
        let (verifier, challenge) = pkce();
        let first = start(&server, "ben.sso@example.com", &challenge).await;
        let (code, state) =
            returned(&sign_in_at_provider(&first.authorize_url, "ben.sso@example.com").await);
        assert_eq!(
            finish(&server, &state, &code, &verifier).await.status,
            200,
            "{label}"
        );
        let second = start(&server, "ben.sso@example.com", &challenge).await;
        let replayed = finish(&server, &second.state, &code, &verifier).await;
        assert_eq!(
            (replayed.status, replayed.code()),
            (401, "sso.provider_refused"),
            "{label}: {}",
            replayed.body
        );
        assert!(
            replayed.body["message"]
                .as_str()
                .unwrap()
                .contains("invalid_grant"),
            "{label}: {}",
            replayed.body
        );

        for (how, says) in [
            ("wrong_audience", "audience"),
            ("expired", "xpired"),
            ("bad_signature", "signature"),
        ] {
            let (code, state, verifier) = through_browser(&server, "ben.sso@example.com").await;
            tamper_next_id_token(how).await;
            let refused = finish(&server, &state, &code, &verifier).await;
            assert_eq!(
                (refused.status, refused.code()),
                (401, "sso.id_token_invalid"),
                "{label}: {how}: {}",
                refused.body
            );
            let message = refused.body["message"].as_str().unwrap().to_lowercase();
            assert!(message.contains(says), "{label}: {how}: {message}");
            assert!(refused.body.get("access_token").is_none(), "{label}: {how}");
        }

        let failures = events(&server, &owner, "login.failed").await;
        let reasons: Vec<_> = failures
            .iter()
            .filter(|event| event.details["via"] == json!("sso"))
            .map(|event| event.details["reason"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            reasons
                .iter()
                .filter(|reason| *reason == "id_token_invalid")
                .count(),
            3,
            "{label}: {reasons:?}"
        );
        assert!(
            reasons.contains(&"provider_refused".to_owned()),
            "{label}: {reasons:?}"
        );
    }
}

#[tokio::test]
async fn only_active_members_with_a_verified_email_get_in() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        configure(&server, &owner, json!({})).await;

        set_account("stranger.sso@example.com", &[], true).await;
        let (code, state, verifier) = through_browser(&server, "stranger.sso@example.com").await;
        let stranger = finish(&server, &state, &code, &verifier).await;
        assert_eq!(
            (stranger.status, stranger.code()),
            (403, "sso.no_member"),
            "{label}"
        );

        let cleo = server
            .add_member(&owner, "cleo.sso@example.com", "member")
            .await;
        set_account("cleo.sso@example.com", &[], false).await;
        let (code, state, verifier) = through_browser(&server, "cleo.sso@example.com").await;
        let unverified = finish(&server, &state, &code, &verifier).await;
        assert_eq!(
            (unverified.status, unverified.code()),
            (403, "sso.email_unverified"),
            "{label}"
        );

        set_account("cleo.sso@example.com", &[], true).await;
        let disabled = server
            .post(
                &format!("/v1/team/members/{cleo}/disable"),
                Some(&owner.access_token),
                &json!({}),
            )
            .await;
        assert_eq!(disabled.status, 200, "{label}: {}", disabled.body);
        let (code, state, verifier) = through_browser(&server, "cleo.sso@example.com").await;
        let gone = finish(&server, &state, &code, &verifier).await;
        assert_eq!(
            (gone.status, gone.code()),
            (403, "sso.no_member"),
            "{label}"
        );
    }
}

#[tokio::test]
async fn sso_only_turns_passwords_off_for_all_but_owners() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        server
            .add_member(&owner, "dev.sso@example.com", "admin")
            .await;
        configure(&server, &owner, json!({ "sso_only": true })).await;
        let answer = server
            .get("/v1/auth/sso?email=dev.sso@example.com", None)
            .await;
        assert_eq!(
            answer.body,
            json!({ "available": true, "sso_only": true }),
            "{label}"
        );

        let refused = server.login("dev.sso@example.com", MEMBER_PASSWORD).await;
        assert_eq!(
            (refused.status, refused.code()),
            (403, "auth.sso_only"),
            "{label}"
        );
        // A wrong password learns nothing about the policy.
        let wrong = server
            .login("dev.sso@example.com", "not the password")
            .await;
        assert_eq!(
            (wrong.status, wrong.code()),
            (401, "auth.invalid_credentials"),
            "{label}"
        );
        let owner_again = server.login("olivia@example.com", OWNER_PASSWORD).await;
        assert_eq!(
            owner_again.status, 200,
            "{label}: the way back in: {}",
            owner_again.body
        );

        let removed = server
            .delete("/v1/team/sso", Some(&owner.access_token))
            .await;
        assert_eq!(removed.status, 200, "{label}: {}", removed.body);
        let back = server.login("dev.sso@example.com", MEMBER_PASSWORD).await;
        assert_eq!(back.status, 200, "{label}: {}", back.body);
        assert_eq!(
            events(&server, &owner, "sso.removed").await.len(),
            1,
            "{label}"
        );
    }
}

#[tokio::test]
async fn provider_groups_set_kaito_groups_and_role_at_each_sign_in() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        let eve = server
            .add_member(&owner, "eve.sso@example.com", "member")
            .await;
        let created = server
            .post(
                "/v1/groups",
                Some(&owner.access_token),
                &json!({ "name": "On call" }),
            )
            .await;
        assert_eq!(created.status, 200, "{label}: {}", created.body);
        let group = created.body["id"].as_str().unwrap().to_owned();
        configure(
            &server,
            &owner,
            json!({
                "groups_claim": "groups",
                "extra_scopes": ["groups"],
                "group_rules": [
                    { "claim_value": "kaito-admins", "role": "admin" },
                    { "claim_value": "oncall", "group_id": group },
                ],
            }),
        )
        .await;
        let members_of = |body: &serde_json::Value| -> Vec<String> {
            body.as_array()
                .unwrap()
                .iter()
                .find(|g| g["group_id"] == json!(group))
                .map(|g| {
                    g["member_ids"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|m| m.as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default()
        };
        let role_of = |body: &serde_json::Value| -> String {
            body.as_array()
                .unwrap()
                .iter()
                .find(|m| m["user_id"] == json!(eve))
                .unwrap()["role"]
                .as_str()
                .unwrap()
                .to_owned()
        };

        set_account("eve.sso@example.com", &["kaito-admins", "oncall"], true).await;
        let (code, state, verifier) = through_browser(&server, "eve.sso@example.com").await;
        assert_eq!(
            finish(&server, &state, &code, &verifier).await.status,
            200,
            "{label}"
        );
        let groups = server.get("/v1/groups", Some(&owner.access_token)).await;
        assert!(
            members_of(&groups.body).contains(&eve),
            "{label}: {}",
            groups.body
        );
        let members = server
            .get("/v1/team/members", Some(&owner.access_token))
            .await;
        assert_eq!(role_of(&members.body), "admin", "{label}");

        // Out of both groups at the provider: out of the group and back to member.
        set_account("eve.sso@example.com", &[], true).await;
        let (code, state, verifier) = through_browser(&server, "eve.sso@example.com").await;
        assert_eq!(
            finish(&server, &state, &code, &verifier).await.status,
            200,
            "{label}"
        );
        let groups = server.get("/v1/groups", Some(&owner.access_token)).await;
        assert!(
            !members_of(&groups.body).contains(&eve),
            "{label}: {}",
            groups.body
        );
        let members = server
            .get("/v1/team/members", Some(&owner.access_token))
            .await;
        assert_eq!(role_of(&members.body), "member", "{label}");
        let roles = events(&server, &owner, "member.role_changed").await;
        assert_eq!(roles.len(), 2, "{label}: {roles:?}");
        assert!(
            roles
                .iter()
                .all(|event| event.details["via"] == json!("sso")),
            "{label}"
        );
    }
}

#[tokio::test]
async fn settings_are_checked_before_they_are_saved() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        let put = |body: serde_json::Value, token: String| {
            let server = &server;
            async move {
                server
                    .call(
                        reqwest::Method::PUT,
                        "/v1/team/sso",
                        Some(&token),
                        Some(&body),
                    )
                    .await
            }
        };
        let admin_id = server
            .add_member(&owner, "fay.sso@example.com", "admin")
            .await;
        assert!(!admin_id.is_empty());
        let admin: TokenPair = server
            .login("fay.sso@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        let by_admin = put(settings(&json!({})), admin.access_token.clone()).await;
        assert_eq!(by_admin.status, 403, "{label}: owners only");
        let readable = server.get("/v1/team/sso", Some(&admin.access_token)).await;
        assert_eq!(readable.body["configured"], json!(false), "{label}");

        for (extra, status, code) in [
            (
                json!({ "issuer": "ftp://idp.example.com" }),
                400,
                "sso.invalid_settings",
            ),
            (json!({ "email_domains": [] }), 400, "sso.invalid_settings"),
            (
                json!({ "email_domains": ["not a domain"] }),
                400,
                "sso.invalid_settings",
            ),
            (
                json!({ "client_secret": null }),
                400,
                "sso.invalid_settings",
            ),
            (
                json!({ "group_rules": [{ "claim_value": "x", "role": "admin" }] }),
                400,
                "sso.invalid_settings",
            ),
            (
                json!({ "groups_claim": "groups", "group_rules": [{ "claim_value": "x", "role": "owner" }] }),
                400,
                "sso.invalid_settings",
            ),
            // Nothing answers there: caught now, not at a member's sign-in.
            (
                json!({ "issuer": "http://127.0.0.1:9/" }),
                502,
                "sso.provider_unreachable",
            ),
        ] {
            let refused = put(settings(&extra), owner.access_token.clone()).await;
            assert_eq!(
                (refused.status, refused.code()),
                (status, code),
                "{label}: {extra}: {}",
                refused.body
            );
        }
        let still = server.get("/v1/team/sso", Some(&owner.access_token)).await;
        assert_eq!(
            still.body["configured"],
            json!(false),
            "{label}: nothing saved"
        );

        configure(&server, &owner, json!({})).await;
        // Kept when left out.
        let mut again = settings(&json!({ "sso_only": true }));
        again.as_object_mut().unwrap().remove("client_secret");
        assert_eq!(
            put(again, owner.access_token.clone()).await.status,
            200,
            "{label}"
        );
        // One domain, one team.
        let rival = server.rival_owner().await;
        let taken = put(settings(&json!({})), rival.access_token.clone()).await;
        assert_eq!(
            (taken.status, taken.code()),
            (409, "conflict"),
            "{label}: {}",
            taken.body
        );
    }
}

/// By default an identity provider must be public and https: an owner cannot aim
/// the server at its own network.
#[tokio::test]
async fn a_private_or_plain_http_issuer_is_refused_unless_the_operator_allows_it() {
    let server = common::sqlite_server_with(|state| {
        state.with_sso_destinations(kaito_server::siem::DestinationPolicy::default())
    })
    .await;
    let owner = server.acme_owner().await;
    for issuer in [
        issuer(),
        "https://127.0.0.1:9/".to_owned(),
        "https://10.0.0.1/".to_owned(),
    ] {
        let refused = server
            .call(
                reqwest::Method::PUT,
                "/v1/team/sso",
                Some(&owner.access_token),
                Some(&settings(&json!({ "issuer": issuer }))),
            )
            .await;
        assert!(
            matches!(
                refused.code(),
                "sso.invalid_settings" | "sso.provider_unreachable"
            ),
            "{issuer}: {}",
            refused.body
        );
        assert_ne!(refused.status, 200, "{issuer}");
    }
    let refused = server
        .call(
            reqwest::Method::PUT,
            "/v1/team/sso",
            Some(&owner.access_token),
            Some(&settings(&json!({ "issuer": "https://127.0.0.1:9/" }))),
        )
        .await;
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("loopback"),
        "{}",
        refused.body
    );
}
