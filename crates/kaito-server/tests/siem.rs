//! SIEM streaming as a security team sees it, on SQLite and PostgreSQL: a real
//! syslog TCP listener and a TLS one (private CA) receiving every audit event in
//! order with octet-counting framing, a Splunk HEC endpoint and a signed webhook
//! receiving batches, an outage retried without losing events, and the retention
//! setting removing only what every sink has.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{TestServer, servers};
use kaito_api::{ChainReport, SinkView, TokenPair};
use serde_json::json;
use tokio::io::AsyncReadExt as _;

/// Everything a receiver was sent, over all its connections.
type Received = Arc<Mutex<Vec<u8>>>;

fn keep_reading(
    received: &Received,
    mut stream: impl tokio::io::AsyncRead + Unpin + Send + 'static,
) {
    let received = received.clone();
    tokio::spawn(async move {
        let mut chunk = [0u8; 8192];
        while let Ok(read) = stream.read(&mut chunk).await {
            if read == 0 {
                break;
            }
            received.lock().unwrap().extend_from_slice(&chunk[..read]);
        }
    });
}

/// A plain TCP syslog receiver; returns its port.
async fn syslog_listener(received: &Received) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            keep_reading(&received, stream);
        }
    });
    port
}

/// Splits octet-counted records (`LEN SP RECORD`), checking every length.
fn records(bytes: &[u8]) -> Vec<String> {
    let mut records = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let space = rest
            .iter()
            .position(|&byte| byte == b' ')
            .expect("a length");
        let length: usize = std::str::from_utf8(&rest[..space])
            .unwrap()
            .parse()
            .expect("a decimal length");
        let Some(record) = rest.get(space + 1..space + 1 + length) else {
            break; // still arriving
        };
        records.push(String::from_utf8(record.to_vec()).unwrap());
        rest = &rest[space + 1 + length..];
    }
    records
}

/// Waits until every sink has every event (or fails after 30 s with their state).
async fn until_delivered(server: &TestServer, owner: &TokenPair) -> Vec<SinkView> {
    for _ in 0..300 {
        let now = server.sinks(owner).await;
        if now
            .iter()
            .all(|sink| sink.pending == 0 && sink.delivered_seq > 0)
        {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{}: not delivered: {:?}",
        server.label,
        server.sinks(owner).await
    );
}

/// A few events of different kinds: a member added, a failed and a good sign-in.
async fn some_activity(server: &TestServer, owner: &TokenPair) {
    server.add_member(owner, "mia@example.com", "member").await;
    assert_eq!(
        server
            .login("mia@example.com", "wrong password!")
            .await
            .status,
        401
    );
    assert_eq!(
        server
            .login("mia@example.com", common::MEMBER_PASSWORD)
            .await
            .status,
        200
    );
}

async fn head_seq(server: &TestServer, owner: &TokenPair) -> i64 {
    let report: ChainReport = server
        .get("/v1/audit/verify", Some(&owner.access_token))
        .await
        .parse();
    report.events + report.pruned_through_seq
}

#[tokio::test]
async fn a_syslog_listener_gets_every_event_in_order_as_cef() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        let received = Received::default();
        let port = syslog_listener(&received).await;
        let added = server
            .post(
                "/v1/siem/sinks",
                Some(&owner.access_token),
                &json!({ "name": "SOC", "kind": "syslog", "host": "127.0.0.1", "port": port, "format": "cef", "insecure": true }),
            )
            .await;
        assert_eq!(added.status, 200, "{label}: {}", added.body);
        some_activity(&server, &owner).await;
        let status = until_delivered(&server, &owner).await;
        let head = head_seq(&server, &owner).await;
        assert_eq!(status[0].delivered_seq, head, "{label}");
        assert_eq!(status[0].last_error, None, "{label}");

        let lines = records(&received.lock().unwrap());
        // Each event once, in chain order, from the first (the history comes too).
        let seqs: Vec<i64> = lines
            .iter()
            .map(|line| {
                let start = line.find("cn1=").unwrap() + 4;
                line[start..].split(' ').next().unwrap().parse().unwrap()
            })
            .collect();
        assert_eq!(seqs, (1..=head).collect::<Vec<_>>(), "{label}");
        for line in &lines {
            assert!(line.starts_with("<1"), "{label}: {line}");
            assert!(line.contains(" kaito-server - "), "{label}: {line}");
            assert!(
                line.contains(" - CEF:0|Kaito|kaito-server|"),
                "{label}: {line}"
            );
        }
        let failed = lines
            .iter()
            .find(|line| line.contains("|login.failed|"))
            .expect("the failed sign-in");
        // Facility 13 (log audit), severity 4 (warning).
        assert!(failed.starts_with("<108>1 "), "{label}: {failed}");
        assert!(failed.contains("|login failed|6|"), "{label}: {failed}");
        assert!(!failed.contains("wrong password"), "{label}: {failed}");
    }
}

#[tokio::test]
async fn syslog_over_tls_trusts_the_sinks_own_ca_and_reports_an_untrusted_one() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let ca_pem = certified.cert.pem();
    let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![certified.cert.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into()),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        let received = Received::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (acceptor, sink) = (acceptor.clone(), received.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                // A client that does not trust us hangs up during the handshake.
                if let Ok(stream) = acceptor.accept(tcp).await {
                    keep_reading(&sink, stream);
                }
            }
        });
        let target = json!({ "kind": "syslog", "host": "localhost", "port": port, "tls": true, "format": "json" });
        let mut trusting = target.clone();
        trusting["name"] = json!("SOC over TLS");
        trusting["ca_pem"] = json!(ca_pem);
        let mut untrusting = target;
        untrusting["name"] = json!("No CA");
        for body in [&trusting, &untrusting] {
            let added = server
                .post("/v1/siem/sinks", Some(&owner.access_token), body)
                .await;
            assert_eq!(added.status, 200, "{label}: {}", added.body);
        }
        some_activity(&server, &owner).await;

        let head = head_seq(&server, &owner).await;
        let mut last = Vec::new();
        for _ in 0..300 {
            last = server.sinks(&owner).await;
            if last[0].delivered_seq >= head && last[1].last_error.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(last[0].delivered_seq, head, "{label}: {last:?}");
        let error = last[1].last_error.clone().unwrap_or_default();
        assert!(
            error.contains("TLS handshake with localhost"),
            "{label}: {error}"
        );
        assert_eq!(last[1].delivered_seq, 0, "{label}");
        assert!(last[1].pending >= head, "{label}");
        // The stored CA comes back; nothing secret does.
        assert!(matches!(
            &last[0].target,
            kaito_api::SinkTarget::Syslog {
                ca_pem: Some(_),
                ..
            }
        ));

        let lines = records(&received.lock().unwrap());
        assert_eq!(lines.len(), usize::try_from(head).unwrap(), "{label}");
        let events: Vec<serde_json::Value> = lines
            .iter()
            // <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG
            .map(|line| serde_json::from_str(line.splitn(8, ' ').nth(7).unwrap()).unwrap())
            .collect();
        let kinds: Vec<&str> = events
            .iter()
            .map(|event| event["kind"].as_str().unwrap())
            .collect();
        assert!(
            kinds.contains(&"member.added") && kinds.contains(&"login.failed"),
            "{label}: {kinds:?}"
        );
        assert!(
            events
                .iter()
                .all(|event| event["team_id"].as_str().unwrap().starts_with("team_"))
        );
    }
}

/// What an HTTP receiver was sent: (headers we check, body).
#[derive(Default)]
struct HttpReceiver {
    hec: Mutex<Vec<(String, String)>>,
    hook: Mutex<Vec<(String, String, String)>>,
    /// Requests to the webhook still to refuse with 503.
    refuse_hook: Mutex<u32>,
}

async fn http_receiver(receiver: Arc<HttpReceiver>) -> String {
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    async fn hec(
        State(receiver): State<Arc<HttpReceiver>>,
        headers: HeaderMap,
        body: String,
    ) -> StatusCode {
        let auth = headers["authorization"].to_str().unwrap().to_owned();
        receiver.hec.lock().unwrap().push((auth, body));
        StatusCode::OK
    }
    async fn hook(
        State(receiver): State<Arc<HttpReceiver>>,
        headers: HeaderMap,
        body: String,
    ) -> StatusCode {
        {
            let mut refuse = receiver.refuse_hook.lock().unwrap();
            if *refuse > 0 {
                *refuse -= 1;
                return StatusCode::SERVICE_UNAVAILABLE;
            }
        }
        let header = |name: &str| headers[name].to_str().unwrap().to_owned();
        receiver.hook.lock().unwrap().push((
            header("x-kaito-timestamp"),
            header("x-kaito-signature"),
            body,
        ));
        StatusCode::NO_CONTENT
    }
    let app = axum::Router::new()
        .route("/services/collector/event", axum::routing::post(hec))
        .route("/hook", axum::routing::post(hook))
        .with_state(receiver);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

const HOOK_SECRET: &str = "webhook-secret-0123456789";

#[tokio::test]
async fn splunk_hec_and_a_signed_webhook_get_every_event_and_an_outage_is_retried() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        let receiver = Arc::new(HttpReceiver::default());
        *receiver.refuse_hook.lock().unwrap() = 1;
        let base = http_receiver(receiver.clone()).await;
        let admin = Some(owner.access_token.as_str());

        let no_token = server
            .post("/v1/siem/sinks", admin, &json!({ "name": "Splunk", "kind": "splunk_hec", "url": format!("{base}/services/collector/event"), "insecure": true }))
            .await;
        assert_eq!(
            (no_token.status, no_token.code()),
            (400, "request.invalid"),
            "{label}"
        );
        let weak = server
            .post("/v1/siem/sinks", admin, &json!({ "name": "Hook", "kind": "webhook", "url": format!("{base}/hook"), "secret": "short", "insecure": true }))
            .await;
        assert_eq!(weak.status, 400, "{label}");
        let not_url = server
            .post("/v1/siem/sinks", admin, &json!({ "name": "Hook", "kind": "webhook", "url": "ftp://x", "secret": HOOK_SECRET }))
            .await;
        assert_eq!(not_url.status, 400, "{label}");
        for body in [
            json!({ "name": "Splunk", "kind": "splunk_hec", "url": format!("{base}/services/collector/event"), "index": "security", "secret": "hec-token-123", "insecure": true }),
            json!({ "name": "Hook", "kind": "webhook", "url": format!("{base}/hook"), "secret": HOOK_SECRET, "insecure": true }),
        ] {
            let added = server.post("/v1/siem/sinks", admin, &body).await;
            assert_eq!(added.status, 200, "{label}: {}", added.body);
        }
        some_activity(&server, &owner).await;

        // The webhook's first answer is 503: the sink shows it, then catches up.
        let mut saw_error = false;
        for _ in 0..100 {
            let now = server.sinks(&owner).await;
            if let Some(error) = &now[1].last_error {
                assert!(error.contains("503"), "{label}: {error}");
                saw_error = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(saw_error, "{label}: the outage was not reported");
        let status = until_delivered(&server, &owner).await;
        assert!(
            status.iter().all(|sink| sink.last_error.is_none()),
            "{label}: {status:?}"
        );
        let listing = serde_json::to_string(&status).unwrap();
        assert!(
            !listing.contains("hec-token-123") && !listing.contains(HOOK_SECRET),
            "{label}"
        );
        let head = head_seq(&server, &owner).await;

        let hec = receiver.hec.lock().unwrap().clone();
        let mut hec_seqs = Vec::new();
        for (auth, body) in &hec {
            assert_eq!(auth, "Splunk hec-token-123", "{label}");
            // HEC takes events back to back, not as a JSON array.
            for record in serde_json::Deserializer::from_str(body).into_iter::<serde_json::Value>()
            {
                let record = record.unwrap();
                assert_eq!(record["sourcetype"], "kaito:audit", "{label}");
                assert_eq!(record["index"], "security", "{label}");
                assert!(record["time"].as_f64().unwrap() > 1.7e9, "{label}");
                hec_seqs.push(record["event"]["seq"].as_i64().unwrap());
            }
        }
        // Events up to the head at the time the sinks were listed.
        assert_eq!(
            &hec_seqs[..usize::try_from(head).unwrap()],
            (1..=head).collect::<Vec<_>>(),
            "{label}"
        );

        let hook = receiver.hook.lock().unwrap().clone();
        let mut hook_seqs = Vec::new();
        for (timestamp, signature, body) in &hook {
            assert_eq!(
                signature,
                &kaito_server::siem::webhook_signature(
                    HOOK_SECRET.as_bytes(),
                    timestamp,
                    body.as_bytes()
                ),
                "{label}"
            );
            let batch: serde_json::Value = serde_json::from_str(body).unwrap();
            for event in batch["events"].as_array().unwrap() {
                hook_seqs.push(event["seq"].as_i64().unwrap());
            }
        }
        hook_seqs.dedup();
        assert_eq!(
            &hook_seqs[..usize::try_from(head).unwrap()],
            (1..=head).collect::<Vec<_>>(),
            "{label}"
        );

        // Members do not see or change sinks.
        let member: TokenPair = server
            .login("mia@example.com", common::MEMBER_PASSWORD)
            .await
            .parse();
        assert_eq!(
            server
                .get("/v1/siem/sinks", Some(&member.access_token))
                .await
                .status,
            403
        );
        let removed = server
            .delete(&format!("/v1/siem/sinks/{}", status[0].id), admin)
            .await;
        assert_eq!(removed.status, 200, "{label}");
        assert_eq!(server.sinks(&owner).await.len(), 1, "{label}");
    }
}

#[tokio::test]
async fn retention_removes_only_old_events_every_sink_has_and_the_chain_still_verifies() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        let admin_id = server.add_member(&owner, "ada@example.com", "admin").await;
        assert!(admin_id.starts_with("user_"));
        let admin: TokenPair = server
            .login("ada@example.com", common::MEMBER_PASSWORD)
            .await
            .parse();
        let retention = |who: &TokenPair, days: serde_json::Value| {
            let token = who.access_token.clone();
            let server = &server;
            async move {
                server
                    .call(
                        reqwest::Method::PUT,
                        "/v1/audit/retention",
                        Some(&token),
                        Some(&json!({ "keep_days": days })),
                    )
                    .await
            }
        };
        assert_eq!(
            retention(&admin, json!(100)).await.status,
            403,
            "{label}: only the owner"
        );
        assert_eq!(retention(&owner, json!(0)).await.status, 400, "{label}");
        // Under the operator's floor (90 days unless set otherwise): refused.
        let short = retention(&owner, json!(30)).await;
        assert_eq!(short.status, 400, "{label}");
        assert!(
            short.body["message"]
                .as_str()
                .unwrap()
                .contains("at least 90 days"),
            "{label}"
        );
        assert_eq!(retention(&owner, json!(100)).await.status, 200, "{label}");
        let read = server
            .get("/v1/audit/retention", Some(&admin.access_token))
            .await;
        assert_eq!(read.body, json!({ "keep_days": 100 }), "{label}");
        let in_101_days = kaito_server::http::now_ms() + 101 * 86_400_000;
        // No sink: no copy anywhere else, so nothing goes however old.
        let removed = kaito_server::audit::prune_expired(&server.store, 90, in_101_days)
            .await
            .unwrap();
        assert_eq!(
            removed, 0,
            "{label}: events were removed with no sink to hold them"
        );

        // A sink that cannot be reached holds everything back.
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let closed_port = closed.local_addr().unwrap().port();
        drop(closed);
        let sink = server
            .post(
                "/v1/siem/sinks",
                Some(&owner.access_token),
                &json!({ "name": "Down", "kind": "syslog", "host": "127.0.0.1", "port": closed_port, "insecure": true }),
            )
            .await;
        let removed = kaito_server::audit::prune_expired(&server.store, 90, in_101_days)
            .await
            .unwrap();
        assert_eq!(removed, 0, "{label}: events the sink lacks were removed");

        let sink_id = sink.body["id"].as_str().unwrap();
        server
            .delete(
                &format!("/v1/siem/sinks/{sink_id}"),
                Some(&owner.access_token),
            )
            .await;
        // A sink that has every event lets the old ones go.
        let received = Received::default();
        let port = syslog_listener(&received).await;
        let working = server
            .post(
                "/v1/siem/sinks",
                Some(&owner.access_token),
                &json!({ "name": "Up", "kind": "syslog", "host": "127.0.0.1", "port": port, "insecure": true }),
            )
            .await;
        assert_eq!(working.status, 200, "{label}: {}", working.body);
        until_delivered(&server, &owner).await;
        let before = head_seq(&server, &owner).await;
        // Not yet 100 days old: kept; nor does the server's own floor let less go.
        let in_99_days = kaito_server::http::now_ms() + 99 * 86_400_000;
        assert_eq!(
            kaito_server::audit::prune_expired(&server.store, 90, in_99_days)
                .await
                .unwrap(),
            0,
            "{label}"
        );
        assert_eq!(
            kaito_server::audit::prune_expired(&server.store, 365, in_101_days)
                .await
                .unwrap(),
            0,
            "{label}: the operator's floor was ignored"
        );
        let removed = kaito_server::audit::prune_expired(&server.store, 90, in_101_days)
            .await
            .unwrap();
        assert_eq!(removed, before, "{label}");

        let report: ChainReport = server
            .get("/v1/audit/verify", Some(&owner.access_token))
            .await
            .parse();
        assert!(report.intact, "{label}: {report:?}");
        assert_eq!(report.pruned_through_seq, before, "{label}");
        // What remains: the record of the pruning itself, then new activity.
        server.add_member(&owner, "mia@example.com", "member").await;
        let events: Vec<kaito_api::AuditEventView> = server
            .get("/v1/audit/events", Some(&owner.access_token))
            .await
            .parse();
        assert_eq!(events[0].kind, "audit.pruned", "{label}");
        assert_eq!(events[0].details["through_seq"], json!(before), "{label}");
        assert_eq!(events[1].kind, "member.added", "{label}");
        let report: ChainReport = server
            .get("/v1/audit/verify", Some(&owner.access_token))
            .await
            .parse();
        assert!(report.intact && report.events == 2, "{label}: {report:?}");

        // Removing the oldest remaining event by hand is still caught.
        sqlx::query("DELETE FROM audit_events WHERE seq = $1")
            .bind(before + 1)
            .execute(server.store.pool())
            .await
            .unwrap();
        let report: ChainReport = server
            .get("/v1/audit/verify", Some(&owner.access_token))
            .await
            .parse();
        assert_eq!(
            report.first_broken_seq,
            Some(before + 1),
            "{label}: {report:?}"
        );
    }
}
