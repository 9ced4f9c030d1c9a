//! Groups (folders) of tokens.

use sqlx::SqliteConnection;

use super::Vault;
use crate::error::VaultError;

pub(super) async fn ensure_group(
    conn: &mut SqliteConnection,
    group: Option<&str>,
) -> Result<(), VaultError> {
    if let Some(name) = group {
        sqlx::query("INSERT OR IGNORE INTO groups (name) VALUES (?)")
            .bind(name)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub(super) fn clean_group(group: Option<String>) -> Option<String> {
    group.map(|g| g.trim().to_owned()).filter(|g| !g.is_empty())
}

impl Vault {
    /// Every group (folder) name, including empty ones, alphabetically.
    pub async fn groups(&self) -> Result<Vec<String>, VaultError> {
        self.keys()?;
        Ok(
            sqlx::query_scalar("SELECT name FROM groups ORDER BY name COLLATE NOCASE")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Creates an empty group (no-op when it exists).
    pub async fn create_group(&self, name: &str) -> Result<(), VaultError> {
        self.keys()?;
        let mut conn = self.pool.acquire().await?;
        ensure_group(&mut conn, clean_group(Some(name.to_owned())).as_deref()).await
    }

    /// Renames a group; its tokens follow (foreign key `ON UPDATE CASCADE`).
    /// Renaming onto an existing group merges the two.
    pub async fn rename_group(&self, from: &str, to: &str) -> Result<(), VaultError> {
        self.keys()?;
        let Some(to) = clean_group(Some(to.to_owned())) else {
            return self.delete_group(from).await;
        };
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM groups WHERE name = ?")
            .bind(&to)
            .fetch_one(&mut *tx)
            .await?;
        if exists > 0 {
            sqlx::query("UPDATE tokens SET group_name = ? WHERE group_name = ?")
                .bind(&to)
                .bind(from)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM groups WHERE name = ?")
                .bind(from)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query("UPDATE groups SET name = ? WHERE name = ?")
                .bind(&to)
                .bind(from)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a group; its tokens become ungrouped (`ON DELETE SET NULL`), never
    /// deleted.
    pub async fn delete_group(&self, name: &str) -> Result<(), VaultError> {
        self.keys()?;
        sqlx::query("DELETE FROM groups WHERE name = ?")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
