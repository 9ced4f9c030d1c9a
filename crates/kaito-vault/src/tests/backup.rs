//! Encrypted backups and imports.

use kaito_core::backup::KdfParams;
use kaito_core::{Algorithm, OtpKind, Secret, Token};

use super::fixture::*;
use crate::*;

#[tokio::test]
async fn backup_round_trip_merges_without_duplicates() {
    let kdf = KdfParams {
        memory_kib: 64,
        passes: 1,
        lanes: 1,
    };
    let source = Fixture::new();
    let vault = source.open().await.unwrap();
    let hotp = Token::new(
        "Bank",
        "me",
        OtpKind::Hotp { counter: 9 },
        Algorithm::Sha256,
        8,
        Secret::from_base32(SEED_C).unwrap(),
    )
    .unwrap()
    .with_group(Some("Money".into()));
    vault
        .add(&totp("GitHub", "alice", SEED_A), TokenExtras::default())
        .await
        .unwrap();
    vault
        .add(
            &totp("GitLab", "bob", SEED_B),
            TokenExtras {
                favorite: true,
                service_domain: Some("gitlab.com".into()),
                icon: None,
            },
        )
        .await
        .unwrap();
    vault.add(&hotp, TokenExtras::default()).await.unwrap();
    let bytes = vault.export_backup("backup pw", kdf).await.unwrap();
    assert!(
        !bytes.windows(4).any(|w| w == b"JBSW"),
        "backup is encrypted"
    );

    let target = Fixture::new();
    let other = target.open().await.unwrap();
    let existing = other
        .add(&totp("github", "ALICE", SEED_A), TokenExtras::default())
        .await
        .unwrap();
    assert!(matches!(
        other.import_backup(&bytes, "wrong").await,
        Err(VaultError::Backup(_))
    ));
    assert_eq!(
        other.list().await.unwrap().len(),
        1,
        "failed import adds nothing"
    );

    let report = other.import_backup(&bytes, "backup pw").await.unwrap();
    assert_eq!(report.added.len(), 2);
    assert_eq!(
        report.duplicates,
        vec![("GitHub (alice)".to_owned(), existing.id)]
    );
    assert!(report.unusable.is_empty());
    let listed = other.list().await.unwrap();
    let gitlab = listed.iter().find(|t| t.issuer == "GitLab").unwrap();
    assert!(
        gitlab.favorite && gitlab.service_domain.as_deref() == Some("gitlab.com"),
        "vault metadata restored"
    );
    let bank = listed.iter().find(|t| t.issuer == "Bank").unwrap();
    assert_eq!(
        (
            bank.kind,
            bank.algorithm,
            bank.digits,
            bank.group.as_deref()
        ),
        (
            OtpKind::Hotp { counter: 9 },
            Algorithm::Sha256,
            8,
            Some("Money")
        )
    );
    assert_eq!(
        other.secret(bank.id).await.unwrap(),
        Secret::from_base32(SEED_C).unwrap()
    );

    // Importing the same file again adds nothing.
    let again = other.import_backup(&bytes, "backup pw").await.unwrap();
    assert!(again.added.is_empty());
    assert_eq!(again.duplicates.len(), 3);
    assert_eq!(other.list().await.unwrap().len(), 3);
    other.verify_chain().await.unwrap();
}

#[tokio::test]
async fn importing_tokens_skips_duplicates_and_audits_once() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    vault
        .add(&totp("GitHub", "alice", SEED_A), TokenExtras::default())
        .await
        .unwrap();
    let incoming = vec![
        totp("github", "Alice ", SEED_A),
        totp("GitLab", "alice", SEED_B),
        totp("AWS", "root", SEED_C),
    ];
    let marks = vault.existing_duplicates(&incoming).await.unwrap();
    assert_eq!(
        marks.iter().map(Option::is_some).collect::<Vec<_>>(),
        [true, false, false]
    );
    let before = vault.pending(1000).await.unwrap().len();

    let report = vault.import_tokens(&incoming, Vec::new()).await.unwrap();
    assert_eq!(report.added.len(), 2);
    assert_eq!(report.duplicates.len(), 1);
    let issuers: Vec<String> = vault
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.issuer)
        .collect();
    assert_eq!(issuers, ["GitHub", "GitLab", "AWS"]);
    let events = vault.pending(1000).await.unwrap();
    assert_eq!(
        events.len(),
        before + 3,
        "an Add per new token and one Import"
    );
    assert_eq!(events.last().unwrap().action, AuditAction::Import);

    // Importing the same file again adds nothing.
    let again = vault.import_tokens(&incoming, Vec::new()).await.unwrap();
    assert!(again.added.is_empty());
    assert_eq!(again.duplicates.len(), 3);
    assert_eq!(vault.list().await.unwrap().len(), 3);
}
