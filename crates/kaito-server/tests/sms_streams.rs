//! A member's live inbox streams are bounded (#16 L10), on SQLite and PostgreSQL:
//! past the bound the next one is refused with a clear error, and nobody else is
//! held by it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{MEMBER_PASSWORD, servers_with};
use kaito_api::TokenPair;
use kaito_server::sms::stream_slots::StreamSlots;

#[tokio::test]
async fn a_member_past_their_streams_is_refused_and_others_are_not() {
    let two = |state: kaito_server::http::ServerState| state.with_sms_streams(StreamSlots::new(2));
    for server in servers_with(two).await {
        let label = server.label;
        let owner = server.acme_owner().await;
        server.add_member(&owner, "mia@example.com", "member").await;
        let mia: TokenPair = server
            .login("mia@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        let open = |bearer: String| {
            let server = &server;
            async move {
                server
                    .client
                    .get(format!("{}/v1/sms/stream", server.base))
                    .bearer_auth(bearer)
                    .send()
                    .await
                    .unwrap()
            }
        };
        let first = open(mia.access_token.clone()).await;
        let second = open(mia.access_token.clone()).await;
        assert_eq!(
            (first.status().as_u16(), second.status().as_u16()),
            (200, 200),
            "{label}"
        );
        let third = open(mia.access_token.clone()).await;
        assert_eq!(third.status(), 429, "{label}");
        let refusal: kaito_api::ApiError = third.json().await.unwrap();
        assert_eq!(refusal.code, "sms.too_many_streams", "{label}");
        assert!(
            refusal.message.contains("2 live inbox streams"),
            "{label}: {}",
            refusal.message
        );
        let owners = open(owner.access_token.clone()).await;
        assert_eq!(owners.status(), 200, "{label}: another member is not held");
        drop((first, second, owners));
    }
}

/// Deliveries recorded at once (as one text wakes many streams) are written
/// together, each its own `sms.delivered` event with its own member, and the chain
/// stays intact.
#[tokio::test]
async fn many_deliveries_at_once_are_each_recorded_in_an_intact_chain() {
    for server in common::servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        let caller = kaito_server::accounts::authenticate(
            &server.store,
            &owner.access_token,
            kaito_server::http::now_ms(),
        )
        .await
        .unwrap();
        let log = kaito_server::sms::delivery_log::DeliveryLog::default();
        let recorded = futures_util::future::join_all((0..50).map(|seq| {
            let (log, store, caller) = (&log, &server.store, &caller);
            async move {
                log.record(
                    store,
                    caller,
                    (None, serde_json::json!({ "seqs": [seq], "via": "stream" })),
                    kaito_server::http::now_ms(),
                )
                .await
            }
        }))
        .await;
        assert!(recorded.iter().all(Result::is_ok), "{label}: {recorded:?}");
        let events: Vec<kaito_api::AuditEventView> = server
            .get(
                "/v1/audit/events?kind=sms.delivered&limit=100",
                Some(&owner.access_token),
            )
            .await
            .parse();
        let mut seqs: Vec<i64> = events
            .iter()
            .map(|event| event.details["seqs"][0].as_i64().unwrap())
            .collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (0..50).collect::<Vec<_>>(), "{label}");
        assert!(
            events
                .iter()
                .all(|event| event.actor.as_deref() == Some(caller.user_id.as_str())),
            "{label}"
        );
        let report: kaito_api::ChainReport = server
            .get("/v1/audit/verify", Some(&owner.access_token))
            .await
            .parse();
        assert!(report.intact, "{label}");
    }
}
