//! What operators scrape and read, on SQLite and PostgreSQL: Prometheus metrics
//! that count requests by route pattern and show SIEM and SMS state, with nothing
//! identifying in them; and the `OpenAPI` document, which covers every route.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::servers;
use common::shared_team::GITHUB;
use serde_json::json;

/// GET `path` without signing in; checks it answers 200 with `content_type`.
async fn fetch_public(
    server: &common::TestServer,
    path: &str,
    content_type: &str,
) -> reqwest::Response {
    let response = server
        .client
        .get(format!("{}{path}", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}: {path}", server.label);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(content_type),
        "{}: {:?}",
        server.label,
        response.headers()
    );
    response
}

async fn scrape(server: &common::TestServer) -> String {
    fetch_public(server, "/metrics", "application/openmetrics-text")
        .await
        .text()
        .await
        .unwrap()
}

/// The value of the sample `name` (with its labels), if present.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_show_siem_and_sms_state() {
    for server in servers().await {
        let label = server.label;
        let inbox = common::inbox::inbox(&server).await;
        let owner = Some(inbox.owner.access_token.as_str());
        for _ in 0..2 {
            assert_eq!(
                server
                    .login("mia@example.com", "wrong password!")
                    .await
                    .status,
                401
            );
        }
        let token = server
            .post("/v1/tokens", owner, &json!({ "uri": GITHUB }))
            .await;
        let token_id = token.body["id"].as_str().unwrap().to_owned();
        // A sink nobody listens on: failing, and behind by the whole log.
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        server
            .post(
                "/v1/siem/sinks",
                owner,
                &json!({ "name": "Down", "kind": "syslog", "host": "127.0.0.1", "port": port, "insecure": true }),
            )
            .await;
        let _stream = common::inbox::open_stream(&server, &inbox.reader, None).await;
        let mut text = String::new();
        for _ in 0..100 {
            text = scrape(&server).await;
            if sample(&text, "kaito_siem_sinks_failing") == Some(1.0) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }

        for (name, value) in [
            (
                r#"kaito_http_requests_total{route="/v1/auth/login",method="POST",status="401"}"#,
                2.0,
            ),
            (
                r#"kaito_http_requests_total{route="/v1/tokens",method="POST",status="200"}"#,
                1.0,
            ),
            ("kaito_sms_live_streams", 1.0),
            ("kaito_siem_sinks_failing", 1.0),
        ] {
            assert_eq!(sample(&text, name), Some(value), "{label}: {name}\n{text}");
        }
        assert!(
            text.contains(r#"kaito_http_request_duration_seconds_count{route="/v1/auth/login"}"#),
            "{label}"
        );
        let events = sample(&text, "kaito_audit_events").unwrap();
        assert!(events >= 8.0, "{label}: {events}");
        assert!(
            sample(&text, "kaito_siem_pending_events_max").unwrap() >= events - 1.0,
            "{label}"
        );
        // Route patterns, not paths: no ids, emails or numbers.
        for private in [
            token_id.as_str(),
            "mia@example.com",
            "+1555",
            "team_",
            "JBSWY3DP",
        ] {
            assert!(!text.contains(private), "{label}: {private} in the metrics");
        }
    }
}

/// Every declared route has an operation with a tag, a signed-in one documents its
/// 401, and nothing is documented that the router does not serve.
fn assert_documents_exactly(
    label: &str,
    paths: &serde_json::Map<String, serde_json::Value>,
    declared: &[(String, String)],
) {
    let missing: Vec<_> = declared
        .iter()
        .filter(|(method, path)| paths.get(path).and_then(|ops| ops.get(method)).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "{label}: undocumented routes {missing:?}"
    );
    let extra: Vec<_> = paths
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(|method| (method.clone(), path.clone()))
        })
        .filter(|route| !declared.contains(route))
        .collect();
    assert!(
        extra.is_empty(),
        "{label}: documented, not routed: {extra:?}"
    );
    for (method, path) in declared {
        let operation = &paths[path][method];
        assert!(
            operation["tags"]
                .as_array()
                .is_some_and(|tags| !tags.is_empty()),
            "{label}: {method} {path} has no tag"
        );
        if operation.get("security").is_some() {
            assert!(
                operation["responses"].get("401").is_some(),
                "{label}: {method} {path} documents no 401"
            );
        }
    }
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let declared = common::declared_routes();
    assert!(declared.len() > 40, "{declared:?}");
    for server in servers().await {
        let label = server.label;
        // Public: no token.
        let doc: serde_json::Value = fetch_public(&server, "/v1/openapi.json", "application/json")
            .await
            .json()
            .await
            .unwrap();
        assert!(
            doc["openapi"].as_str().unwrap().starts_with("3."),
            "{label}: {}",
            doc["openapi"]
        );
        let paths = doc["paths"].as_object().unwrap();
        assert_documents_exactly(label, paths, &declared);

        let schemas = &doc["components"]["schemas"];
        for name in [
            "TokenPair",
            "CodesView",
            "SinkTarget",
            "NewSink",
            "ApiError",
        ] {
            assert!(schemas[name].is_object(), "{label}: no schema {name}");
        }
        let bearer = &doc["components"]["securitySchemes"]["bearer"];
        assert_eq!(
            (&bearer["type"], &bearer["scheme"]),
            (&json!("http"), &json!("bearer")),
            "{label}"
        );
        assert_eq!(
            paths["/v1/tokens/{token_id}/seed"]["get"]["security"],
            json!([{ "bearer": [] }]),
            "{label}"
        );
        for public in ["/v1/health", "/v1/openapi.json", "/metrics"] {
            assert!(
                paths[public]["get"].get("security").is_none(),
                "{label}: {public} needs no sign-in"
            );
        }
        // The bodies that are not JSON say so.
        assert!(
            paths["/v1/sms/stream"]["get"]["responses"]["200"]["content"]
                .get("text/event-stream")
                .is_some(),
            "{label}"
        );
        assert!(
            paths["/v1/sms/twilio"]["post"]["requestBody"]["content"]
                .get("application/x-www-form-urlencoded")
                .is_some(),
            "{label}"
        );
    }
}

/// With a metrics token (#16 L9), only a scraper holding it reads the counts.
#[tokio::test]
async fn a_metrics_token_keeps_the_counts_from_anyone_without_it() {
    let with_token = |state: kaito_server::http::ServerState| {
        state.with_metrics_token(Some(zeroize::Zeroizing::new("scraper-secret".to_owned())))
    };
    for server in common::servers_with(with_token).await {
        let label = server.label;
        let scrape_with = |bearer: Option<&'static str>| {
            let server = &server;
            async move {
                let mut request = server.client.get(format!("{}/metrics", server.base));
                if let Some(token) = bearer {
                    request = request.bearer_auth(token);
                }
                let response = request.send().await.unwrap();
                (response.status().as_u16(), response.text().await.unwrap())
            }
        };
        let (status, body) = scrape_with(None).await;
        assert_eq!(status, 401, "{label}");
        assert!(!body.contains("# EOF"), "{label}: counts without the token");
        assert_eq!(scrape_with(Some("wrong")).await.0, 401, "{label}");
        let (status, body) = scrape_with(Some("scraper-secret")).await;
        assert_eq!(status, 200, "{label}");
        assert!(body.contains("# EOF"), "{label}");
        // Health stays open for load balancers.
        fetch_public(&server, "/v1/health", "application/json").await;
    }
}
