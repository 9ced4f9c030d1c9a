//! The `kaito-server` binary as an operator uses it: bootstrap a team from the
//! shell, start on the embedded database, sign in over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Stdio};

const BINARY: &str = env!("CARGO_BIN_EXE_kaito-server");

/// The error line the operator reads (log lines may come before it).
fn last_line(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .lines()
        .last()
        .unwrap_or("")
        .to_owned()
}

fn admin_create(data_dir: &std::path::Path, email: &str, password: &str) -> std::process::Output {
    let mut child = Command::new(BINARY)
        .args([
            "admin", "create", "--team", "Acme", "--email", email, "--name", "Olivia",
        ])
        .arg("--data-dir")
        .arg(data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn bootstrap_from_the_shell_then_serve_and_sign_in() {
    let data = tempfile::tempdir().unwrap();
    let weak = admin_create(data.path(), "olivia@example.com", "short");
    assert!(!weak.status.success());
    assert_eq!(
        last_line(&weak.stderr),
        "kaito-server: The password must have at least 12 characters."
    );
    let created = admin_create(data.path(), "olivia@example.com", "a long passphrase");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let said = String::from_utf8_lossy(&created.stdout);
    assert!(said.starts_with("created team team_"), "{said}");
    assert!(!said.contains("passphrase"));
    let again = admin_create(data.path(), "olivia@example.com", "a long passphrase");
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    let team = said.split_whitespace().nth(2).unwrap().to_owned();

    let mut server = Command::new(BINARY)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("kaito-server listening on ")
        .unwrap()
        .to_owned();

    let client = reqwest::Client::new();
    let health = client
        .get(format!("{base}/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let login = client
        .post(format!("{base}/v1/auth/login"))
        .header("content-type", "application/json")
        .body(r#"{"email":"olivia@example.com","password":"a long passphrase"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let tokens: kaito_api::TokenPair =
        serde_json::from_slice(&login.bytes().await.unwrap()).unwrap();
    let me = client
        .get(format!("{base}/v1/me"))
        .bearer_auth(&tokens.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    server.kill().unwrap();
    server.wait().unwrap();

    // The audit chain checks out from the shell, and an edit to it does not.
    let verify = || {
        Command::new(BINARY)
            .args(["audit", "verify", "--team", &team, "--data-dir"])
            .arg(data.path())
            .output()
            .unwrap()
    };
    let intact = verify();
    assert!(
        intact.status.success(),
        "{}",
        String::from_utf8_lossy(&intact.stderr)
    );
    assert!(String::from_utf8_lossy(&intact.stdout).starts_with("intact: 2 events, head "));
    let store = kaito_server::store::Store::open_data_dir(data.path())
        .await
        .unwrap();
    sqlx::query("UPDATE audit_events SET actor = 'someone else' WHERE seq = 2")
        .execute(store.pool())
        .await
        .unwrap();
    store.pool().close().await;
    let broken = verify();
    assert!(!broken.status.success());
    assert_eq!(
        last_line(&broken.stderr),
        format!(
            "kaito-server: The audit chain of team {team} is broken at event 2: an event was changed or removed."
        )
    );
}

#[test]
fn an_unusable_database_url_is_a_clear_startup_error() {
    let output = Command::new(BINARY)
        .args(["serve", "--database-url", "mysql://nope"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert_eq!(
        last_line(&output.stderr),
        "kaito-server: The database URL must start with postgres:// or sqlite://"
    );
}
