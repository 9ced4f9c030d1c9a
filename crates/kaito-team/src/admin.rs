//! What team admins do from the app: members, groups, shared tokens and their
//! grants, the audit log (with filters and CSV/JSON Lines export), SIEM sinks. Each
//! call is the server's; the server checks the caller's role, so a member's app
//! gets the server's "forbidden" like anyone else.

use kaito_api::{
    AuditEventView, CreatedInvite, GrantView, GroupView, MemberView, NewGrant, NewInvite, NewSink,
    Role, SharedTokenView, SinkView,
};
use serde::Deserialize;
use serde_json::json;

use crate::client::{TeamClient, check_id, read};
use crate::error::TeamError;

/// What the server answers to a create.
#[derive(Deserialize)]
struct CreatedId {
    id: String,
}

#[derive(Deserialize)]
struct CreatedUser {
    user_id: String,
}

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
    fn query(&self, after: i64, limit: u32) -> Vec<(&'static str, String)> {
        let mut query = vec![("after", after.to_string()), ("limit", limit.to_string())];
        let texts = [
            ("kind", &self.kind),
            ("actor", &self.actor),
            ("subject", &self.subject),
        ];
        for (name, value) in texts {
            if let Some(value) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                query.push((name, value.to_owned()));
            }
        }
        for (name, value) in [("from", self.from), ("to", self.to)] {
            if let Some(value) = value {
                query.push((name, value.to_string()));
            }
        }
        query
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
        self.get("/v1/tokens").await
    }

    pub async fn members(&self) -> Result<Vec<MemberView>, TeamError> {
        self.get("/v1/team/members").await
    }

    /// Adds a member with a first password; returns their user id.
    pub async fn add_member(
        &self,
        (email, name): (&str, &str),
        role: Role,
        password: &str,
    ) -> Result<String, TeamError> {
        let body = json!({ "email": email, "name": name, "role": role, "password": password });
        let created: CreatedUser = self
            .send_json(reqwest::Method::POST, "/v1/team/members", Some(&body))
            .await?;
        Ok(created.user_id)
    }

    pub async fn disable_member(&self, user_id: &str) -> Result<(), TeamError> {
        check_id(user_id)?;
        self.send_ignored(
            reqwest::Method::POST,
            &format!("/v1/team/members/{user_id}/disable"),
            Some(&json!({})),
        )
        .await
    }

    /// A one-time invite link (a week long) for `email` to join with `role`.
    pub async fn invite(&self, invite: &NewInvite) -> Result<CreatedInvite, TeamError> {
        let body = serde_json::to_value(invite).map_err(protocol)?;
        self.send_json(reqwest::Method::POST, "/v1/team/invites", Some(&body))
            .await
    }

    pub async fn groups(&self) -> Result<Vec<GroupView>, TeamError> {
        self.get("/v1/groups").await
    }

    pub async fn create_group(&self, name: &str) -> Result<String, TeamError> {
        let created: CreatedId = self
            .send_json(
                reqwest::Method::POST,
                "/v1/groups",
                Some(&json!({ "name": name })),
            )
            .await?;
        Ok(created.id)
    }

    pub async fn add_to_group(&self, group_id: &str, user_id: &str) -> Result<(), TeamError> {
        check_id(group_id)?;
        self.send_ignored(
            reqwest::Method::POST,
            &format!("/v1/groups/{group_id}/members"),
            Some(&json!({ "user_id": user_id })),
        )
        .await
    }

    pub async fn remove_from_group(&self, group_id: &str, user_id: &str) -> Result<(), TeamError> {
        check_id(group_id)?;
        check_id(user_id)?;
        self.send_ignored(
            reqwest::Method::DELETE,
            &format!("/v1/groups/{group_id}/members/{user_id}"),
            None,
        )
        .await
    }

    /// Shares a new token given by its `otpauth://` URI; returns its id.
    pub async fn add_shared_token(&self, uri: &str) -> Result<String, TeamError> {
        let created: CreatedId = self
            .send_json(
                reqwest::Method::POST,
                "/v1/tokens",
                Some(&json!({ "uri": uri })),
            )
            .await?;
        Ok(created.id)
    }

    /// Replaces a shared token's seed (the service's 2FA was reset); grants stay.
    pub async fn rotate(&self, token_id: &str, uri: &str) -> Result<(), TeamError> {
        check_id(token_id)?;
        self.send_ignored(
            reqwest::Method::POST,
            &format!("/v1/tokens/{token_id}/rotate"),
            Some(&json!({ "uri": uri })),
        )
        .await
    }

    pub async fn grants(&self, token_id: &str) -> Result<Vec<GrantView>, TeamError> {
        check_id(token_id)?;
        self.get(&format!("/v1/tokens/{token_id}/grants")).await
    }

    pub async fn grant(&self, token_id: &str, grant: &NewGrant) -> Result<String, TeamError> {
        check_id(token_id)?;
        let body = serde_json::to_value(grant).map_err(protocol)?;
        let created: CreatedId = self
            .send_json(
                reqwest::Method::POST,
                &format!("/v1/tokens/{token_id}/grants"),
                Some(&body),
            )
            .await?;
        Ok(created.id)
    }

    pub async fn revoke_grant(&self, grant_id: &str) -> Result<(), TeamError> {
        check_id(grant_id)?;
        self.send_ignored(
            reqwest::Method::DELETE,
            &format!("/v1/grants/{grant_id}"),
            None,
        )
        .await
    }

    /// One page of the audit log matching `filter`, after seq `after`, oldest first.
    pub async fn audit_events(
        &self,
        filter: &AuditFilter,
        after: i64,
        limit: u32,
    ) -> Result<Vec<AuditEventView>, TeamError> {
        let url = format!("{}/v1/audit/events", self.link().server_url);
        let query = filter.query(after, limit);
        read(
            self.send_signed_in(|token| self.http().get(&url).query(&query).bearer_auth(token))
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
        self.get("/v1/siem/sinks").await
    }

    pub async fn add_sink(&self, sink: &NewSink) -> Result<String, TeamError> {
        let body = serde_json::to_value(sink).map_err(protocol)?;
        let created: CreatedId = self
            .send_json(reqwest::Method::POST, "/v1/siem/sinks", Some(&body))
            .await?;
        Ok(created.id)
    }

    pub async fn remove_sink(&self, sink_id: &str) -> Result<(), TeamError> {
        check_id(sink_id)?;
        self.send_ignored(
            reqwest::Method::DELETE,
            &format!("/v1/siem/sinks/{sink_id}"),
            None,
        )
        .await
    }

    async fn send_json<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<T, TeamError> {
        let url = format!("{}{path}", self.link().server_url);
        read(
            self.send_signed_in(|token| {
                let request = self.http().request(method.clone(), &url).bearer_auth(token);
                match body {
                    Some(body) => request.json(body),
                    None => request,
                }
            })
            .await?,
        )
        .await
    }

    /// A call whose answer says nothing beyond success.
    async fn send_ignored(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(), TeamError> {
        self.send_json::<serde_json::Value>(method, path, body)
            .await
            .map(drop)
    }
}

#[allow(clippy::needless_pass_by_value)] // the shape `map_err` passes
fn protocol(error: serde_json::Error) -> TeamError {
    TeamError::Protocol(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_become_query_parameters_and_blanks_do_not() {
        let filter = AuditFilter {
            kind: Some("code.".to_owned()),
            actor: Some("  ".to_owned()),
            subject: None,
            from: Some(5),
            to: None,
        };
        assert_eq!(
            filter.query(7, 50),
            [
                ("after", "7".to_owned()),
                ("limit", "50".to_owned()),
                ("kind", "code.".to_owned()),
                ("from", "5".to_owned())
            ]
        );
    }
}
