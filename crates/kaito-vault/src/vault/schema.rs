//! The database layout (migrations) and the mapping between token rows and
//! [`StoredToken`].

use std::borrow::Cow;
use std::str::FromStr;

use kaito_core::{Algorithm, OtpKind};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::StoredToken;
use crate::TokenId;
use crate::clock::from_unix_millis;
use crate::error::VaultError;

pub(super) fn migrator() -> Migrator {
    Migrator::with_migrations(vec![
        Migration::new(
            1,
            Cow::Borrowed("initial"),
            MigrationType::Simple,
            sqlx::SqlStr::from_static(include_str!("../../migrations/0001_initial.sql")),
            false,
        ),
        Migration::new(
            2,
            Cow::Borrowed("directory_cache"),
            MigrationType::Simple,
            sqlx::SqlStr::from_static(include_str!("../../migrations/0002_directory_cache.sql")),
            false,
        ),
        Migration::new(
            3,
            Cow::Borrowed("settings"),
            MigrationType::Simple,
            sqlx::SqlStr::from_static(include_str!("../../migrations/0003_settings.sql")),
            false,
        ),
        Migration::new(
            4,
            Cow::Borrowed("team"),
            MigrationType::Simple,
            sqlx::SqlStr::from_static(include_str!("../../migrations/0004_team.sql")),
            false,
        ),
        Migration::new(
            5,
            Cow::Borrowed("team_outbox"),
            MigrationType::Simple,
            sqlx::SqlStr::from_static(include_str!("../../migrations/0005_team_outbox.sql")),
            false,
        ),
        Migration::new(
            6,
            Cow::Borrowed("team_seeds"),
            MigrationType::Simple,
            sqlx::SqlStr::from_static(include_str!("../../migrations/0006_team_seeds.sql")),
            false,
        ),
    ])
}

macro_rules! token_columns {
    () => {
        "id, issuer, account, kind, algorithm, digits, period, counter, group_name, service_domain, icon, \
         favorite, sort_order, created_at, updated_at"
    };
}
pub(super) use token_columns;

pub(super) fn corrupt(detail: impl Into<String>) -> VaultError {
    VaultError::CorruptDatabase {
        detail: detail.into(),
    }
}

pub(super) fn kind_columns(
    kind: OtpKind,
) -> Result<(&'static str, Option<i64>, Option<i64>), VaultError> {
    Ok(match kind {
        OtpKind::Totp { period } => ("totp", Some(i64::from(period)), None),
        OtpKind::Steam { period } => ("steam", Some(i64::from(period)), None),
        OtpKind::Hotp { counter } => (
            "hotp",
            None,
            Some(i64::try_from(counter).map_err(|_| VaultError::InvalidCounter { counter })?),
        ),
    })
}

pub(super) fn stored_from_row(row: &SqliteRow) -> Result<StoredToken, VaultError> {
    let id_text: String = row.try_get("id")?;
    let id =
        TokenId::from_str(&id_text).map_err(|_| corrupt(format!("bad token id {id_text:?}")))?;
    let kind_name: String = row.try_get("kind")?;
    let period: Option<i64> = row.try_get("period")?;
    let counter: Option<i64> = row.try_get("counter")?;
    let period = || -> Result<u32, VaultError> {
        period
            .and_then(|p| u32::try_from(p).ok())
            .ok_or_else(|| corrupt(format!("token {id}: bad period")))
    };
    let kind = match kind_name.as_str() {
        "totp" => OtpKind::Totp { period: period()? },
        "steam" => OtpKind::Steam { period: period()? },
        "hotp" => OtpKind::Hotp {
            counter: counter
                .and_then(|c| u64::try_from(c).ok())
                .ok_or_else(|| corrupt(format!("token {id}: bad counter")))?,
        },
        other => return Err(corrupt(format!("token {id}: unknown kind {other:?}"))),
    };
    let algorithm_name: String = row.try_get("algorithm")?;
    let digits: i64 = row.try_get("digits")?;
    Ok(StoredToken {
        id,
        issuer: row.try_get("issuer")?,
        account: row.try_get("account")?,
        kind,
        algorithm: Algorithm::from_name(&algorithm_name)?,
        digits: u32::try_from(digits).map_err(|_| corrupt(format!("token {id}: bad digits")))?,
        group: row.try_get("group_name")?,
        service_domain: row.try_get("service_domain")?,
        icon: row.try_get("icon")?,
        favorite: row.try_get::<i64, _>("favorite")? != 0,
        sort_order: row.try_get("sort_order")?,
        created_at: from_unix_millis(row.try_get("created_at")?),
        updated_at: from_unix_millis(row.try_get("updated_at")?),
    })
}

pub(super) async fn fetch_live(
    conn: &mut SqliteConnection,
    id: TokenId,
) -> Result<StoredToken, VaultError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        token_columns!(),
        " FROM tokens WHERE id = ? AND deleted_at IS NULL"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(VaultError::NotFound { id })?;
    stored_from_row(&row)
}
