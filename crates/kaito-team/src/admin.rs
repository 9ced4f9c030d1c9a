//! What team admins do from the app: members, groups, shared tokens and their
//! grants, the audit log (with filters and CSV/JSON Lines export), SIEM sinks. Each
//! call is the server's; the server checks the caller's role, so a member's app
//! gets the server's "forbidden" like anyone else.

use kaito_api::ids::{ApiTokenId, GrantId, GroupId, SinkId, TokenId, UserId};
use kaito_api::{
    ApiTokenView, AuditEventView, CreatedApiToken, CreatedId, CreatedInvite, CreatedMember,
    CreatedPasswordLink, CurrentPassword, EventPage, GrantView, GroupMember, GroupView, MemberView,
    MfaPolicy, MfaStatus, NewApiToken, NewGrant, NewGroup, NewInvite, NewMember, NewSharedToken,
    NewSink, PasswordChange, RecoveryCodes, Role, RoleChange, SharedTokenView, SinkView,
    SsoSettings, SsoSettingsUpdate, TotpConfirm, TotpEnrolment, paths,
};
use reqwest::Method;
use serde::Serialize;

use crate::client::{TeamClient, read};
use crate::error::TeamError;

/// Which audit events to show or export; `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// An exact kind, or a prefix ending in `.` (`code.`).
    pub kind: Option<String>,
    /// A user (or device) id.
    pub actor: Option<String>,
    pub subject: Option<String>,
    /// Unix milliseconds, inclusive.
    pub from: Option<i64>,
    /// Unix milliseconds, exclusive.
    pub to: Option<i64>,
}

impl AuditFilter {
    /// The query of one page; blank texts do not filter.
    fn page(&self, after: i64, limit: u32) -> EventPage {
        let given = |text: &Option<String>| {
            text.as_deref()
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        };
        EventPage {
            after,
            limit: i64::from(limit),
            kind: given(&self.kind),
            actor: given(&self.actor),
            subject: given(&self.subject),
            from: self.from,
            to: self.to,
        }
    }
}

/// Most events one page of the audit log carries.
pub const AUDIT_PAGE: u32 = 500;
/// An export stops here: more is a job for a SIEM sink or the pull API.
pub const EXPORT_LIMIT: usize = 100_000;

impl TeamClient {
    /// Every shared token of the team (an admin's view), without touching the
    /// member's cached list.
    pub async fn admin_tokens(&self) -> Result<Vec<SharedTokenView>, TeamError> {
        self.get(&paths::tokens()).await
    }

    pub async fn members(&self) -> Result<Vec<MemberView>, TeamError> {
        self.get(&paths::members()).await
    }

    /// Adds a member with a first password; returns their user id.
    pub async fn add_member(&self, member: &NewMember) -> Result<String, TeamError> {
        let created: CreatedMember = self.send(Method::POST, &paths::members(), member).await?;
        Ok(created.user_id)
    }

    pub async fn disable_member(&self, user_id: &UserId) -> Result<(), TeamError> {
        self.send_ignored(Method::POST, &paths::member_disable(user_id), &NO_BODY)
            .await
    }

    /// Lets a disabled member sign in again (owners).
    pub async fn enable_member(&self, user_id: &UserId) -> Result<(), TeamError> {
        self.send_ignored(Method::POST, &paths::member_enable(user_id), &NO_BODY)
            .await
    }

    /// Gives a member another role (owners; the last owner stays one).
    pub async fn set_member_role(&self, user_id: &UserId, role: Role) -> Result<(), TeamError> {
        self.send_ignored(
            Method::PUT,
            &paths::member_role(user_id),
            &RoleChange { role },
        )
        .await
    }

    /// Resets a member's password: theirs stops working, their sessions end, and
    /// the answer is a one-time link (a day long) for them to choose a new one.
    pub async fn issue_password_link(
        &self,
        user_id: &UserId,
    ) -> Result<CreatedPasswordLink, TeamError> {
        self.send(
            Method::POST,
            &paths::member_password_link(user_id),
            &NO_BODY,
        )
        .await
    }

    /// Changes this member's own password; their other sessions end.
    pub async fn change_password(&self, change: &PasswordChange) -> Result<(), TeamError> {
        self.send_ignored(Method::POST, &paths::my_password(), change)
            .await
    }

    /// This account's second factors.
    pub async fn mfa_status(&self) -> Result<MfaStatus, TeamError> {
        self.get(&paths::my_mfa()).await
    }

    /// Starts setting up an authenticator: its secret, shown this once.
    pub async fn begin_totp(&self) -> Result<TotpEnrolment, TeamError> {
        self.send(Method::POST, &paths::my_totp(), &NO_BODY).await
    }

    /// Confirms the authenticator with its current code and the password; the
    /// recovery codes.
    pub async fn confirm_totp(
        &self,
        code: &str,
        current_password: &str,
    ) -> Result<RecoveryCodes, TeamError> {
        let confirm = TotpConfirm {
            code: code.trim().to_owned(),
            current_password: current_password.to_owned(),
        };
        self.send(Method::POST, &paths::my_totp_confirm(), &confirm)
            .await
    }

    /// Turns this account's second factor off (the password is checked again).
    pub async fn remove_mfa(&self, removal: &CurrentPassword) -> Result<(), TeamError> {
        self.send_ignored(Method::POST, &paths::my_mfa_remove(), removal)
            .await
    }

    /// New recovery codes (the old ones stop working), with the password.
    pub async fn new_recovery_codes(
        &self,
        confirmation: &CurrentPassword,
    ) -> Result<RecoveryCodes, TeamError> {
        self.send(Method::POST, &paths::my_recovery_codes(), confirmation)
            .await
    }

    /// Removes a member's second factor, for a lost phone (admins).
    pub async fn reset_member_mfa(&self, user_id: &UserId) -> Result<(), TeamError> {
        self.send_ignored(Method::POST, &paths::member_mfa_reset(user_id), &NO_BODY)
            .await
    }

    /// Whether the team requires a second factor of everyone (admins).
    pub async fn mfa_policy(&self) -> Result<MfaPolicy, TeamError> {
        self.get(&paths::mfa_policy()).await
    }

    /// Requires (or stops requiring) a second factor of everyone (owners).
    pub async fn set_mfa_policy(&self, policy: MfaPolicy) -> Result<MfaPolicy, TeamError> {
        self.send(Method::PUT, &paths::mfa_policy(), &policy).await
    }

    /// The team's identity provider settings (admins; the secret never comes back).
    pub async fn sso_settings(&self) -> Result<SsoSettings, TeamError> {
        self.get(&paths::team_sso()).await
    }

    /// Sets the team's identity provider (owners); the server reads the
    /// provider's metadata first and refuses a wrong issuer.
    pub async fn set_sso_settings(
        &self,
        update: &SsoSettingsUpdate,
    ) -> Result<SsoSettings, TeamError> {
        self.send(Method::PUT, &paths::team_sso(), update).await
    }

    /// Turns SSO off for the team (owners): passwords work again for everyone.
    pub async fn remove_sso(&self) -> Result<(), TeamError> {
        self.delete(&paths::team_sso()).await
    }

    /// A one-time invite link (a week long) for `email` to join with `role`.
    pub async fn invite(&self, invite: &NewInvite) -> Result<CreatedInvite, TeamError> {
        self.send(Method::POST, &paths::invites(), invite).await
    }

    pub async fn groups(&self) -> Result<Vec<GroupView>, TeamError> {
        self.get(&paths::groups()).await
    }

    pub async fn create_group(&self, group: &NewGroup) -> Result<String, TeamError> {
        let created: CreatedId = self.send(Method::POST, &paths::groups(), group).await?;
        Ok(created.id)
    }

    pub async fn add_to_group(
        &self,
        group_id: &GroupId,
        user_id: &UserId,
    ) -> Result<(), TeamError> {
        let member = GroupMember {
            user_id: user_id.to_string(),
        };
        self.send_ignored(Method::POST, &paths::group_members(group_id), &member)
            .await
    }

    pub async fn remove_from_group(
        &self,
        group_id: &GroupId,
        user_id: &UserId,
    ) -> Result<(), TeamError> {
        self.delete(&paths::group_member(group_id, user_id)).await
    }

    /// Shares a new token given by its `otpauth://` URI; returns its id.
    pub async fn add_shared_token(&self, token: &NewSharedToken) -> Result<String, TeamError> {
        let created: CreatedId = self.send(Method::POST, &paths::tokens(), token).await?;
        Ok(created.id)
    }

    /// Replaces a shared token's seed (the service's 2FA was reset); grants stay.
    pub async fn rotate(
        &self,
        token_id: &TokenId,
        token: &NewSharedToken,
    ) -> Result<(), TeamError> {
        self.send_ignored(Method::POST, &paths::token_rotate(token_id), token)
            .await
    }

    pub async fn grants(&self, token_id: &TokenId) -> Result<Vec<GrantView>, TeamError> {
        self.get(&paths::token_grants(token_id)).await
    }

    pub async fn grant(&self, token_id: &TokenId, grant: &NewGrant) -> Result<String, TeamError> {
        let created: CreatedId = self
            .send(Method::POST, &paths::token_grants(token_id), grant)
            .await?;
        Ok(created.id)
    }

    pub async fn revoke_grant(&self, grant_id: &GrantId) -> Result<(), TeamError> {
        self.delete(&paths::grant(grant_id)).await
    }

    /// One page of the audit log matching `filter`, after seq `after`, oldest first.
    pub async fn audit_events(
        &self,
        filter: &AuditFilter,
        after: i64,
        limit: u32,
    ) -> Result<Vec<AuditEventView>, TeamError> {
        let url = format!("{}{}", self.link().server_url, paths::audit_events());
        let page = filter.page(after, limit);
        read(
            self.send_signed_in(|token| self.http().get(&url).query(&page).bearer_auth(token))
                .await?,
        )
        .await
    }

    /// Every event matching `filter`, page by page, up to [`EXPORT_LIMIT`].
    pub async fn audit_events_all(
        &self,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditEventView>, TeamError> {
        let mut events: Vec<AuditEventView> = Vec::new();
        loop {
            let after = events.last().map_or(0, |event| event.seq);
            let page = self.audit_events(filter, after, AUDIT_PAGE).await?;
            let done = page.len() < AUDIT_PAGE as usize;
            events.extend(page);
            if done || events.len() >= EXPORT_LIMIT {
                events.truncate(EXPORT_LIMIT);
                return Ok(events);
            }
        }
    }

    pub async fn sinks(&self) -> Result<Vec<SinkView>, TeamError> {
        self.get(&paths::sinks()).await
    }

    pub async fn add_sink(&self, sink: &NewSink) -> Result<String, TeamError> {
        let created: CreatedId = self.send(Method::POST, &paths::sinks(), sink).await?;
        Ok(created.id)
    }

    pub async fn remove_sink(&self, sink_id: &SinkId) -> Result<(), TeamError> {
        self.delete(&paths::sink(sink_id)).await
    }

    /// Lets a sink held at its maker's offboarding deliver again (it then answers
    /// to this admin).
    pub async fn resume_sink(&self, sink_id: &SinkId) -> Result<(), TeamError> {
        self.send_ignored(Method::POST, &paths::sink_resume(sink_id), &NO_BODY)
            .await
    }

    /// Every API token of the team, revoked and expired ones too; never secrets.
    pub async fn api_tokens(&self) -> Result<Vec<ApiTokenView>, TeamError> {
        self.get(&paths::api_tokens()).await
    }

    /// A new API token; its secret is in the answer only.
    pub async fn create_api_token(
        &self,
        token: &NewApiToken,
    ) -> Result<CreatedApiToken, TeamError> {
        self.send(Method::POST, &paths::api_tokens(), token).await
    }

    pub async fn revoke_api_token(&self, token_id: &ApiTokenId) -> Result<(), TeamError> {
        self.delete(&paths::api_token(token_id)).await
    }

    /// `body` as JSON to `path`, signed in; the answer read as `T`.
    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &(impl Serialize + Sync),
    ) -> Result<T, TeamError> {
        let url = format!("{}{path}", self.link().server_url);
        read(
            self.send_signed_in(|token| {
                self.http()
                    .request(method.clone(), &url)
                    .bearer_auth(token)
                    .json(body)
            })
            .await?,
        )
        .await
    }

    /// A call whose answer says nothing beyond success.
    async fn send_ignored(
        &self,
        method: Method,
        path: &str,
        body: &(impl Serialize + Sync),
    ) -> Result<(), TeamError> {
        self.send::<serde_json::Value>(method, path, body)
            .await
            .map(drop)
    }

    /// DELETE `path` (no body), signed in.
    async fn delete(&self, path: &str) -> Result<(), TeamError> {
        let url = format!("{}{path}", self.link().server_url);
        read::<serde_json::Value>(
            self.send_signed_in(|token| self.http().delete(&url).bearer_auth(token))
                .await?,
        )
        .await
        .map(drop)
    }
}

/// The body of an action that takes none: `{}`.
const NO_BODY: kaito_api::Empty = kaito_api::Empty {};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_filters_do_not_filter() {
        let filter = AuditFilter {
            kind: Some("code.".to_owned()),
            actor: Some("  ".to_owned()),
            subject: None,
            from: Some(5),
            to: None,
        };
        let page = filter.page(7, 50);
        assert_eq!((page.after, page.limit), (7, 50));
        assert_eq!(page.kind.as_deref(), Some("code."));
        assert_eq!((page.actor, page.subject, page.to), (None, None, None));
        assert_eq!(page.from, Some(5));
    }
}
