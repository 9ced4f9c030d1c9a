//! Credentials that can never work again are removed (#16 L8), on SQLite and
//! PostgreSQL: expired access tokens, and the spent refresh tokens of ended
//! sessions. A live session's spent tokens stay, so a copied one shown again still
//! ends it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{OWNER_PASSWORD, servers};
use kaito_api::TokenPair;
use kaito_server::accounts::{ACCESS_LIFETIME, Pruned, prune_spent_credentials};
use kaito_server::http::now_ms;
use serde_json::json;

#[tokio::test]
async fn expired_access_tokens_and_ended_sessions_spent_tokens_go() {
    for server in servers().await {
        let label = server.label;
        let count = |table: &'static str| {
            let pool = server.store.pool().clone();
            async move {
                let query = match table {
                    "access_tokens" => "SELECT COUNT(*) FROM access_tokens",
                    _ => "SELECT COUNT(*) FROM spent_refresh_tokens",
                };
                sqlx::query_scalar::<_, i64>(query)
                    .fetch_one(&pool)
                    .await
                    .unwrap()
            }
        };
        let first = server.acme_owner().await;
        let refresh = |token: String| {
            let server = &server;
            async move {
                server
                    .post("/v1/auth/refresh", None, &json!({ "refresh_token": token }))
                    .await
            }
        };
        // The ended session: signed in, refreshed once, signed out.
        let ended: TokenPair = refresh(first.refresh_token.clone()).await.parse();
        let out = server
            .post("/v1/auth/logout", Some(&ended.access_token), &json!({}))
            .await;
        assert_eq!(out.status, 200, "{label}");
        // The live session: refreshed twice.
        let live: TokenPair = server
            .login("olivia@example.com", OWNER_PASSWORD)
            .await
            .parse();
        let live_once: TokenPair = refresh(live.refresh_token.clone()).await.parse();
        let live_twice: TokenPair = refresh(live_once.refresh_token.clone()).await.parse();
        assert_eq!(count("spent_refresh_tokens").await, 3, "{label}");

        let pruned = prune_spent_credentials(&server.store, now_ms())
            .await
            .unwrap();
        assert_eq!(
            pruned,
            Pruned {
                access_tokens: 0,
                spent_refresh_tokens: 1
            },
            "{label}"
        );
        assert_eq!(
            server
                .get("/v1/me", Some(&live_twice.access_token))
                .await
                .status,
            200,
            "{label}"
        );
        let later = now_ms() + i64::try_from(ACCESS_LIFETIME.as_millis()).unwrap() + 1;
        let pruned = prune_spent_credentials(&server.store, later).await.unwrap();
        assert_eq!(pruned.spent_refresh_tokens, 0, "{label}");
        assert!(pruned.access_tokens >= 3, "{label}: {pruned:?}");
        assert_eq!(count("access_tokens").await, 0, "{label}");

        // The live session's spent tokens still catch a replay.
        let replayed = refresh(live.refresh_token.clone()).await;
        assert_eq!(replayed.status, 401, "{label}");
        let after = refresh(live_twice.refresh_token.clone()).await;
        assert_eq!(after.status, 401, "{label}: the replay ended the session");
    }
}
