//! Groups and their foreign keys.

use super::fixture::*;
use crate::*;

#[tokio::test]
async fn groups_rename_and_delete_through_foreign_keys() {
    let fx = Fixture::new();
    let vault = fx.open().await.unwrap();
    let a = vault
        .add(
            &totp("A", "a", SEED_A).with_group(Some("Work".into())),
            TokenExtras::default(),
        )
        .await
        .unwrap();
    let b = vault
        .add(
            &totp("B", "b", SEED_B).with_group(Some("Home".into())),
            TokenExtras::default(),
        )
        .await
        .unwrap();
    vault.create_group("  Empty ").await.unwrap();
    assert_eq!(vault.groups().await.unwrap(), vec!["Empty", "Home", "Work"]);

    vault.rename_group("Work", "Job").await.unwrap();
    assert_eq!(
        vault.get(a.id).await.unwrap().group.as_deref(),
        Some("Job"),
        "token followed the rename"
    );
    vault.rename_group("Job", "Home").await.unwrap();
    assert_eq!(
        vault.get(a.id).await.unwrap().group.as_deref(),
        Some("Home"),
        "merged"
    );
    assert_eq!(vault.groups().await.unwrap(), vec!["Empty", "Home"]);

    vault.delete_group("Home").await.unwrap();
    assert_eq!(
        vault.get(a.id).await.unwrap().group,
        None,
        "ungrouped, not deleted"
    );
    assert_eq!(vault.get(b.id).await.unwrap().group, None);
    assert_eq!(vault.list().await.unwrap().len(), 2);
}
