//! Shared tokens over real HTTP on SQLite and PostgreSQL: code-only members get
//! codes and never the seed, by any route; grants by user or group, expiring and
//! revoked, listed for admins with the groups and their members; and the
//! hash-chained audit log of all of it, with tampering detected.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod common;

use common::{OWNER_PASSWORD, TestServer, servers};
use kaito_api::{
    AuditEventView, ChainReport, CodesView, GrantMode, GrantView, GroupView, SeedView,
    SharedTokenView, TokenPair,
};
use kaito_core::otp::CodeGenerator;
use kaito_server::accounts::create_team_with_owner;
use kaito_server::http::now_ms;
use serde_json::json;

const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const GITHUB: &str =
    "otpauth://totp/GitHub:ops%40acme.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=GitHub";
const PASSWORD: &str = common::MEMBER_PASSWORD;

struct Team {
    owner: TokenPair,
    owner_id: String,
    member: TokenPair,
    member_id: String,
    admin: TokenPair,
    admin_id: String,
    token_id: String,
}

async fn team(server: &TestServer) -> Team {
    let owner = server.acme_owner().await;
    let member_id = server.add_member(&owner, "mia@example.com", "member").await;
    let admin_id = server.add_member(&owner, "ada@example.com", "admin").await;
    let created = server
        .post(
            "/v1/tokens",
            Some(&owner.access_token),
            &json!({ "uri": GITHUB }),
        )
        .await;
    assert_eq!(created.status, 200, "{}: {}", server.label, created.body);
    let me: kaito_api::MeView = server
        .get("/v1/me", Some(&owner.access_token))
        .await
        .parse();
    Team {
        owner_id: me.user_id,
        member: server.login("mia@example.com", PASSWORD).await.parse(),
        member_id,
        admin: server.login("ada@example.com", PASSWORD).await.parse(),
        admin_id,
        owner,
        token_id: created.body["id"].as_str().unwrap().to_owned(),
    }
}

/// The codes the token shows at `unix_secs`, computed here from the seed.
fn expected_codes(unix_secs: u64) -> (String, String) {
    let token = kaito_core::uri::parse(GITHUB).unwrap();
    let window = CodeGenerator::new(&token).window(unix_secs).unwrap();
    (
        window.current.as_str().to_owned(),
        window.next.as_str().to_owned(),
    )
}

#[tokio::test]
async fn code_only_members_get_codes_and_never_the_seed_by_any_route() {
    for server in servers().await {
        let label = server.label;
        let team = team(&server).await;
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

        let granted = server
            .post(
                &format!("/v1/tokens/{token}/grants"),
                Some(&team.owner.access_token),
                &json!({ "user_id": team.member_id, "mode": "code" }),
            )
            .await;
        assert_eq!(granted.status, 200, "{label}: {}", granted.body);

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
        let grant_id = granted.body["id"].as_str().unwrap();
        let revoked = server
            .call(
                reqwest::Method::DELETE,
                &format!("/v1/grants/{grant_id}"),
                Some(&team.owner.access_token),
                None::<&()>,
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
        let team = team(&server).await;
        let token = &team.token_id;
        let owner = Some(team.owner.access_token.as_str());

        // A seed grant through a group reaches its members.
        let group = server
            .post("/v1/groups", owner, &json!({ "name": "On-call" }))
            .await;
        assert_eq!(group.status, 200, "{label}: {}", group.body);
        let group_id = group.body["id"].as_str().unwrap();
        let same_name = server
            .post("/v1/groups", owner, &json!({ "name": "On-call" }))
            .await;
        assert_eq!(
            (same_name.status, same_name.code()),
            (409, "conflict"),
            "{label}"
        );
        let joined = server
            .post(
                &format!("/v1/groups/{group_id}/members"),
                owner,
                &json!({ "user_id": team.admin_id }),
            )
            .await;
        assert_eq!(joined.status, 200, "{label}: {}", joined.body);
        server
            .post(
                &format!("/v1/tokens/{token}/grants"),
                owner,
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
        let expired = server
            .post(
                &format!("/v1/tokens/{token}/grants"),
                owner,
                &json!({ "user_id": team.member_id, "mode": "code", "expires_at": now_ms() - 1000 }),
            )
            .await;
        assert_eq!(expired.status, 200, "{label}");
        let late = server
            .get(
                &format!("/v1/tokens/{token}/codes"),
                Some(&team.member.access_token),
            )
            .await;
        assert_eq!((late.status, late.code()), (403, "grant.none"), "{label}");

        // Another team's owner cannot see, use or grant this token.
        create_team_with_owner(
            &server.store,
            "Rival",
            "rex@rival.example",
            "Rex",
            OWNER_PASSWORD,
            now_ms(),
        )
        .await
        .unwrap();
        let rival: TokenPair = server
            .login("rex@rival.example", OWNER_PASSWORD)
            .await
            .parse();
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
async fn every_code_and_seed_is_in_a_hash_chain_that_shows_tampering() {
    for server in servers().await {
        let label = server.label;
        let team = team(&server).await;
        let token = &team.token_id;
        let owner = Some(team.owner.access_token.as_str());
        server
            .post(
                &format!("/v1/tokens/{token}/grants"),
                owner,
                &json!({ "user_id": team.member_id, "mode": "code" }),
            )
            .await;
        server
            .get(
                &format!("/v1/tokens/{token}/codes"),
                Some(&team.member.access_token),
            )
            .await;
        server
            .get(
                &format!("/v1/tokens/{token}/seed"),
                Some(&team.member.access_token),
            )
            .await;
        server.get(&format!("/v1/tokens/{token}/seed"), owner).await;
        server.login("mia@example.com", "wrong passphrase").await;

        let events: Vec<AuditEventView> = server
            .get("/v1/audit/events?limit=1000", owner)
            .await
            .parse();
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds[kinds.len() - 5..],
            [
                "grant.created",
                "code.served",
                "seed.refused",
                "seed.fetched",
                "login.failed"
            ],
            "{label}"
        );
        let served = events.iter().find(|e| e.kind == "code.served").unwrap();
        assert_eq!(
            served.actor.as_deref(),
            Some(team.member_id.as_str()),
            "{label}"
        );
        assert_eq!(served.subject.as_deref(), Some(token.as_str()));
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(
            seqs,
            (1..=i64::try_from(events.len()).unwrap()).collect::<Vec<_>>(),
            "{label}: gapless"
        );
        for event in &events {
            assert!(
                !event.details.to_string().contains(SECRET),
                "{label}: a seed in the log"
            );
        }

        let intact: ChainReport = server.get("/v1/audit/verify", owner).await.parse();
        assert!(intact.intact, "{label}: {intact:?}");
        assert_eq!(intact.events, i64::try_from(events.len()).unwrap());
        assert_eq!(intact.head_hash, events.last().unwrap().hash);

        // Someone with database access edits what a code view says.
        sqlx::query("UPDATE audit_events SET details = '{\"grant\":\"seed\"}' WHERE seq = $1")
            .bind(served.seq)
            .execute(server.store.pool())
            .await
            .unwrap();
        let tampered: ChainReport = server.get("/v1/audit/verify", owner).await.parse();
        assert_eq!(
            (tampered.intact, tampered.first_broken_seq),
            (false, Some(served.seq)),
            "{label}"
        );
    }
}

#[tokio::test]
async fn removing_the_newest_events_is_detected_too() {
    for server in servers().await {
        let label = server.label;
        let team = team(&server).await;
        let owner = Some(team.owner.access_token.as_str());
        let before: ChainReport = server.get("/v1/audit/verify", owner).await.parse();
        assert!(before.intact, "{label}");
        sqlx::query("DELETE FROM audit_events WHERE seq = $1")
            .bind(before.events)
            .execute(server.store.pool())
            .await
            .unwrap();
        let after: ChainReport = server.get("/v1/audit/verify", owner).await.parse();
        assert_eq!(
            (after.intact, after.first_broken_seq),
            (false, Some(before.events)),
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
        OWNER_PASSWORD,
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

#[tokio::test]
async fn rotating_a_seed_notifies_everyone_holding_a_copy_and_no_one_else() {
    const ROTATED: &str = "otpauth://totp/GitHub:ops%40acme.com?secret=KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TFOQ&issuer=GitHub";
    for server in servers().await {
        let label = server.label;
        let team = team(&server).await;
        let owner = Some(team.owner.access_token.as_str());
        let token = &team.token_id;
        let ben_id = server
            .add_member(&team.owner, "ben@example.com", "member")
            .await;
        let cy_id = server
            .add_member(&team.owner, "cy@example.com", "member")
            .await;
        // Ada (admin) holds the seed directly, Ben through a group; Mia has codes
        // only; Cy's full-seed grant has expired.
        let group = server
            .post("/v1/groups", owner, &json!({ "name": "Rotators" }))
            .await;
        let group_id = group.body["id"].as_str().unwrap().to_owned();
        server
            .post(
                &format!("/v1/groups/{group_id}/members"),
                owner,
                &json!({ "user_id": ben_id }),
            )
            .await;
        for grant in [
            json!({ "user_id": team.admin_id, "mode": "seed" }),
            json!({ "group_id": group_id, "mode": "seed" }),
            json!({ "user_id": team.member_id, "mode": "code" }),
            json!({ "user_id": cy_id, "mode": "seed", "expires_at": now_ms() + 1500 }),
        ] {
            let granted = server
                .post(&format!("/v1/tokens/{token}/grants"), owner, &grant)
                .await;
            assert_eq!(granted.status, 200, "{label}: {}", granted.body);
        }
        tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
        let before: Vec<SharedTokenView> = server.get("/v1/tokens", owner).await.parse();
        assert_eq!(before[0].rotated_at, None, "{label}");

        let rotated = server
            .post(
                &format!("/v1/tokens/{token}/rotate"),
                owner,
                &json!({ "uri": ROTATED }),
            )
            .await;
        assert_eq!(rotated.status, 200, "{label}: {}", rotated.body);

        let ben: TokenPair = server.login("ben@example.com", PASSWORD).await.parse();
        let cy: TokenPair = server.login("cy@example.com", PASSWORD).await.parse();
        let notes = |who: &TokenPair, query: &'static str| {
            let token = who.access_token.clone();
            let server = &server;
            async move {
                server
                    .get(&format!("/v1/notifications{query}"), Some(&token))
                    .await
                    .parse::<Vec<kaito_api::NotificationView>>()
            }
        };
        for holder in [&team.admin, &ben] {
            let got = notes(holder, "").await;
            assert_eq!(got.len(), 1, "{label}");
            assert_eq!(got[0].kind, "token.rotated", "{label}");
            assert_eq!(got[0].subject.as_deref(), Some(token.as_str()), "{label}");
            assert!(
                got[0].message.contains("GitHub (ops@acme.com) was rotated"),
                "{label}: {}",
                got[0].message
            );
            assert!(
                !got[0].message.contains("KRSXG5"),
                "{label}: the seed is in a notification"
            );
        }
        for bystander in [&team.owner, &team.member, &cy] {
            assert!(notes(bystander, "").await.is_empty(), "{label}");
        }
        let listed: Vec<SharedTokenView> = server.get("/v1/tokens", owner).await.parse();
        assert!(listed[0].rotated_at.is_some(), "{label}");

        // Read once, gone from the unread list; no one marks another's.
        let note_id = notes(&ben, "").await[0].id.clone();
        let theirs = server
            .post(
                &format!("/v1/notifications/{note_id}/read"),
                Some(&team.admin.access_token),
                &json!({}),
            )
            .await;
        assert_eq!(theirs.status, 404, "{label}");
        let read = server
            .post(
                &format!("/v1/notifications/{note_id}/read"),
                Some(&ben.access_token),
                &json!({}),
            )
            .await;
        assert_eq!(read.status, 200, "{label}");
        assert!(notes(&ben, "?unread=true").await.is_empty(), "{label}");
        assert!(notes(&ben, "").await[0].read_at.is_some(), "{label}");

        let events: Vec<AuditEventView> = server
            .get("/v1/audit/events?limit=1000", owner)
            .await
            .parse();
        let rotation = events
            .iter()
            .find(|event| event.kind == "token.rotated")
            .unwrap();
        let mut expected = vec![team.admin_id.clone(), ben_id.clone()];
        expected.sort();
        assert_eq!(rotation.details["notified"], json!(expected), "{label}");

        // And the new seed is what the server now computes codes from.
        let seed: SeedView = server
            .get(&format!("/v1/tokens/{token}/seed"), Some(&ben.access_token))
            .await
            .parse();
        assert!(
            seed.uri.contains("KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TFOQ"),
            "{label}"
        );
    }
}

#[tokio::test]
async fn admins_list_the_teams_groups_with_their_members_by_name() {
    for server in servers().await {
        let label = server.label;
        let team = team(&server).await;
        let owner = Some(team.owner.access_token.as_str());
        let mut ids = Vec::new();
        for name in ["Zeta", "Alpha", "Empty"] {
            let group = server
                .post("/v1/groups", owner, &json!({ "name": name }))
                .await;
            assert_eq!(group.status, 200, "{label}: {}", group.body);
            ids.push(group.body["id"].as_str().unwrap().to_owned());
        }
        let (zeta, alpha, empty) = (&ids[0], &ids[1], &ids[2]);
        for (group, user) in [
            (zeta, &team.member_id),
            (zeta, &team.admin_id),
            (alpha, &team.admin_id),
        ] {
            let joined = server
                .post(
                    &format!("/v1/groups/{group}/members"),
                    owner,
                    &json!({ "user_id": user }),
                )
                .await;
            assert_eq!(joined.status, 200, "{label}: {}", joined.body);
        }

        let mut zeta_members = vec![team.member_id.clone(), team.admin_id.clone()];
        zeta_members.sort();
        let expected = vec![
            GroupView {
                group_id: alpha.clone(),
                name: "Alpha".to_owned(),
                member_ids: vec![team.admin_id.clone()],
            },
            GroupView {
                group_id: empty.clone(),
                name: "Empty".to_owned(),
                member_ids: Vec::new(),
            },
            GroupView {
                group_id: zeta.clone(),
                name: "Zeta".to_owned(),
                member_ids: zeta_members,
            },
        ];
        for admin in [&team.owner, &team.admin] {
            let listed: Vec<GroupView> = server
                .get("/v1/groups", Some(&admin.access_token))
                .await
                .parse();
            assert_eq!(listed, expected, "{label}");
        }
        let member = server
            .get("/v1/groups", Some(&team.member.access_token))
            .await;
        assert_eq!(
            (member.status, member.code()),
            (403, "auth.forbidden"),
            "{label}"
        );

        // Another team has groups of its own, and sees none of these.
        create_team_with_owner(
            &server.store,
            "Rival",
            "rex@rival.example",
            "Rex",
            OWNER_PASSWORD,
            now_ms(),
        )
        .await
        .unwrap();
        let rival: TokenPair = server
            .login("rex@rival.example", OWNER_PASSWORD)
            .await
            .parse();
        let rival = Some(rival.access_token.as_str());
        server
            .post("/v1/groups", rival, &json!({ "name": "Alpha" }))
            .await;
        let theirs: Vec<GroupView> = server.get("/v1/groups", rival).await.parse();
        assert_eq!(theirs.len(), 1, "{label}");
        assert!(!ids.contains(&theirs[0].group_id), "{label}");
        let ours: Vec<GroupView> = server.get("/v1/groups", owner).await.parse();
        assert_eq!(ours, expected, "{label}");
    }
}

#[tokio::test]
async fn a_member_removed_from_a_group_loses_what_its_grant_gave_them() {
    for server in servers().await {
        let label = server.label;
        let team = team(&server).await;
        let token = &team.token_id;
        let owner = Some(team.owner.access_token.as_str());
        let member = Some(team.member.access_token.as_str());
        let group = server
            .post("/v1/groups", owner, &json!({ "name": "Support" }))
            .await;
        let group_id = group.body["id"].as_str().unwrap().to_owned();
        for user in [&team.member_id, &team.admin_id] {
            server
                .post(
                    &format!("/v1/groups/{group_id}/members"),
                    owner,
                    &json!({ "user_id": user }),
                )
                .await;
        }
        let granted = server
            .post(
                &format!("/v1/tokens/{token}/grants"),
                owner,
                &json!({ "group_id": group_id, "mode": "code" }),
            )
            .await;
        assert_eq!(granted.status, 200, "{label}: {}", granted.body);
        let codes = server
            .get(&format!("/v1/tokens/{token}/codes"), member)
            .await;
        assert_eq!(codes.status, 200, "{label}: {}", codes.body);

        let removal = format!("/v1/groups/{group_id}/members/{}", team.member_id);
        let removed = server
            .call(reqwest::Method::DELETE, &removal, owner, None::<&()>)
            .await;
        assert_eq!(removed.status, 200, "{label}: {}", removed.body);
        let late = server
            .get(&format!("/v1/tokens/{token}/codes"), member)
            .await;
        assert_eq!((late.status, late.code()), (403, "grant.none"), "{label}");
        // The others in the group keep it.
        let kept = server
            .get(
                &format!("/v1/tokens/{token}/codes"),
                Some(&team.admin.access_token),
            )
            .await;
        assert_eq!(kept.status, 200, "{label}: {}", kept.body);
        let listed: Vec<GroupView> = server.get("/v1/groups", owner).await.parse();
        assert_eq!(listed[0].member_ids, vec![team.admin_id.clone()], "{label}");

        let events: Vec<AuditEventView> = server
            .get("/v1/audit/events?limit=1000", owner)
            .await
            .parse();
        let event = events
            .iter()
            .rfind(|event| event.kind == "group.member_removed")
            .unwrap();
        assert_eq!(
            (event.actor.as_deref(), event.subject.as_deref()),
            (Some(team.owner_id.as_str()), Some(group_id.as_str())),
            "{label}"
        );
        assert_eq!(event.details, json!({ "user_id": team.member_id }));

        // Not a member (any more), no such group, another team's group: 404 with
        // a message that says which, and nothing in the log.
        let again = server
            .call(reqwest::Method::DELETE, &removal, owner, None::<&()>)
            .await;
        assert_eq!((again.status, again.code()), (404, "not_found"), "{label}");
        assert_eq!(
            again.body["message"],
            format!("{} is not a member of group {group_id}.", team.member_id),
            "{label}"
        );
        let nowhere = server
            .call(
                reqwest::Method::DELETE,
                &format!("/v1/groups/grp_made_up/members/{}", team.admin_id),
                owner,
                None::<&()>,
            )
            .await;
        assert_eq!(
            (nowhere.status, nowhere.body["message"].as_str()),
            (404, Some("No group grp_made_up in your team.")),
            "{label}"
        );
        create_team_with_owner(
            &server.store,
            "Rival",
            "rex@rival.example",
            "Rex",
            OWNER_PASSWORD,
            now_ms(),
        )
        .await
        .unwrap();
        let rival: TokenPair = server
            .login("rex@rival.example", OWNER_PASSWORD)
            .await
            .parse();
        let foreign = server
            .call(
                reqwest::Method::DELETE,
                &format!("/v1/groups/{group_id}/members/{}", team.admin_id),
                Some(&rival.access_token),
                None::<&()>,
            )
            .await;
        assert_eq!(foreign.status, 404, "{label}: {}", foreign.body);
        let after: Vec<AuditEventView> = server
            .get("/v1/audit/events?limit=1000", owner)
            .await
            .parse();
        assert_eq!(
            after
                .iter()
                .filter(|event| event.kind == "group.member_removed")
                .count(),
            1,
            "{label}"
        );
        let still: Vec<GroupView> = server.get("/v1/groups", owner).await.parse();
        assert_eq!(still[0].member_ids, vec![team.admin_id.clone()], "{label}");
    }
}

#[tokio::test]
async fn admins_list_a_tokens_live_grants_by_user_and_group() {
    for server in servers().await {
        let label = server.label;
        let team = team(&server).await;
        let token = &team.token_id;
        let owner = Some(team.owner.access_token.as_str());
        let group = server
            .post("/v1/groups", owner, &json!({ "name": "Ops" }))
            .await;
        let group_id = group.body["id"].as_str().unwrap().to_owned();
        let granting_from = now_ms();
        let expires_at = granting_from + 3_600_000;
        let mut made = Vec::new();
        for grant in [
            json!({ "user_id": team.member_id, "mode": "code", "expires_at": expires_at }),
            json!({ "group_id": group_id, "mode": "seed" }),
            json!({ "user_id": team.admin_id, "mode": "code" }),
            json!({ "user_id": team.admin_id, "mode": "seed", "expires_at": now_ms() - 1000 }),
        ] {
            let granted = server
                .post(&format!("/v1/tokens/{token}/grants"), owner, &grant)
                .await;
            assert_eq!(granted.status, 200, "{label}: {}", granted.body);
            made.push(granted.body["id"].as_str().unwrap().to_owned());
        }
        let revoked = server
            .call(
                reqwest::Method::DELETE,
                &format!("/v1/grants/{}", made[2]),
                owner,
                None::<&()>,
            )
            .await;
        assert_eq!(revoked.status, 200, "{label}: {}", revoked.body);

        let listed: Vec<GrantView> = server
            .get(
                &format!("/v1/tokens/{token}/grants"),
                Some(&team.admin.access_token),
            )
            .await
            .parse();
        // Oldest first; grants made in the same millisecond may come in any order.
        assert!(
            listed
                .windows(2)
                .all(|pair| pair[0].created_at <= pair[1].created_at),
            "{label}: {listed:?}"
        );
        // The owner's own seed grant from adding the token and the two live ones
        // made here; neither the revoked grant nor the expired one.
        assert_eq!(listed.len(), 3, "{label}: {listed:?}");
        let find = |grant_id: &str| {
            listed
                .iter()
                .find(|grant| grant.grant_id == grant_id)
                .unwrap_or_else(|| panic!("{label}: {grant_id} not in {listed:?}"))
        };
        let (by_user, by_group) = (find(&made[0]), find(&made[1]));
        assert_eq!(
            by_user,
            &GrantView {
                grant_id: made[0].clone(),
                user_id: Some(team.member_id.clone()),
                group_id: None,
                mode: GrantMode::Code,
                expires_at: Some(expires_at),
                created_at: by_user.created_at,
            },
            "{label}"
        );
        assert_eq!(
            by_group,
            &GrantView {
                grant_id: made[1].clone(),
                user_id: None,
                group_id: Some(group_id.clone()),
                mode: GrantMode::Seed,
                expires_at: None,
                created_at: by_group.created_at,
            },
            "{label}"
        );
        for grant in [by_user, by_group] {
            assert!(
                (granting_from..=now_ms()).contains(&grant.created_at),
                "{label}: {grant:?}"
            );
        }
        let owners = listed
            .iter()
            .find(|grant| !made.contains(&grant.grant_id))
            .unwrap();
        assert_eq!(
            (
                owners.user_id.as_deref(),
                owners.group_id.as_deref(),
                owners.mode,
                owners.expires_at
            ),
            (Some(team.owner_id.as_str()), None, GrantMode::Seed, None),
            "{label}"
        );

        let member = server
            .get(
                &format!("/v1/tokens/{token}/grants"),
                Some(&team.member.access_token),
            )
            .await;
        assert_eq!(member.status, 403, "{label}");
        let unknown = server.get("/v1/tokens/tok_made_up/grants", owner).await;
        assert_eq!(
            (unknown.status, unknown.body["message"].as_str()),
            (404, Some("No shared token tok_made_up in your team.")),
            "{label}"
        );
        create_team_with_owner(
            &server.store,
            "Rival",
            "rex@rival.example",
            "Rex",
            OWNER_PASSWORD,
            now_ms(),
        )
        .await
        .unwrap();
        let rival: TokenPair = server
            .login("rex@rival.example", OWNER_PASSWORD)
            .await
            .parse();
        let foreign = server
            .get(
                &format!("/v1/tokens/{token}/grants"),
                Some(&rival.access_token),
            )
            .await;
        assert_eq!(
            (foreign.status, foreign.code()),
            (404, "not_found"),
            "{label}"
        );
    }
}
