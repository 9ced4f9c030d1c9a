//! Test servers on both backends: a SQLite file in a temp dir, and a fresh database
//! on the PostgreSQL server that `make test` starts (`KAITO_TEST_POSTGRES_URL`).
//! Every test runs against each, over real HTTP on loopback.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod inbox;
pub mod shared_team;

use std::net::SocketAddr;

use kaito_server::custody::ServerKey;
use kaito_server::http::ServerState;
use kaito_server::store::Store;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub const OWNER_PASSWORD: &str = "owner passphrase 1";
/// The first password of every member the tests add.
pub const MEMBER_PASSWORD: &str = "first passphrase";
pub const TWILIO_AUTH_TOKEN: &str = "twilio-test-auth-token";
pub const TWILIO_PATH: &str = "/v1/sms/twilio";
/// The public URL the test servers pretend Twilio calls.
pub const TWILIO_URL: &str = "https://kaito.example.com/v1/sms/twilio";

/// A server on 127.0.0.1 with its own database.
pub struct TestServer {
    pub label: &'static str,
    pub store: Store,
    pub base: String,
    pub client: reqwest::Client,
    /// What must live as long as the server: its background tasks, its process.
    _running: Box<dyn std::any::Any + Send + Sync>,
    _dir: Option<tempfile::TempDir>,
}

/// One server per backend: SQLite always, PostgreSQL when the test set-up started
/// one (always under `make test`, which sets `KAITO_TEST_REQUIRE_POSTGRES`).
pub async fn servers() -> Vec<TestServer> {
    servers_with(|state| state).await
}

/// [`servers`] whose state `configure` changes first.
pub async fn servers_with(configure: impl Fn(ServerState) -> ServerState) -> Vec<TestServer> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open_data_dir(dir.path()).await.unwrap();
    let mut servers = vec![serve_with("sqlite", sqlite, Some(dir), &configure).await];
    if let Ok(url) = std::env::var("KAITO_TEST_POSTGRES_URL") {
        servers.push(serve_with("postgres", fresh_postgres(&url).await, None, &configure).await);
    } else {
        assert!(
            std::env::var_os("KAITO_TEST_REQUIRE_POSTGRES").is_none(),
            "KAITO_TEST_POSTGRES_URL is not set: run the tests through `make test`"
        );
        eprintln!("PostgreSQL not available: testing SQLite only");
    }
    servers
}

/// A new, empty database on the test PostgreSQL server.
pub async fn fresh_postgres(admin_url: &str) -> Store {
    Store::connect(&fresh_postgres_url(admin_url).await)
        .await
        .unwrap()
}

/// Creates an empty database on the test PostgreSQL server; returns its URL.
pub async fn fresh_postgres_url(admin_url: &str) -> String {
    use sqlx::Connection as _;
    sqlx::any::install_default_drivers();
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    let name = format!("kaito_test_{}", kaito_server::secrets::hex(&bytes));
    let mut admin = sqlx::AnyConnection::connect(admin_url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

/// A SQLite server whose state `configure` changes first (its sign-in limits, say).
pub async fn sqlite_server_with(configure: impl FnOnce(ServerState) -> ServerState) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_data_dir(dir.path()).await.unwrap();
    serve_with("sqlite", store, Some(dir), configure).await
}

async fn serve_with(
    label: &'static str,
    store: Store,
    dir: Option<tempfile::TempDir>,
    configure: impl FnOnce(ServerState) -> ServerState,
) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    let key = ServerKey::from_base64(SERVER_KEY).unwrap();
    store.check_server_key(&key).await.unwrap();
    let sms = kaito_server::sms::SmsConfig {
        twilio_webhook_url: Some(format!("https://kaito.example.com{TWILIO_PATH}")),
        twilio_auth_token: Some(zeroize::Zeroizing::new(TWILIO_AUTH_TOKEN.to_owned())),
        telnyx_public_key: Some(telnyx_signing_key().verifying_key()),
        vonage_signature_secret: Some(zeroize::Zeroizing::new(VONAGE_SECRET.to_owned())),
        // Most tests add numbers over the API; `sms_numbers_by_operator` tests the default.
        team_admins_add_numbers: true,
    };
    // The tests' SIEM receivers listen on loopback; `sink_destinations` tests the
    // default, `sso` the default for identity providers.
    let state = configure(
        ServerState::new(store.clone(), key, sms)
            .with_public_url(Some("https://kaito.example.com".to_owned()))
            .with_sink_destinations(kaito_server::siem::DestinationPolicy {
                allow_private: true,
            })
            // The test identity provider listens on loopback too.
            .with_sso_destinations(kaito_server::siem::DestinationPolicy {
                allow_private: true,
            }),
    );
    let tasks = state.spawn_background_tasks().unwrap();
    tokio::spawn(async move {
        kaito_server::http::serve(listener, state, std::future::pending())
            .await
            .unwrap();
    });
    TestServer {
        label,
        store,
        _running: Box::new(tasks),
        base: format!("http://{address}"),
        client: reqwest::Client::new(),
        _dir: dir,
    }
}

pub const VONAGE_SECRET: &str = "vonage-signature-secret";

/// The key "Telnyx" signs the tests' webhooks with.
pub fn telnyx_signing_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[7; 32])
}

/// The server key every test server uses.
pub const SERVER_KEY: &str = "KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=";

/// A `kaito-server serve` process (killed when dropped) on `database_url`, logging
/// at debug level to `log` as `text` or `json`.
pub fn server_process(
    label: &'static str,
    store: Store,
    database_url: &str,
    (log, log_format): (&std::path::Path, &str),
) -> TestServer {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kaito-server"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "https://kaito.example.com",
        ])
        .env("KAITO_SERVER_DATABASE_URL", database_url)
        .env("KAITO_SERVER_KEY", SERVER_KEY)
        .env("KAITO_SERVER_TWILIO_AUTH_TOKEN", TWILIO_AUTH_TOKEN)
        .env("KAITO_SERVER_TEAM_ADMINS_ADD_NUMBERS", "true")
        .env("KAITO_SERVER_SIEM_ALLOW_PRIVATE", "true")
        .env("RUST_LOG", "debug")
        .env("KAITO_SERVER_LOG_FORMAT", log_format)
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("kaito-server listening on ")
        .unwrap_or_else(|| panic!("{label}: no address in {line:?}"))
        .to_owned();
    TestServer {
        label,
        store,
        base,
        client: reqwest::Client::new(),
        _running: Box::new(KilledOnDrop(child)),
        _dir: None,
    }
}

struct KilledOnDrop(std::process::Child);

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An answer: status and JSON body.
pub struct Answer {
    pub status: u16,
    pub body: serde_json::Value,
    pub retry_after: Option<String>,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    pub fn parse<T: DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.body.clone()).unwrap()
    }
}

impl TestServer {
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> Answer {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = bearer {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(serde_json::to_vec(body).unwrap());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|value| value.to_str().unwrap().to_owned());
        let bytes = response.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("{status}: not JSON: {}", String::from_utf8_lossy(&bytes)));
        Answer {
            status,
            body,
            retry_after,
        }
    }

    pub async fn post(&self, path: &str, bearer: Option<&str>, body: &serde_json::Value) -> Answer {
        self.call(reqwest::Method::POST, path, bearer, Some(body))
            .await
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>) -> Answer {
        self.call_without_body(reqwest::Method::GET, path, bearer)
            .await
    }

    pub async fn delete(&self, path: &str, bearer: Option<&str>) -> Answer {
        self.call_without_body(reqwest::Method::DELETE, path, bearer)
            .await
    }

    async fn call_without_body(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: Option<&str>,
    ) -> Answer {
        self.call(method, path, bearer, None::<&serde_json::Value>)
            .await
    }

    /// Team "Acme" with its owner olivia@example.com, signed in.
    pub async fn acme_owner(&self) -> kaito_api::TokenPair {
        self.team_owner("Acme", "olivia@example.com", "Olivia")
            .await
    }

    /// A second team, "Rival", with its owner rex@rival.example, signed in: what
    /// Acme owns must stay out of its reach.
    pub async fn rival_owner(&self) -> kaito_api::TokenPair {
        self.team_owner("Rival", "rex@rival.example", "Rex").await
    }

    /// A new team `team` whose owner `email` ([`OWNER_PASSWORD`]) is signed in.
    pub async fn team_owner(&self, team: &str, email: &str, name: &str) -> kaito_api::TokenPair {
        kaito_server::accounts::create_team_with_owner(
            &self.store,
            team,
            email,
            name,
            &hashed(OWNER_PASSWORD).await,
            kaito_server::http::now_ms(),
        )
        .await
        .unwrap();
        self.login(email, OWNER_PASSWORD).await.parse()
    }

    /// Adds `email` with `role` (password [`MEMBER_PASSWORD`]); returns their id.
    pub async fn add_member(
        &self,
        owner: &kaito_api::TokenPair,
        email: &str,
        role: &str,
    ) -> String {
        let added = self
            .post(
                "/v1/team/members",
                Some(&owner.access_token),
                &serde_json::json!({ "email": email, "name": email, "role": role, "password": MEMBER_PASSWORD }),
            )
            .await;
        assert_eq!(added.status, 200, "{}: {}", self.label, added.body);
        added.body["user_id"].as_str().unwrap().to_owned()
    }

    /// The team's SIEM sinks, as `owner` lists them.
    pub async fn sinks(&self, owner: &kaito_api::TokenPair) -> Vec<kaito_api::SinkView> {
        let answer = self.get("/v1/siem/sinks", Some(&owner.access_token)).await;
        assert_eq!(answer.status, 200, "{}: {}", self.label, answer.body);
        answer.parse()
    }

    pub async fn login(&self, email: &str, password: &str) -> Answer {
        self.post(
            "/v1/auth/login",
            None,
            &serde_json::json!({ "email": email, "password": password }),
        )
        .await
    }
}

/// Every (lowercase method, route pattern) the router declares, read from the
/// source of every module under `src/http/`, so the authorisation matrix and the
/// `OpenAPI` check cannot miss a new route, nor a new module of routes.
pub fn declared_routes() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http");
    let mut sources: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .collect();
    sources.sort();
    let mut declared = Vec::new();
    for path in sources {
        routes_in(&std::fs::read_to_string(path).unwrap(), &mut declared);
    }
    declared
}

/// The `.route(…)` calls in one source file.
fn routes_in(source: &str, declared: &mut Vec<(String, String)>) {
    let mut rest = source;
    while let Some(start) = rest.find(".route(") {
        let call = &rest[start + ".route(".len()..];
        let mut depth = 1;
        let end = call
            .char_indices()
            .find_map(|(at, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                (depth == 0).then_some(at)
            })
            .unwrap();
        let call = &call[..end];
        let path = call.split('"').nth(1).unwrap();
        for method in ["get", "post", "put", "delete"] {
            if call.contains(&format!("{method}(")) {
                declared.push((method.to_owned(), path.to_owned()));
            }
        }
        rest = &rest[start + ".route(".len() + end..];
    }
}

/// A strong password as the server stores it, hashed the way the server does.
pub async fn hashed(password: &str) -> kaito_server::password_work::NewPasswordHash {
    kaito_server::password_work::PasswordWork::default()
        .hash_new(password)
        .await
        .expect("a strong password")
}
