//! Recovery from the server's shell when no owner can act (`kaito-server admin
//! enable | set-role | reset-password`), and the operator's `admin add-number`: the domain calls on both backends over
//! real HTTP, then the binary as an operator types it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write as _;
use std::process::{Command, Stdio};

use common::{MEMBER_PASSWORD, OWNER_PASSWORD, TestServer, servers};
use kaito_api::{AuditEventView, Role};
use kaito_server::accounts::{Recovery, recover};
use kaito_server::http::now_ms;
use kaito_server::password_work::PasswordWork;

const BINARY: &str = env!("CARGO_BIN_EXE_kaito-server");
const NEW_PASSWORD: &str = "a brand new passphrase";

/// What the operator did in the team's chain: member events by no member, but
/// the owner's creation.
async fn operator_events(server: &TestServer, bearer: &str) -> Vec<(String, Option<String>)> {
    let events: Vec<AuditEventView> = server
        .get("/v1/audit/events?kind=member.&limit=50", Some(bearer))
        .await
        .parse();
    events
        .into_iter()
        .filter(|event| event.actor.is_none() && event.kind != "member.added")
        .map(|event| (event.kind, event.subject))
        .collect()
}

#[tokio::test]
async fn an_operator_re_enables_a_disabled_member_by_email() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        let bob = server.add_member(&owner, "bob@example.com", "member").await;
        let disable = format!("/v1/team/members/{bob}/disable");
        let disabled = server
            .post(&disable, Some(&owner.access_token), &serde_json::json!({}))
            .await;
        assert_eq!(disabled.status, 200, "{label}");
        let refused = server.login("bob@example.com", MEMBER_PASSWORD).await;
        assert_eq!(refused.status, 401, "{label}");

        let (_, enabled) = recover(&server.store, "Bob@Example.com", Recovery::Enable, now_ms())
            .await
            .unwrap();
        assert_eq!(enabled.as_str(), bob, "{label}");
        let back = server.login("bob@example.com", MEMBER_PASSWORD).await;
        assert_eq!(back.status, 200, "{label}");
        let again = recover(&server.store, "bob@example.com", Recovery::Enable, now_ms()).await;
        let again = again.unwrap_err().to_string();
        assert_eq!(again, format!("{bob} is not disabled."), "{label}");
        let unknown = recover(
            &server.store,
            "nobody@example.com",
            Recovery::Enable,
            now_ms(),
        )
        .await;
        let unknown = unknown.unwrap_err().to_string();
        assert_eq!(
            unknown, "No account has the email nobody@example.com.",
            "{label}"
        );
        assert_eq!(
            operator_events(&server, &owner.access_token).await,
            [("member.enabled".to_owned(), Some(bob.clone()))],
            "{label}"
        );
    }
}

#[tokio::test]
async fn an_operator_promotes_a_member_but_never_demotes_the_last_owner() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        let bob = server.add_member(&owner, "bob@example.com", "member").await;
        let demote = Recovery::SetRole(Role::Member);
        let demoted = recover(&server.store, "olivia@example.com", demote, now_ms()).await;
        let demoted = demoted.unwrap_err().to_string();
        assert!(demoted.contains("last active owner"), "{label}: {demoted}");
        let promote = Recovery::SetRole(Role::Owner);
        recover(&server.store, "bob@example.com", promote, now_ms())
            .await
            .unwrap();
        let members: Vec<kaito_api::MemberView> = server
            .get("/v1/team/members", Some(&owner.access_token))
            .await
            .parse();
        let bob_row = members.iter().find(|member| member.user_id == bob).unwrap();
        assert_eq!(bob_row.role, Role::Owner, "{label}");
        assert_eq!(
            operator_events(&server, &owner.access_token).await,
            [("member.role_changed".to_owned(), Some(bob.clone()))],
            "{label}"
        );
    }
}

#[tokio::test]
async fn an_operator_resets_a_password_and_every_session_with_the_old_one_ends() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        let weak = PasswordWork::default().hash_new("short").await;
        let weak = weak.unwrap_err().to_string();
        assert_eq!(
            weak, "The password must have at least 12 characters.",
            "{label}"
        );
        assert_eq!(
            server.get("/v1/me", Some(&owner.access_token)).await.status,
            200
        );

        let (_, olivia) = recover(
            &server.store,
            "olivia@example.com",
            Recovery::ResetPassword(common::hashed(NEW_PASSWORD).await),
            now_ms(),
        )
        .await
        .unwrap();
        assert_eq!(
            server.get("/v1/me", Some(&owner.access_token)).await.status,
            401
        );
        let old = server.login("olivia@example.com", OWNER_PASSWORD).await;
        assert_eq!(old.status, 401, "{label}");
        let signed_in: kaito_api::TokenPair = server
            .login("olivia@example.com", NEW_PASSWORD)
            .await
            .parse();
        assert_eq!(
            operator_events(&server, &signed_in.access_token).await,
            [("member.password_reset".to_owned(), Some(olivia.to_string()))],
            "{label}"
        );
        let verified: kaito_api::ChainReport = server
            .get("/v1/audit/verify", Some(&signed_in.access_token))
            .await
            .parse();
        assert!(verified.intact, "{label}");
    }
}

fn run_admin(data_dir: &std::path::Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(BINARY)
        .arg("admin")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{stdin}").unwrap();
    let output = child.wait_with_output().unwrap();
    let last = |bytes: &[u8]| {
        String::from_utf8_lossy(bytes)
            .lines()
            .last()
            .unwrap_or("")
            .to_owned()
    };
    (
        output.status.success(),
        last(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
            .trim_end()
            .to_owned(),
    )
}

#[test]
fn the_recovery_commands_as_an_operator_types_them() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    let (created, said, _) = run_admin(
        dir,
        &[
            "create",
            "--team",
            "Acme",
            "--email",
            "olivia@example.com",
            "--name",
            "Olivia",
        ],
        OWNER_PASSWORD,
    );
    assert!(created);
    let team_id = said.split(' ').nth(2).unwrap().to_owned();

    // The operator gives the team an inbox number from the provider account.
    let add_number = |number: &str| {
        let arguments = ["add-number", "--team", &team_id, "--number", number];
        run_admin(dir, &[&arguments[..], &["--label", "Ops"]].concat(), "")
    };
    let (ok, said, _) = add_number("+15550100123");
    assert!(ok);
    assert!(said.starts_with(&format!("team {team_id} has the inbox number +15550100123")));
    let (ok, _, error) = add_number("+15550100123");
    assert!(!ok);
    assert!(error.contains("already in an inbox"), "{error}");
    let (ok, _, error) = add_number("555-0100");
    assert!(!ok);
    assert!(error.contains("international form"), "{error}");

    let (ok, _, error) = run_admin(
        dir,
        &[
            "set-role",
            "--email",
            "olivia@example.com",
            "--role",
            "member",
        ],
        "",
    );
    assert!(!ok);
    assert!(
        error.contains("last active owner cannot be demoted"),
        "{error}"
    );
    let (ok, _, error) = run_admin(
        dir,
        &[
            "set-role",
            "--email",
            "olivia@example.com",
            "--role",
            "boss",
        ],
        "",
    );
    assert!(!ok);
    assert!(
        error.contains("the role is member, admin or owner"),
        "{error}"
    );
    let (ok, _, error) = run_admin(dir, &["enable", "--email", "olivia@example.com"], "");
    assert!(!ok);
    assert!(error.ends_with("is not disabled."), "{error}");

    let (ok, said, error) = run_admin(
        dir,
        &["reset-password", "--email", "olivia@example.com"],
        NEW_PASSWORD,
    );
    assert!(ok, "{error}");
    assert!(said.starts_with("olivia@example.com (user_"), "{said}");
    assert!(
        said.ends_with("has a new password; their sessions ended"),
        "{said}"
    );
    assert!(!said.contains(NEW_PASSWORD));
    let (ok, _, error) = run_admin(
        dir,
        &["reset-password", "--email", "nobody@example.com"],
        NEW_PASSWORD,
    );
    assert!(!ok);
    assert!(
        error.ends_with("\nkaito-server: No account has the email nobody@example.com.")
            || error == "kaito-server: No account has the email nobody@example.com.",
        "{error}"
    );
}
