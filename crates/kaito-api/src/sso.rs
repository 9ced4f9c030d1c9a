//! Single sign-on with OpenID Connect: a team's identity provider settings, and
//! the two calls of a desktop sign-in through the system browser (RFC 8252).

use serde::{Deserialize, Serialize};

use crate::Role;
use crate::ids::GroupId;

/// `GET /v1/auth/sso?email=…`: whether the team of that email's domain signs in
/// through its identity provider. Answers by domain only, so it tells nobody
/// whether an account exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SsoAvailability {
    pub available: bool,
    /// Members cannot sign in with a password (owners still can, as a way back in
    /// when the identity provider is down).
    pub sso_only: bool,
}

/// `POST /v1/auth/sso/start`: where the browser's answer will come back (a
/// loopback address of the app's) and the PKCE challenge of a verifier the app
/// keeps to itself until `finish`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SsoStart {
    pub email: String,
    /// `http://127.0.0.1:{port}/…` or `http://[::1]:{port}/…`.
    pub redirect_uri: String,
    /// BASE64URL(SHA-256(code_verifier)), method S256.
    pub code_challenge: String,
}

/// The identity provider's page to open in the system browser.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SsoRedirect {
    pub authorize_url: String,
    /// Comes back on the redirect; `finish` names the sign-in by it.
    pub state: String,
    pub expires_in_secs: u64,
}

/// `POST /v1/auth/sso/finish`: what came back on the redirect, and the verifier.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SsoFinish {
    pub state: String,
    pub code: String,
    pub code_verifier: String,
}

debug_without_secrets!(SsoFinish {});

/// One rule from an identity-provider group to Kaito: members of `claim_value`
/// join `group_id`, and take `role` (the highest rule wins; owners keep theirs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SsoGroupRule {
    pub claim_value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub group_id: Option<GroupId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// `GET /v1/team/sso`: the team's identity provider. The client secret is never
/// shown again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SsoSettings {
    pub configured: bool,
    pub issuer: String,
    pub client_id: String,
    /// The email domains that sign in here (`example.com`).
    pub email_domains: Vec<String>,
    /// The ID token claim that lists the member's groups (`groups`), if mapped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups_claim: Option<String>,
    #[serde(default)]
    pub group_rules: Vec<SsoGroupRule>,
    /// Scopes asked for beside `openid email` (Okta: `groups`).
    #[serde(default)]
    pub extra_scopes: Vec<String>,
    pub sso_only: bool,
}

/// `PUT /v1/team/sso`: the settings; `client_secret` may be left out to keep the
/// stored one.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SsoSettingsUpdate {
    pub issuer: String,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub email_domains: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups_claim: Option<String>,
    #[serde(default)]
    pub group_rules: Vec<SsoGroupRule>,
    #[serde(default)]
    pub extra_scopes: Vec<String>,
    #[serde(default)]
    pub sso_only: bool,
}

debug_without_secrets!(SsoSettingsUpdate {
    issuer,
    client_id,
    email_domains,
    groups_claim,
    group_rules,
    extra_scopes,
    sso_only
});
