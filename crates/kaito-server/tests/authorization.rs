//! The authorisation matrix, on SQLite and PostgreSQL: every route, called by each
//! kind of caller — nobody, a code-only member, an admin, the owner, the owner of
//! another team, and a SIEM's `audit:read` API token — answers exactly as the
//! table says. A route added without a row here fails the completeness check.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::shared_team::team_with_shared_token;
use common::{MEMBER_PASSWORD, TestServer, servers};
use kaito_api::TokenPair;
use serde_json::json;

/// Who calls, in the column order of [`MATRIX`].
const CALLERS: [&str; 6] = ["nobody", "member", "admin", "owner", "outsider", "siem"];

/// (method, path, body, expected status per caller). Placeholders are filled per
/// call: `{token}` `{group}` `{number}` Acme's; `{member}` the code-only member;
/// `{n}` a fresh number; `{victim}` `{invite}` `{grant}` `{sink}` `{apitoken}`
/// `{device}` `{pubkey}` `{smsnumber}` `{smsgrant}` a fresh one made just for this call, `{adminvictim}`
/// `{ownervictim}` a fresh admin or owner to act on, and `{grouped}` a
/// fresh member put in Acme's group for it.
#[rustfmt::skip]
const MATRIX: &[(&str, &str, &str, [u16; 6])] = &[
    ("GET", "/v1/health", "", [200, 200, 200, 200, 200, 200]),
    ("GET", "/metrics", "", [200, 200, 200, 200, 200, 200]),
    ("GET", "/v1/openapi.json", "", [200, 200, 200, 200, 200, 200]),
    ("POST", "/v1/auth/login", r#"{"email":"nobody{n}@example.com","password":"wrong password"}"#, [401, 401, 401, 401, 401, 401]),
    ("POST", "/v1/auth/refresh", r#"{"refresh_token":"made-up"}"#, [401, 401, 401, 401, 401, 401]),
    ("POST", "/v1/invites/accept", r#"{"token":"kin_made_up","name":"Eve","password":"eve's passphrase"}"#, [410, 410, 410, 410, 410, 410]),
    ("POST", "/v1/auth/set-password", r#"{"token":"kpw_made_up","password":"a new passphrase"}"#, [410, 410, 410, 410, 410, 410]),
    ("GET", "/v1/me", "", [401, 200, 200, 200, 200, 401]),
    // Every caller types a wrong current password: refused, nothing changes.
    ("POST", "/v1/me/password", r#"{"current_password":"not my password","new_password":"a new passphrase"}"#, [401, 403, 403, 403, 403, 401]),
    ("POST", "/v1/auth/mfa", r#"{"challenge":"kmc_made_up","code":"123456"}"#, [401, 401, 401, 401, 401, 401]),
    ("POST", "/v1/auth/mfa/enrol", r#"{"challenge":"kmc_made_up"}"#, [401, 401, 401, 401, 401, 401]),
    ("POST", "/v1/auth/mfa/enrol/confirm", r#"{"challenge":"kmc_made_up","code":"123456"}"#, [401, 401, 401, 401, 401, 401]),
    ("GET", "/v1/team/mfa-policy", "", [401, 403, 200, 200, 200, 401]),
    // The owner turns it off (as it was): the matrix's later sign-ins stay one step.
    ("PUT", "/v1/team/mfa-policy", r#"{"required":false}"#, [401, 403, 403, 200, 200, 401]),
    ("GET", "/v1/me/mfa", "", [401, 200, 200, 200, 200, 401]),
    // Every signed-in caller may start their own; a wrong first code confirms nothing.
    ("POST", "/v1/me/mfa/totp", "", [401, 200, 200, 200, 200, 401]),
    ("POST", "/v1/me/mfa/totp/confirm", r#"{"code":"000000","current_password":"not my password"}"#, [401, 403, 403, 403, 403, 401]),
    ("POST", "/v1/me/mfa/remove", r#"{"current_password":"not my password"}"#, [401, 403, 403, 403, 403, 401]),
    ("POST", "/v1/me/mfa/recovery-codes", r#"{"current_password":"not my password"}"#, [401, 403, 403, 403, 403, 401]),
    // Past the role and rank checks, the fresh victim has no second factor: 409.
    ("POST", "/v1/team/members/{victim}/mfa/reset", "", [401, 403, 409, 409, 404, 401]),
    ("POST", "/v1/team/members/{adminvictim}/mfa/reset", "", [401, 403, 403, 409, 404, 401]),
    // SSO: the public steps answer everyone alike; settings are the owner's.
    ("GET", "/v1/auth/sso?email=someone@example.com", "", [200, 200, 200, 200, 200, 200]),
    ("POST", "/v1/auth/sso/start", r#"{"email":"a@nowhere.example","redirect_uri":"http://127.0.0.1:4000/callback","code_challenge":"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}"#, [404, 404, 404, 404, 404, 404]),
    ("POST", "/v1/auth/sso/finish", r#"{"state":"made-up","code":"made-up","code_verifier":"made-up"}"#, [401, 401, 401, 401, 401, 401]),
    ("GET", "/v1/team/sso", "", [401, 403, 200, 200, 200, 401]),
    // Past the role check, an issuer that is not https is refused before any call.
    ("PUT", "/v1/team/sso", r#"{"issuer":"ftp://idp.example.com","client_id":"kaito","client_secret":"s","email_domains":["example.com"]}"#, [401, 403, 403, 400, 400, 401]),
    ("DELETE", "/v1/team/sso", "", [401, 403, 403, 404, 404, 401]),
    ("GET", "/v1/team/members", "", [401, 403, 200, 200, 200, 401]),
    ("POST", "/v1/team/members", r#"{"email":"new{n}@example.com","name":"New","role":"member","password":"a first passphrase"}"#, [401, 403, 200, 200, 200, 401]),
    ("POST", "/v1/team/members", r#"{"email":"boss{n}@example.com","name":"Boss","role":"admin","password":"a first passphrase"}"#, [401, 403, 403, 200, 200, 401]),
    ("POST", "/v1/team/members/{victim}/disable", "{}", [401, 403, 200, 200, 404, 401]),
    // Owners only; the fresh victim is active, so the owner hears "not disabled".
    ("POST", "/v1/team/members/{victim}/enable", "{}", [401, 403, 403, 409, 404, 401]),
    ("PUT", "/v1/team/members/{victim}/role", r#"{"role":"admin"}"#, [401, 403, 403, 200, 404, 401]),
    // The rank rule: an admin acts on no admin or owner; the owner acts on both.
    ("POST", "/v1/team/members/{adminvictim}/disable", "{}", [401, 403, 403, 200, 404, 401]),
    ("POST", "/v1/team/members/{ownervictim}/disable", "{}", [401, 403, 403, 200, 404, 401]),
    ("POST", "/v1/team/members/{adminvictim}/password-link", "", [401, 403, 403, 200, 404, 401]),
    ("POST", "/v1/team/members/{ownervictim}/password-link", "", [401, 403, 403, 200, 404, 401]),
    ("POST", "/v1/team/members/{victim}/password-link", "", [401, 403, 200, 200, 404, 401]),
    ("GET", "/v1/team/invites", "", [401, 403, 200, 200, 200, 401]),
    ("POST", "/v1/team/invites", r#"{"email":"invited{n}@example.com","role":"member"}"#, [401, 403, 200, 200, 200, 401]),
    ("POST", "/v1/team/invites", r#"{"email":"invited{n}@example.com","role":"owner"}"#, [401, 403, 403, 200, 200, 401]),
    ("DELETE", "/v1/team/invites/{invite}", "", [401, 403, 200, 200, 404, 401]),
    ("GET", "/v1/tokens", "", [401, 200, 200, 200, 200, 401]),
    ("POST", "/v1/tokens", r#"{"uri":"otpauth://totp/Svc{n}:a?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Svc{n}"}"#, [401, 403, 200, 200, 200, 401]),
    // Codes need a grant, for admins too: managing a token is not using it. The
    // owner added the token, which gave them its seed.
    ("GET", "/v1/tokens/{token}/codes", "", [401, 200, 403, 200, 403, 401]),
    // The member's grant is code-only: never the seed.
    ("GET", "/v1/tokens/{token}/seed", "", [401, 403, 403, 200, 403, 401]),
    ("POST", "/v1/tokens/{token}/rotate", r#"{"uri":"otpauth://totp/GitHub:ops%40acme.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=GitHub"}"#, [401, 403, 200, 200, 404, 401]),
    ("GET", "/v1/tokens/{token}/grants", "", [401, 403, 200, 200, 404, 401]),
    ("POST", "/v1/tokens/{token}/grants", r#"{"user_id":"{member}","mode":"code"}"#, [401, 403, 200, 200, 404, 401]),
    ("POST", "/v1/tokens/{token}/grants", r#"{"user_id":"{member}","mode":"seed"}"#, [401, 403, 200, 200, 404, 401]),
    ("DELETE", "/v1/grants/{grant}", "", [401, 403, 200, 200, 404, 401]),
    ("GET", "/v1/notifications", "", [401, 200, 200, 200, 200, 401]),
    ("POST", "/v1/notifications/note_made_up/read", "{}", [401, 404, 404, 404, 404, 401]),
    ("GET", "/v1/groups", "", [401, 403, 200, 200, 200, 401]),
    ("POST", "/v1/groups", r#"{"name":"Group {n}"}"#, [401, 403, 200, 200, 200, 401]),
    ("POST", "/v1/groups/{group}/members", r#"{"user_id":"{victim}"}"#, [401, 403, 200, 200, 404, 401]),
    ("DELETE", "/v1/groups/{group}/members/{grouped}", "", [401, 403, 200, 200, 404, 401]),
    ("GET", "/v1/audit/events", "", [401, 403, 200, 200, 200, 401]),
    ("POST", "/v1/audit/events", "{}", [401, 403, 200, 200, 200, 200]),
    ("GET", "/v1/audit/verify", "", [401, 403, 200, 200, 200, 401]),
    ("GET", "/v1/audit/checkpoint", "", [401, 403, 200, 200, 200, 200]),
    ("GET", "/v1/audit/retention", "", [401, 403, 200, 200, 200, 401]),
    ("PUT", "/v1/audit/retention", r#"{"keep_days":null}"#, [401, 403, 403, 200, 200, 401]),
    ("GET", "/v1/siem/sinks", "", [401, 403, 200, 200, 200, 401]),
    ("POST", "/v1/siem/sinks", r#"{"name":"S{n}","kind":"syslog","host":"127.0.0.1","port":9,"insecure":true}"#, [401, 403, 200, 200, 200, 401]),
    ("DELETE", "/v1/siem/sinks/{sink}", "", [401, 403, 200, 200, 404, 401]),
    // A fresh sink is not held: nothing to resume, for those allowed to ask.
    ("POST", "/v1/siem/sinks/{sink}/resume", "", [401, 403, 404, 404, 404, 401]),
    ("GET", "/v1/api-tokens", "", [401, 403, 200, 200, 200, 401]),
    ("POST", "/v1/api-tokens", r#"{"name":"T{n}","scopes":["audit:read"]}"#, [401, 403, 200, 200, 200, 401]),
    ("DELETE", "/v1/api-tokens/{apitoken}", "", [401, 403, 200, 200, 404, 401]),
    ("POST", "/v1/devices", r#"{"name":"Laptop","public_key":"{pubkey}"}"#, [401, 200, 200, 200, 200, 401]),
    // The member's own device, or any as an admin.
    ("DELETE", "/v1/devices/{device}", "", [401, 200, 200, 200, 404, 401]),
    ("POST", "/v1/events:batch", r#"{"device_id":"dev_x","events":[]}"#, [401, 403, 403, 403, 403, 401]),
    ("POST", "/v1/sms/numbers", r#"{"phone_number":"+1555010{n4}"}"#, [401, 403, 200, 200, 200, 401]),
    ("POST", "/v1/sms/numbers/{number}/grants", r#"{"user_id":"{member}"}"#, [401, 403, 200, 200, 404, 401]),
    ("GET", "/v1/sms/numbers", "", [401, 403, 200, 200, 200, 401]),
    ("DELETE", "/v1/sms/numbers/{smsnumber}", "", [401, 403, 200, 200, 404, 401]),
    ("DELETE", "/v1/sms/numbers/{number}/grants/{smsgrant}", "", [401, 403, 200, 200, 404, 401]),
    ("GET", "/v1/sms/messages", "", [401, 200, 200, 200, 200, 401]),
    ("GET", "/v1/sms/stream", "", [401, 200, 200, 200, 200, 401]),
    // Webhooks answer to signatures, not sessions (their own tests forge them).
    ("POST", "/v1/sms/twilio", "", [403, 403, 403, 403, 403, 403]),
    ("POST", "/v1/sms/telnyx", "{}", [403, 403, 403, 403, 403, 403]),
    ("POST", "/v1/sms/vonage", "{}", [403, 403, 403, 403, 403, 403]),
    // Last: it ends each caller's session.
    ("POST", "/v1/auth/logout", "{}", [401, 200, 200, 200, 200, 401]),
];

/// The test team, another team, and what the placeholders name.
struct World<'a> {
    server: &'a TestServer,
    owner: TokenPair,
    callers: [Option<String>; 6],
    member_id: String,
    token_id: String,
    group_id: String,
    number_id: String,
    fresh: std::sync::atomic::AtomicU32,
}

impl<'a> World<'a> {
    async fn new(server: &'a TestServer) -> World<'a> {
        let team = team_with_shared_token(server).await;
        let admin_token = Some(team.owner.access_token.as_str());
        let outsider = server
            .team_owner("Globex", "gina@example.com", "Gina")
            .await;
        let siem = server
            .post(
                "/v1/api-tokens",
                admin_token,
                &json!({ "name": "SIEM", "scopes": ["audit:read"] }),
            )
            .await;
        server
            .grant(
                admin_token,
                &team.token_id,
                &json!({ "user_id": team.member_id, "mode": "code" }),
            )
            .await;
        let group_id = server.create_group(admin_token, "Ops").await;
        let number = server
            .post(
                "/v1/sms/numbers",
                admin_token,
                &json!({ "phone_number": "+15550199000" }),
            )
            .await;
        World {
            server,
            callers: [
                None,
                Some(team.member.access_token),
                Some(team.admin.access_token),
                Some(team.owner.access_token.clone()),
                Some(outsider.access_token),
                Some(siem.body["token"].as_str().unwrap().to_owned()),
            ],
            owner: team.owner,
            member_id: team.member_id,
            token_id: team.token_id,
            group_id,
            number_id: number.body["id"].as_str().unwrap().to_owned(),
            fresh: std::sync::atomic::AtomicU32::new(1),
        }
    }

    fn next(&self) -> u32 {
        self.fresh
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// Something new made by the owner, for one call to act on; its id.
    async fn made(&self, path: &str, body: serde_json::Value) -> String {
        let made = self
            .server
            .post(path, Some(&self.owner.access_token), &body)
            .await;
        assert_eq!(made.status, 200, "{path}: {}", made.body);
        made.body["id"]
            .as_str()
            .or(made.body["user_id"].as_str())
            .unwrap()
            .to_owned()
    }

    async fn fill(&self, template: &str) -> String {
        let n = self.next();
        let mut text = template
            .replace("{token}", &self.token_id)
            .replace("{group}", &self.group_id)
            .replace("{number}", &self.number_id)
            .replace("{member}", &self.member_id)
            .replace("{n4}", &format!("{n:04}"))
            .replace("{n}", &n.to_string());
        if text.contains("{victim}") {
            let id = self
                .made("/v1/team/members", json!({ "email": format!("victim{n}@example.com"), "name": "V", "role": "member", "password": MEMBER_PASSWORD }))
                .await;
            text = text.replace("{victim}", &id);
        }
        for (placeholder, role) in [("{adminvictim}", "admin"), ("{ownervictim}", "owner")] {
            if text.contains(placeholder) {
                let id = self
                    .made("/v1/team/members", json!({ "email": format!("{role}{n}@example.com"), "name": "V", "role": role, "password": MEMBER_PASSWORD }))
                    .await;
                text = text.replace(placeholder, &id);
            }
        }
        if text.contains("{grouped}") {
            let id = self
                .made("/v1/team/members", json!({ "email": format!("grouped{n}@example.com"), "name": "G", "role": "member", "password": MEMBER_PASSWORD }))
                .await;
            let joined = self
                .server
                .post(
                    &format!("/v1/groups/{}/members", self.group_id),
                    Some(&self.owner.access_token),
                    &json!({ "user_id": id }),
                )
                .await;
            assert_eq!(joined.status, 200, "{}", joined.body);
            text = text.replace("{grouped}", &id);
        }
        if text.contains("{invite}") {
            let id = self
                .made(
                    "/v1/team/invites",
                    json!({ "email": format!("inv{n}@example.com"), "role": "member" }),
                )
                .await;
            text = text.replace("{invite}", &id);
        }
        if text.contains("{grant}") {
            let id = self
                .made(
                    &format!("/v1/tokens/{}/grants", self.token_id),
                    json!({ "group_id": self.group_id, "mode": "code" }),
                )
                .await;
            text = text.replace("{grant}", &id);
        }
        if text.contains("{sink}") {
            let id = self.made("/v1/siem/sinks", json!({ "name": format!("S{n}"), "kind": "syslog", "host": "127.0.0.1", "port": 9, "insecure": true })).await;
            text = text.replace("{sink}", &id);
        }
        if text.contains("{smsnumber}") {
            let id = self
                .made(
                    "/v1/sms/numbers",
                    json!({ "phone_number": format!("+1555020{n:04}"), "label": "spare" }),
                )
                .await;
            text = text.replace("{smsnumber}", &id);
        }
        if text.contains("{smsgrant}") {
            let id = self
                .made(
                    &format!("/v1/sms/numbers/{}/grants", self.number_id),
                    json!({ "group_id": self.group_id }),
                )
                .await;
            text = text.replace("{smsgrant}", &id);
        }
        if text.contains("{apitoken}") {
            let id = self
                .made(
                    "/v1/api-tokens",
                    json!({ "name": format!("T{n}"), "scopes": ["audit:read"] }),
                )
                .await;
            text = text.replace("{apitoken}", &id);
        }
        if text.contains("{pubkey}") {
            text = text.replace("{pubkey}", &self.device_key());
        }
        if text.contains("{device}") {
            // The member's own device.
            let enrolled = self
                .server
                .post(
                    "/v1/devices",
                    self.callers[1].as_deref(),
                    &json!({ "name": "Phone", "public_key": self.device_key() }),
                )
                .await;
            assert_eq!(enrolled.status, 200, "{}", enrolled.body);
            text = text.replace("{device}", enrolled.body["id"].as_str().unwrap());
        }
        text
    }

    fn device_key(&self) -> String {
        let mut seed = [9u8; 32];
        seed[..4].copy_from_slice(&self.next().to_le_bytes());
        STANDARD.encode(
            ed25519_dalek::SigningKey::from_bytes(&seed)
                .verifying_key()
                .to_bytes(),
        )
    }
}

#[tokio::test]
async fn every_route_answers_every_kind_of_caller_as_the_table_says() {
    // Every caller calls from 127.0.0.1: the per-address limit on sign-in attempts
    // (tested on its own in login_limits.rs) would answer 429 long before the end.
    let roomy = |state: kaito_server::http::ServerState| {
        state.with_login_throttle(kaito_server::login_throttle::LoginThrottle::new(
            1000,
            std::time::Duration::from_millis(10),
        ))
    };
    for server in common::servers_with(roomy).await {
        let label = server.label;
        let world = World::new(&server).await;
        let mut wrong = Vec::new();
        for (method, path, body, expected) in MATRIX {
            for (column, caller) in CALLERS.iter().enumerate() {
                let path = world.fill(path).await;
                let body = world.fill(body).await;
                let mut request = server
                    .client
                    .request(method.parse().unwrap(), format!("{}{path}", server.base));
                if let Some(token) = &world.callers[column] {
                    request = request.bearer_auth(token);
                }
                if !body.is_empty() {
                    request = request
                        .header("content-type", "application/json")
                        .body(body);
                }
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                if status != expected[column] {
                    // Only read a body that ends (the SMS stream does not).
                    let said =
                        tokio::time::timeout(std::time::Duration::from_secs(1), response.text())
                            .await
                            .map(Result::unwrap_or_default)
                            .unwrap_or_default();
                    wrong.push(format!(
                        "{method} {path} as {caller}: {status}, expected {}: {said}",
                        expected[column]
                    ));
                }
            }
        }
        assert!(wrong.is_empty(), "{label}:\n{}", wrong.join("\n"));
    }
}

/// Every route the router declares has a row: a new route cannot skip the matrix.
#[test]
fn the_matrix_covers_every_route() {
    let declared: Vec<(String, String)> = common::declared_routes()
        .into_iter()
        .map(|(method, path)| (method.to_uppercase(), path))
        .collect();
    assert!(declared.len() > 40, "{declared:?}");
    let missing: Vec<_> = declared
        .iter()
        .filter(|(method, path)| {
            !MATRIX
                .iter()
                .any(|row| row.0 == method && matches(row.1, path))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "routes without a row in MATRIX: {missing:?}"
    );
}

/// Whether a matrix path (placeholders and made-up ids filled in) is the route
/// `pattern` (`{name}` segments).
fn matches(path: &str, pattern: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    let (path, pattern): (Vec<_>, Vec<_>) =
        (path.split('/').collect(), pattern.split('/').collect());
    path.len() == pattern.len()
        && path
            .iter()
            .zip(&pattern)
            .all(|(segment, wanted)| wanted.starts_with('{') || segment == wanted)
}

/// Every route an `audit:read` API token may call refuses one whose maker was
/// disabled, as if it never existed (401); the live token of the matrix still works.
#[tokio::test]
async fn a_disabled_admins_api_token_opens_no_route() {
    for server in servers().await {
        let label = server.label;
        let world = World::new(&server).await;
        let owner = world.owner.access_token.clone();
        let dora = server
            .add_member(&world.owner, "dora@example.com", "admin")
            .await;
        let dora_session: TokenPair = server
            .login("dora@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        let made = server
            .post(
                "/v1/api-tokens",
                Some(&dora_session.access_token),
                &json!({ "name": "Dora's SIEM", "scopes": ["audit:read"] }),
            )
            .await;
        assert_eq!(made.status, 200, "{label}: {}", made.body);
        let dead = made.body["token"].as_str().unwrap().to_owned();
        let disabled = server
            .post(
                &format!("/v1/team/members/{dora}/disable"),
                Some(&owner),
                &json!({}),
            )
            .await;
        assert_eq!(disabled.status, 200, "{label}");
        let siem_column = CALLERS.iter().position(|caller| *caller == "siem").unwrap();
        let mut tried = 0;
        for (method, path, body, expected) in MATRIX {
            // A route open to nobody in particular ignores a token, dead or live.
            if expected[siem_column] != 200 || expected[0] == 200 {
                continue;
            }
            let path = world.fill(path).await;
            let body = world.fill(body).await;
            for (token, want) in [
                (&dead, 401),
                (world.callers[siem_column].as_ref().unwrap(), 200),
            ] {
                let mut request = server
                    .client
                    .request(method.parse().unwrap(), format!("{}{path}", server.base))
                    .bearer_auth(token);
                if !body.is_empty() {
                    request = request
                        .header("content-type", "application/json")
                        .body(body.clone());
                }
                let status = request.send().await.unwrap().status().as_u16();
                assert_eq!(status, want, "{label}: {method} {path}");
            }
            tried += 1;
        }
        assert!(tried >= 2, "{label}: the matrix lists no audit:read route");
    }
}
