//! Team server benchmarks, over real HTTP on loopback against an in-process server:
//!
//! - audit ingest: signed device batches of 500 events into the hash chain, in
//!   events per second, on SQLite and on PostgreSQL;
//! - SMS push latency: from sending a signed Twilio webhook to each of 1,000 live
//!   SSE subscribers receiving the message, p50 and p99.
//!
//! `scripts/with-postgres.sh cargo bench -p kaito-server --bench server` (without
//! the wrapper, only SQLite is measured). Numbers go in BENCHMARKS.md.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::too_many_lines
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signer as _;
use kaito_api::{DeviceEvent, EventBatch, TokenPair};
use kaito_server::custody::ServerKey;
use kaito_server::http::{ServerState, now_ms};
use kaito_server::sms::{SmsConfig, twilio_signature};
use kaito_server::store::Store;
use serde_json::json;

const PASSWORD: &str = "bench passphrase 1";
const TWILIO_TOKEN: &str = "bench-twilio-token";
const TWILIO_URL: &str = "https://kaito.example.com/v1/sms/twilio";
const NUMBER: &str = "+15550100999";
const BATCH: usize = 500;
const BATCHES: usize = 40;
const SUBSCRIBERS: usize = 1000;
const MESSAGES: usize = 40;

struct Server {
    base: String,
    client: reqwest::Client,
    store: Store,
    _tasks: tokio::task::JoinSet<()>,
}

async fn start(store: Store) -> Server {
    let key = ServerKey::from_base64(&STANDARD.encode([42u8; 32])).unwrap();
    store.check_server_key(&key).await.unwrap();
    let sms = SmsConfig {
        twilio_webhook_url: Some(TWILIO_URL.to_owned()),
        twilio_auth_token: Some(zeroize::Zeroizing::new(TWILIO_TOKEN.to_owned())),
        team_admins_add_numbers: true,
        ..SmsConfig::default()
    };
    // Ingest is measured, not the per-device allowance a real device has.
    // One member reads from all the subscribers: past the usual per-member bound.
    let state = ServerState::new(store.clone(), key, sms)
        .with_sms_streams(kaito_server::sms::stream_slots::StreamSlots::new(
            SUBSCRIBERS,
        ))
        .with_device_events(kaito_server::device_limit::DeviceEventLimit::new(
            u32::MAX,
            std::time::Duration::from_nanos(1),
        ));
    let tasks = state.spawn_background_tasks().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        kaito_server::http::serve(listener, state, std::future::pending())
            .await
            .unwrap();
    });
    Server {
        base,
        client: reqwest::Client::new(),
        store,
        _tasks: tasks,
    }
}

impl Server {
    async fn post(&self, path: &str, bearer: &str, body: &serde_json::Value) -> serde_json::Value {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(bearer)
            .json(body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    async fn owner(&self) -> TokenPair {
        kaito_server::accounts::create_team_with_owner(
            &self.store,
            "Bench",
            "owner@example.com",
            "Owner",
            &kaito_server::password_work::PasswordWork::default()
                .hash_new(PASSWORD)
                .await
                .unwrap(),
            now_ms(),
        )
        .await
        .unwrap();
        self.client
            .post(format!("{}/v1/auth/login", self.base))
            .json(&json!({ "email": "owner@example.com", "password": PASSWORD }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// Events per second for `BATCHES` signed batches of `BATCH` events.
async fn audit_ingest(server: &Server) -> f64 {
    let owner = server.owner().await;
    let key = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
    let device = server
        .post(
            "/v1/devices",
            &owner.access_token,
            &json!({ "name": "Bench", "public_key": STANDARD.encode(key.verifying_key().to_bytes()) }),
        )
        .await;
    let device_id = device["id"].as_str().unwrap().to_owned();
    // Device events name a token of the team.
    let token = server
        .post(
            "/v1/tokens",
            &owner.access_token,
            &json!({ "uri": "otpauth://totp/Bench:ops?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Bench" }),
        )
        .await;
    let token_id = token["id"].as_str().unwrap().to_owned();
    let bodies: Vec<(String, String)> = (0..BATCHES)
        .map(|batch| {
            let events = (0..BATCH)
                .map(|index| {
                    let seq = i64::try_from(batch * BATCH + index + 1).unwrap();
                    DeviceEvent {
                        event_id: format!("evt-bench-{seq}"),
                        seq,
                        at: now_ms(),
                        kind: "code.copied".to_owned(),
                        token_id: Some(token_id.clone()),
                        details: json!({ "surface": "tray" }),
                    }
                })
                .collect();
            let body = serde_json::to_string(&EventBatch {
                device_id: device_id.clone(),
                events,
            })
            .unwrap();
            let signature = STANDARD.encode(key.sign(body.as_bytes()).to_bytes());
            (body, signature)
        })
        .collect();
    let started = Instant::now();
    for (body, signature) in bodies {
        let response = server
            .client
            .post(format!("{}/v1/events:batch", server.base))
            .bearer_auth(&owner.access_token)
            .header("x-kaito-signature", signature)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
    }
    let elapsed = started.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let events = (BATCHES * BATCH) as f64;
    events / elapsed
}

/// Latencies from webhook sent to each subscriber's event, over `MESSAGES` messages.
async fn sms_latency(server: &Server) -> Vec<Duration> {
    let owner = server.owner().await;
    let number = server
        .post(
            "/v1/sms/numbers",
            &owner.access_token,
            &json!({ "phone_number": NUMBER }),
        )
        .await;
    let number_id = number["id"].as_str().unwrap();
    let grant = json!({ "user_id": server.post("/v1/team/members", &owner.access_token, &json!({ "email": "reader@example.com", "name": "Reader", "role": "member", "password": PASSWORD })).await["user_id"] });
    server
        .post(
            &format!("/v1/sms/numbers/{number_id}/grants"),
            &owner.access_token,
            &grant,
        )
        .await;
    let reader: TokenPair = server
        .client
        .post(format!("{}/v1/auth/login", server.base))
        .json(&json!({ "email": "reader@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // Each subscriber reports (message number, when it arrived).
    let (arrivals, mut arrived) = tokio::sync::mpsc::unbounded_channel::<(usize, Instant)>();
    let ready = Arc::new(tokio::sync::Barrier::new(SUBSCRIBERS + 1));
    for _ in 0..SUBSCRIBERS {
        let (client, url, token) = (
            reqwest::Client::new(),
            format!("{}/v1/sms/stream", server.base),
            reader.access_token.clone(),
        );
        let (arrivals, ready) = (arrivals.clone(), ready.clone());
        tokio::spawn(async move {
            let mut response = client.get(url).bearer_auth(token).send().await.unwrap();
            assert!(response.status().is_success());
            ready.wait().await;
            let mut buffer = String::new();
            while let Ok(Some(chunk)) = response.chunk().await {
                let now = Instant::now();
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buffer.find("\n\n") {
                    let frame: String = buffer.drain(..end + 2).collect();
                    if let Some(index) = frame.find("bench message ") {
                        let number: usize = frame[index + 14..]
                            .split(|c: char| !c.is_ascii_digit())
                            .next()
                            .unwrap()
                            .parse()
                            .unwrap();
                        let _ = arrivals.send((number, now));
                    }
                }
            }
        });
    }
    ready.wait().await;
    let mut latencies = Vec::with_capacity(SUBSCRIBERS * MESSAGES);
    for message in 0..MESSAGES {
        let form: Vec<(String, String)> = [
            ("MessageSid", format!("SMbench{message}")),
            ("From", "+15550199999".to_owned()),
            ("To", NUMBER.to_owned()),
            (
                "Body",
                format!("bench message {message}: code {:06}", 100_000 + message),
            ),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
        let signature = twilio_signature(TWILIO_TOKEN, TWILIO_URL, &form);
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&form)
            .finish();
        let sent = Instant::now();
        let response = server
            .client
            .post(format!("{}/v1/sms/twilio", server.base))
            .header("x-twilio-signature", signature)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        let mut received = 0;
        while received < SUBSCRIBERS {
            let (number, at) = tokio::time::timeout(Duration::from_secs(30), arrived.recv())
                .await
                .expect("every subscriber hears within 30 s")
                .unwrap();
            if number == message {
                latencies.push(at - sent);
                received += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    latencies.sort();
    latencies
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let index = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

async fn fresh_postgres(admin_url: &str, name: &str) -> Store {
    use sqlx::Connection as _;
    sqlx::any::install_default_drivers();
    let mut admin = sqlx::AnyConnection::connect(admin_url).await.unwrap();
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name}"
    )))
    .execute(&mut admin)
    .await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    Store::connect(&format!("{base}/{name}")).await.unwrap()
}

#[tokio::main]
async fn main() {
    let postgres = std::env::var("KAITO_TEST_POSTGRES_URL").ok();
    let dir = tempfile::tempdir().unwrap();
    // A fresh database per measurement, so one does not slow the other.
    for measurement in ["ingest", "sms"] {
        let sqlite = start(
            Store::open_data_dir(&dir.path().join(measurement))
                .await
                .unwrap(),
        )
        .await;
        let pg = match &postgres {
            Some(url) => {
                Some(start(fresh_postgres(url, &format!("kaito_bench_{measurement}")).await).await)
            }
            None => None,
        };
        for (backend, server) in [("SQLite", Some(&sqlite)), ("PostgreSQL", pg.as_ref())] {
            let Some(server) = server else {
                println!("{backend}: skipped (no KAITO_TEST_POSTGRES_URL)");
                continue;
            };
            if measurement == "ingest" {
                let rate = audit_ingest(server).await;
                println!(
                    "audit ingest, {backend}: {rate:.0} events/s ({BATCHES} signed batches of {BATCH})"
                );
            } else {
                let latencies = sms_latency(server).await;
                println!(
                    "SMS webhook -> SSE, {backend}, {SUBSCRIBERS} subscribers x {MESSAGES} messages: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                    percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
                    percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
                    latencies.last().unwrap().as_secs_f64() * 1000.0
                );
            }
        }
    }
}
