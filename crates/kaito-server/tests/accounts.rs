//! Teams, sign-in, sessions and roles over real HTTP, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod common;

use common::{OWNER_PASSWORD, TestServer, servers};
use kaito_api::{MeView, MemberView, Role, TokenPair};
use kaito_server::accounts::{FAILURE_WINDOW, create_team_with_owner, prune_login_failures};
use kaito_server::http::now_ms;
use kaito_server::password_work::PasswordWork;
use serde_json::json;
use sqlx::Row as _;

async fn with_owner(server: &TestServer) -> TokenPair {
    create_team_with_owner(
        &server.store,
        "Acme Ops",
        "Olivia@Example.com",
        "Olivia",
        &common::hashed(OWNER_PASSWORD).await,
        now_ms(),
    )
    .await
    .unwrap();
    let answer = server.login("olivia@example.com", OWNER_PASSWORD).await;
    assert_eq!(answer.status, 200, "{}: {}", server.label, answer.body);
    answer.parse()
}

#[tokio::test]
async fn sign_in_shows_who_you_are_and_refresh_tokens_rotate() {
    for server in servers().await {
        let label = server.label;
        let tokens = with_owner(&server).await;
        assert_eq!(tokens.access_expires_in_secs, 900);

        let me: MeView = server
            .get("/v1/me", Some(&tokens.access_token))
            .await
            .parse();
        assert_eq!(
            (
                me.email.as_str(),
                me.name.as_str(),
                me.role,
                me.team_name.as_str()
            ),
            ("olivia@example.com", "Olivia", Role::Owner, "Acme Ops"),
            "{label}"
        );

        // A refresh gives new tokens that work.
        let refreshed = server
            .post(
                "/v1/auth/refresh",
                None,
                &json!({ "refresh_token": tokens.refresh_token }),
            )
            .await;
        assert_eq!(refreshed.status, 200, "{label}: {}", refreshed.body);
        let next: TokenPair = refreshed.parse();
        assert_ne!(next.refresh_token, tokens.refresh_token);
        assert_eq!(
            server.get("/v1/me", Some(&next.access_token)).await.status,
            200
        );

        // The spent refresh token shown again (a copy): refused, and the session is
        // over for every token of it.
        let replay = server
            .post(
                "/v1/auth/refresh",
                None,
                &json!({ "refresh_token": tokens.refresh_token }),
            )
            .await;
        assert_eq!(
            (replay.status, replay.code()),
            (401, "auth.invalid_refresh"),
            "{label}"
        );
        let after = server.get("/v1/me", Some(&next.access_token)).await;
        assert_eq!(
            (after.status, after.code()),
            (401, "auth.unauthenticated"),
            "{label}"
        );
        let newest = server
            .post(
                "/v1/auth/refresh",
                None,
                &json!({ "refresh_token": next.refresh_token }),
            )
            .await;
        assert_eq!(newest.status, 401, "{label}: the thief's token dies too");

        // Logging out ends the session at once.
        let session: TokenPair = server
            .login("olivia@example.com", OWNER_PASSWORD)
            .await
            .parse();
        let out = server
            .post("/v1/auth/logout", Some(&session.access_token), &json!({}))
            .await;
        assert_eq!(out.status, 200, "{label}");
        assert_eq!(
            server
                .get("/v1/me", Some(&session.access_token))
                .await
                .status,
            401
        );
    }
}

#[tokio::test]
async fn wrong_passwords_unknown_people_and_bad_requests_get_clear_errors() {
    for server in servers().await {
        let label = server.label;
        with_owner(&server).await;
        let wrong = server
            .login("olivia@example.com", "not the passphrase")
            .await;
        assert_eq!(
            (wrong.status, wrong.code()),
            (401, "auth.invalid_credentials"),
            "{label}"
        );
        assert_eq!(wrong.body["message"], "The email or the password is wrong.");
        let unknown = server.login("nobody@example.com", OWNER_PASSWORD).await;
        assert_eq!(
            (unknown.status, unknown.body.clone()),
            (wrong.status, wrong.body.clone()),
            "{label}: an unknown email reads exactly like a wrong password"
        );

        let garbled = server
            .call(
                reqwest::Method::POST,
                "/v1/auth/login",
                None,
                Some(&json!({ "email": "olivia@example.com" })),
            )
            .await;
        assert_eq!(
            (garbled.status, garbled.code()),
            (400, "request.invalid"),
            "{label}"
        );
        assert!(
            garbled.body["message"]
                .as_str()
                .unwrap()
                .contains("password"),
            "{}",
            garbled.body
        );

        let anonymous = server.get("/v1/me", None).await;
        assert_eq!(
            (anonymous.status, anonymous.code()),
            (401, "auth.unauthenticated")
        );
        let forged = server.get("/v1/me", Some("forged-token")).await;
        assert_eq!(forged.status, 401, "{label}");
    }
}

/// The review's exploit: 20 wrong passwords at once for one account. Each attempt
/// is counted before its password is checked, so exactly the limit's worth get a
/// verdict and the rest wait, as one after another would.
#[tokio::test]
async fn a_burst_of_parallel_guesses_gets_exactly_the_limits_verdicts() {
    for server in servers().await {
        let label = server.label;
        with_owner(&server).await;
        let passwords: Vec<String> = (0..20).map(|guess| format!("guess {guess}")).collect();
        let guesses = passwords
            .iter()
            .map(|password| server.login("olivia@example.com", password));
        let answers = futures_util::future::join_all(guesses).await;
        let verdicts = answers.iter().filter(|answer| answer.status == 401).count();
        let limited: Vec<_> = answers
            .iter()
            .filter(|answer| answer.status == 429)
            .collect();
        assert_eq!((verdicts, limited.len()), (5, 15), "{label}");
        assert!(
            limited.iter().all(|answer| answer.retry_after.is_some()),
            "{label}"
        );
        let locked = server.login("olivia@example.com", OWNER_PASSWORD).await;
        assert_eq!(locked.status, 429, "{label}");
    }
}

/// Hashes stored before the standard PHC string (the same text without its leading
/// `$`) still sign in, and are rewritten in the standard form at that sign-in.
#[tokio::test]
async fn older_password_hashes_sign_in_and_are_upgraded_at_once() {
    for server in servers().await {
        let label = server.label;
        with_owner(&server).await;
        let stored = || async {
            sqlx::query_scalar::<_, String>("SELECT password_hash FROM users WHERE email = $1")
                .bind("olivia@example.com")
                .fetch_one(server.store.pool())
                .await
                .unwrap()
        };
        let standard = stored().await;
        assert!(
            standard.starts_with("$argon2id$v=19$"),
            "{label}: {standard}"
        );
        sqlx::query("UPDATE users SET password_hash = $1 WHERE email = $2")
            .bind(&standard[1..])
            .bind("olivia@example.com")
            .execute(server.store.pool())
            .await
            .unwrap();

        let wrong = server
            .login("olivia@example.com", "not the passphrase")
            .await;
        assert_eq!(wrong.status, 401, "{label}");
        assert_eq!(
            stored().await,
            standard[1..],
            "{label}: a failure rewrites nothing"
        );
        let right = server.login("olivia@example.com", OWNER_PASSWORD).await;
        assert_eq!(right.status, 200, "{label}");
        let upgraded = stored().await;
        assert!(
            upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{label}"
        );
        assert_ne!(upgraded, standard, "{label}: freshly salted");
        let again = server.login("olivia@example.com", OWNER_PASSWORD).await;
        assert_eq!(again.status, 200, "{label}");
    }
}

/// Closed attempt windows are forgotten (they name emails, some of people with no
/// account); an open one stays and keeps limiting.
#[tokio::test]
async fn closed_sign_in_windows_are_pruned_and_open_ones_kept() {
    for server in servers().await {
        let label = server.label;
        with_owner(&server).await;
        for email in ["olivia@example.com", "nobody@example.com"] {
            server.login(email, "a wrong guess").await;
        }
        let later = now_ms() + i64::try_from(FAILURE_WINDOW.as_millis()).unwrap() + 1_000;
        let emails = || async {
            sqlx::query_scalar::<_, String>("SELECT email FROM login_failures ORDER BY email")
                .fetch_all(server.store.pool())
                .await
                .unwrap()
        };
        assert_eq!(
            emails().await,
            ["nobody@example.com", "olivia@example.com"],
            "{label}"
        );
        assert_eq!(
            prune_login_failures(&server.store, now_ms()).await.unwrap(),
            0,
            "{label}"
        );
        assert_eq!(
            prune_login_failures(&server.store, later).await.unwrap(),
            2,
            "{label}"
        );
        assert!(emails().await.is_empty(), "{label}");
    }
}

#[tokio::test]
async fn failed_sign_ins_are_limited_per_account() {
    for server in servers().await {
        let label = server.label;
        with_owner(&server).await;
        for attempt in 1..=5 {
            let answer = server.login("olivia@example.com", "guess {attempt}").await;
            assert_eq!(answer.status, 401, "{label}: attempt {attempt}");
        }
        // Locked for the window, even with the right password.
        let locked = server.login("olivia@example.com", OWNER_PASSWORD).await;
        assert_eq!(
            (locked.status, locked.code()),
            (429, "auth.rate_limited"),
            "{label}"
        );
        let wait: u64 = locked.retry_after.as_deref().unwrap().parse().unwrap();
        assert!((800..=900).contains(&wait), "{label}: Retry-After {wait}");
        assert!(
            locked.body["message"]
                .as_str()
                .unwrap()
                .contains("Try again in")
        );

        // Other accounts are not affected.
        create_team_with_owner(
            &server.store,
            "Other",
            "sam@example.com",
            "Sam",
            &common::hashed("sam's passphrase").await,
            now_ms(),
        )
        .await
        .unwrap();
        assert_eq!(
            server
                .login("sam@example.com", "sam's passphrase")
                .await
                .status,
            200
        );
    }
}

#[tokio::test]
async fn roles_decide_who_manages_the_team_and_disabling_is_immediate() {
    for server in servers().await {
        let label = server.label;
        let owner = with_owner(&server).await;
        let add = |email: &str, role: &str| json!({ "email": email, "name": email, "role": role, "password": "first passphrase" });

        let added = server
            .post(
                "/v1/team/members",
                Some(&owner.access_token),
                &add("mia@example.com", "member"),
            )
            .await;
        assert_eq!(added.status, 200, "{label}: {}", added.body);
        let admin = server
            .post(
                "/v1/team/members",
                Some(&owner.access_token),
                &add("ada@example.com", "admin"),
            )
            .await;
        assert_eq!(admin.status, 200, "{label}");
        let taken = server
            .post(
                "/v1/team/members",
                Some(&owner.access_token),
                &add("MIA@example.com", "member"),
            )
            .await;
        assert_eq!(
            (taken.status, taken.code()),
            (409, "account.email_taken"),
            "{label}"
        );

        let member: TokenPair = server
            .login("mia@example.com", "first passphrase")
            .await
            .parse();
        let admin_tokens: TokenPair = server
            .login("ada@example.com", "first passphrase")
            .await
            .parse();

        // A member can see themselves, not the team, and cannot add anyone.
        let listing = server
            .get("/v1/team/members", Some(&member.access_token))
            .await;
        assert_eq!(
            (listing.status, listing.code()),
            (403, "auth.forbidden"),
            "{label}"
        );
        assert_eq!(
            listing.body["message"],
            "This needs the admin role; you are member."
        );
        let sneaky = server
            .post(
                "/v1/team/members",
                Some(&member.access_token),
                &add("eve@example.com", "member"),
            )
            .await;
        assert_eq!(sneaky.status, 403, "{label}");

        // An admin lists the team and adds members, but not admins.
        let members: Vec<MemberView> = server
            .get("/v1/team/members", Some(&admin_tokens.access_token))
            .await
            .parse();
        let emails: Vec<&str> = members.iter().map(|m| m.email.as_str()).collect();
        assert_eq!(
            emails,
            ["ada@example.com", "mia@example.com", "olivia@example.com"],
            "{label}"
        );
        let promote = server
            .post(
                "/v1/team/members",
                Some(&admin_tokens.access_token),
                &add("max@example.com", "admin"),
            )
            .await;
        assert_eq!(
            (promote.status, promote.body["message"].as_str()),
            (403, Some("This needs the owner role; you are admin."))
        );

        // An admin cannot disable an owner or another admin: a rogue admin would
        // otherwise lock every owner out for good.
        let owner_id = members
            .iter()
            .find(|m| m.email == "olivia@example.com")
            .unwrap()
            .user_id
            .clone();
        let coup = server
            .post(
                &format!("/v1/team/members/{owner_id}/disable"),
                Some(&admin_tokens.access_token),
                &json!({}),
            )
            .await;
        assert_eq!(
            (coup.status, coup.body["message"].as_str()),
            (403, Some("This needs the owner role; you are admin.")),
            "{label}"
        );
        assert_eq!(
            server.get("/v1/me", Some(&owner.access_token)).await.status,
            200,
            "{label}: the owner is still signed in"
        );
        let ada2 = server
            .post(
                "/v1/team/members",
                Some(&owner.access_token),
                &add("ada2@example.com", "admin"),
            )
            .await;
        assert_eq!(ada2.status, 200, "{label}");
        let peer = server
            .post(
                &format!(
                    "/v1/team/members/{}/disable",
                    ada2.body["user_id"].as_str().unwrap()
                ),
                Some(&admin_tokens.access_token),
                &json!({}),
            )
            .await;
        assert_eq!(
            peer.status, 403,
            "{label}: an admin cannot disable an admin"
        );
        // An owner can disable an admin.
        let by_owner = server
            .post(
                &format!(
                    "/v1/team/members/{}/disable",
                    ada2.body["user_id"].as_str().unwrap()
                ),
                Some(&owner.access_token),
                &json!({}),
            )
            .await;
        assert_eq!(by_owner.status, 200, "{label}: {}", by_owner.body);
        // Only an owner brings a disabled account back; it signs in again.
        let enable_path = format!(
            "/v1/team/members/{}/enable",
            ada2.body["user_id"].as_str().unwrap()
        );
        let by_admin = server
            .post(&enable_path, Some(&admin_tokens.access_token), &json!({}))
            .await;
        assert_eq!(by_admin.status, 403, "{label}");
        assert_eq!(
            server
                .login("ada2@example.com", "first passphrase")
                .await
                .code(),
            "auth.invalid_credentials",
            "{label}: still disabled"
        );
        let enabled = server
            .post(&enable_path, Some(&owner.access_token), &json!({}))
            .await;
        assert_eq!(enabled.status, 200, "{label}: {}", enabled.body);
        assert_eq!(
            server
                .login("ada2@example.com", "first passphrase")
                .await
                .status,
            200,
            "{label}: signs in again"
        );
        let twice = server
            .post(&enable_path, Some(&owner.access_token), &json!({}))
            .await;
        assert_eq!((twice.status, twice.code()), (409, "conflict"), "{label}");

        // Disabling a member ends their sessions at once.
        let mia = members
            .iter()
            .find(|m| m.email == "mia@example.com")
            .unwrap();
        let disabled = server
            .post(
                &format!("/v1/team/members/{}/disable", mia.user_id),
                Some(&admin_tokens.access_token),
                &json!({}),
            )
            .await;
        assert_eq!(disabled.status, 200, "{label}: {}", disabled.body);
        assert_eq!(
            server
                .get("/v1/me", Some(&member.access_token))
                .await
                .status,
            401,
            "{label}"
        );
        let again = server.login("mia@example.com", "first passphrase").await;
        assert_eq!(again.code(), "auth.invalid_credentials", "{label}");
        let refresh = server
            .post(
                "/v1/auth/refresh",
                None,
                &json!({ "refresh_token": member.refresh_token }),
            )
            .await;
        assert_eq!(refresh.status, 401, "{label}");
    }
}

#[tokio::test]
async fn weak_passwords_and_malformed_emails_are_refused_and_nothing_is_stored() {
    for server in servers().await {
        let label = server.label;
        let short = PasswordWork::default().hash_new("short").await;
        assert_eq!(
            short.unwrap_err().to_string(),
            "The password must have at least 12 characters."
        );
        let email = create_team_with_owner(
            &server.store,
            "T",
            "not-an-email",
            "A",
            &common::hashed(OWNER_PASSWORD).await,
            now_ms(),
        )
        .await;
        assert_eq!(email.unwrap_err().code(), "request.invalid", "{label}");
        // The failed bootstraps left no team behind.
        let teams: i64 = sqlx::query("SELECT COUNT(*) AS n FROM teams")
            .fetch_one(server.store.pool())
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
        assert_eq!(teams, 0, "{label}");
    }
}

#[tokio::test]
async fn owners_change_roles_but_the_team_always_keeps_an_owner() {
    for server in servers().await {
        let label = server.label;
        let olivia = with_owner(&server).await;
        let me: MeView = server
            .get("/v1/me", Some(&olivia.access_token))
            .await
            .parse();
        let ada_id = server.add_member(&olivia, "ada@example.com", "admin").await;
        let ada: TokenPair = server
            .login("ada@example.com", common::MEMBER_PASSWORD)
            .await
            .parse();
        let role_of = |id: &str| format!("/v1/team/members/{id}/role");
        let put = |path: String, bearer: String, role: &'static str| {
            let server = &server;
            async move {
                server
                    .call(
                        reqwest::Method::PUT,
                        &path,
                        Some(&bearer),
                        Some(&json!({ "role": role })),
                    )
                    .await
            }
        };

        // The only owner cannot step down, and an admin cannot change roles.
        let alone = put(role_of(&me.user_id), olivia.access_token.clone(), "admin").await;
        assert_eq!(alone.status, 400, "{label}: {}", alone.body);
        assert!(
            alone.body["message"]
                .as_str()
                .unwrap()
                .contains("last active owner"),
            "{label}: {}",
            alone.body
        );
        let by_admin = put(role_of(&ada_id), ada.access_token.clone(), "owner").await;
        assert_eq!(by_admin.status, 403, "{label}");

        // Promoted, Ada is an owner at once; then Olivia may step down.
        let promoted = put(role_of(&ada_id), olivia.access_token.clone(), "owner").await;
        assert_eq!(promoted.status, 200, "{label}: {}", promoted.body);
        let ada_me: MeView = server.get("/v1/me", Some(&ada.access_token)).await.parse();
        assert_eq!(ada_me.role, Role::Owner, "{label}");
        let same = put(role_of(&ada_id), olivia.access_token.clone(), "owner").await;
        assert_eq!((same.status, same.code()), (409, "conflict"), "{label}");
        let stepped_down = put(role_of(&me.user_id), olivia.access_token.clone(), "admin").await;
        assert_eq!(stepped_down.status, 200, "{label}: {}", stepped_down.body);

        // Now an admin, Olivia cannot disable the owner; Ada, the last owner,
        // cannot step down.
        let coup = server
            .post(
                &format!("/v1/team/members/{ada_id}/disable"),
                Some(&olivia.access_token),
                &json!({}),
            )
            .await;
        assert_eq!(coup.status, 403, "{label}");
        let last = put(role_of(&ada_id), ada.access_token.clone(), "member").await;
        assert_eq!(last.status, 400, "{label}");

        let events: Vec<kaito_api::AuditEventView> = server
            .get("/v1/audit/events?limit=1000", Some(&ada.access_token))
            .await
            .parse();
        let changes: Vec<(&str, &str)> = events
            .iter()
            .filter(|e| e.kind == "member.role_changed")
            .map(|e| {
                (
                    e.details["from"].as_str().unwrap(),
                    e.details["to"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(changes, [("admin", "owner"), ("owner", "admin")], "{label}");
    }
}
