//! The audit chain: events, batches, acknowledgement and tampering.

use kaito_core::backup::KdfParams;
use sqlx::Connection;

use super::fixture::*;
use crate::*;

#[tokio::test]
#[allow(
    clippy::too_many_lines,
    reason = "one story: write, batch, acknowledge, reopen"
)]
async fn audit_events_chain_pending_and_acknowledge() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    let a = vault
        .add(&totp("A", "a", SEED_A), TokenExtras::default())
        .await
        .unwrap();
    vault.secret_for_code(a.id, CodeUse::View).await.unwrap();
    vault.secret_for_code(a.id, CodeUse::Copy).await.unwrap();
    vault.reveal_secret(a.id).await.unwrap();
    vault.record_code_use(a.id, CodeUse::Copy).await.unwrap();
    vault
        .edit(
            a.id,
            TokenEdit {
                favorite: Some(true),
                ..TokenEdit::default()
            },
        )
        .await
        .unwrap();
    vault.delete(a.id).await.unwrap();
    vault
        .export_backup(
            "pw",
            KdfParams {
                memory_kib: 64,
                passes: 1,
                lanes: 1,
            },
        )
        .await
        .unwrap();

    let events = vault.pending(100).await.unwrap();
    let actions: Vec<_> = events.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        vec![
            AuditAction::Add,
            AuditAction::CodeView,
            AuditAction::CodeCopy,
            AuditAction::SeedReveal,
            AuditAction::CodeCopy,
            AuditAction::Edit,
            AuditAction::Delete,
            AuditAction::Export
        ]
    );
    assert_eq!(
        events.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        (1..=8).collect::<Vec<_>>()
    );
    assert!(
        events
            .windows(2)
            .all(|w| w[1].prev_hash == w[0].hash && w[0].id != w[1].id)
    );
    assert!(events.iter().all(|e| e.id.get_version_num() == 7));
    assert!(
        events[..7]
            .iter()
            .all(|e| e.token_id == Some(a.id) && e.device_id == vault.device_id())
    );
    assert_eq!(
        vault.verify_chain().await.unwrap(),
        ChainReport {
            events_checked: 8,
            last_sequence: 8
        }
    );

    // Batching: limit, then acknowledge by id out of order.
    let batch = vault.pending(3).await.unwrap();
    assert_eq!(batch.len(), 3);
    assert_eq!(
        vault
            .acknowledge(&Acknowledgement::Ids(vec![batch[1].id]))
            .await
            .unwrap(),
        0,
        "not a prefix yet"
    );
    assert_eq!(
        vault.pending(100).await.unwrap().len(),
        7,
        "acknowledged event no longer pending"
    );
    assert_eq!(
        vault
            .acknowledge(&Acknowledgement::Ids(vec![batch[0].id]))
            .await
            .unwrap(),
        2
    );
    vault.verify_chain().await.unwrap();
    assert_eq!(
        vault.acknowledge(&Acknowledgement::UpTo(5)).await.unwrap(),
        3
    );
    assert_eq!(
        vault
            .pending(100)
            .await
            .unwrap()
            .first()
            .map(|e| e.sequence),
        Some(6)
    );
    assert_eq!(
        vault.verify_chain().await.unwrap(),
        ChainReport {
            events_checked: 3,
            last_sequence: 8
        }
    );

    // New events continue the chain across acknowledgement and reopen.
    vault.close().await;
    let vault = fx.open().await.unwrap();
    let b = vault
        .add(&totp("B", "b", SEED_B), TokenExtras::default())
        .await
        .unwrap();
    let last = vault.pending(100).await.unwrap().pop().unwrap();
    assert_eq!((last.sequence, last.token_id), (9, Some(b.id)));
    vault.acknowledge(&Acknowledgement::UpTo(9)).await.unwrap();
    assert!(vault.pending(100).await.unwrap().is_empty());
    assert_eq!(
        vault.verify_chain().await.unwrap(),
        ChainReport {
            events_checked: 0,
            last_sequence: 9
        }
    );
}

#[tokio::test]
async fn tampering_with_an_event_breaks_the_chain() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    for (issuer, seed) in [("A", SEED_A), ("B", SEED_B), ("C", SEED_C)] {
        vault
            .add(&totp(issuer, "x", seed), TokenExtras::default())
            .await
            .unwrap();
    }
    vault.close().await;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", fx.path().display()))
        .await
        .unwrap();
    sqlx::query("UPDATE audit_outbox SET action = 'token.delete' WHERE sequence = 2")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let vault = fx.open().await.unwrap();
    assert!(matches!(
        vault.verify_chain().await,
        Err(VaultError::AuditChainBroken { sequence: 2 })
    ));

    // Deleting an event from the middle is caught too.
    vault.close().await;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", fx.path().display()))
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_outbox WHERE sequence = 2")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let vault = fx.open().await.unwrap();
    assert!(matches!(
        vault.verify_chain().await,
        Err(VaultError::AuditChainBroken { sequence: 3 })
    ));
}
