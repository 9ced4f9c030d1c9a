//! One refresh token presented twice at the same moment (a stolen copy racing the
//! real client) is a replay like any other: the session ends, so neither side
//! keeps it. On PostgreSQL both requests can pass the spent-token check; the
//! loser of the swap must then revoke the session, not just fail.

#![allow(clippy::unwrap_used)]

mod common;

use common::{OWNER_PASSWORD, servers};
use kaito_api::TokenPair;
use serde_json::json;

#[tokio::test]
async fn a_refresh_token_raced_by_a_copy_ends_the_session_for_both() {
    for server in servers().await {
        let label = server.label;
        server.acme_owner().await;
        // Several sessions, so the two requests do meet inside the server.
        for _ in 0..8 {
            let tokens: TokenPair = server
                .login("olivia@example.com", OWNER_PASSWORD)
                .await
                .parse();
            let body = json!({ "refresh_token": tokens.refresh_token });
            let (first, second) = tokio::join!(
                server.post("/v1/auth/refresh", None, &body),
                server.post("/v1/auth/refresh", None, &body),
            );
            let winners: Vec<_> = [&first, &second]
                .into_iter()
                .filter(|answer| answer.status == 200)
                .collect();
            assert!(winners.len() <= 1, "{label}: both refreshes won");
            // Whoever won holds tokens of a revoked session.
            for winner in winners {
                let next: TokenPair = winner.parse();
                let again = server
                    .post(
                        "/v1/auth/refresh",
                        None,
                        &json!({ "refresh_token": next.refresh_token }),
                    )
                    .await;
                assert_eq!(again.status, 401, "{label}: the winner kept the session");
                let me = server.get("/v1/me", Some(&next.access_token)).await;
                assert_eq!(me.status, 401, "{label}");
            }
        }
    }
}
