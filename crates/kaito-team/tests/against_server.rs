//! The team client against a real `kaito-server` (in this process, over real HTTP), with
//! a real vault file and the real OS keychain (run through
//! `scripts/with-test-session.sh`): signing in and enrolling the device, a code-only
//! member getting the server's codes with no seed anywhere on the device, the
//! refresh token rotating in the keychain, the server going down and coming back,
//! a disabled member signed out, and signing out leaving nothing behind.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use std::sync::Arc;

use kaito_api::ids::TokenId;
use kaito_api::{GrantMode, LoginRequest, Role};
use kaito_core::otp::CodeGenerator;
use kaito_server::testing::{MEMBER_PASSWORD, SEED, SHARED, Server, team_with_shared_token};
use kaito_team::{
    Surface, TeamClient, TeamError, TeamEventKind, TeamLink, cached_tokens, record_event,
};
use kaito_vault::{KeyNamespace, KeychainKeyStore, SecretSlot, Vault};
use serde_json::json;

/// Mia's device: the vault file at `path`, its key and the team sign-in in the
/// real keychain under a profile of this test run.
async fn device(path: &std::path::Path, profile: &str) -> (Vault, Arc<dyn SecretSlot>) {
    let keys = KeychainKeyStore::native(KeyNamespace::current(format!(
        "{profile}-{}",
        std::process::id()
    )))
    .unwrap();
    let slot: Arc<dyn SecretSlot> = Arc::new(keys.secret("team"));
    (Vault::open(path, Arc::new(keys)).await.unwrap(), slot)
}

/// A shared token's id as the server gave it.
fn id(text: &str) -> TokenId {
    text.parse().unwrap()
}

fn login(email: &str, password: &str) -> LoginRequest {
    LoginRequest {
        email: email.to_owned(),
        password: password.to_owned(),
    }
}

fn require_session() {
    assert_eq!(
        std::env::var("KAITO_TEST_SESSION").as_deref(),
        Ok("inner"),
        "this test uses the real keychain: run it through scripts/with-test-session.sh"
    );
}

#[tokio::test]
async fn a_code_only_member_signs_in_and_gets_the_servers_codes_with_no_seed_on_the_device() {
    require_session();
    let mut team = team_with_shared_token().await;
    let (owner, mia_id, token_id) = (
        team.owner.clone(),
        team.member_id.clone(),
        team.token_id.clone(),
    );
    let server = &mut team.server;
    let admin = owner.access_token.as_str();

    // Mia's device: a real vault file, the real keychain.
    let device_dir = tempfile::tempdir().unwrap();
    let vault_path = device_dir.path().join("vault.sqlite");
    let (vault, slot) = device(&vault_path, "test-team").await;

    let refused = TeamClient::sign_in(
        &vault,
        slot.clone(),
        &server.url(),
        &login("mia@example.com", "not her password"),
        "Mia's laptop",
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code(), "auth.invalid_credentials");
    assert!(TeamLink::load(&vault).await.unwrap().is_none());
    assert!(
        slot.load().unwrap().is_none(),
        "a failed sign-in left a keychain entry"
    );
    let insecure = TeamClient::sign_in(
        &vault,
        slot.clone(),
        "http://kaito.example.com",
        &login("mia@example.com", MEMBER_PASSWORD),
        "x",
    )
    .await
    .unwrap_err();
    assert_eq!(insecure.code(), "team.bad_url");

    // A redirect (say from a proxy) is not followed: the password stays here.
    let elsewhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let elsewhere_url = format!("http://{}/v1/auth/login", elsewhere.local_addr().unwrap());
    let redirecting = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirecting_url = format!("http://{}", redirecting.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        while let Ok((mut stream, _)) = redirecting.accept().await {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request).await;
            let answer = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: {elsewhere_url}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.write_all(answer.as_bytes()).await;
        }
    });
    let redirected = TeamClient::sign_in(
        &vault,
        slot.clone(),
        &redirecting_url,
        &login("mia@example.com", MEMBER_PASSWORD),
        "x",
    )
    .await
    .unwrap_err();
    assert!(
        redirected.to_string().contains("does not follow redirects"),
        "{redirected}"
    );
    let reached =
        tokio::time::timeout(std::time::Duration::from_millis(300), elsewhere.accept()).await;
    assert!(reached.is_err(), "the sign-in followed the redirect");
    assert!(slot.load().unwrap().is_none());

    let client = TeamClient::sign_in(
        &vault,
        slot.clone(),
        &format!("{}/", server.url()),
        &login("Mia@Example.com", MEMBER_PASSWORD),
        "Mia's laptop",
    )
    .await
    .unwrap();
    let link = TeamLink::load(&vault).await.unwrap().unwrap();
    assert_eq!(
        (
            link.email.as_str(),
            link.role,
            link.team_name.as_str(),
            link.server_url.as_str()
        ),
        (
            "mia@example.com",
            Role::Member,
            "Acme",
            server.url().as_str()
        )
    );
    assert!(link.device_id.starts_with("dev_"));
    let first_refresh = slot.load().unwrap().unwrap().to_string();

    let tokens = client.shared_tokens(&vault).await.unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(
        (tokens[0].issuer.as_str(), tokens[0].access),
        ("Acme VPN", Some(GrantMode::Code))
    );
    let codes = client.codes(&id(&token_id)).await.unwrap();
    let expected = CodeGenerator::new(&kaito_core::uri::parse(SHARED).unwrap())
        .window(codes.server_time)
        .unwrap();
    assert_eq!(
        (codes.current.as_str(), codes.next.as_str()),
        (expected.current.as_str(), expected.next.as_str())
    );
    let seedless = client.codes(&id("tok_not_ours")).await.unwrap_err();
    assert_eq!(seedless.code(), "grant.none");

    // No seed on the device: not in the vault file, not in the keychain entry.
    drop(client);
    let file = std::fs::read(&vault_path).unwrap();
    let wal = std::fs::read(device_dir.path().join("vault.sqlite-wal")).unwrap_or_default();
    for bytes in [&file, &wal] {
        assert!(
            !bytes
                .windows(SEED.len())
                .any(|window| window == SEED.as_bytes()),
            "the seed is in the vault"
        );
    }
    assert!(!first_refresh.contains(SEED));

    // A later start resumes; the first request buys a new access token and the
    // refresh token rotates in the keychain.
    let client = TeamClient::resume(&vault, slot.clone())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(client.link(), &link);
    assert!(client.codes(&id(&token_id)).await.is_ok());
    let second_refresh = slot.load().unwrap().unwrap().to_string();
    assert_ne!(
        first_refresh, second_refresh,
        "the refresh token did not rotate"
    );

    // The server goes down: a clear error, and the last list is still there.
    server.stop().await;
    let down = client.shared_tokens(&vault).await.unwrap_err();
    assert_eq!(down.code(), "team.unreachable");
    assert!(matches!(down, TeamError::Unreachable { .. }));
    let (cached, _fetched_at) = cached_tokens(&vault).await.unwrap().unwrap();
    assert_eq!(cached, tokens);

    // Back on the same port: codes flow again.
    let store = server.store.clone();
    let address = server.address.to_string();
    let server = Server::start(store, &address).await;
    assert!(client.codes(&id(&token_id)).await.is_ok());

    // Disabled by an admin: signed out at once, and told so.
    server
        .call(
            reqwest::Method::POST,
            &format!("/v1/team/members/{mia_id}/disable"),
            admin,
            json!({}),
        )
        .await;
    let ended = client.codes(&id(&token_id)).await.unwrap_err();
    assert_eq!(ended.code(), "team.signed_out");

    // Signing out leaves no link, no cache and no keychain entry.
    client.sign_out(&vault, false).await.unwrap();
    assert!(TeamLink::load(&vault).await.unwrap().is_none());
    assert!(cached_tokens(&vault).await.unwrap().is_none());
    assert!(slot.load().unwrap().is_none());
}

#[tokio::test]
async fn views_and_copies_reach_the_team_log_once_across_outages_and_interrupted_syncs() {
    require_session();
    let mut team = team_with_shared_token().await;
    let (owner, token_id) = (team.owner.clone(), team.token_id.clone());
    let server = &mut team.server;
    let device_dir = tempfile::tempdir().unwrap();
    let vault_path = device_dir.path().join("vault.sqlite");
    let (vault, slot) = device(&vault_path, "test-team-outbox").await;
    let client = TeamClient::sign_in(
        &vault,
        slot.clone(),
        &server.url(),
        &login("mia@example.com", MEMBER_PASSWORD),
        "Mia's laptop",
    )
    .await
    .unwrap();

    // Offline: events wait in the outbox and the sync says why it failed.
    record_event(
        &vault,
        &token_id,
        TeamEventKind::CodeViewed,
        Surface::Window,
    )
    .await
    .unwrap();
    record_event(&vault, &token_id, TeamEventKind::CodeCopied, Surface::Tray)
        .await
        .unwrap();
    server.stop().await;
    record_event(
        &vault,
        &token_id,
        TeamEventKind::CodeCopied,
        Surface::Palette,
    )
    .await
    .unwrap();
    let offline = client.sync_outbox(&vault).await.unwrap_err();
    assert_eq!(offline.code(), "team.unreachable");
    assert_eq!(vault.team_outbox_state().await.unwrap().0, 3);

    // Online again: all three go, once.
    let store = server.store.clone();
    let address = server.address.to_string();
    let server = Server::start(store, &address).await;
    let report = client.sync_outbox(&vault).await.unwrap();
    assert_eq!((report.accepted, report.duplicates), (3, 0));
    let (pending, last_sent) = vault.team_outbox_state().await.unwrap();
    assert_eq!(pending, 0);
    assert!(last_sent.is_some());

    // A sync that reached the server but died before noting it (a kill): the
    // resend is recognised, and the log still holds each event once.
    record_event(
        &vault,
        &token_id,
        TeamEventKind::CodeCopied,
        Surface::Window,
    )
    .await
    .unwrap();
    vault.close().await;
    {
        use sqlx::Connection as _;
        let mut raw =
            sqlx::SqliteConnection::connect(&format!("sqlite://{}", vault_path.display()))
                .await
                .unwrap();
        sqlx::query("UPDATE team_outbox SET sent_at = NULL")
            .execute(&mut raw)
            .await
            .unwrap();
    }
    let (vault, slot) = device(&vault_path, "test-team-outbox").await;
    let client = TeamClient::resume(&vault, slot.clone())
        .await
        .unwrap()
        .unwrap();
    let report = client.sync_outbox(&vault).await.unwrap();
    assert_eq!((report.accepted, report.duplicates), (1, 3));

    let events: Vec<kaito_api::AuditEventView> = serde_json::from_value(
        reqwest::Client::new()
            .get(format!("{}/v1/audit/events?limit=1000", server.url()))
            .bearer_auth(&owner.access_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    )
    .unwrap();
    let device_events: Vec<(&str, &str)> = events
        .iter()
        .filter(|event| event.kind.starts_with("code.") && event.kind != "code.served")
        .map(|event| {
            (
                event.kind.as_str(),
                event.details["details"]["surface"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        device_events,
        [
            ("code.viewed", "window"),
            ("code.copied", "tray"),
            ("code.copied", "palette"),
            ("code.copied", "window")
        ]
    );
    assert!(
        !events
            .iter()
            .any(|event| event.kind == "device.sequence_gap"),
        "a gap was reported"
    );
    client.sign_out(&vault, false).await.unwrap();
}

#[tokio::test]
async fn the_shared_inbox_arrives_live_and_a_reopened_stream_catches_up() {
    require_session();
    let team = team_with_shared_token().await;
    let server = &team.server;
    team.share_inbox_with_member().await;
    let device_dir = tempfile::tempdir().unwrap();
    let (vault, slot) = device(&device_dir.path().join("vault.sqlite"), "test-team-sms").await;
    let client = TeamClient::sign_in(
        &vault,
        slot,
        &server.url(),
        &login("mia@example.com", MEMBER_PASSWORD),
        "Mia's laptop",
    )
    .await
    .unwrap();

    let mut live = client.sms_stream(0).await.unwrap();
    server
        .twilio_sends("SM1", "Your Contoso code is 481 516")
        .await;
    let first = tokio::time::timeout(std::time::Duration::from_secs(20), live.next())
        .await
        .expect("the message arrives live")
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.code.as_deref(), first.label.as_str()),
        (Some("481516"), "Ops phone")
    );
    drop(live);

    // Missed while the stream was closed: replayed from the last seq seen.
    server
        .twilio_sends("SM2", "G-230442 is your Google verification code")
        .await;
    let mut again = client.sms_stream(first.seq).await.unwrap();
    let second = tokio::time::timeout(std::time::Duration::from_secs(20), again.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(second.code.as_deref(), Some("230442"));
    assert_eq!(client.sms_messages(0).await.unwrap().len(), 2);
    client.sign_out(&vault, false).await.unwrap();
}

/// The secret of an `otpauth://` URI, for comparing seeds without printing them.
fn secret_of(uri: &str) -> Vec<u8> {
    kaito_core::uri::parse(uri)
        .unwrap()
        .secret
        .expose()
        .to_vec()
}

#[tokio::test]
async fn a_full_seed_member_keeps_the_seed_sealed_and_loses_it_with_the_grant() {
    require_session();
    let team = team_with_shared_token().await;
    let (server, token_id) = (&team.server, team.token_id.as_str());
    let admin = team.owner.access_token.as_str();
    let seed_grant = server
        .call(
            reqwest::Method::POST,
            &format!("/v1/tokens/{token_id}/grants"),
            admin,
            json!({ "user_id": team.member_id, "mode": "seed" }),
        )
        .await;
    let device_dir = tempfile::tempdir().unwrap();
    let vault_path = device_dir.path().join("vault.sqlite");
    let (vault, slot) = device(&vault_path, "test-team-seed").await;
    let client = TeamClient::sign_in(
        &vault,
        slot,
        &server.url(),
        &login("mia@example.com", MEMBER_PASSWORD),
        "Mia's laptop",
    )
    .await
    .unwrap();
    let tokens = client.shared_tokens(&vault).await.unwrap();
    assert_eq!(tokens[0].access, Some(GrantMode::Seed));

    client.keep_seed(&vault, &id(token_id)).await.unwrap();
    let kept = vault.team_seed(token_id).await.unwrap().unwrap();
    assert_eq!(secret_of(&kept), secret_of(SHARED));
    // Sealed: neither the seed nor its URI is readable in the database files.
    for suffix in ["", "-wal", "-shm"] {
        let mut path = vault_path.clone().into_os_string();
        path.push(suffix);
        if let Ok(bytes) = std::fs::read(&path) {
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains(SEED), "the seed is in clear in {suffix:?}");
            assert!(!text.contains("secret="), "a URI is in clear in {suffix:?}");
        }
    }

    // Rotated on the server: the next list fetches the new seed.
    let rotated = "otpauth://totp/Acme%20VPN:ops%40acme.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20VPN";
    server
        .call(
            reqwest::Method::POST,
            &format!("/v1/tokens/{token_id}/rotate"),
            admin,
            json!({ "uri": rotated }),
        )
        .await;
    client.shared_tokens(&vault).await.unwrap();
    let kept = vault.team_seed(token_id).await.unwrap().unwrap();
    assert_eq!(secret_of(&kept), secret_of(rotated), "the old seed stayed");

    // The full-seed grant ends: the kept seed goes with it, and a code-only grant
    // cannot fetch one.
    let grant_id = seed_grant["id"].as_str().unwrap();
    let response = reqwest::Client::new()
        .delete(format!("{}/v1/grants/{grant_id}", server.url()))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let tokens = client.shared_tokens(&vault).await.unwrap();
    assert_eq!(tokens[0].access, Some(GrantMode::Code));
    assert!(vault.team_seed(token_id).await.unwrap().is_none());
    let refused = client.keep_seed(&vault, &id(token_id)).await.unwrap_err();
    assert!(refused.code().contains("code"), "{}", refused.code());
    assert!(vault.team_seed_ids().await.unwrap().is_empty());

    // Signing out removes every kept seed.
    server
        .call(
            reqwest::Method::POST,
            &format!("/v1/tokens/{token_id}/grants"),
            admin,
            json!({ "user_id": team.member_id, "mode": "seed" }),
        )
        .await;
    client.shared_tokens(&vault).await.unwrap();
    client.keep_seed(&vault, &id(token_id)).await.unwrap();
    client.sign_out(&vault, false).await.unwrap();
    assert!(vault.team_seed_ids().await.unwrap().is_empty());
}

/// #16 L3: unsent views and copies survive a sign-out and a new sign-in. Offline,
/// signing out is refused with how many would be lost; a new sign-in of the same
/// member sends what the previous one left, signed by its own device key; only an
/// explicit "sign out anyway" discards.
#[tokio::test]
async fn unsent_events_are_sent_or_kept_never_silently_dropped() {
    require_session();
    let mut team = team_with_shared_token().await;
    let (owner, token_id) = (team.owner.clone(), team.token_id.clone());
    let device_dir = tempfile::tempdir().unwrap();
    let (vault, slot) = device(&device_dir.path().join("vault.sqlite"), "test-team-unsent").await;
    let mia = login("mia@example.com", MEMBER_PASSWORD);
    let client = TeamClient::sign_in(
        &vault,
        slot.clone(),
        &team.server.url(),
        &mia,
        "Mia's laptop",
    )
    .await
    .unwrap();

    // Offline, a copy is recorded; signing out would drop it, so it is refused.
    team.server.stop().await;
    record_event(
        &vault,
        &token_id,
        TeamEventKind::CodeCopied,
        Surface::Window,
    )
    .await
    .unwrap();
    let refused = client.sign_out(&vault, false).await.unwrap_err();
    assert_eq!(refused.code(), "team.unsent_events");
    assert!(
        refused.to_string().starts_with("1 code views or copies"),
        "{refused}"
    );
    assert!(
        TeamLink::load(&vault).await.unwrap().is_some(),
        "the refusal signed out"
    );

    // Back online, signing in again (as after a password reset) sends it first,
    // with the old device's key.
    team.server.restart().await;
    drop(client);
    let again = TeamClient::sign_in(
        &vault,
        slot.clone(),
        &team.server.url(),
        &mia,
        "Mia's laptop",
    )
    .await
    .unwrap();
    let copies = team
        .server
        .audit_events(&owner.access_token)
        .await
        .into_iter()
        .filter(|event| event.kind == "code.copied")
        .count();
    assert_eq!(copies, 1, "the copy was dropped by the new sign-in");

    // Only an explicit discard drops what cannot be sent.
    team.server.stop().await;
    record_event(
        &vault,
        &token_id,
        TeamEventKind::CodeCopied,
        Surface::Window,
    )
    .await
    .unwrap();
    assert_eq!(
        again.sign_out(&vault, false).await.unwrap_err().code(),
        "team.unsent_events"
    );
    again.sign_out(&vault, true).await.unwrap();
    assert!(TeamLink::load(&vault).await.unwrap().is_none());
    assert!(slot.load().unwrap().is_none());
}

/// Mia's account has an authenticator: the session's sign-in stops after the
/// password and keeps the server's challenge in memory; a wrong code keeps it
/// waiting, the right one signs the device in, and a lock forgets a waiting one.
#[tokio::test]
async fn a_sign_in_with_a_second_factor_waits_for_the_code() {
    require_session();
    let team = team_with_shared_token().await;
    let url = team.server.url();
    let phone = team
        .server
        .enrol_authenticator("mia@example.com", MEMBER_PASSWORD)
        .await;
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };

    let device_dir = tempfile::tempdir().unwrap();
    let (vault, slot) = device(&device_dir.path().join("vault.sqlite"), "test-mfa").await;
    let session = kaito_team::Session::open(Some(&vault), Some(slot)).await;
    let mia = login("mia@example.com", MEMBER_PASSWORD);
    let waiting = session.sign_in(&vault, &url, &mia).await;
    assert!(
        matches!(waiting, Err(TeamError::SecondFactorRequired)),
        "{waiting:?}"
    );
    assert!(session.status(&vault).await.unwrap().link.is_none());

    let wrong = session.answer_second_factor(&vault, "000000").await;
    assert_eq!(wrong.unwrap_err().code(), "auth.invalid_second_factor");
    let signed = session
        .answer_second_factor(&vault, phone.code_at(now() + 30).as_str())
        .await
        .unwrap();
    assert_eq!(signed.link.unwrap().email, "mia@example.com");
    let again = session.answer_second_factor(&vault, "123456").await;
    assert!(
        matches!(again, Err(TeamError::NoPendingSignIn)),
        "{again:?}"
    );

    // Signed out, halfway through a new sign-in, the app locks: the challenge goes.
    session.sign_out(&vault, true).await.unwrap();
    assert!(matches!(
        session.sign_in(&vault, &url, &mia).await,
        Err(TeamError::SecondFactorRequired)
    ));
    session.set_locked(true).await;
    session.set_locked(false).await;
    let forgotten = session
        .answer_second_factor(&vault, phone.code_at(now() + 30).as_str())
        .await;
    assert!(
        matches!(forgotten, Err(TeamError::NoPendingSignIn)),
        "{forgotten:?}"
    );
}
