//! The admin screens of team mode: views of members, groups, shared tokens with
//! their grants, the audit log and SIEM sinks, and the calls that change them —
//! each a thin adapter over kaito-vault's team client (the server checks roles).

use std::path::PathBuf;

use kaito_api::{GrantMode, NewGrant, NewInvite, NewSink, Role, SinkTarget, SyslogFormat};
use kaito_team::{AuditFilter, TeamClient, audit_csv, audit_jsonl};
use serde::{Deserialize, Serialize};

use crate::AppError;
use crate::IpcError;

/// Events the viewer shows at most, newest first; exports take up to the client's
/// export limit.
const VIEWER_LIMIT: usize = 1_000;

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct MemberRow {
    pub user_id: String,
    pub email: String,
    pub name: String,
    /// "member", "admin" or "owner".
    pub role: String,
    pub disabled: bool,
    /// Signing in wants a second factor.
    pub mfa: bool,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct GroupRow {
    pub group_id: String,
    pub name: String,
    pub member_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct GrantRow {
    pub grant_id: String,
    pub user_id: Option<String>,
    pub group_id: Option<String>,
    /// "code" or "seed".
    pub mode: String,
    #[ts(type = "number | null")]
    pub expires_at_ms: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SharedTokenRow {
    pub token_id: String,
    pub issuer: String,
    pub account: String,
    #[ts(type = "number | null")]
    pub rotated_at_ms: Option<i64>,
    /// A member who held the seed was disabled then: rotate it at the service.
    #[ts(type = "number | null")]
    pub needs_rotation_since_ms: Option<i64>,
    pub grants: Vec<GrantRow>,
}

/// Everything the admin page lists, in one go.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TeamAdminView {
    /// The signed-in member: the page offers only what their role may do to whom.
    pub my_user_id: String,
    /// "admin" or "owner".
    pub my_role: String,
    pub members: Vec<MemberRow>,
    pub groups: Vec<GroupRow>,
    pub tokens: Vec<SharedTokenRow>,
}

/// A new invite or set-password link: the link (or the token when the server has
/// no public URL) is shown once.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct OneTimeLink {
    pub link: Option<String>,
    pub token: String,
    #[ts(type = "number")]
    pub expires_at_ms: i64,
}

/// Who a grant is for: exactly one of the two.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct GrantForm {
    pub user_id: Option<String>,
    pub group_id: Option<String>,
    /// "code" or "seed".
    pub mode: String,
    #[ts(type = "number | null")]
    pub expires_at_ms: Option<i64>,
}

/// The audit viewer's filters, as typed; blanks do not filter.
#[derive(Debug, Clone, Default, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AuditFilterForm {
    pub kind: Option<String>,
    pub actor: Option<String>,
    pub subject: Option<String>,
    #[ts(type = "number | null")]
    pub from_ms: Option<i64>,
    #[ts(type = "number | null")]
    pub to_ms: Option<i64>,
}

impl From<AuditFilterForm> for AuditFilter {
    fn from(form: AuditFilterForm) -> Self {
        AuditFilter {
            kind: form.kind,
            actor: form.actor,
            subject: form.subject,
            from: form.from_ms,
            to: form.to_ms,
        }
    }
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AuditRow {
    #[ts(type = "number")]
    pub seq: i64,
    #[ts(type = "number")]
    pub at_ms: i64,
    pub actor: Option<String>,
    pub kind: String,
    pub subject: Option<String>,
    /// The event's details as JSON text.
    pub details: String,
}

/// The newest matching events, newest first.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AuditPageView {
    pub events: Vec<AuditRow>,
    /// More events matched than are shown.
    pub truncated: bool,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ExportedFile {
    pub path: String,
    pub events: u32,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SinkRow {
    pub id: String,
    pub name: String,
    /// `syslog`, `splunk_hec` or `webhook`.
    pub kind: String,
    /// Where it sends: host:port, or the URL.
    pub destination: String,
    #[ts(type = "number")]
    pub pending: i64,
    #[ts(type = "number | null")]
    pub last_delivered_at_ms: Option<i64>,
    pub last_error: Option<String>,
    /// Events cross the network readable (`http://`, syslog without TLS).
    pub cleartext: bool,
    /// Held since then: the admin who added it was disabled; it delivers again
    /// once another admin resumes it.
    #[ts(type = "number | null")]
    pub held_since_ms: Option<i64>,
}

/// A new sink as the form gives it.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SinkForm {
    pub name: String,
    /// `syslog`, `splunk_hec` or `webhook`.
    pub kind: String,
    /// Syslog: host and port; TLS (RFC 5425) or plain TCP; "cef" or "json".
    pub host: Option<String>,
    pub port: Option<u16>,
    pub tls: Option<bool>,
    pub format: Option<String>,
    /// Splunk HEC and webhook: the endpoint.
    pub url: Option<String>,
    /// The HEC token or the webhook's signing key.
    pub secret: Option<String>,
    /// The admin accepts a cleartext target (`http://`, syslog without TLS).
    pub insecure: Option<bool>,
}

pub(crate) fn invalid(message: &str) -> IpcError {
    IpcError::from(AppError::TeamFormInvalid(message.into()))
}

pub fn role(text: &str) -> Result<Role, IpcError> {
    Role::parse(text).ok_or_else(|| invalid("The role must be member, admin or owner."))
}

pub async fn overview(client: &TeamClient) -> Result<TeamAdminView, IpcError> {
    let members = client.members().await?;
    let groups = client.groups().await?;
    let listed: Vec<kaito_api::SharedTokenView> = client.admin_tokens().await?;
    let mut tokens = Vec::with_capacity(listed.len());
    for token in listed {
        let grants = client
            .grants(&token.token_id.parse()?)
            .await?
            .into_iter()
            .map(|grant| GrantRow {
                grant_id: grant.grant_id,
                user_id: grant.user_id,
                group_id: grant.group_id,
                mode: grant.mode.as_str().to_owned(),
                expires_at_ms: grant.expires_at,
            })
            .collect();
        tokens.push(SharedTokenRow {
            token_id: token.token_id,
            issuer: token.issuer,
            account: token.account,
            rotated_at_ms: token.rotated_at,
            needs_rotation_since_ms: token.needs_rotation_since,
            grants,
        });
    }
    Ok(TeamAdminView {
        my_user_id: client.link().user_id.clone(),
        my_role: client.link().role.as_str().to_owned(),
        members: members
            .into_iter()
            .map(|member| MemberRow {
                user_id: member.user_id,
                email: member.email,
                name: member.name,
                role: member.role.as_str().to_owned(),
                disabled: member.disabled,
                mfa: member.mfa,
            })
            .collect(),
        groups: groups
            .into_iter()
            .map(|group| GroupRow {
                group_id: group.group_id,
                name: group.name,
                member_ids: group.member_ids,
            })
            .collect(),
        tokens,
    })
}

pub async fn invite(client: &TeamClient, email: &str, role: Role) -> Result<OneTimeLink, IpcError> {
    let created = client
        .invite(&NewInvite {
            email: email.trim().to_owned(),
            role,
        })
        .await?;
    Ok(OneTimeLink {
        link: created.link,
        token: created.token,
        expires_at_ms: created.expires_at,
    })
}

/// Resets a member's password; the answer is the link to hand them.
pub async fn password_link(
    client: &TeamClient,
    user_id: &kaito_api::ids::UserId,
) -> Result<OneTimeLink, IpcError> {
    let created = client.issue_password_link(user_id).await?;
    Ok(OneTimeLink {
        link: created.link,
        token: created.token,
        expires_at_ms: created.expires_at,
    })
}

pub async fn grant(
    client: &TeamClient,
    token_id: &kaito_api::ids::TokenId,
    form: GrantForm,
) -> Result<(), IpcError> {
    let mode = GrantMode::parse(&form.mode)
        .ok_or_else(|| invalid("A grant gives codes only (code) or the seed (seed)."))?;
    let blank = |text: Option<String>| text.filter(|text| !text.trim().is_empty());
    let (user_id, group_id) = (blank(form.user_id), blank(form.group_id));
    if user_id.is_some() == group_id.is_some() {
        return Err(invalid("Choose a member or a group to grant to."));
    }
    client
        .grant(
            token_id,
            &NewGrant {
                user_id,
                group_id,
                mode,
                expires_at: form.expires_at_ms,
            },
        )
        .await?;
    Ok(())
}

pub async fn audit(
    client: &TeamClient,
    filter: AuditFilterForm,
) -> Result<AuditPageView, IpcError> {
    let mut events = client.audit_events_all(&filter.into()).await?;
    let truncated = events.len() > VIEWER_LIMIT;
    events.reverse();
    events.truncate(VIEWER_LIMIT);
    Ok(AuditPageView {
        events: events
            .into_iter()
            .map(|event| AuditRow {
                seq: event.seq,
                at_ms: event.at,
                actor: event.actor,
                kind: event.kind,
                subject: event.subject,
                details: event.details.to_string(),
            })
            .collect(),
        truncated,
    })
}

/// Writes the matching events to `dir` as `kaito-audit-<time>.csv` (or `.jsonl`),
/// whole or not at all: written aside, then renamed into place.
pub async fn export(
    client: &TeamClient,
    filter: AuditFilterForm,
    format: &str,
    dir: PathBuf,
) -> Result<ExportedFile, IpcError> {
    let (text_of, extension): (fn(&[kaito_api::AuditEventView]) -> String, &str) = match format {
        "csv" => (audit_csv, "csv"),
        "jsonl" => (audit_jsonl, "jsonl"),
        _ => return Err(invalid("Export as csv or jsonl.")),
    };
    let events = client.audit_events_all(&filter.into()).await?;
    let text = text_of(&events);
    let stamp =
        kaito_core::clock::rfc3339(kaito_vault::clock::unix_millis(std::time::SystemTime::now()))
            .replace([':', '.'], "-");
    let path = dir.join(format!("kaito-audit-{stamp}.{extension}"));
    let write = {
        let path = path.clone();
        move || -> std::io::Result<()> {
            std::fs::create_dir_all(&dir)?;
            let staged = path.with_extension(format!("{extension}.part"));
            std::fs::write(&staged, text)?;
            std::fs::rename(&staged, &path)
        }
    };
    tauri::async_runtime::spawn_blocking(write)
        .await
        .map_err(|error| IpcError::from(AppError::ExportFailed(error.to_string())))?
        .map_err(|error| {
            IpcError::from(AppError::ExportFailed(format!(
                "Could not write the export to {}: {error}",
                path.display()
            )))
        })?;
    Ok(ExportedFile {
        path: path.display().to_string(),
        events: u32::try_from(events.len()).unwrap_or(u32::MAX),
    })
}

pub async fn sinks(client: &TeamClient) -> Result<Vec<SinkRow>, IpcError> {
    Ok(client
        .sinks()
        .await?
        .into_iter()
        .map(|sink| {
            let (kind, destination) = match &sink.target {
                SinkTarget::Syslog {
                    host, port, tls, ..
                } => (
                    "syslog",
                    format!("{host}:{port}{}", if *tls { " (TLS)" } else { "" }),
                ),
                SinkTarget::SplunkHec { url, .. } => ("splunk_hec", url.clone()),
                SinkTarget::Webhook { url } => ("webhook", url.clone()),
            };
            SinkRow {
                id: sink.id,
                name: sink.name,
                kind: kind.to_owned(),
                destination,
                pending: sink.pending,
                last_delivered_at_ms: sink.last_delivered_at,
                last_error: sink.last_error,
                cleartext: sink.cleartext,
                held_since_ms: sink.held_at,
            }
        })
        .collect())
}

pub async fn add_sink(client: &TeamClient, form: SinkForm) -> Result<(), IpcError> {
    let given = |text: Option<String>, what: &str| {
        text.map(|text| text.trim().to_owned())
            .filter(|text| !text.is_empty())
            .ok_or_else(|| invalid(&format!("The sink needs {what}.")))
    };
    let target = match form.kind.as_str() {
        "syslog" => SinkTarget::Syslog {
            host: given(form.host, "a host")?,
            port: form.port.ok_or_else(|| invalid("The sink needs a port."))?,
            tls: form.tls.unwrap_or(true),
            format: match form.format.as_deref() {
                Some("json") => SyslogFormat::Json,
                _ => SyslogFormat::Cef,
            },
            ca_pem: None,
        },
        "splunk_hec" => SinkTarget::SplunkHec {
            url: given(form.url, "the collector URL")?,
            index: None,
        },
        "webhook" => SinkTarget::Webhook {
            url: given(form.url, "a URL")?,
        },
        _ => return Err(invalid("A sink is syslog, splunk_hec or webhook.")),
    };
    client
        .add_sink(&NewSink {
            name: form.name.trim().to_owned(),
            target,
            secret: form.secret.filter(|secret| !secret.is_empty()),
            insecure: form.insecure.unwrap_or(false),
        })
        .await?;
    Ok(())
}
