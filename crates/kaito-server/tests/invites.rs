//! Invite links on SQLite and PostgreSQL: an admin invites an email with a role,
//! the invited person joins with their own password through the link once, and
//! used, revoked, expired or forged links are refused with a clear error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod common;

use common::{MEMBER_PASSWORD, servers};
use kaito_api::{AuditEventView, CreatedInvite, InviteView, MeView, Role, TokenPair};
use serde_json::json;

#[tokio::test]
async fn an_invited_person_joins_once_with_their_own_password() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        let owner_token = Some(owner.access_token.as_str());
        server.add_member(&owner, "ada@example.com", "admin").await;
        server.add_member(&owner, "sam@example.com", "member").await;
        let admin: TokenPair = server
            .login("ada@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        let member: TokenPair = server
            .login("sam@example.com", MEMBER_PASSWORD)
            .await
            .parse();

        // Admins invite members; only the owner invites admins.
        let invite = server
            .post(
                "/v1/team/invites",
                Some(&admin.access_token),
                &json!({ "email": " Mia@Example.com ", "role": "member" }),
            )
            .await;
        assert_eq!(invite.status, 200, "{label}: {}", invite.body);
        let invite: CreatedInvite = invite.parse();
        assert!(invite.token.starts_with("kin_"), "{label}");
        assert_eq!(
            invite.link.as_deref().unwrap(),
            format!(
                "kaito://join?server=https%3A%2F%2Fkaito.example.com&invite={}",
                invite.token
            ),
            "{label}"
        );
        let admin_invite = server
            .post(
                "/v1/team/invites",
                Some(&admin.access_token),
                &json!({ "email": "boss@example.com", "role": "admin" }),
            )
            .await;
        assert_eq!(
            (admin_invite.status, admin_invite.code()),
            (403, "auth.forbidden"),
            "{label}"
        );
        let taken = server
            .post(
                "/v1/team/invites",
                owner_token,
                &json!({ "email": "sam@example.com", "role": "member" }),
            )
            .await;
        assert_eq!(
            (taken.status, taken.code()),
            (409, "account.email_taken"),
            "{label}"
        );
        assert_eq!(
            server
                .get("/v1/team/invites", Some(&member.access_token))
                .await
                .status,
            403,
            "{label}"
        );
        let pending: Vec<InviteView> = server.get("/v1/team/invites", owner_token).await.parse();
        assert_eq!(pending.len(), 1, "{label}");
        assert_eq!(
            (pending[0].email.as_str(), pending[0].role),
            ("mia@example.com", Role::Member),
            "{label}"
        );
        // The list never carries the token.
        assert!(
            !serde_json::to_string(&pending)
                .unwrap()
                .contains(&invite.token),
            "{label}"
        );

        // A weak password is refused and the link still works.
        let weak = server
            .post(
                "/v1/invites/accept",
                None,
                &json!({ "token": invite.token, "name": "Mia", "password": "short" }),
            )
            .await;
        assert_eq!(
            (weak.status, weak.code()),
            (400, "request.invalid"),
            "{label}"
        );
        let joined = server
            .post("/v1/invites/accept", None, &json!({ "token": invite.token, "name": "Mia", "password": "mia's own passphrase" }))
            .await;
        assert_eq!(joined.status, 200, "{label}: {}", joined.body);
        let mia: TokenPair = joined.parse();
        let me: MeView = server.get("/v1/me", Some(&mia.access_token)).await.parse();
        assert_eq!(
            (me.email.as_str(), me.name.as_str(), me.role),
            ("mia@example.com", "Mia", Role::Member),
            "{label}"
        );
        assert_eq!(
            server
                .login("mia@example.com", "mia's own passphrase")
                .await
                .status,
            200,
            "{label}"
        );

        let again = server
            .post(
                "/v1/invites/accept",
                None,
                &json!({ "token": invite.token, "name": "Eve", "password": "eve's passphrase!" }),
            )
            .await;
        assert_eq!(
            (again.status, again.code()),
            (410, "invite.invalid"),
            "{label}"
        );
        let forged = server
            .post(
                "/v1/invites/accept",
                None,
                &json!({ "token": "kin_made_up", "name": "Eve", "password": "eve's passphrase!" }),
            )
            .await;
        assert_eq!(forged.status, 410, "{label}");
        assert!(
            server
                .get("/v1/team/invites", owner_token)
                .await
                .body
                .as_array()
                .unwrap()
                .is_empty(),
            "{label}"
        );

        // A revoked link does not work.
        let revoked: CreatedInvite = server
            .post(
                "/v1/team/invites",
                owner_token,
                &json!({ "email": "lee@example.com", "role": "admin" }),
            )
            .await
            .parse();
        let revoke = server
            .delete(&format!("/v1/team/invites/{}", revoked.id), owner_token)
            .await;
        assert_eq!(revoke.status, 200, "{label}");
        let late = server
            .post(
                "/v1/invites/accept",
                None,
                &json!({ "token": revoked.token, "name": "Lee", "password": "lee's passphrase!" }),
            )
            .await;
        assert_eq!(late.status, 410, "{label}");

        // Nor one a week old.
        let old: CreatedInvite = server
            .post(
                "/v1/team/invites",
                owner_token,
                &json!({ "email": "kim@example.com", "role": "member" }),
            )
            .await
            .parse();
        let in_eight_days = kaito_server::http::now_ms() + 8 * 86_400_000;
        let expired = kaito_server::invites::accept(
            &server.store,
            &old.token,
            ("Kim", &common::hashed("kim's passphrase!").await),
            in_eight_days,
        )
        .await;
        assert!(
            matches!(
                expired,
                Err(kaito_server::error::ServerError::InvalidInvite)
            ),
            "{label}"
        );

        let events: Vec<AuditEventView> = server
            .get("/v1/audit/events?limit=1000", owner_token)
            .await
            .parse();
        let kinds: Vec<&str> = events.iter().map(|event| event.kind.as_str()).collect();
        for kind in ["invite.created", "invite.accepted", "invite.revoked"] {
            assert!(
                kinds.contains(&kind),
                "{label}: {kind} missing from {kinds:?}"
            );
        }
        assert!(
            !serde_json::to_string(&events).unwrap().contains("kin_"),
            "{label}: a token is in the log"
        );
    }
}

/// #16 L5: an admin learns nothing about other teams' accounts by inviting. An
/// email of another team gets an invite like any; only its holder (who owns the
/// email) hears at acceptance that it has an account. A direct add says only that
/// the email cannot be added.
#[tokio::test]
async fn inviting_another_teams_email_tells_the_admin_nothing() {
    for server in servers().await {
        let label = server.label;
        let acme = server.acme_owner().await;
        let rival = server.rival_owner().await;
        let invited = server
            .post(
                "/v1/team/invites",
                Some(&rival.access_token),
                &json!({ "email": "olivia@example.com", "role": "member" }),
            )
            .await;
        assert_eq!(invited.status, 200, "{label}: {}", invited.body);
        let unknown = server
            .post(
                "/v1/team/invites",
                Some(&rival.access_token),
                &json!({ "email": "nobody@example.com", "role": "member" }),
            )
            .await;
        assert_eq!(unknown.status, 200, "{label}");
        let accepted = server
            .post(
                "/v1/invites/accept",
                None,
                &json!({ "token": invited.body["token"], "name": "Olivia", "password": "olivia's passphrase" }),
            )
            .await;
        assert_eq!(
            (accepted.status, accepted.code()),
            (409, "account.email_taken"),
            "{label}"
        );
        let added = server
            .post(
                "/v1/team/members",
                Some(&rival.access_token),
                &json!({ "email": "olivia@example.com", "name": "O", "role": "member", "password": "a first passphrase" }),
            )
            .await;
        assert_eq!(
            (added.status, added.code()),
            (409, "account.email_unavailable"),
            "{label}"
        );
        assert!(
            !added.body["message"].as_str().unwrap().contains("exists"),
            "{label}"
        );
        // Olivia's account is untouched, in her team.
        assert_eq!(
            server
                .login("olivia@example.com", common::OWNER_PASSWORD)
                .await
                .status,
            200,
            "{label}"
        );
        let me = server.get("/v1/me", Some(&acme.access_token)).await;
        assert_eq!(me.body["team_name"], "Acme", "{label}");
    }
}
