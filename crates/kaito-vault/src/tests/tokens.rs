//! Token storage: add, search, duplicates, edits, soft delete and undo, order, damaged seeds.

use std::time::Duration;

use kaito_core::{Algorithm, OtpKind, Secret, Token};
use sqlx::Connection;

use super::fixture::*;
use crate::*;

#[tokio::test]
async fn add_list_search_and_duplicates() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    let github = vault
        .add(
            &totp("GitHub", "alice@example.com", SEED_A).with_group(Some("Work".into())),
            TokenExtras::default(),
        )
        .await
        .unwrap();
    let gitlab = vault
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
    let steam = Token::new(
        "Steam",
        "Ölaf",
        OtpKind::Steam { period: 30 },
        Algorithm::Sha1,
        5,
        Secret::from_base32(SEED_C).unwrap(),
    )
    .unwrap();
    let steam = vault.add(&steam, TokenExtras::default()).await.unwrap();

    let ids: Vec<_> = vault.list().await.unwrap().iter().map(|t| t.id).collect();
    assert_eq!(
        ids,
        vec![gitlab.id, github.id, steam.id],
        "favourites first, then insertion order"
    );

    // Same issuer/account/secret, different case and spacing: duplicate.
    let error = vault
        .add(
            &totp(" github ", "ALICE@example.com", SEED_A),
            TokenExtras::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, VaultError::Duplicate { existing } if existing == github.id),
        "{error:?}"
    );
    // Same secret, another account: not a duplicate.
    vault
        .add(
            &totp("GitHub", "alice-work", SEED_A),
            TokenExtras::default(),
        )
        .await
        .unwrap();

    let hits: Vec<_> = vault
        .search("GIT")
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(hits.len(), 3);
    assert_eq!(
        vault.search("work").await.unwrap().len(),
        2,
        "group and account both match"
    );
    assert_eq!(
        vault.search("ölaf").await.unwrap()[0].id,
        steam.id,
        "unicode case folding"
    );
    assert_eq!(vault.search("gitlab.com").await.unwrap()[0].id, gitlab.id);
    assert!(vault.search("nothing").await.unwrap().is_empty());
}

#[tokio::test]
async fn edit_metadata_and_replace_seed() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    let a = vault
        .add(&totp("GitHub", "alice", SEED_A), TokenExtras::default())
        .await
        .unwrap();
    let b = vault
        .add(&totp("GitHub", "bob", SEED_A), TokenExtras::default())
        .await
        .unwrap();
    fx.clock.advance(Duration::from_secs(5));

    let edited = vault
        .edit(
            a.id,
            TokenEdit {
                issuer: Some("GitHub Enterprise".into()),
                group: Some(Some("Work".into())),
                favorite: Some(true),
                digits: Some(8),
                ..TokenEdit::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(edited.issuer, "GitHub Enterprise");
    assert_eq!(edited.group.as_deref(), Some("Work"));
    assert!(edited.favorite);
    assert_eq!(edited.digits, 8);
    assert!(edited.updated_at > edited.created_at);

    let invalid = vault
        .edit(
            a.id,
            TokenEdit {
                digits: Some(9),
                ..TokenEdit::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(invalid, VaultError::InvalidToken(_)),
        "{invalid:?}"
    );
    assert_eq!(
        vault.get(a.id).await.unwrap().digits,
        8,
        "failed edit changed nothing"
    );

    // Renaming b into a duplicate of a (same secret) is refused.
    let dup = vault
        .edit(
            b.id,
            TokenEdit {
                issuer: Some("github enterprise".into()),
                account: Some("Alice".into()),
                ..TokenEdit::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(dup, VaultError::Duplicate { existing } if existing == a.id));

    vault
        .replace_secret(a.id, &Secret::from_base32(SEED_B).unwrap())
        .await
        .unwrap();
    assert_eq!(
        vault.secret(a.id).await.unwrap(),
        Secret::from_base32(SEED_B).unwrap()
    );
    assert_eq!(
        vault.secret(b.id).await.unwrap(),
        Secret::from_base32(SEED_A).unwrap()
    );
}

#[tokio::test]
async fn soft_delete_undo_and_purge() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    let a = vault
        .add(&totp("A", "a", SEED_A), TokenExtras::default())
        .await
        .unwrap();
    let b = vault
        .add(&totp("B", "b", SEED_B), TokenExtras::default())
        .await
        .unwrap();

    let undo = vault.delete(a.id).await.unwrap();
    assert_eq!(vault.list().await.unwrap().len(), 1);
    assert!(matches!(
        vault.secret(a.id).await,
        Err(VaultError::NotFound { .. })
    ));
    assert!(matches!(
        vault.delete(a.id).await,
        Err(VaultError::NotFound { .. })
    ));
    // The trash view lists it with the same handle.
    assert_eq!(vault.list_deleted().await.unwrap()[0].1, undo);

    let restored = vault.undo_delete(undo).await.unwrap();
    assert_eq!(
        restored.sort_order, a.sort_order,
        "restored to its old place"
    );
    assert_eq!(
        vault
            .list()
            .await
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect::<Vec<_>>(),
        vec![a.id, b.id]
    );
    assert!(matches!(
        vault.undo_delete(undo).await,
        Err(VaultError::UndoExpired { .. })
    ));

    let undo_b = vault.delete(b.id).await.unwrap();
    fx.clock.advance(Duration::from_secs(60));
    assert_eq!(
        vault
            .purge_deleted(fx.clock.now() - Duration::from_secs(120))
            .await
            .unwrap(),
        0,
        "too recent"
    );
    assert_eq!(
        vault
            .purge_deleted(fx.clock.now() - Duration::from_secs(30))
            .await
            .unwrap(),
        1
    );
    assert!(matches!(
        vault.undo_delete(undo_b).await,
        Err(VaultError::UndoExpired { .. })
    ));
    assert_eq!(vault.list().await.unwrap().len(), 1);
}

#[tokio::test]
async fn reorder_is_stable() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    let mut ids = Vec::new();
    for (index, seed) in [SEED_A, SEED_B, SEED_C].into_iter().enumerate() {
        ids.push(
            vault
                .add(
                    &totp(&format!("T{index}"), "x", seed),
                    TokenExtras::default(),
                )
                .await
                .unwrap()
                .id,
        );
    }
    let order = |list: Vec<StoredToken>| list.into_iter().map(|t| t.id).collect::<Vec<_>>();

    vault.move_to(ids[2], 0).await.unwrap();
    assert_eq!(
        order(vault.list().await.unwrap()),
        vec![ids[2], ids[0], ids[1]]
    );
    vault.move_to(ids[2], 99).await.unwrap();
    assert_eq!(
        order(vault.list().await.unwrap()),
        vec![ids[0], ids[1], ids[2]]
    );
    vault.move_to(ids[0], 1).await.unwrap();
    assert_eq!(
        order(vault.list().await.unwrap()),
        vec![ids[1], ids[0], ids[2]]
    );
    let orders: Vec<i64> = vault
        .list()
        .await
        .unwrap()
        .iter()
        .map(|t| t.sort_order)
        .collect();
    assert_eq!(orders, vec![0, 1, 2], "dense order");
    // A new token goes last.
    let d = vault
        .add(&totp("D", "x", "ONSWG4TFOQ======"), TokenExtras::default())
        .await
        .unwrap();
    assert_eq!(order(vault.list().await.unwrap()).last(), Some(&d.id));
}

#[tokio::test]
async fn tampered_seed_is_reported_for_that_token_only() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    let a = vault
        .add(&totp("A", "a", SEED_A), TokenExtras::default())
        .await
        .unwrap();
    let b = vault
        .add(&totp("B", "b", SEED_B), TokenExtras::default())
        .await
        .unwrap();
    vault.close().await;

    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", fx.path().display()))
        .await
        .unwrap();
    let mut sealed: Vec<u8> = sqlx::query_scalar("SELECT seed_sealed FROM tokens WHERE id = ?")
        .bind(a.id.to_string())
        .fetch_one(&mut conn)
        .await
        .unwrap();
    sealed[3] ^= 0x40;
    sqlx::query("UPDATE tokens SET seed_sealed = ? WHERE id = ?")
        .bind(sealed)
        .bind(a.id.to_string())
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let vault = fx.open().await.unwrap();
    let error = vault.secret(a.id).await.unwrap_err();
    assert!(
        matches!(error, VaultError::Corrupt { id } if id == a.id),
        "{error:?}"
    );
    assert_eq!(
        vault.secret(b.id).await.unwrap(),
        Secret::from_base32(SEED_B).unwrap()
    );
    assert_eq!(vault.list().await.unwrap().len(), 2, "listing still works");
    let all = vault.secrets().await.unwrap();
    assert!(
        matches!(&all[0], (id, Err(VaultError::Corrupt { id: bad })) if *id == a.id && *bad == a.id)
    );
    assert!(
        matches!(&all[1], (id, Ok(secret)) if *id == b.id && *secret == Secret::from_base32(SEED_B).unwrap())
    );
    // A failed reveal writes no audit event.
    let before = vault.pending(1000).await.unwrap().len();
    assert!(vault.reveal_secret(a.id).await.is_err());
    assert_eq!(vault.pending(1000).await.unwrap().len(), before);
}
