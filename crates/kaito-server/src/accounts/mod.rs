//! Teams, members and sign-in: password login with a per-account failure limit,
//! short-lived access tokens, and refresh tokens that rotate on every use — a
//! refresh token used twice means it was copied, and ends the whole session.

pub mod mfa;
pub mod mfa_policy;
mod passwords;
mod recovery;
mod sessions;
mod users;

use kaito_api::Role;

use crate::error::ServerError;
use crate::ids::{SessionId, TeamId, UserId};

pub use passwords::{
    PASSWORD_LINK_LIFETIME, PASSWORD_LINK_PREFIX, change_password, issue_password_link,
    set_password_with_link,
};
pub use recovery::{Recovery, recover};
pub use sessions::{
    ACCESS_LIFETIME, FAILURE_WINDOW, MAX_FAILURES, Pruned, REFRESH_LIFETIME, authenticate, login,
    logout, prune_login_failures, prune_login_failures_forever, prune_spent_credentials, refresh,
    still_signed_in,
};
pub(crate) use sessions::{millis, start_session, start_session_with};
pub(crate) use users::insert_user;
pub use users::{
    create_team_with_owner, create_user, disable_user, enable_user, me, members, set_role,
};

/// Who is making a request, as read from a valid access token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: UserId,
    pub team_id: TeamId,
    pub role: Role,
    pub session_id: SessionId,
}

pub(crate) fn normalise_email(email: &str) -> Result<String, ServerError> {
    let email = email.trim().to_lowercase();
    let valid = email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if valid {
        Ok(email)
    } else {
        Err(ServerError::BadRequest(format!(
            "“{email}” is not an email address."
        )))
    }
}

/// The rank rule: nobody acts on an account of equal or higher rank but an owner.
/// Otherwise one rogue admin could disable every owner, or cut off their devices,
/// and nobody would be left to undo it.
pub(crate) fn may_act_on(caller: &Caller, target: Role) -> Result<(), ServerError> {
    if caller.role == Role::Owner || target < caller.role {
        Ok(())
    } else {
        Err(ServerError::Forbidden {
            have: caller.role,
            need: Role::Owner,
        })
    }
}

pub(crate) fn role_of(text: &str) -> Result<Role, ServerError> {
    Role::parse(text).ok_or_else(|| ServerError::Corrupt(format!("unknown role {text}")))
}

/// Who a grant (to a token or to a phone number) is for: one member, or a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantSubject {
    User(UserId),
    Group(crate::ids::GroupId),
}

impl GrantSubject {
    /// From a request naming exactly one of `user_id` and `group_id`.
    pub fn from_ids(user_id: Option<&str>, group_id: Option<&str>) -> Result<Self, ServerError> {
        match (user_id, group_id) {
            (Some(user), None) => Ok(Self::User(UserId::from_stored(user.to_owned()))),
            (None, Some(group)) => Ok(Self::Group(crate::ids::GroupId::from_stored(
                group.to_owned(),
            ))),
            _ => Err(ServerError::BadRequest(
                "A grant names exactly one of user_id and group_id.".to_owned(),
            )),
        }
    }

    #[must_use]
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Self::User(user) => Some(user.as_str()),
            Self::Group(_) => None,
        }
    }

    #[must_use]
    pub fn group_id(&self) -> Option<&str> {
        match self {
            Self::User(_) => None,
            Self::Group(group) => Some(group.as_str()),
        }
    }

    /// Fails with "not found" unless the member or group belongs to `team_id`.
    pub async fn check_in_team(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        team_id: &TeamId,
    ) -> Result<(), ServerError> {
        let (query, what, id) = match self {
            Self::User(user) => (
                "SELECT 1 AS found FROM users WHERE id = $1 AND team_id = $2",
                "member",
                user.as_str(),
            ),
            Self::Group(group) => (
                "SELECT 1 AS found FROM groups WHERE id = $1 AND team_id = $2",
                "group",
                group.as_str(),
            ),
        };
        let found = sqlx::query(query)
            .bind(id)
            .bind(team_id.as_str())
            .fetch_optional(&mut **tx)
            .await?
            .is_some();
        if found {
            Ok(())
        } else {
            Err(ServerError::NotFound(format!(
                "No {what} {id} in your team."
            )))
        }
    }
}
