//! Disabling an admin closes every door they set up: their API tokens stop
//! working, their open invites no longer let anyone join, their devices are
//! revoked, they leave their groups, and their SIEM sinks stop delivering until
//! another admin has looked at them. Admins can list every
//! API token with its maker and last use, and tokens can expire.

#![allow(clippy::unwrap_used, clippy::too_many_lines)]

mod common;

use common::{MEMBER_PASSWORD, SERVER_KEY, servers};
use kaito_api::{ApiTokenView, AuditEventView, CreatedApiToken, CreatedInvite, SinkView};
use kaito_server::custody::ServerKey;
use kaito_server::http::now_ms;
use kaito_server::siem::{Deliverer, DestinationPolicy};
use serde_json::json;

#[tokio::test]
async fn a_disabled_admins_api_tokens_invites_and_sinks_stop_working_at_once() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        let owner_bearer = Some(owner.access_token.as_str());
        let alice_id = server
            .add_member(&owner, "alice@example.com", "admin")
            .await;
        let alice: kaito_api::TokenPair = server
            .login("alice@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        let alice_bearer = Some(alice.access_token.as_str());

        // What an admin expecting to be removed sets up first.
        let token: CreatedApiToken = server
            .post(
                "/v1/api-tokens",
                alice_bearer,
                &json!({ "name": "my SIEM", "scopes": ["audit:read"] }),
            )
            .await
            .parse();
        let kat = Some(token.token.as_str());
        let sink = server
            .post(
                "/v1/siem/sinks",
                alice_bearer,
                &json!({ "name": "mine", "kind": "webhook", "url": "https://alice.example/hook", "secret": "a sixteen+ char secret" }),
            )
            .await;
        assert_eq!(sink.status, 200, "{label}: {}", sink.body);
        let sink_id = sink.body["id"].as_str().unwrap().to_owned();
        let invite: CreatedInvite = server
            .post(
                "/v1/team/invites",
                alice_bearer,
                &json!({ "email": "alt@example.net", "role": "member" }),
            )
            .await
            .parse();
        let pull = server.post("/v1/audit/events", kat, &json!({})).await;
        assert_eq!(pull.status, 200, "{label}");
        let device_key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
        let device = server
            .post(
                "/v1/devices",
                alice_bearer,
                &json!({ "name": "Laptop", "public_key": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, device_key.verifying_key().to_bytes()) }),
            )
            .await;
        assert_eq!(device.status, 200, "{label}: {}", device.body);
        let device_id = device.body["id"].as_str().unwrap().to_owned();
        let group = server.create_group(owner_bearer, "Admins").await;
        let joined = server
            .post(
                &format!("/v1/groups/{group}/members"),
                owner_bearer,
                &json!({ "user_id": alice_id }),
            )
            .await;
        assert_eq!(joined.status, 200, "{label}");

        // The owner sees the token, who made it, and that it was just used.
        let listed: Vec<ApiTokenView> = server.get("/v1/api-tokens", owner_bearer).await.parse();
        assert_eq!(listed.len(), 1, "{label}");
        let view = &listed[0];
        assert_eq!(
            (
                view.name.as_str(),
                view.created_by_email.as_str(),
                view.active
            ),
            ("my SIEM", "alice@example.com", true),
            "{label}"
        );
        assert_eq!(view.created_by, alice_id);
        assert!(view.last_used_at.is_some(), "{label}");
        assert!(
            !serde_json::to_string(&listed)
                .unwrap()
                .contains(&token.token)
        );

        let disabled = server
            .post(
                &format!("/v1/team/members/{alice_id}/disable"),
                owner_bearer,
                &json!({}),
            )
            .await;
        assert_eq!(disabled.status, 200, "{label}: {}", disabled.body);

        // The token is dead, the invite does not open the team, the sink is held.
        let pull = server.post("/v1/audit/events", kat, &json!({})).await;
        assert_eq!(pull.status, 401, "{label}");
        let join = server
            .post(
                "/v1/invites/accept",
                None,
                &json!({ "token": invite.token, "name": "Alt", "password": "a long passphrase" }),
            )
            .await;
        assert_eq!(
            (join.status, join.code()),
            (410, "invite.invalid"),
            "{label}"
        );
        let listed: Vec<ApiTokenView> = server.get("/v1/api-tokens", owner_bearer).await.parse();
        assert!(
            !listed[0].active && listed[0].revoked_at.is_some(),
            "{label}"
        );
        let sinks: Vec<SinkView> = server.get("/v1/siem/sinks", owner_bearer).await.parse();
        assert!(sinks[0].held_at.is_some(), "{label}");
        assert_eq!(sinks[0].created_by.as_deref(), Some(alice_id.as_str()));

        // A held sink is not even tried: its (unreachable) target gets nothing.
        let deliverer = Deliverer::new(
            server.store.clone(),
            ServerKey::from_base64(SERVER_KEY).unwrap().into(),
            DestinationPolicy::default(),
        )
        .unwrap();
        assert_eq!(deliverer.deliver_due(now_ms()).await.unwrap(), 0);
        let sinks: Vec<SinkView> = server.get("/v1/siem/sinks", owner_bearer).await.parse();
        assert_eq!(
            (
                sinks[0].last_error.as_deref(),
                sinks[0].delivered_seq,
                sinks[0].failures
            ),
            (None, 0, 0),
            "{label}"
        );

        // The disable event names everything it closed, in the same chain.
        let events: Vec<AuditEventView> = server
            .get("/v1/audit/events?limit=500", owner_bearer)
            .await
            .parse();
        let event = events
            .iter()
            .find(|event| event.kind == "member.disabled")
            .unwrap();
        assert_eq!(
            event.details["api_tokens_revoked"],
            json!([token.id]),
            "{label}"
        );
        assert_eq!(
            event.details["invites_revoked"],
            json!([invite.id]),
            "{label}"
        );
        assert_eq!(event.details["sinks_held"], json!([sink_id]), "{label}");
        assert_eq!(
            event.details["devices_revoked"],
            json!([device_id]),
            "{label}"
        );
        assert_eq!(event.details["groups_left"], json!([group]), "{label}");
        let revoked: Option<i64> =
            sqlx::query_scalar("SELECT revoked_at FROM devices WHERE id = $1")
                .bind(device_id.as_str())
                .fetch_one(server.store.pool())
                .await
                .unwrap();
        assert!(revoked.is_some(), "{label}: the device still sends");
        let groups: Vec<kaito_api::GroupView> =
            server.get("/v1/groups", owner_bearer).await.parse();
        assert!(
            groups[0].member_ids.is_empty(),
            "{label}: still in the group"
        );

        // The owner looks at the sink and resumes it: it answers to her now.
        let resume = format!("/v1/siem/sinks/{sink_id}/resume");
        assert_eq!(
            server.post(&resume, owner_bearer, &json!({})).await.status,
            200
        );
        let sinks: Vec<SinkView> = server.get("/v1/siem/sinks", owner_bearer).await.parse();
        assert_eq!(sinks[0].held_at, None, "{label}");
        assert_ne!(sinks[0].created_by.as_deref(), Some(alice_id.as_str()));
        let again = server.post(&resume, owner_bearer, &json!({})).await;
        assert_eq!(again.status, 404, "{label}");
        let events: Vec<AuditEventView> = server
            .get("/v1/audit/events?limit=500", owner_bearer)
            .await
            .parse();
        assert!(events.iter().any(|event| event.kind == "siem.sink_resumed"));

        // Enabling her again does not bring her token back.
        let enabled = server
            .post(
                &format!("/v1/team/members/{alice_id}/enable"),
                owner_bearer,
                &json!({}),
            )
            .await;
        assert_eq!(enabled.status, 200, "{label}: {}", enabled.body);
        let pull = server.post("/v1/audit/events", kat, &json!({})).await;
        assert_eq!(pull.status, 401, "{label}");
    }
}

#[tokio::test]
async fn an_api_token_stops_working_when_it_expires() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        let bearer = Some(owner.access_token.as_str());
        let past = server
            .post(
                "/v1/api-tokens",
                bearer,
                &json!({ "name": "late", "scopes": ["audit:read"], "expires_at": now_ms() - 1 }),
            )
            .await;
        assert_eq!(
            (past.status, past.body["message"].as_str()),
            (400, Some("The expiry must be in the future.")),
            "{label}"
        );
        let expires_at = now_ms() + 1_500;
        let token: CreatedApiToken = server
            .post(
                "/v1/api-tokens",
                bearer,
                &json!({ "name": "brief", "scopes": ["audit:read"], "expires_at": expires_at }),
            )
            .await
            .parse();
        let kat = Some(token.token.as_str());
        assert_eq!(
            server
                .post("/v1/audit/events", kat, &json!({}))
                .await
                .status,
            200
        );
        tokio::time::sleep(std::time::Duration::from_millis(1_600)).await;
        assert_eq!(
            server
                .post("/v1/audit/events", kat, &json!({}))
                .await
                .status,
            401,
            "{label}"
        );
        let listed: Vec<ApiTokenView> = server.get("/v1/api-tokens", bearer).await.parse();
        assert_eq!(
            (listed[0].expires_at, listed[0].active, listed[0].revoked_at),
            (Some(expires_at), false, None),
            "{label}"
        );
    }
}

/// #16 M1: disabling a member marks every token whose seed they could fetch —
/// directly or through a group — as needing rotation, lists them in the event and
/// at `GET /v1/tokens?needs_rotation=true`; a rotation clears the mark.
#[tokio::test]
async fn a_disabled_members_seeds_are_listed_as_needing_rotation_until_rotated() {
    for server in servers().await {
        let label = server.label;
        let team = common::shared_team::team_with_shared_token(&server).await;
        let owner = Some(team.owner.access_token.as_str());
        let add = |issuer: &'static str| {
            let server = &server;
            async move {
                let uri = format!(
                    "otpauth://totp/{issuer}:ops?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer={issuer}"
                );
                let added = server
                    .post("/v1/tokens", owner, &json!({ "uri": uri }))
                    .await;
                assert_eq!(added.status, 200, "{}", added.body);
                added.body["id"].as_str().unwrap().to_owned()
            }
        };
        let (by_group, code_only) = (add("AWS").await, add("Slack").await);
        let group = server.create_group(owner, "Rotators").await;
        server
            .post(
                &format!("/v1/groups/{group}/members"),
                owner,
                &json!({ "user_id": team.member_id }),
            )
            .await;
        server
            .grant(
                owner,
                &team.token_id,
                &json!({ "user_id": team.admin_id, "mode": "seed" }),
            )
            .await;
        server
            .grant(
                owner,
                &by_group,
                &json!({ "group_id": group, "mode": "seed" }),
            )
            .await;
        server
            .grant(
                owner,
                &code_only,
                &json!({ "user_id": team.member_id, "mode": "code" }),
            )
            .await;
        let to_rotate = || async {
            let listed: Vec<kaito_api::SharedTokenView> = server
                .get("/v1/tokens?needs_rotation=true", owner)
                .await
                .parse();
            let mut ids: Vec<String> = listed.into_iter().map(|token| token.token_id).collect();
            ids.sort();
            ids
        };
        assert!(to_rotate().await.is_empty(), "{label}");
        let by_member = server
            .get(
                "/v1/tokens?needs_rotation=true",
                Some(&team.member.access_token),
            )
            .await;
        assert_eq!(by_member.status, 403, "{label}");

        let disable = |user_id: String| {
            let server = &server;
            async move {
                let disabled = server
                    .post(
                        &format!("/v1/team/members/{user_id}/disable"),
                        owner,
                        &json!({}),
                    )
                    .await;
                assert_eq!(disabled.status, 200, "{}", disabled.body);
            }
        };
        disable(team.admin_id.clone()).await;
        assert_eq!(to_rotate().await, vec![team.token_id.clone()], "{label}");
        disable(team.member_id.clone()).await;
        let mut both = vec![team.token_id.clone(), by_group.clone()];
        both.sort();
        assert_eq!(
            to_rotate().await,
            both,
            "{label}: the group's seed too, never the code-only one"
        );
        let events: Vec<AuditEventView> = server
            .get("/v1/audit/events?kind=member.disabled", owner)
            .await
            .parse();
        assert_eq!(
            events[1].details["tokens_to_rotate"],
            json!([by_group]),
            "{label}"
        );
        let all: Vec<kaito_api::SharedTokenView> = server.get("/v1/tokens", owner).await.parse();
        let marked = all.iter().find(|token| token.token_id == by_group).unwrap();
        assert!(marked.needs_rotation_since.is_some(), "{label}");

        let rotated = server
            .post(
                &format!("/v1/tokens/{by_group}/rotate"),
                owner,
                &json!({ "uri": "otpauth://totp/AWS:ops?secret=KRUGKIDROVUWG2ZAMJZG653OEBTG66BAMJ2W4&issuer=AWS" }),
            )
            .await;
        assert_eq!(rotated.status, 200, "{label}: {}", rotated.body);
        assert_eq!(to_rotate().await, vec![team.token_id.clone()], "{label}");
    }
}
