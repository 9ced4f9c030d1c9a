//! The other ways in: typing a key by hand (validated as you type), importing another
//! authenticator's file (plain and password-protected, with a preview), and pasting a
//! Google Authenticator export link.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::doc_markdown)]

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use kaito_core::CodeGenerator;
use kaito_core::manual::{ManualEntry, build};
use kaito_e2e::{AppSession, workspace_root};

fn fixture(name: &str) -> PathBuf {
    workspace_root()
        .join("crates/kaito-core/tests/fixtures/import")
        .join(name)
}

#[tokio::test]
async fn manual_entry_is_validated_as_you_type_and_ends_with_the_code_check() {
    let session = AppSession::start(&[]).await;
    session.click("[data-testid=add-token]").await;
    session.click("[data-testid=mode-manual]").await;
    session
        .type_into("[data-testid=manual-issuer]", "Hand Typed")
        .await;
    session
        .type_into("[data-testid=manual-secret]", "JBSW Y3DP 1HPK")
        .await;
    // Counted as typed, spaces included: the 11th character is the "1".
    let error = session
        .wait_content("[data-testid=manual-error-secret]", |t| {
            t.contains("Character")
        })
        .await;
    assert!(error.contains("Character 11 of the secret"), "{error}");
    assert!(!error.contains("JBSW"), "the secret is never echoed");

    // Fixing the key clears the error; Continue shows the first code to check.
    let secret = "jbsw y3dp ehpk 3pxp jbsw y3dp ehpk 3pxp";
    session
        .type_into("[data-testid=manual-secret]", secret)
        .await;
    session
        .wait_content("[data-testid=manual-form]", |t| !t.contains("Character"))
        .await;
    session.screenshot("add-manual").await;
    session.click("[data-testid=manual-continue]").await;
    let shown: String = session
        .wait_content("[data-testid=verify-code]", |t| !t.is_empty())
        .await
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let token = build(&ManualEntry {
        issuer: "Hand Typed".into(),
        account: String::new(),
        secret: secret.into(),
        kind: "totp".into(),
        algorithm: "SHA1".into(),
        digits: 6,
        period: 30,
        counter: 0,
    })
    .unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let generator = CodeGenerator::new(&token);
    let plausible: Vec<String> = [now - 30, now, now + 30]
        .iter()
        .map(|t| generator.code_at(*t).to_string())
        .collect();
    assert!(plausible.contains(&shown), "verify step showed {shown}");
    session.click("[data-testid=verify-confirm]").await;
    session.wait_issuers(&["Hand Typed"]).await;
    session.finish().await;
}

#[tokio::test]
async fn import_files_with_preview_password_and_duplicates() {
    let session = AppSession::start(&[]).await;

    // A pasted Google Authenticator export link goes through the importer's preview.
    // Only the first of its two QR codes is pasted: the preview says what is missing.
    let migration = std::fs::read_to_string(fixture("google_migration.txt")).unwrap();
    let first_line = migration.lines().next().unwrap();
    session.click("[data-testid=add-token]").await;
    session.type_into("[data-testid=add-uri]", first_line).await;
    session.click("[data-testid=add-continue]").await;
    let summary = session
        .wait_content("[data-testid=import-summary]", |t| !t.is_empty())
        .await;
    assert_eq!(
        summary,
        "Google Authenticator export: 2 tokens, 1 cannot be imported."
    );
    let problems = session.content("[data-testid=import-skipped]").await;
    assert!(problems.contains("MD5"), "{problems}");
    assert!(problems.contains("QR code 2 of 2 missing"), "{problems}");
    session.click("[data-testid=import-commit]").await;
    session
        .wait_content("[data-testid=toast]", |t| t == "Imported 2 tokens")
        .await;
    session.wait_issuers(&["GitHub", "Example"]).await;

    // A plain Aegis vault holding those two and more: the preview marks what is
    // already here and lists what cannot be imported, and only new tokens are added.
    session.click("[data-testid=add-token]").await;
    session.click("[data-testid=mode-file]").await;
    session
        .choose_file("[data-testid=import-file]", &fixture("aegis_plain.json"))
        .await;
    let summary = session
        .wait_content("[data-testid=import-summary]", |t| !t.is_empty())
        .await;
    assert_eq!(
        summary,
        "Aegis vault: 4 tokens, 2 already in Kaito, 2 cannot be imported."
    );
    let skipped = session.content("[data-testid=import-skipped]").await;
    assert!(skipped.contains("Yandex"), "{skipped}");
    session.screenshot("import-preview").await;
    session.click("[data-testid=import-commit]").await;
    session
        .wait_content("[data-testid=toast]", |t| {
            t == "Imported 2 tokens (2 already in Kaito)"
        })
        .await;
    session
        .wait_issuers(&["GitHub", "Example", "Steam", "Work"])
        .await;

    // The same vault, encrypted: asks for the password, refuses a wrong one, and then
    // finds nothing new.
    session.click("[data-testid=add-token]").await;
    session.click("[data-testid=mode-file]").await;
    session
        .choose_file(
            "[data-testid=import-file]",
            &fixture("aegis_encrypted.json"),
        )
        .await;
    session
        .type_into("[data-testid=import-password]", "wrong horse")
        .await;
    session.click("[data-testid=import-unlock]").await;
    let error = session
        .wait_content("[data-testid=import-error]", |t| !t.is_empty())
        .await;
    assert!(error.contains("wrong password"), "{error}");
    session
        .type_into("[data-testid=import-password]", "correct horse")
        .await;
    session.click("[data-testid=import-unlock]").await;
    let summary = session
        .wait_content("[data-testid=import-summary]", |t| !t.is_empty())
        .await;
    assert!(summary.contains("4 already in Kaito"), "{summary}");
    assert_eq!(
        session.content("[data-testid=import-commit]").await,
        "Nothing new to import"
    );

    // A file that is no export at all gets a specific error and adds nothing.
    session
        .choose_file(
            "[data-testid=import-file]",
            &workspace_root().join("README.md"),
        )
        .await;
    let error = session
        .wait_content("[data-testid=import-error]", |t| !t.is_empty())
        .await;
    assert!(error.contains("not recognised"), "{error}");
    session.finish().await;
}
