//! A second factor for Kaito accounts (#17), on SQLite and PostgreSQL over real
//! HTTP: a member sets up an authenticator (confirmed by its first code), signs in
//! in two steps, cannot play a used code or recovery code again, and an admin
//! resets a lost one; the failure limit covers both steps; every step is audited.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod common;

use common::{MEMBER_PASSWORD, TestServer, servers};
use kaito_api::{AuditEventView, MfaChallenge, MfaStatus, RecoveryCodes, TokenPair, TotpEnrolment};
use kaito_core::CodeGenerator;
use serde_json::json;

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Sets up an authenticator for the member signed in as `member`; its generator
/// and the recovery codes.
async fn enrol(server: &TestServer, member: &TokenPair) -> (CodeGenerator, Vec<String>) {
    let label = server.label;
    let started = server
        .post("/v1/me/mfa/totp", Some(&member.access_token), &json!({}))
        .await;
    assert_eq!(started.status, 200, "{label}: {}", started.body);
    let enrolment: TotpEnrolment = started.parse();
    let token = kaito_core::uri::parse(&enrolment.otpauth_uri).unwrap();
    assert_eq!(
        token.secret.to_base32().as_str(),
        enrolment.secret,
        "{label}"
    );
    assert!(
        token.issuer.starts_with("Kaito ("),
        "{label}: {}",
        token.issuer
    );
    let generator = CodeGenerator::new(&token);
    let confirmed = server
        .post(
            "/v1/me/mfa/totp/confirm",
            Some(&member.access_token),
            &json!({
                "code": generator.code_at(now_secs()).as_str(),
                "current_password": MEMBER_PASSWORD,
            }),
        )
        .await;
    assert_eq!(confirmed.status, 200, "{label}: {}", confirmed.body);
    let codes: RecoveryCodes = confirmed.parse();
    (generator, codes.codes)
}

async fn challenge(server: &TestServer, email: &str) -> MfaChallenge {
    let answer = server.login(email, MEMBER_PASSWORD).await;
    assert_eq!(answer.status, 200, "{}: {}", server.label, answer.body);
    assert_eq!(
        answer.body["mfa_required"],
        json!(true),
        "{}: a right password alone gives no session: {}",
        server.label,
        answer.body
    );
    assert!(
        answer.body.get("access_token").is_none(),
        "{}",
        server.label
    );
    answer.parse()
}

async fn answer(server: &TestServer, challenge: &MfaChallenge, code: &str) -> common::Answer {
    server
        .post(
            "/v1/auth/mfa",
            None,
            &json!({ "challenge": challenge.challenge, "code": code }),
        )
        .await
}

/// A code the authenticator shows 30 s from now: a newer step than any used.
fn next_code(generator: &CodeGenerator) -> String {
    generator.code_at(now_secs() + 30).as_str().to_owned()
}

async fn kinds_of(server: &TestServer, owner: &TokenPair, prefix: &str) -> Vec<AuditEventView> {
    server
        .get(
            &format!("/v1/audit/events?kind={prefix}&limit=100"),
            Some(&owner.access_token),
        )
        .await
        .parse()
}

#[tokio::test]
async fn a_member_sets_up_an_authenticator_and_signs_in_with_a_code_used_once() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        let bob = server.add_member(&owner, "bob@example.com", "member").await;
        let first: TokenPair = server
            .login("bob@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        let status: MfaStatus = server
            .get("/v1/me/mfa", Some(&first.access_token))
            .await
            .parse();
        assert_eq!(
            status,
            MfaStatus {
                totp: false,
                recovery_codes_left: 0
            },
            "{label}"
        );

        // A wrong first code leaves it unconfirmed: sign-in still wants no code.
        let started = server
            .post("/v1/me/mfa/totp", Some(&first.access_token), &json!({}))
            .await;
        assert_eq!(started.status, 200, "{label}");
        let wrong_first = server
            .post(
                "/v1/me/mfa/totp/confirm",
                Some(&first.access_token),
                &json!({ "code": "000000", "current_password": MEMBER_PASSWORD }),
            )
            .await;
        assert_eq!(wrong_first.status, 400, "{label}: {}", wrong_first.body);
        // Nor does a right code without the password: a borrowed session alone
        // cannot tie the account to someone else's phone.
        let no_password = server
            .post(
                "/v1/me/mfa/totp/confirm",
                Some(&first.access_token),
                &json!({ "code": "000000", "current_password": "someone else's guess" }),
            )
            .await;
        assert_eq!(
            (no_password.status, no_password.code()),
            (403, "auth.wrong_password"),
            "{label}"
        );
        let still_plain: TokenPair = server
            .login("bob@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        assert!(!still_plain.access_token.is_empty(), "{label}");

        let (generator, recovery) = enrol(&server, &first).await;
        assert_eq!(recovery.len(), 10, "{label}");
        let distinct: std::collections::HashSet<_> = recovery.iter().collect();
        assert_eq!(distinct.len(), 10, "{label}");
        assert!(
            recovery
                .iter()
                .all(|code| code.len() == 19 && code.matches('-').count() == 3),
            "{label}: {recovery:?}"
        );
        let again = server
            .post("/v1/me/mfa/totp", Some(&first.access_token), &json!({}))
            .await;
        assert_eq!(
            (again.status, again.code()),
            (409, "mfa.state"),
            "{label}: a second authenticator does not silently replace the first"
        );

        // Two steps now; a wrong code opens nothing.
        let pending = challenge(&server, "bob@example.com").await;
        assert_eq!(pending.methods, ["totp", "recovery_code"], "{label}");
        let wrong = answer(&server, &pending, "123456").await;
        assert_eq!(
            (wrong.status, wrong.code()),
            (401, "auth.invalid_second_factor"),
            "{label}"
        );
        let code = next_code(&generator);
        let signed = answer(&server, &pending, &code).await;
        assert_eq!(signed.status, 200, "{label}: {}", signed.body);
        let session: TokenPair = signed.parse();
        assert_eq!(
            server
                .get("/v1/me", Some(&session.access_token))
                .await
                .status,
            200,
            "{label}"
        );
        // A challenge works once; a code works once, even in a new challenge.
        let answered_again = answer(&server, &pending, &code).await;
        assert_eq!(
            (answered_again.status, answered_again.code()),
            (401, "auth.mfa_challenge_invalid"),
            "{label}"
        );
        let fresh = challenge(&server, "bob@example.com").await;
        let replayed = answer(&server, &fresh, &code).await;
        assert_eq!(
            (replayed.status, replayed.code()),
            (401, "auth.invalid_second_factor"),
            "{label}: a used code is refused"
        );

        // A recovery code, typed in lower case without dashes, works once.
        let typed = recovery[3].replace('-', "").to_lowercase();
        let by_recovery = answer(&server, &fresh, &typed).await;
        assert_eq!(by_recovery.status, 200, "{label}: {}", by_recovery.body);
        let status: MfaStatus = server
            .get("/v1/me/mfa", Some(&session.access_token))
            .await
            .parse();
        assert_eq!(
            status,
            MfaStatus {
                totp: true,
                recovery_codes_left: 9
            },
            "{label}"
        );
        let used = answer(
            &server,
            &challenge(&server, "bob@example.com").await,
            &recovery[3],
        )
        .await;
        assert_eq!(used.status, 401, "{label}");

        // Every step is in the team's audit chain, never with a code in it.
        let mfa_events = kinds_of(&server, &owner, "mfa.").await;
        let kinds: Vec<(&str, Option<&str>)> = mfa_events
            .iter()
            .map(|event| (event.kind.as_str(), event.subject.as_deref()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("mfa.enrolled", Some(bob.as_str())),
                ("mfa.verified", Some(bob.as_str())),
                ("mfa.verified", Some(bob.as_str())),
            ],
            "{label}"
        );
        assert_eq!(mfa_events[1].details["method"], "totp", "{label}");
        assert_eq!(mfa_events[2].details["method"], "recovery_code", "{label}");
        assert_eq!(mfa_events[2].details["recovery_codes_left"], 9, "{label}");
        let failures = kinds_of(&server, &owner, "login.failed").await;
        assert_eq!(
            failures
                .iter()
                .filter(|event| event.details["reason"] == "second_factor")
                .count(),
            3,
            "{label}"
        );
        let everything = serde_json::to_string(&kinds_of(&server, &owner, "").await).unwrap();
        assert!(!everything.contains(&code), "{label}");
        assert!(!everything.contains(&recovery[3]), "{label}");
    }
}

#[tokio::test]
async fn the_failure_limit_covers_both_steps_and_a_right_password_does_not_reset_it() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        server
            .add_member(&owner, "carol@example.com", "member")
            .await;
        let carol: TokenPair = server
            .login("carol@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        let (generator, _) = enrol(&server, &carol).await;

        // Two wrong passwords, the right one, two wrong codes: five attempts, as
        // the right password did not clear the count.
        for _ in 0..2 {
            assert_eq!(
                server
                    .login("carol@example.com", "not her password")
                    .await
                    .status,
                401,
                "{label}"
            );
        }
        let pending = challenge(&server, "carol@example.com").await;
        for _ in 0..2 {
            assert_eq!(
                answer(&server, &pending, "999999").await.status,
                401,
                "{label}"
            );
        }
        // So even the right code is not looked at now.
        let blocked = answer(&server, &pending, &next_code(&generator)).await;
        assert_eq!(
            (blocked.status, blocked.code()),
            (429, "auth.rate_limited"),
            "{label}: {}",
            blocked.body
        );
        let password_too = server.login("carol@example.com", MEMBER_PASSWORD).await;
        assert_eq!(password_too.status, 429, "{label}");
    }
}

#[tokio::test]
async fn an_admin_resets_a_lost_authenticator_and_a_member_turns_theirs_off() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        let dana = server
            .add_member(&owner, "dana@example.com", "member")
            .await;
        let admin_id = server.add_member(&owner, "ada@example.com", "admin").await;
        let erin = server
            .add_member(&owner, "erin@example.com", "member")
            .await;
        let admin: TokenPair = server
            .login("ada@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        let dana_session: TokenPair = server
            .login("dana@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        enrol(&server, &dana_session).await;
        enrol(&server, &admin).await;
        let members: Vec<kaito_api::MemberView> = server
            .get("/v1/team/members", Some(&owner.access_token))
            .await
            .parse();
        let with_mfa: Vec<&str> = members
            .iter()
            .filter(|member| member.mfa)
            .map(|member| member.email.as_str())
            .collect();
        assert_eq!(
            with_mfa,
            ["ada@example.com", "dana@example.com"],
            "{label}: the members list says who has a second factor"
        );

        // A member resets nobody's; an admin resets a member's, not an admin's.
        let by_member = server
            .post(
                &format!("/v1/team/members/{admin_id}/mfa/reset"),
                Some(&dana_session.access_token),
                &json!({}),
            )
            .await;
        assert_eq!(by_member.status, 403, "{label}");
        let none_to_reset = server
            .post(
                &format!("/v1/team/members/{erin}/mfa/reset"),
                Some(&admin.access_token),
                &json!({}),
            )
            .await;
        assert_eq!(
            (none_to_reset.status, none_to_reset.code()),
            (409, "mfa.state"),
            "{label}"
        );
        let reset = server
            .post(
                &format!("/v1/team/members/{dana}/mfa/reset"),
                Some(&admin.access_token),
                &json!({}),
            )
            .await;
        assert_eq!(reset.status, 200, "{label}: {}", reset.body);
        let plain: TokenPair = server
            .login("dana@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        assert!(!plain.access_token.is_empty(), "{label}");

        server.add_member(&owner, "abe@example.com", "admin").await;
        let abe: TokenPair = server
            .login("abe@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        let rank = server
            .post(
                &format!("/v1/team/members/{admin_id}/mfa/reset"),
                Some(&abe.access_token),
                &json!({}),
            )
            .await;
        assert_eq!(
            (rank.status, rank.code()),
            (403, "auth.forbidden"),
            "{label}: an admin's second factor is an owner's to reset"
        );
        let by_owner = server
            .post(
                &format!("/v1/team/members/{admin_id}/mfa/reset"),
                Some(&owner.access_token),
                &json!({}),
            )
            .await;
        assert_eq!(by_owner.status, 200, "{label}: {}", by_owner.body);

        // Turning one's own off wants the password.
        let dana_again: TokenPair = server
            .login("dana@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        let (_, old_codes) = enrol(&server, &dana_again).await;
        // New recovery codes, with the password: the old ones stop working.
        let refused = server
            .post(
                "/v1/me/mfa/recovery-codes",
                Some(&dana_again.access_token),
                &json!({ "current_password": "not it at all" }),
            )
            .await;
        assert_eq!(refused.status, 403, "{label}");
        let replaced = server
            .post(
                "/v1/me/mfa/recovery-codes",
                Some(&dana_again.access_token),
                &json!({ "current_password": MEMBER_PASSWORD }),
            )
            .await;
        assert_eq!(replaced.status, 200, "{label}: {}", replaced.body);
        let new_codes: RecoveryCodes = replaced.parse();
        assert_eq!(new_codes.codes.len(), 10, "{label}");
        assert!(
            new_codes.codes.iter().all(|code| !old_codes.contains(code)),
            "{label}"
        );
        let pending = challenge(&server, "dana@example.com").await;
        assert_eq!(
            answer(&server, &pending, &old_codes[0]).await.status,
            401,
            "{label}: an old recovery code is dead"
        );
        assert_eq!(
            answer(&server, &pending, &new_codes.codes[0]).await.status,
            200,
            "{label}"
        );
        let wrong = server
            .post(
                "/v1/me/mfa/remove",
                Some(&dana_again.access_token),
                &json!({ "current_password": "not it at all" }),
            )
            .await;
        assert_eq!(
            (wrong.status, wrong.code()),
            (403, "auth.wrong_password"),
            "{label}"
        );
        let removed = server
            .post(
                "/v1/me/mfa/remove",
                Some(&dana_again.access_token),
                &json!({ "current_password": MEMBER_PASSWORD }),
            )
            .await;
        assert_eq!(removed.status, 200, "{label}: {}", removed.body);
        let plain_again: TokenPair = server
            .login("dana@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        assert!(!plain_again.access_token.is_empty(), "{label}");

        let kinds: Vec<(String, Option<String>, Option<String>)> =
            kinds_of(&server, &owner, "mfa.")
                .await
                .into_iter()
                .filter(|event| event.kind != "mfa.enrolled" && event.kind != "mfa.verified")
                .map(|event| (event.kind, event.actor, event.subject))
                .collect();
        let me: kaito_api::MeView = server
            .get("/v1/me", Some(&owner.access_token))
            .await
            .parse();
        assert_eq!(
            kinds,
            [
                (
                    "mfa.reset".to_owned(),
                    Some(admin_id.clone()),
                    Some(dana.clone())
                ),
                (
                    "mfa.reset".to_owned(),
                    Some(me.user_id.clone()),
                    Some(admin_id.clone())
                ),
                (
                    "mfa.recovery_codes_replaced".to_owned(),
                    Some(dana.clone()),
                    Some(dana.clone())
                ),
                (
                    "mfa.removed".to_owned(),
                    Some(dana.clone()),
                    Some(dana.clone())
                ),
            ],
            "{label}"
        );
    }
}

#[tokio::test]
async fn unanswered_challenges_are_pruned_once_they_expire() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        server
            .add_member(&owner, "finn@example.com", "member")
            .await;
        let finn: TokenPair = server
            .login("finn@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        enrol(&server, &finn).await;
        challenge(&server, "finn@example.com").await;
        let count = || async {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM mfa_challenges")
                .fetch_one(server.store.pool())
                .await
                .unwrap()
        };
        let now = kaito_server::http::now_ms();
        kaito_server::accounts::prune_spent_credentials(&server.store, now)
            .await
            .unwrap();
        assert_eq!(count().await, 1, "{label}: a live challenge stays");
        let later = now
            + i64::try_from(kaito_server::accounts::mfa::CHALLENGE_LIFETIME.as_millis()).unwrap();
        kaito_server::accounts::prune_spent_credentials(&server.store, later)
            .await
            .unwrap();
        assert_eq!(count().await, 0, "{label}: an expired one goes");
    }
}

#[tokio::test]
async fn a_team_that_requires_a_second_factor_has_members_set_one_up_at_sign_in() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        server.add_member(&owner, "nia@example.com", "member").await;
        let by_member: TokenPair = server
            .login("nia@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        let refused = server
            .call(
                reqwest::Method::PUT,
                "/v1/team/mfa-policy",
                Some(&by_member.access_token),
                Some(&json!({ "required": true })),
            )
            .await;
        assert_eq!(refused.status, 403, "{label}: owners only");
        let set = server
            .call(
                reqwest::Method::PUT,
                "/v1/team/mfa-policy",
                Some(&owner.access_token),
                Some(&json!({ "required": true })),
            )
            .await;
        assert_eq!(
            set.body,
            json!({ "required": true }),
            "{label}: {}",
            set.body
        );

        let asked = challenge(&server, "nia@example.com").await;
        assert_eq!(asked.methods, ["enrol_totp"], "{label}");
        // Not a challenge a code answers: there is no authenticator yet.
        let as_code = answer(&server, &asked, "123456").await;
        assert_eq!(as_code.code(), "auth.mfa_challenge_invalid", "{label}");
        let too_soon = server
            .post(
                "/v1/auth/mfa/enrol/confirm",
                None,
                &json!({ "challenge": asked.challenge, "code": "123456" }),
            )
            .await;
        assert_eq!(
            (too_soon.status, too_soon.code()),
            (409, "mfa.state"),
            "{label}"
        );

        let started = server
            .post(
                "/v1/auth/mfa/enrol",
                None,
                &json!({ "challenge": asked.challenge }),
            )
            .await;
        assert_eq!(started.status, 200, "{label}: {}", started.body);
        let enrolment: TotpEnrolment = started.parse();
        let phone = CodeGenerator::new(&kaito_core::uri::parse(&enrolment.otpauth_uri).unwrap());
        let wrong = server
            .post(
                "/v1/auth/mfa/enrol/confirm",
                None,
                &json!({ "challenge": asked.challenge, "code": "000000" }),
            )
            .await;
        assert_eq!(
            (wrong.status, wrong.code()),
            (401, "auth.invalid_second_factor"),
            "{label}"
        );
        let confirmed = server
            .post(
                "/v1/auth/mfa/enrol/confirm",
                None,
                &json!({ "challenge": asked.challenge, "code": phone.code_at(now_secs()).as_str() }),
            )
            .await;
        assert_eq!(confirmed.status, 200, "{label}: {}", confirmed.body);
        let signed_in: kaito_api::EnrolledSignIn = confirmed.parse();
        assert_eq!(signed_in.recovery_codes.codes.len(), 10, "{label}");
        let status: MfaStatus = server
            .get("/v1/me/mfa", Some(&signed_in.tokens.access_token))
            .await
            .parse();
        assert!(status.totp, "{label}");
        let again = server
            .post(
                "/v1/auth/mfa/enrol/confirm",
                None,
                &json!({ "challenge": asked.challenge, "code": next_code(&phone) }),
            )
            .await;
        assert_eq!(
            again.code(),
            "auth.mfa_challenge_invalid",
            "{label}: one use"
        );

        // From now on a code, as for anyone with an authenticator.
        let next = challenge(&server, "nia@example.com").await;
        assert_eq!(next.methods, ["totp", "recovery_code"], "{label}");
        let enrolled = kinds_of(&server, &owner, "mfa.").await;
        assert!(
            enrolled
                .iter()
                .any(|event| event.kind == "mfa.enrolled"
                    && event.details["at_sign_in"] == json!(true)),
            "{label}: {enrolled:?}"
        );
        assert!(
            enrolled
                .iter()
                .any(|event| event.kind == "mfa.policy_changed"
                    && event.details["required"] == json!(true)),
            "{label}: {enrolled:?}"
        );
        // The owner has none either: the policy applies to them at their next sign-in.
        let owner_again = server
            .login("olivia@example.com", common::OWNER_PASSWORD)
            .await;
        assert_eq!(
            owner_again.body["methods"],
            json!(["enrol_totp"]),
            "{label}"
        );
    }
}
