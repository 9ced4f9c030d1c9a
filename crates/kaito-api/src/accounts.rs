//! Sign-in and the team's members.

use serde::{Deserialize, Serialize};

/// A member's role in their team, from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Member,
    Admin,
    Owner,
}

impl Role {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "member" => Some(Role::Member),
            "admin" => Some(Role::Admin),
            "owner" => Some(Role::Owner),
            _ => None,
        }
    }
}

/// `POST /v1/auth/login`.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

debug_without_secrets!(LoginRequest { email });

/// `POST /v1/auth/refresh` and `POST /v1/auth/logout`.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    pub refresh_token: String,
}

debug_without_secrets!(RefreshRequest {});

/// A short-lived access token (sent as `Authorization: Bearer …`) and the refresh
/// token that replaces it; each refresh token works once.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenPair {
    pub access_token: String,
    pub access_expires_in_secs: u64,
    pub refresh_token: String,
}

debug_without_secrets!(TokenPair {
    access_expires_in_secs
});

/// `GET /v1/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeView {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub team_id: String,
    pub team_name: String,
}

/// `PUT /v1/team/members/{user_id}/role` (owners): the member's new role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleChange {
    pub role: Role,
}

/// One row of `GET /v1/team/members` (admins and owners).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberView {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    /// Signing in wants a second factor (an authenticator is set up).
    #[serde(default)]
    pub mfa: bool,
}

/// `POST /v1/team/members`: an admin adds a member with a first password (or sends
/// an invite link instead); only an owner may add admins or owners.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewMember {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: String,
}

debug_without_secrets!(NewMember { email, name, role });

/// What `POST /v1/team/members` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Created))]
pub struct CreatedMember {
    pub user_id: String,
}

/// `POST /v1/me/password`: the signed-in member changes their own password. The
/// current one is required (a stolen access token alone cannot take the account
/// over); every other session of theirs ends.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

debug_without_secrets!(PasswordChange {});

/// A one-time set-password link an admin issued for a member
/// (`POST /v1/team/members/{user_id}/password-link`). The token is shown this once;
/// `link` opens Kaito on it when the server knows its public URL.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedPasswordLink {
    pub token: String,
    pub link: Option<String>,
    /// Unix milliseconds.
    pub expires_at: i64,
}

debug_without_secrets!(CreatedPasswordLink { expires_at });

/// `POST /v1/auth/set-password`: the member chooses a new password with a
/// set-password link's token; answered with their first tokens, signed in.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetPassword {
    pub token: String,
    pub password: String,
}

debug_without_secrets!(SetPassword {});
