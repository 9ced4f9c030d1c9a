//! Shared tokens over real HTTP on SQLite and PostgreSQL: code-only members get
//! codes and never the seed, by any route; grants by user, by group and expiring;
//! other teams kept out; seeds sealed at rest.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod common;

use common::shared_team::{GITHUB, SECRET, expected_codes, team_with_shared_token};
use common::{OWNER_PASSWORD, servers};
use kaito_api::{CodesView, GrantMode, SeedView, SharedTokenView};
use kaito_server::accounts::create_team_with_owner;
use kaito_server::http::now_ms;
use serde_json::json;

#[tokio::test]
async fn code_only_members_get_codes_and_never_the_seed_by_any_route() {
    for server in servers().await {
        let label = server.label;
        let team = team_with_shared_token(&server).await;
        let token = &team.token_id;
        let member = Some(team.member.access_token.as_str());

        // Before any grant the member sees nothing of it.
        let none: Vec<SharedTokenView> = server.get("/v1/tokens", member).await.parse();
        assert!(none.is_empty(), "{label}");
        let denied = server
            .get(&format!("/v1/tokens/{token}/codes"), member)
            .await;
        assert_eq!(
            (denied.status, denied.code()),
            (403, "grant.none"),
            "{label}"
        );

        let grant_id = server
            .grant(
                Some(&team.owner.access_token),
                token,
                &json!({ "user_id": team.member_id, "mode": "code" }),
            )
            .await;

        let listed: Vec<SharedTokenView> = server.get("/v1/tokens", member).await.parse();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (
                listed[0].issuer.as_str(),
                listed[0].account.as_str(),
                listed[0].access
            ),
            ("GitHub", "ops@acme.com", Some(GrantMode::Code)),
            "{label}"
        );

        let codes: CodesView = server
            .get(&format!("/v1/tokens/{token}/codes"), member)
            .await
            .parse();
        assert_eq!(
            (codes.current.clone(), codes.next.clone()),
            expected_codes(codes.server_time),
            "{label}"
        );
        assert_eq!(codes.period, 30);
        assert!((1..=30).contains(&codes.remaining_secs));

        // Every route to the seed is closed to a code-only member, and no answer
        // carries it.
        let attempts = [
            server
                .get(&format!("/v1/tokens/{token}/seed"), member)
                .await,
            server
                .post(
                    &format!("/v1/tokens/{token}/rotate"),
                    member,
                    &json!({ "uri": GITHUB }),
                )
                .await,
            server
                .post(
                    &format!("/v1/tokens/{token}/grants"),
                    member,
                    &json!({ "user_id": team.member_id, "mode": "seed" }),
                )
                .await,
            server
                .post("/v1/tokens", member, &json!({ "uri": GITHUB }))
                .await,
            server.get("/v1/audit/events", member).await,
            server.get("/v1/audit/verify", member).await,
            server.get("/v1/tokens", member).await,
            server
                .get(&format!("/v1/tokens/{token}/codes"), member)
                .await,
        ];
        for answer in &attempts {
            assert!(
                !answer.body.to_string().contains(SECRET),
                "{label}: a seed leaked: {}",
                answer.body
            );
        }
        assert_eq!(
            (attempts[0].status, attempts[0].code()),
            (403, "grant.code_only"),
            "{label}"
        );
        assert_eq!(
            attempts[0].body["message"],
            "Your grant to this token is code-only: the server gives you its codes, never its seed."
        );
        for answer in &attempts[1..6] {
            assert_eq!(
                (answer.status, answer.code()),
                (403, "auth.forbidden"),
                "{label}: {}",
                answer.body
            );
        }

        // The owner (creator, seed grant) can fetch it; it is the same token.
        let seed: SeedView = server
            .get(
                &format!("/v1/tokens/{token}/seed"),
                Some(&team.owner.access_token),
            )
            .await
            .parse();
        assert_eq!(
            kaito_core::uri::parse(&seed.uri).unwrap(),
            kaito_core::uri::parse(GITHUB).unwrap()
        );

        // An admin without a grant manages the token but gets no codes.
        let managed: Vec<SharedTokenView> = server
            .get("/v1/tokens", Some(&team.admin.access_token))
            .await
            .parse();
        assert_eq!(managed[0].access, None, "{label}");
        let no_codes = server
            .get(
                &format!("/v1/tokens/{token}/codes"),
                Some(&team.admin.access_token),
            )
            .await;
        assert_eq!(no_codes.status, 403, "{label}");

        // Revoking the grant closes the codes at once.
        let revoked = server
            .delete(
                &format!("/v1/grants/{grant_id}"),
                Some(&team.owner.access_token),
            )
            .await;
        assert_eq!(revoked.status, 200, "{label}: {}", revoked.body);
        assert_eq!(
            server
                .get(&format!("/v1/tokens/{token}/codes"), member)
                .await
                .status,
            403,
            "{label}"
        );
    }
}

#[tokio::test]
async fn group_grants_expiry_and_other_teams() {
    for server in servers().await {
        let label = server.label;
        let team = team_with_shared_token(&server).await;
        let token = &team.token_id;
        let owner = Some(team.owner.access_token.as_str());

        // A seed grant through a group reaches its members.
        let group_id = server.create_group(owner, "On-call").await;
        let same_name = server
            .post("/v1/groups", owner, &json!({ "name": "On-call" }))
            .await;
        assert_eq!(
            (same_name.status, same_name.code()),
            (409, "conflict"),
            "{label}"
        );
        server.join_group(owner, &group_id, &team.admin_id).await;
        server
            .grant(
                owner,
                token,
                &json!({ "group_id": group_id, "mode": "seed" }),
            )
            .await;
        let seed = server
            .get(
                &format!("/v1/tokens/{token}/seed"),
                Some(&team.admin.access_token),
            )
            .await;
        assert_eq!(seed.status, 200, "{label}: {}", seed.body);

        // An expired grant gives nothing.
        server
            .grant(
                owner,
                token,
                &json!({ "user_id": team.member_id, "mode": "code", "expires_at": now_ms() - 1000 }),
            )
            .await;
        let late = server
            .get(
                &format!("/v1/tokens/{token}/codes"),
                Some(&team.member.access_token),
            )
            .await;
        assert_eq!((late.status, late.code()), (403, "grant.none"), "{label}");

        // Another team's owner cannot see, use or grant this token.
        let rival = server.rival_owner().await;
        let rival = Some(rival.access_token.as_str());
        let listed: Vec<SharedTokenView> = server.get("/v1/tokens", rival).await.parse();
        assert!(listed.is_empty(), "{label}");
        assert_eq!(
            server
                .get(&format!("/v1/tokens/{token}/codes"), rival)
                .await
                .status,
            403
        );
        let steal = server
            .post(
                &format!("/v1/tokens/{token}/grants"),
                rival,
                &json!({ "user_id": team.member_id, "mode": "seed" }),
            )
            .await;
        assert_eq!((steal.status, steal.code()), (404, "not_found"), "{label}");

        // Bad tokens get clear errors.
        let hotp = server
            .post("/v1/tokens", owner, &json!({ "uri": "otpauth://hotp/X:y?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&counter=1" }))
            .await;
        assert_eq!(hotp.status, 400, "{label}");
        assert!(
            hotp.body["message"].as_str().unwrap().contains("HOTP"),
            "{}",
            hotp.body
        );
        let broken = server
            .post(
                "/v1/tokens",
                owner,
                &json!({ "uri": "otpauth://totp/X?secret=" }),
            )
            .await;
        assert_eq!(
            (broken.status, broken.code()),
            (400, "request.invalid"),
            "{label}"
        );
    }
}

#[tokio::test]
async fn seeds_are_sealed_at_rest_and_only_the_right_key_opens_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = kaito_server::store::Store::open_data_dir(dir.path())
        .await
        .unwrap();
    let key = |byte: u8| {
        kaito_server::custody::ServerKey::from_base64(&base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            [byte; 32],
        ))
        .unwrap()
    };
    store.check_server_key(&key(1)).await.unwrap();
    let (team_id, user_id) = create_team_with_owner(
        &store,
        "Acme",
        "olivia@example.com",
        "Olivia",
        &common::hashed(OWNER_PASSWORD).await,
        now_ms(),
    )
    .await
    .unwrap();
    let admin = kaito_server::accounts::Caller {
        user_id,
        team_id,
        role: kaito_api::Role::Owner,
        session_id: kaito_server::ids::SessionId::from_stored("sess_test".to_owned()),
    };
    kaito_server::shared::add_token(&store, &key(1), &admin, GITHUB, now_ms())
        .await
        .unwrap();
    store.pool().close().await;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
            "the seed is in clear in {}",
            path.display()
        );
    }
    let reopened = kaito_server::store::Store::open_data_dir(dir.path())
        .await
        .unwrap();
    let wrong = reopened.check_server_key(&key(2)).await.unwrap_err();
    assert!(
        wrong
            .to_string()
            .contains("not the one this database's seeds were sealed with"),
        "{wrong}"
    );
    reopened.check_server_key(&key(1)).await.unwrap();
}
