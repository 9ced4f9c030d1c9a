//! Passwords after the first (#16 M10), on SQLite and PostgreSQL over real HTTP: a
//! member changes their own (the current one required, other sessions end), and an
//! admin resets a member's with a one-time set-password link instead of knowing
//! the new password.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod common;

use common::{MEMBER_PASSWORD, OWNER_PASSWORD, TestServer, servers};
use kaito_api::{AuditEventView, CreatedPasswordLink, TokenPair};
use kaito_server::accounts::{PASSWORD_LINK_LIFETIME, set_password_with_link};
use kaito_server::error::ServerError;
use kaito_server::http::now_ms;
use kaito_server::password_work::PasswordWork;
use serde_json::json;

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn change(server: &TestServer, bearer: &str, current: &str, new: &str) -> common::Answer {
    server
        .post(
            "/v1/me/password",
            Some(bearer),
            &json!({ "current_password": current, "new_password": new }),
        )
        .await
}

async fn issue_link(server: &TestServer, bearer: &str, user_id: &str) -> common::Answer {
    server
        .post(
            &format!("/v1/team/members/{user_id}/password-link"),
            Some(bearer),
            &json!({}),
        )
        .await
}

async fn set_password(server: &TestServer, token: &str, password: &str) -> common::Answer {
    server
        .post(
            "/v1/auth/set-password",
            None,
            &json!({ "token": token, "password": password }),
        )
        .await
}

/// (kind, actor, subject) of the team's member events.
async fn member_events(
    server: &TestServer,
    bearer: &str,
) -> Vec<(String, Option<String>, Option<String>)> {
    let events: Vec<AuditEventView> = server
        .get("/v1/audit/events?kind=member.&limit=100", Some(bearer))
        .await
        .parse();
    events
        .into_iter()
        .filter(|event| event.kind != "member.added")
        .map(|event| (event.kind, event.actor, event.subject))
        .collect()
}

#[tokio::test]
async fn a_member_changes_their_password_and_their_other_sessions_end() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        let bob = server.add_member(&owner, "bob@example.com", "member").await;
        let here: TokenPair = server
            .login("bob@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        let elsewhere: TokenPair = server
            .login("bob@example.com", MEMBER_PASSWORD)
            .await
            .parse();

        let wrong = change(&server, &here.access_token, "not my password", NEW_PASSWORD).await;
        assert_eq!(
            (wrong.status, wrong.code()),
            (403, "auth.wrong_password"),
            "{label}"
        );
        let weak = change(&server, &here.access_token, MEMBER_PASSWORD, "short").await;
        assert_eq!(
            (weak.status, weak.code()),
            (400, "request.invalid"),
            "{label}"
        );
        // Neither refusal changed anything.
        assert_eq!(
            server
                .get("/v1/me", Some(&elsewhere.access_token))
                .await
                .status,
            200,
            "{label}"
        );

        let changed = change(&server, &here.access_token, MEMBER_PASSWORD, NEW_PASSWORD).await;
        assert_eq!(changed.status, 200, "{label}: {}", changed.body);
        assert_eq!(
            server.get("/v1/me", Some(&here.access_token)).await.status,
            200,
            "{label}"
        );
        assert_eq!(
            server
                .get("/v1/me", Some(&elsewhere.access_token))
                .await
                .status,
            401,
            "{label}"
        );
        let refreshed = server
            .post(
                "/v1/auth/refresh",
                None,
                &json!({ "refresh_token": elsewhere.refresh_token }),
            )
            .await;
        assert_eq!(refreshed.status, 401, "{label}");
        assert_eq!(
            server
                .login("bob@example.com", MEMBER_PASSWORD)
                .await
                .status,
            401,
            "{label}"
        );
        assert_eq!(
            server.login("bob@example.com", NEW_PASSWORD).await.status,
            200,
            "{label}"
        );

        let events = member_events(&server, &owner.access_token).await;
        assert_eq!(
            events,
            [(
                "member.password_changed".to_owned(),
                Some(bob.clone()),
                Some(bob.clone())
            )],
            "{label}"
        );
    }
}

#[tokio::test]
async fn wrong_current_passwords_count_against_the_sign_in_limit() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        server.add_member(&owner, "bob@example.com", "member").await;
        let bob: TokenPair = server
            .login("bob@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        for guess in 0..5 {
            let wrong = change(
                &server,
                &bob.access_token,
                &format!("guess number {guess}"),
                NEW_PASSWORD,
            )
            .await;
            assert_eq!(wrong.status, 403, "{label}: guess {guess}");
        }
        // A stolen access token is no way to guess the password: the sixth try,
        // even the right one, waits like a sign-in would.
        let limited = change(&server, &bob.access_token, MEMBER_PASSWORD, NEW_PASSWORD).await;
        assert_eq!(
            (limited.status, limited.code()),
            (429, "auth.rate_limited"),
            "{label}"
        );
        assert!(limited.retry_after.is_some(), "{label}");
        assert_eq!(
            server
                .login("bob@example.com", MEMBER_PASSWORD)
                .await
                .status,
            429,
            "{label}"
        );
    }
}

#[tokio::test]
async fn an_admin_resets_a_member_with_a_link_the_member_uses_once() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        server
            .add_member(&owner, "alice@example.com", "admin")
            .await;
        let alice: TokenPair = server
            .login("alice@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        let alice_id: String =
            server.get("/v1/me", Some(&alice.access_token)).await.body["user_id"]
                .as_str()
                .unwrap()
                .to_owned();
        let bob = server.add_member(&owner, "bob@example.com", "member").await;
        let bob_session: TokenPair = server
            .login("bob@example.com", MEMBER_PASSWORD)
            .await
            .parse();

        let issued = issue_link(&server, &alice.access_token, &bob).await;
        assert_eq!(issued.status, 200, "{label}: {}", issued.body);
        let link: CreatedPasswordLink = issued.parse();
        assert!(link.token.starts_with("kpw_"), "{label}");
        // The old password, perhaps leaked, and every session with it are over.
        assert_eq!(
            server
                .get("/v1/me", Some(&bob_session.access_token))
                .await
                .status,
            401,
            "{label}"
        );
        assert_eq!(
            server
                .login("bob@example.com", MEMBER_PASSWORD)
                .await
                .status,
            401,
            "{label}"
        );

        let weak = set_password(&server, &link.token, "short").await;
        assert_eq!(
            (weak.status, weak.code()),
            (400, "request.invalid"),
            "{label}"
        );
        let set = set_password(&server, &link.token, NEW_PASSWORD).await;
        assert_eq!(set.status, 200, "{label}: {}", set.body);
        let signed_in: TokenPair = set.parse();
        let me = server.get("/v1/me", Some(&signed_in.access_token)).await;
        assert_eq!(me.body["email"], "bob@example.com", "{label}");
        assert_eq!(
            server.login("bob@example.com", NEW_PASSWORD).await.status,
            200,
            "{label}"
        );

        let again = set_password(&server, &link.token, "another new passphrase").await;
        assert_eq!(
            (again.status, again.code()),
            (410, "auth.invalid_password_link"),
            "{label}"
        );
        assert_eq!(
            server.login("bob@example.com", NEW_PASSWORD).await.status,
            200,
            "{label}"
        );

        let events = member_events(&server, &owner.access_token).await;
        assert_eq!(
            events,
            [
                (
                    "member.password_link_created".to_owned(),
                    Some(alice_id.clone()),
                    Some(bob.clone())
                ),
                (
                    "member.password_set".to_owned(),
                    Some(bob.clone()),
                    Some(bob.clone())
                ),
            ],
            "{label}"
        );
    }
}

#[tokio::test]
async fn resets_follow_the_rank_rule_and_links_die_when_replaced_or_orphaned() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        let owner_id: String =
            server.get("/v1/me", Some(&owner.access_token)).await.body["user_id"]
                .as_str()
                .unwrap()
                .to_owned();
        let alice = server
            .add_member(&owner, "alice@example.com", "admin")
            .await;
        let carol = server
            .add_member(&owner, "carol@example.com", "admin")
            .await;
        let bob = server.add_member(&owner, "bob@example.com", "member").await;
        let alice_session: TokenPair = server
            .login("alice@example.com", MEMBER_PASSWORD)
            .await
            .parse();

        for (target, what) in [(&owner_id, "the owner"), (&carol, "another admin")] {
            let refused = issue_link(&server, &alice_session.access_token, target).await;
            assert_eq!(
                (refused.status, refused.code()),
                (403, "auth.forbidden"),
                "{label}: {what}"
            );
        }
        assert_eq!(
            server
                .login("olivia@example.com", OWNER_PASSWORD)
                .await
                .status,
            200,
            "{label}"
        );
        let own = issue_link(&server, &owner.access_token, &owner_id).await;
        assert_eq!(own.status, 400, "{label}");
        assert!(
            own.body["message"]
                .as_str()
                .unwrap()
                .contains("/v1/me/password"),
            "{label}"
        );

        // A newer link replaces the older one.
        let first: CreatedPasswordLink = issue_link(&server, &alice_session.access_token, &bob)
            .await
            .parse();
        let second: CreatedPasswordLink = issue_link(&server, &alice_session.access_token, &bob)
            .await
            .parse();
        assert_eq!(
            set_password(&server, &first.token, NEW_PASSWORD)
                .await
                .status,
            410,
            "{label}"
        );

        // A link outlives neither its day nor the admin who issued it.
        let late = set_password_with_link(
            &server.store,
            &PasswordWork::default(),
            &second.token,
            NEW_PASSWORD,
            now_ms() + i64::try_from(PASSWORD_LINK_LIFETIME.as_millis()).unwrap() + 1,
        )
        .await;
        assert!(
            matches!(late, Err(ServerError::InvalidPasswordLink)),
            "{label}: {late:?}"
        );
        let disabled = server
            .post(
                &format!("/v1/team/members/{alice}/disable"),
                Some(&owner.access_token),
                &json!({}),
            )
            .await;
        assert_eq!(disabled.status, 200, "{label}");
        assert_eq!(
            set_password(&server, &second.token, NEW_PASSWORD)
                .await
                .status,
            410,
            "{label}"
        );

        // The owner may reset an admin; a disabled member gets no link.
        let for_carol = issue_link(&server, &owner.access_token, &carol).await;
        assert_eq!(for_carol.status, 200, "{label}");
        let for_alice = issue_link(&server, &owner.access_token, &alice).await;
        assert_eq!(for_alice.status, 404, "{label}");
        // The member whose link died signs in with no password until a new link.
        assert_eq!(
            server
                .login("bob@example.com", MEMBER_PASSWORD)
                .await
                .status,
            401,
            "{label}"
        );
        let third: CreatedPasswordLink =
            issue_link(&server, &owner.access_token, &bob).await.parse();
        assert_eq!(
            set_password(&server, &third.token, NEW_PASSWORD)
                .await
                .status,
            200,
            "{label}"
        );
    }
}
