//! A real `kaito-server` for tests of its clients (the team client, the app), in
//! the test's process on loopback so clients reach it over real HTTP, with a team
//! whose owner shares one token with a member, code-only. Behind the `testing`
//! feature: never part of a server build.

// A test harness fails the test at once on anything unexpected.
#![allow(clippy::expect_used, clippy::missing_panics_doc)]

pub mod identity_provider;

use kaito_api::TokenPair;
use serde_json::json;

use crate::custody::ServerKey;
use crate::http::{ServerState, now_ms, router};
use crate::store::Store;

/// The shared token's seed; code-only members must never hold it.
pub const SEED: &str = "KRUGKIDROVUWG2ZAMJZG653OEBTG66BAMJ2W4";
pub const SHARED: &str = "otpauth://totp/Acme%20VPN:ops%40acme.com?secret=KRUGKIDROVUWG2ZAMJZG653OEBTG66BAMJ2W4&issuer=Acme%20VPN";
pub const OWNER_PASSWORD: &str = "owner passphrase 1";
pub const MEMBER_PASSWORD: &str = "member passphrase 1";
pub const TWILIO_URL: &str = "https://kaito.example.com/v1/sms/twilio";
pub const TWILIO_TOKEN: &str = "twilio-test-token";
/// The team's shared SMS number, labelled "Ops phone".
pub const INBOX_NUMBER: &str = "+15550100123";

/// A kaito-server on loopback that can be stopped and started again on its port.
#[derive(Debug)]
pub struct Server {
    pub store: Store,
    pub address: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    pub async fn start(store: Store, address: &str) -> Self {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .expect("a loopback port");
        let address = listener.local_addr().expect("its address");
        let key = ServerKey::from_base64("KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=")
            .expect("a valid key");
        store.check_server_key(&key).await.expect("the key fits");
        let sms = crate::sms::SmsConfig {
            twilio_webhook_url: Some(TWILIO_URL.to_owned()),
            twilio_auth_token: Some(zeroize::Zeroizing::new(TWILIO_TOKEN.to_owned())),
            // The fixtures add their numbers over the API, as a single-team server may.
            team_admins_add_numbers: true,
            ..crate::sms::SmsConfig::default()
        };
        // Invites carry a `kaito://join` link to this address.
        let public_url = format!("http://127.0.0.1:{}", address.port());
        // The app tests' SIEM receivers and identity provider listen on loopback.
        let app = router(
            ServerState::new(store.clone(), key, sms)
                .with_public_url(Some(public_url))
                .with_sink_destinations(crate::siem::DestinationPolicy {
                    allow_private: true,
                })
                .with_sso_destinations(crate::siem::DestinationPolicy {
                    allow_private: true,
                }),
        );
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            // Dropped at the end, the set aborts every connection: long-lived ones
            // (the inbox stream) end as they would when a real server goes down.
            let mut connections = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((stream, peer)) = accepted else { continue };
                        // As `http::serve` does: the per-address limit reads it.
                        let app = app.clone().layer(axum::Extension(axum::extract::ConnectInfo(peer)));
                        let service = hyper_util::service::TowerToHyperService::new(app);
                        connections.spawn(async move {
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                                .await;
                        });
                    }
                    _ = &mut stopped => break,
                }
            }
        });
        Self {
            store,
            address,
            stop: Some(stop),
            task: Some(task),
        }
    }

    #[must_use]
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.address.port())
    }

    /// Stops accepting and drops every connection at once.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("the server stops");
        }
    }

    /// A JSON call that must succeed.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: &str,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let response = reqwest::Client::new()
            .request(method, format!("{}{path}", self.url()))
            .bearer_auth(bearer)
            .json(&body)
            .send()
            .await
            .expect("the server answers");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.expect("JSON")
    }

    /// Signs `email` in and sets up an authenticator for them, as they would from
    /// another device; its code generator (the phone).
    pub async fn enrol_authenticator(
        &self,
        email: &str,
        password: &str,
    ) -> kaito_core::CodeGenerator {
        let pair: TokenPair = reqwest::Client::new()
            .post(format!("{}/v1/auth/login", self.url()))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("the server answers")
            .json()
            .await
            .expect("signed in without a second factor");
        let bearer = pair.access_token.as_str();
        let enrolment = self
            .call(reqwest::Method::POST, "/v1/me/mfa/totp", bearer, json!({}))
            .await;
        let phone = kaito_core::CodeGenerator::new(
            &kaito_core::uri::parse(enrolment["otpauth_uri"].as_str().expect("a link"))
                .expect("an otpauth link"),
        );
        let now = crate::http::now_ms() / 1000;
        self.call(
            reqwest::Method::POST,
            "/v1/me/mfa/totp/confirm",
            bearer,
            json!({
                "code": phone.code_at(u64::try_from(now).unwrap_or(0)).as_str(),
                "current_password": password,
            }),
        )
        .await;
        phone
    }

    /// The team's audit events, oldest first.
    pub async fn audit_events(&self, admin: &str) -> Vec<kaito_api::AuditEventView> {
        serde_json::from_value(
            self.call(
                reqwest::Method::GET,
                "/v1/audit/events?limit=1000",
                admin,
                json!(null),
            )
            .await,
        )
        .expect("audit events")
    }
}

impl Server {
    /// Starts again on the same port and store, as after an outage.
    pub async fn restart(&mut self) {
        self.stop().await;
        *self = Server::start(self.store.clone(), &self.address.to_string()).await;
    }

    /// Posts a text message to the server as Twilio would, signed, from
    /// +1 555 019 9999 to the inbox number [`INBOX_NUMBER`].
    pub async fn twilio_sends(&self, message_id: &str, body: &str) {
        let form: Vec<(String, String)> = [
            ("MessageSid", message_id),
            ("From", "+15550199999"),
            ("To", INBOX_NUMBER),
            ("Body", body),
        ]
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
        let signature = crate::sms::twilio_signature(TWILIO_TOKEN, TWILIO_URL, &form);
        let response = reqwest::Client::new()
            .post(format!("{}/v1/sms/twilio", self.url()))
            .header("x-twilio-signature", signature)
            .form(&form)
            .send()
            .await
            .expect("the server answers");
        assert!(response.status().is_success(), "{}", response.status());
    }
}

/// The team set up on a fresh server.
#[derive(Debug)]
pub struct Team {
    pub server: Server,
    pub owner: TokenPair,
    pub member_id: String,
    pub token_id: String,
    _data: tempfile::TempDir,
}

/// Olivia's team "Acme" on a fresh server (SQLite), sharing the token [`SHARED`]
/// with Mia (mia@example.com, [`MEMBER_PASSWORD`]), code-only.
pub async fn team_with_shared_token() -> Team {
    let mut team = team_with_member().await;
    let admin = team.owner.access_token.clone();
    let token = team
        .server
        .call(
            reqwest::Method::POST,
            "/v1/tokens",
            &admin,
            json!({ "uri": SHARED }),
        )
        .await;
    team.token_id = token["id"].as_str().expect("an id").to_owned();
    team.server
        .call(
            reqwest::Method::POST,
            &format!("/v1/tokens/{}/grants", team.token_id),
            &admin,
            json!({ "user_id": team.member_id, "mode": "code" }),
        )
        .await;
    team
}

/// Olivia's team "Acme" (olivia@example.com, [`OWNER_PASSWORD`]) with Mia as a
/// member and nothing shared yet: `token_id` is empty.
pub async fn team_with_member() -> Team {
    let data = tempfile::tempdir().expect("a temp dir");
    let server = Server::start(
        Store::open_data_dir(data.path()).await.expect("a store"),
        "127.0.0.1:0",
    )
    .await;
    crate::accounts::create_team_with_owner(
        &server.store,
        "Acme",
        "olivia@example.com",
        "Olivia",
        &crate::password_work::PasswordWork::default()
            .hash_new(OWNER_PASSWORD)
            .await
            .expect("a strong password"),
        now_ms(),
    )
    .await
    .expect("the team");
    let owner: TokenPair = reqwest::Client::new()
        .post(format!("{}/v1/auth/login", server.url()))
        .json(&json!({ "email": "olivia@example.com", "password": OWNER_PASSWORD }))
        .send()
        .await
        .expect("sign-in")
        .json()
        .await
        .expect("tokens");
    let admin = owner.access_token.clone();
    let member = server
        .call(
            reqwest::Method::POST,
            "/v1/team/members",
            &admin,
            json!({ "email": "mia@example.com", "name": "Mia", "role": "member", "password": MEMBER_PASSWORD }),
        )
        .await;
    let member_id = member["user_id"].as_str().expect("an id").to_owned();
    Team {
        server,
        owner,
        member_id,
        token_id: String::new(),
        _data: data,
    }
}

impl Team {
    /// Adds the inbox number [`INBOX_NUMBER`] ("Ops phone") and lets the member read
    /// it; returns the number's id.
    pub async fn share_inbox_with_member(&self) -> String {
        let admin = self.owner.access_token.as_str();
        let number = self
            .server
            .call(
                reqwest::Method::POST,
                "/v1/sms/numbers",
                admin,
                json!({ "phone_number": INBOX_NUMBER, "label": "Ops phone" }),
            )
            .await;
        let number_id = number["id"].as_str().expect("an id").to_owned();
        self.server
            .call(
                reqwest::Method::POST,
                &format!("/v1/sms/numbers/{number_id}/grants"),
                admin,
                json!({ "user_id": self.member_id }),
            )
            .await;
        number_id
    }
}
