//! Rotating a shared token's seed, on SQLite and PostgreSQL: everyone holding a
//! copy is notified, and no one else.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod common;

use common::shared_team::team_with_shared_token;
use common::{MEMBER_PASSWORD, servers};
use kaito_api::{AuditEventView, SeedView, SharedTokenView, TokenPair};
use kaito_server::http::now_ms;
use serde_json::json;

#[tokio::test]
async fn rotating_a_seed_notifies_everyone_holding_a_copy_and_no_one_else() {
    const ROTATED: &str = "otpauth://totp/GitHub:ops%40acme.com?secret=KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TFOQ&issuer=GitHub";
    for server in servers().await {
        let label = server.label;
        let team = team_with_shared_token(&server).await;
        let owner = Some(team.owner.access_token.as_str());
        let token = &team.token_id;
        let ben_id = server
            .add_member(&team.owner, "ben@example.com", "member")
            .await;
        let cy_id = server
            .add_member(&team.owner, "cy@example.com", "member")
            .await;
        // Ada (admin) holds the seed directly, Ben through a group; Mia has codes
        // only; Cy's full-seed grant has expired.
        let group_id = server.create_group(owner, "Rotators").await;
        server.join_group(owner, &group_id, &ben_id).await;
        for grant in [
            json!({ "user_id": team.admin_id, "mode": "seed" }),
            json!({ "group_id": group_id, "mode": "seed" }),
            json!({ "user_id": team.member_id, "mode": "code" }),
            json!({ "user_id": cy_id, "mode": "seed", "expires_at": now_ms() + 1500 }),
        ] {
            server.grant(owner, token, &grant).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
        let before: Vec<SharedTokenView> = server.get("/v1/tokens", owner).await.parse();
        assert_eq!(before[0].rotated_at, None, "{label}");

        let rotated = server
            .post(
                &format!("/v1/tokens/{token}/rotate"),
                owner,
                &json!({ "uri": ROTATED }),
            )
            .await;
        assert_eq!(rotated.status, 200, "{label}: {}", rotated.body);

        let ben: TokenPair = server
            .login("ben@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        let cy: TokenPair = server
            .login("cy@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        let notes = |who: &TokenPair, query: &'static str| {
            let token = who.access_token.clone();
            let server = &server;
            async move {
                server
                    .get(&format!("/v1/notifications{query}"), Some(&token))
                    .await
                    .parse::<Vec<kaito_api::NotificationView>>()
            }
        };
        for holder in [&team.admin, &ben] {
            let got = notes(holder, "").await;
            assert_eq!(got.len(), 1, "{label}");
            assert_eq!(got[0].kind, "token.rotated", "{label}");
            assert_eq!(got[0].subject.as_deref(), Some(token.as_str()), "{label}");
            assert!(
                got[0].message.contains("GitHub (ops@acme.com) was rotated"),
                "{label}: {}",
                got[0].message
            );
            assert!(
                !got[0].message.contains("KRSXG5"),
                "{label}: the seed is in a notification"
            );
        }
        for bystander in [&team.owner, &team.member, &cy] {
            assert!(notes(bystander, "").await.is_empty(), "{label}");
        }
        let listed: Vec<SharedTokenView> = server.get("/v1/tokens", owner).await.parse();
        assert!(listed[0].rotated_at.is_some(), "{label}");

        // Read once, gone from the unread list; no one marks another's.
        let note_id = notes(&ben, "").await[0].id.clone();
        let theirs = server
            .post(
                &format!("/v1/notifications/{note_id}/read"),
                Some(&team.admin.access_token),
                &json!({}),
            )
            .await;
        assert_eq!(theirs.status, 404, "{label}");
        let read = server
            .post(
                &format!("/v1/notifications/{note_id}/read"),
                Some(&ben.access_token),
                &json!({}),
            )
            .await;
        assert_eq!(read.status, 200, "{label}");
        assert!(notes(&ben, "?unread=true").await.is_empty(), "{label}");
        assert!(notes(&ben, "").await[0].read_at.is_some(), "{label}");

        let events: Vec<AuditEventView> = server
            .get("/v1/audit/events?limit=1000", owner)
            .await
            .parse();
        let rotation = events
            .iter()
            .find(|event| event.kind == "token.rotated")
            .unwrap();
        let mut expected = vec![team.admin_id.clone(), ben_id.clone()];
        expected.sort();
        assert_eq!(rotation.details["notified"], json!(expected), "{label}");

        // And the new seed is what the server now computes codes from.
        let seed: SeedView = server
            .get(&format!("/v1/tokens/{token}/seed"), Some(&ben.access_token))
            .await
            .parse();
        assert!(
            seed.uri.contains("KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TFOQ"),
            "{label}"
        );
    }
}
