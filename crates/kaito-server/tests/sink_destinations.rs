//! What a team admin's SIEM sink may reach, on SQLite and PostgreSQL: not the
//! server's own network (loopback, private, metadata addresses), checked when the
//! sink is added and again at every connection; no redirects; no internal error
//! page in the sink's status; cleartext only when asked for; and a stalled sink
//! that holds up only itself.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{SERVER_KEY, TestServer, servers, servers_with};
use kaito_api::TokenPair;
use kaito_server::custody::ServerKey;
use kaito_server::http::now_ms;
use kaito_server::siem::{Deliverer, DestinationPolicy};
use serde_json::json;

fn strict(state: kaito_server::http::ServerState) -> kaito_server::http::ServerState {
    state.with_sink_destinations(DestinationPolicy::default())
}

/// A TCP listener that counts connections and holds them open without a word.
async fn silent_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    (port, connections)
}

async fn add(server: &TestServer, owner: &TokenPair, body: &serde_json::Value) -> common::Answer {
    server
        .post("/v1/siem/sinks", Some(&owner.access_token), body)
        .await
}

#[tokio::test]
async fn a_sink_aimed_at_the_servers_own_network_is_refused_with_the_reason() {
    for server in servers_with(strict).await {
        let label = server.label;
        let owner = server.acme_owner().await;
        for (target, reason) in [
            (
                json!({ "kind": "syslog", "host": "127.0.0.1", "port": 514, "tls": true }),
                "127.0.0.1 is 127.0.0.1, a loopback address",
            ),
            (
                json!({ "kind": "webhook", "url": "https://169.254.169.254/latest/meta-data/", "secret": "sixteen characters" }),
                "a link-local address (where cloud metadata services answer)",
            ),
            (
                json!({ "kind": "splunk_hec", "url": "https://10.0.0.5:8088/services/collector/event", "secret": "hec" }),
                "10.0.0.5, a private address",
            ),
            (
                json!({ "kind": "webhook", "url": "https://[::1]:8443/hook", "secret": "sixteen characters" }),
                "a loopback address",
            ),
            // A name is resolved: localhost is loopback whatever it is called.
            (
                json!({ "kind": "syslog", "host": "localhost", "port": 6514, "tls": true }),
                "localhost is ",
            ),
        ] {
            let mut body = target.clone();
            body["name"] = json!("internal");
            let answer = add(&server, &owner, &body).await;
            assert_eq!(
                (answer.status, answer.code()),
                (400, "siem.address_refused"),
                "{label}: {target}: {}",
                answer.body
            );
            let message = answer.body["message"].as_str().unwrap();
            assert!(message.contains(reason), "{label}: {message}");
            assert_eq!(
                message.contains("--siem-allow-private"),
                !reason.contains("link-local"),
                "{label}: {message}"
            );
        }
        assert!(server.sinks(&owner).await.is_empty(), "{label}");
    }
}

#[tokio::test]
async fn allowing_private_ranges_still_keeps_sinks_off_the_metadata_service() {
    // The usual test servers allow private ranges, as an on-premises operator would.
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        let metadata = add(
            &server,
            &owner,
            &json!({ "name": "m", "kind": "webhook", "url": "http://169.254.169.254/latest/", "secret": "sixteen characters", "insecure": true }),
        )
        .await;
        assert_eq!(
            (metadata.status, metadata.code()),
            (400, "siem.address_refused"),
            "{label}: {}",
            metadata.body
        );
        let on_prem = add(
            &server,
            &owner,
            &json!({ "name": "SOC", "kind": "syslog", "host": "10.0.0.5", "port": 6514, "tls": true }),
        )
        .await;
        assert_eq!(on_prem.status, 200, "{label}: {}", on_prem.body);
    }
}

/// A name checked when the sink was added can point elsewhere later (DNS
/// rebinding), so every connection checks again. The sinks here were added while
/// their targets passed (as if private ranges had been allowed, or the name had
/// resolved elsewhere); this server's delivery refuses them.
#[tokio::test]
async fn every_connection_checks_the_address_again() {
    for server in servers_with(strict).await {
        let label = server.label;
        let owner = server.acme_owner().await;
        let admin =
            kaito_server::accounts::authenticate(&server.store, &owner.access_token, now_ms())
                .await
                .unwrap();
        let key = ServerKey::from_base64(SERVER_KEY).unwrap();
        let (port, connections) = silent_listener().await;
        for body in [
            json!({ "name": "by address", "kind": "syslog", "host": "127.0.0.1", "port": port, "insecure": true }),
            json!({ "name": "by name", "kind": "webhook", "url": format!("http://localhost:{port}/hook"), "secret": "sixteen characters", "insecure": true }),
            json!({ "name": "by literal", "kind": "splunk_hec", "url": format!("http://127.0.0.1:{port}/c"), "secret": "hec", "insecure": true }),
        ] {
            let sink: kaito_api::NewSink = serde_json::from_value(body).unwrap();
            let then = DestinationPolicy {
                allow_private: true,
            };
            kaito_server::siem::add_sink(&server.store, (&key, then), &admin, &sink, now_ms())
                .await
                .unwrap();
        }
        let mut listed = Vec::new();
        for _ in 0..100 {
            listed = server.sinks(&owner).await;
            if listed.iter().all(|sink| sink.last_error.is_some()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for sink in &listed {
            let error = sink.last_error.as_deref().unwrap_or_default();
            assert!(
                error.contains("a loopback address; sinks may not reach it"),
                "{label}: {}: {error:?}",
                sink.name
            );
            assert_eq!(sink.delivered_seq, 0, "{label}");
        }
        assert_eq!(
            connections.load(Ordering::SeqCst),
            0,
            "{label}: a refused sink connected"
        );
    }
}

/// A receiver that redirects, and one whose error page holds internal text.
async fn tricky_receiver(hits: Arc<AtomicUsize>) -> String {
    use axum::http::{StatusCode, header};
    use axum::routing::post;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let target = format!("{base}/landing");
    let app =
        axum::Router::new()
            .route(
                "/redirect",
                post(move || async move {
                    (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, target)])
                }),
            )
            .route(
                "/broken",
                post(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "db password is hunter2") }),
            )
            .route(
                "/landing",
                post(move || async move {
                    hits.fetch_add(1, Ordering::SeqCst);
                    StatusCode::OK
                }),
            );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

#[tokio::test]
async fn redirects_are_not_followed_and_error_pages_are_not_shown() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        let landed = Arc::new(AtomicUsize::new(0));
        let base = tricky_receiver(landed.clone()).await;
        for (name, path) in [("redirecting", "/redirect"), ("broken", "/broken")] {
            let added = add(
                &server,
                &owner,
                &json!({ "name": name, "kind": "webhook", "url": format!("{base}{path}"), "secret": "sixteen characters", "insecure": true }),
            )
            .await;
            assert_eq!(added.status, 200, "{label}: {}", added.body);
        }
        let mut listed = Vec::new();
        for _ in 0..100 {
            listed = server.sinks(&owner).await;
            if listed.iter().all(|sink| sink.last_error.is_some()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let errors: Vec<Option<&str>> = listed
            .iter()
            .map(|sink| sink.last_error.as_deref())
            .collect();
        assert_eq!(
            errors,
            [
                Some("the sink answered HTTP 307 (redirects are not followed)"),
                Some("the sink answered HTTP 500"),
            ],
            "{label}"
        );
        assert_eq!(
            landed.load(Ordering::SeqCst),
            0,
            "{label}: followed a redirect"
        );
    }
}

#[tokio::test]
async fn cleartext_targets_need_the_admins_explicit_insecure() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        for target in [
            json!({ "name": "web", "kind": "webhook", "url": "http://siem.example.com/hook", "secret": "sixteen characters" }),
            json!({ "name": "hec", "kind": "splunk_hec", "url": "http://siem.example.com/c", "secret": "hec" }),
            json!({ "name": "tcp", "kind": "syslog", "host": "siem.example.com", "port": 514, "tls": false }),
        ] {
            let refused = add(&server, &owner, &target).await;
            assert_eq!(
                (refused.status, refused.code()),
                (400, "siem.cleartext"),
                "{label}: {target}: {}",
                refused.body
            );
            let mut accepted = target.clone();
            accepted["insecure"] = json!(true);
            let added = add(&server, &owner, &accepted).await;
            assert_eq!(added.status, 200, "{label}: {}", added.body);
        }
        let secure = add(
            &server,
            &owner,
            &json!({ "name": "tls", "kind": "syslog", "host": "siem.example.com", "port": 6514, "tls": true }),
        )
        .await;
        assert_eq!(secure.status, 200, "{label}: {}", secure.body);
        let cleartext: Vec<(String, bool)> = server
            .sinks(&owner)
            .await
            .into_iter()
            .map(|sink| (sink.name, sink.cleartext))
            .collect();
        assert_eq!(
            cleartext,
            [
                ("web".to_owned(), true),
                ("hec".to_owned(), true),
                ("tcp".to_owned(), true),
                ("tls".to_owned(), false)
            ],
            "{label}"
        );
    }
}

#[tokio::test]
async fn a_stalled_syslog_sink_does_not_hold_up_another_and_gives_up_its_turn() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        // Accepts TCP and never answers the TLS handshake.
        let (stalled_port, stalled) = silent_listener().await;
        let added = add(
            &server,
            &owner,
            &json!({ "name": "stalled", "kind": "syslog", "host": "127.0.0.1", "port": stalled_port, "tls": true }),
        )
        .await;
        assert_eq!(added.status, 200, "{label}: {}", added.body);
        let stalled_id = added.body["id"].as_str().unwrap().to_owned();
        for _ in 0..100 {
            if stalled.load(Ordering::SeqCst) > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(stalled.load(Ordering::SeqCst) > 0, "{label}: never tried");

        // A second sink, added while the first hangs, gets every event.
        let received = Arc::new(std::sync::Mutex::new(Vec::new()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let into = received.clone();
        tokio::spawn(async move {
            use tokio::io::AsyncReadExt as _;
            while let Ok((mut stream, _)) = listener.accept().await {
                let into = into.clone();
                tokio::spawn(async move {
                    let mut chunk = [0u8; 8192];
                    while let Ok(read @ 1..) = stream.read(&mut chunk).await {
                        into.lock().unwrap().extend_from_slice(&chunk[..read]);
                    }
                });
            }
        });
        let second = add(
            &server,
            &owner,
            &json!({ "name": "working", "kind": "syslog", "host": "127.0.0.1", "port": port, "insecure": true }),
        )
        .await;
        assert_eq!(second.status, 200, "{label}: {}", second.body);
        server.add_member(&owner, "mia@example.com", "member").await;
        let mut listed = Vec::new();
        for _ in 0..100 {
            listed = server.sinks(&owner).await;
            if listed[1].pending == 0 && listed[1].delivered_seq > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            listed[1].pending, 0,
            "{label}: held up by the stalled sink: {listed:?}"
        );
        assert!(listed[0].pending > 0, "{label}");
        let text = String::from_utf8_lossy(&received.lock().unwrap()).into_owned();
        assert!(text.contains("member.added"), "{label}");

        // The stalled send ends at its time limit (shortened here) and says so.
        sqlx::query("UPDATE siem_sinks SET lease_until = 0, next_attempt_at = 0 WHERE id = $1")
            .bind(stalled_id.as_str())
            .execute(server.store.pool())
            .await
            .unwrap();
        Deliverer::new(
            server.store.clone(),
            ServerKey::from_base64(SERVER_KEY).unwrap().into(),
            DestinationPolicy {
                allow_private: true,
            },
        )
        .unwrap()
        .with_send_timeout(Duration::from_secs(1))
        .deliver_due(now_ms())
        .await
        .unwrap();
        let stalled_view = server
            .sinks(&owner)
            .await
            .into_iter()
            .find(|sink| sink.id == stalled_id)
            .unwrap();
        assert_eq!(
            stalled_view.last_error.as_deref(),
            Some("no answer within 1 s"),
            "{label}"
        );
    }
}
