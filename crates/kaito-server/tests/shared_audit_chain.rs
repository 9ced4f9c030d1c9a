//! The hash-chained audit log of shared-token use, on SQLite and PostgreSQL:
//! every code and seed served is in it, and editing or removing events shows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod common;

use common::servers;
use common::shared_team::{SECRET, team_with_shared_token};
use kaito_api::{AuditEventView, ChainReport};
use serde_json::json;

#[tokio::test]
async fn every_code_and_seed_is_in_a_hash_chain_that_shows_tampering() {
    for server in servers().await {
        let label = server.label;
        let team = team_with_shared_token(&server).await;
        let token = &team.token_id;
        let owner = Some(team.owner.access_token.as_str());
        server
            .grant(
                owner,
                token,
                &json!({ "user_id": team.member_id, "mode": "code" }),
            )
            .await;
        server
            .get(
                &format!("/v1/tokens/{token}/codes"),
                Some(&team.member.access_token),
            )
            .await;
        server
            .get(
                &format!("/v1/tokens/{token}/seed"),
                Some(&team.member.access_token),
            )
            .await;
        server.get(&format!("/v1/tokens/{token}/seed"), owner).await;
        server.login("mia@example.com", "wrong passphrase").await;

        let events: Vec<AuditEventView> = server
            .get("/v1/audit/events?limit=1000", owner)
            .await
            .parse();
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds[kinds.len() - 5..],
            [
                "grant.created",
                "code.served",
                "seed.refused",
                "seed.fetched",
                "login.failed"
            ],
            "{label}"
        );
        let served = events.iter().find(|e| e.kind == "code.served").unwrap();
        assert_eq!(
            served.actor.as_deref(),
            Some(team.member_id.as_str()),
            "{label}"
        );
        assert_eq!(served.subject.as_deref(), Some(token.as_str()));
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(
            seqs,
            (1..=i64::try_from(events.len()).unwrap()).collect::<Vec<_>>(),
            "{label}: gapless"
        );
        for event in &events {
            assert!(
                !event.details.to_string().contains(SECRET),
                "{label}: a seed in the log"
            );
        }

        let intact: ChainReport = server.get("/v1/audit/verify", owner).await.parse();
        assert!(intact.intact, "{label}: {intact:?}");
        assert_eq!(intact.events, i64::try_from(events.len()).unwrap());
        assert_eq!(intact.head_hash, events.last().unwrap().hash);

        // Someone with database access edits what a code view says.
        sqlx::query("UPDATE audit_events SET details = '{\"grant\":\"seed\"}' WHERE seq = $1")
            .bind(served.seq)
            .execute(server.store.pool())
            .await
            .unwrap();
        let tampered: ChainReport = server.get("/v1/audit/verify", owner).await.parse();
        assert_eq!(
            (tampered.intact, tampered.first_broken_seq),
            (false, Some(served.seq)),
            "{label}"
        );
    }
}

#[tokio::test]
async fn removing_the_newest_events_is_detected_too() {
    for server in servers().await {
        let label = server.label;
        let team = team_with_shared_token(&server).await;
        let owner = Some(team.owner.access_token.as_str());
        let before: ChainReport = server.get("/v1/audit/verify", owner).await.parse();
        assert!(before.intact, "{label}");
        sqlx::query("DELETE FROM audit_events WHERE seq = $1")
            .bind(before.events)
            .execute(server.store.pool())
            .await
            .unwrap();
        let after: ChainReport = server.get("/v1/audit/verify", owner).await.parse();
        assert_eq!(
            (after.intact, after.first_broken_seq),
            (false, Some(before.events)),
            "{label}"
        );
    }
}
