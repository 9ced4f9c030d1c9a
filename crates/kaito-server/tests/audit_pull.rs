//! Reading the audit log: a SIEM's cursor pull API with a scoped API token, signed
//! checkpoints of the chain head, and an admin's filtered pages — on SQLite and
//! PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{MEMBER_PASSWORD, TestServer, servers};
use kaito_api::{
    AuditEventView, AuditPage, CheckpointView, CreatedApiToken, TokenPair, checkpoint_message,
};
use serde_json::json;

/// `count` new audit events (groups with names not used before).
async fn some_events(server: &TestServer, owner: &TokenPair, count: usize) {
    static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    for _ in 0..count {
        let index = MADE.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let made = server
            .post(
                "/v1/groups",
                Some(&owner.access_token),
                &json!({ "name": format!("group {index}") }),
            )
            .await;
        assert_eq!(made.status, 200, "{}", made.body);
    }
}

#[tokio::test]
async fn a_siem_pulls_the_log_page_by_page_with_a_scoped_token() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        let admin = Some(owner.access_token.as_str());

        let unknown = server
            .post(
                "/v1/api-tokens",
                admin,
                &json!({ "name": "SIEM", "scopes": ["audit:write"] }),
            )
            .await;
        assert_eq!(
            (unknown.status, unknown.body["message"].as_str()),
            (400, Some("Unknown scope “audit:write”; known: audit:read."))
        );
        let created: CreatedApiToken = server
            .post(
                "/v1/api-tokens",
                admin,
                &json!({ "name": "SIEM", "scopes": ["audit:read"] }),
            )
            .await
            .parse();
        assert!(created.token.starts_with("kat_"), "{label}");
        let siem = Some(created.token.as_str());
        some_events(&server, &owner, 7).await;

        // Page by page until the end: every event once, in order.
        let mut seen: Vec<AuditEventView> = Vec::new();
        let mut request = json!({ "limit": 3 });
        loop {
            let page: AuditPage = server
                .post("/v1/audit/events", siem, &request)
                .await
                .parse();
            assert!(page.items.len() <= 3);
            seen.extend(page.items);
            request = json!({ "cursor": page.cursor, "limit": 3 });
            if !page.has_more {
                break;
            }
        }
        let seqs: Vec<i64> = seen.iter().map(|event| event.seq).collect();
        let total = i64::try_from(seqs.len()).unwrap();
        assert_eq!(seqs, (1..=total).collect::<Vec<_>>(), "{label}");
        assert!(total >= 10, "{label}: bootstrap, login, token, 7 groups");

        // Nothing new: an empty page and the same place. Then a new event arrives.
        let idle: AuditPage = server
            .post("/v1/audit/events", siem, &request)
            .await
            .parse();
        assert!(idle.items.is_empty() && !idle.has_more, "{label}");
        some_events(&server, &owner, 1).await;
        let fresh: AuditPage = server
            .post("/v1/audit/events", siem, &json!({ "cursor": idle.cursor }))
            .await
            .parse();
        assert_eq!(fresh.items.len(), 1, "{label}");
        assert_eq!(
            (fresh.items[0].seq, fresh.items[0].kind.as_str()),
            (total + 1, "group.created")
        );

        // A time range.
        let from = seen[5].at;
        let ranged: AuditPage = server
            .post(
                "/v1/audit/events",
                siem,
                &json!({ "start_time": from, "limit": 1000 }),
            )
            .await
            .parse();
        assert!(ranged.items.iter().all(|event| event.at >= from), "{label}");
        assert!(ranged.items.iter().any(|event| event.seq == seen[5].seq));
        let backwards = server
            .post(
                "/v1/audit/events",
                siem,
                &json!({ "start_time": 10, "end_time": 5 }),
            )
            .await;
        assert_eq!(backwards.status, 400, "{label}");

        // Bad cursors, the wrong people and a revoked token are refused.
        let forged = server
            .post("/v1/audit/events", siem, &json!({ "cursor": "bm9wZQ" }))
            .await;
        assert_eq!(
            (forged.status, forged.code()),
            (400, "request.invalid"),
            "{label}"
        );
        assert_eq!(
            server.get("/v1/me", siem).await.status,
            401,
            "{label}: not a session"
        );
        assert_eq!(
            server.get("/v1/team/members", siem).await.status,
            401,
            "{label}"
        );
        server.add_member(&owner, "mia@example.com", "member").await;
        let member: TokenPair = server
            .login("mia@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        let denied = server
            .post("/v1/audit/events", Some(&member.access_token), &json!({}))
            .await;
        assert_eq!(denied.status, 403, "{label}");
        let revoked = server
            .delete(&format!("/v1/api-tokens/{}", created.id), admin)
            .await;
        assert_eq!(revoked.status, 200, "{label}");
        assert_eq!(
            server
                .post("/v1/audit/events", siem, &json!({}))
                .await
                .status,
            401,
            "{label}"
        );
    }
}

#[tokio::test]
async fn checkpoints_are_signed_and_pin_the_chain_head() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        some_events(&server, &owner, 2).await;
        let checkpoint: CheckpointView = server
            .get("/v1/audit/checkpoint", Some(&owner.access_token))
            .await
            .parse();
        let events: Vec<AuditEventView> = server
            .get("/v1/audit/events?limit=1000", Some(&owner.access_token))
            .await
            .parse();
        let last = events.last().unwrap();
        assert_eq!(
            (checkpoint.seq, checkpoint.head_hash.as_str()),
            (last.seq, last.hash.as_str()),
            "{label}"
        );

        let key_bytes: [u8; 32] = STANDARD
            .decode(&checkpoint.public_key)
            .unwrap()
            .try_into()
            .unwrap();
        let public = ed25519_dalek::VerifyingKey::from_bytes(&key_bytes).unwrap();
        let signature_bytes: [u8; 64] = STANDARD
            .decode(&checkpoint.signature)
            .unwrap()
            .try_into()
            .unwrap();
        let signature = ed25519_dalek::Signature::from_bytes(&signature_bytes);
        let message = checkpoint_message(
            &checkpoint.team_id,
            checkpoint.seq,
            &checkpoint.head_hash,
            checkpoint.at,
        );
        public
            .verify_strict(message.as_bytes(), &signature)
            .unwrap();
        // A checkpoint edited to claim a shorter log no longer verifies.
        let shortened = checkpoint_message(
            &checkpoint.team_id,
            checkpoint.seq - 1,
            &checkpoint.head_hash,
            checkpoint.at,
        );
        assert!(
            public
                .verify_strict(shortened.as_bytes(), &signature)
                .is_err(),
            "{label}"
        );

        // The key is the server's: the same on the next checkpoint.
        some_events(&server, &owner, 1).await;
        let later: CheckpointView = server
            .get("/v1/audit/checkpoint", Some(&owner.access_token))
            .await
            .parse();
        assert_eq!(later.public_key, checkpoint.public_key, "{label}");
        assert_eq!(later.seq, checkpoint.seq + 1);
    }
}

/// What `GET /v1/audit/events?{query}` lists (a page of up to 100 by default).
async fn listed(server: &TestServer, owner: &TokenPair, query: &str) -> Vec<AuditEventView> {
    let answer = server
        .get(
            &format!("/v1/audit/events?{query}"),
            Some(&owner.access_token),
        )
        .await;
    assert_eq!(
        answer.status, 200,
        "{}: {query}: {}",
        server.label, answer.body
    );
    answer.parse()
}

fn kinds(events: &[AuditEventView]) -> Vec<&str> {
    events.iter().map(|event| event.kind.as_str()).collect()
}

#[tokio::test]
async fn admins_filter_the_log_by_kind_prefix_actor_subject_and_time() {
    /// Events apart in time, so a range can fall between them.
    async fn tick() {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        let owner_id = server.get("/v1/me", Some(&owner.access_token)).await.body["user_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let ada_id = server.add_member(&owner, "ada@example.com", "admin").await;
        let ada: TokenPair = server
            .login("ada@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        tick().await;
        let ops = server
            .post(
                "/v1/groups",
                Some(&ada.access_token),
                &json!({ "name": "Ops" }),
            )
            .await;
        let ops_id = ops.body["id"].as_str().unwrap().to_owned();
        server
            .post(
                "/v1/groups",
                Some(&owner.access_token),
                &json!({ "name": "Dev" }),
            )
            .await;
        let member_path = format!("/v1/groups/{ops_id}/members");
        server
            .post(
                &member_path,
                Some(&owner.access_token),
                &json!({ "user_id": ada_id }),
            )
            .await;
        tick().await;
        let removed = server
            .delete(
                &format!("{member_path}/{ada_id}"),
                Some(&owner.access_token),
            )
            .await;
        assert_eq!(removed.status, 200, "{label}: {}", removed.body);
        server.login("ada@example.com", "wrong passphrase").await;
        let all = listed(&server, &owner, "").await;

        // A kind ending in `.` is a prefix; any other kind is matched exactly.
        assert_eq!(
            kinds(&listed(&server, &owner, "kind=group.").await),
            [
                "group.created",
                "group.created",
                "group.member_added",
                "group.member_removed"
            ],
            "{label}"
        );
        assert_eq!(
            kinds(&listed(&server, &owner, "kind=login.").await),
            ["login.failed"],
            "{label}"
        );
        assert_eq!(
            kinds(&listed(&server, &owner, "kind=login").await),
            ["login", "login"],
            "{label}"
        );
        assert!(
            listed(&server, &owner, "kind=group").await.is_empty(),
            "{label}"
        );
        assert_eq!(
            listed(&server, &owner, "kind=").await,
            all,
            "{label}: an empty field is no filter"
        );

        // By actor, by subject, and several filters at once.
        let by_ada = listed(&server, &owner, &format!("actor={ada_id}")).await;
        assert_eq!(kinds(&by_ada), ["login", "group.created"], "{label}");
        assert!(
            by_ada
                .iter()
                .all(|event| event.actor.as_deref() == Some(ada_id.as_str())),
            "{label}"
        );
        let about_ops = listed(&server, &owner, &format!("subject={ops_id}")).await;
        assert_eq!(
            kinds(&about_ops),
            [
                "group.created",
                "group.member_added",
                "group.member_removed"
            ],
            "{label}"
        );
        let owner_on_ops = listed(
            &server,
            &owner,
            &format!("kind=group.&actor={owner_id}&subject={ops_id}"),
        )
        .await;
        assert_eq!(
            kinds(&owner_on_ops),
            ["group.member_added", "group.member_removed"],
            "{label}"
        );

        // A time range: `from` inclusive, `to` exclusive.
        let at = |kind: &str| all.iter().find(|event| event.kind == kind).unwrap().at;
        let (from, to) = (at("group.created"), at("group.member_removed"));
        let ranged = listed(&server, &owner, &format!("from={from}&to={to}")).await;
        assert_eq!(
            kinds(&ranged),
            ["group.created", "group.created", "group.member_added"],
            "{label}"
        );
        let expected: Vec<_> = all
            .iter()
            .filter(|event| (from..to).contains(&event.at))
            .cloned()
            .collect();
        assert_eq!(ranged, expected, "{label}");
        let since = listed(&server, &owner, &format!("from={to}")).await;
        assert_eq!(
            kinds(&since),
            ["group.member_removed", "login.failed"],
            "{label}"
        );
        let backwards = server
            .get(
                &format!("/v1/audit/events?from={to}&to={from}"),
                Some(&owner.access_token),
            )
            .await;
        assert_eq!(
            (backwards.status, backwards.code()),
            (400, "request.invalid"),
            "{label}"
        );

        // Paging by `after` goes on within the filter, in seq order.
        let first = listed(&server, &owner, "kind=group.&limit=2").await;
        assert_eq!(first.len(), 2, "{label}");
        let rest = listed(
            &server,
            &owner,
            &format!("kind=group.&limit=2&after={}", first[1].seq),
        )
        .await;
        assert_eq!(
            kinds(&rest),
            ["group.member_added", "group.member_removed"],
            "{label}"
        );
        assert!(first[1].seq < rest[0].seq, "{label}");
    }
}
