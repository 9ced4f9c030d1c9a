//! What sinks receive, built without I/O: the webhook signature and body, Splunk
//! HEC records, RFC 5424 syslog records with octet-counting framing, and CEF.

use hmac::{Hmac, KeyInit as _, Mac as _};
use kaito_api::{AuditEventView, AuditKind, SyslogFormat};
use kaito_core::clock::rfc3339;
use serde_json::json;

use crate::ids::TeamId;

/// The `X-Kaito-Signature` of a webhook body.
#[must_use]
pub fn webhook_signature(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", crate::secrets::hex(&mac.finalize().into_bytes()))
}

/// An event as SIEMs get it: the log's view plus the team.
fn event_json(event: &AuditEventView, team_id: &TeamId) -> serde_json::Value {
    json!({
        "team_id": team_id.as_str(),
        "seq": event.seq,
        "event_id": event.event_id,
        "at": event.at,
        "time": rfc3339(event.at),
        "actor": event.actor,
        "kind": event.kind,
        "subject": event.subject,
        "details": event.details,
        "hash": event.hash,
    })
}

/// Splunk's `time`: seconds with milliseconds.
fn hec_time(at_ms: i64) -> serde_json::Value {
    json!(
        format!("{}.{:03}", at_ms.div_euclid(1000), at_ms.rem_euclid(1000))
            .parse::<f64>()
            .unwrap_or(0.0)
    )
}

/// A webhook's body: the team and its events.
pub(super) fn webhook_body(events: &[AuditEventView], team_id: &TeamId) -> String {
    json!({
        "team_id": team_id.as_str(),
        "events": events.iter().map(|event| event_json(event, team_id)).collect::<Vec<_>>(),
    })
    .to_string()
}

/// Splunk HEC's body: one JSON record per event, concatenated.
pub(super) fn hec_body(
    events: &[AuditEventView],
    team_id: &TeamId,
    hostname: &str,
    index: Option<&str>,
) -> String {
    let mut body = String::new();
    for event in events {
        let mut record = json!({
            "time": hec_time(event.at),
            "host": hostname,
            "source": "kaito-server",
            "sourcetype": "kaito:audit",
            "event": event_json(event, team_id),
        });
        if let Some(index) = index {
            record["index"] = json!(index);
        }
        body.push_str(&record.to_string());
    }
    body
}

/// (syslog severity, CEF severity 0–10) of an event kind. Every kind is listed, so
/// a new one must choose.
fn severity(kind: AuditKind) -> (u8, u8) {
    match kind {
        AuditKind::DeviceSequenceGap => (4, 8),
        AuditKind::LoginFailed | AuditKind::SeedRefused => (4, 6),
        AuditKind::SeedFetched
        | AuditKind::SeedRevealed
        | AuditKind::TokenRotated
        | AuditKind::MemberDisabled
        | AuditKind::MemberEnabled
        | AuditKind::MemberRoleChanged
        | AuditKind::MemberPasswordReset
        | AuditKind::MemberPasswordChanged
        | AuditKind::PasswordLinkCreated
        | AuditKind::MemberPasswordSet
        | AuditKind::MfaRemoved
        | AuditKind::MfaReset
        | AuditKind::MfaRecoveryCodesReplaced
        | AuditKind::SsoSettingsChanged
        | AuditKind::MfaPolicyChanged
        | AuditKind::SsoRemoved
        | AuditKind::SinkResumed
        | AuditKind::SmsGrantRevoked
        | AuditKind::SmsNumberRemoved
        | AuditKind::Pruned
        | AuditKind::RetentionChanged => (5, 5),
        AuditKind::Login
        | AuditKind::MemberAdded
        | AuditKind::MfaEnrolled
        | AuditKind::MfaVerified
        | AuditKind::InviteCreated
        | AuditKind::InviteRevoked
        | AuditKind::InviteAccepted
        | AuditKind::TokenCreated
        | AuditKind::GrantCreated
        | AuditKind::GrantRevoked
        | AuditKind::GrantExpired
        | AuditKind::GroupCreated
        | AuditKind::GroupMemberAdded
        | AuditKind::GroupMemberRemoved
        | AuditKind::CodeServed
        | AuditKind::CodeViewed
        | AuditKind::CodeCopied
        | AuditKind::SmsCodeCopied
        | AuditKind::ApiTokenCreated
        | AuditKind::ApiTokenRevoked
        | AuditKind::DeviceEnrolled
        | AuditKind::DeviceRevoked
        | AuditKind::SinkAdded
        | AuditKind::SinkRemoved
        | AuditKind::SmsReceived
        | AuditKind::SmsNumberAdded
        | AuditKind::SmsGrantCreated
        | AuditKind::SmsDelivered => INFORMATIONAL,
    }
}

/// Routine events, and a stored kind this server does not know (written by a
/// newer version, say): syslog "informational", CEF 3.
const INFORMATIONAL: (u8, u8) = (6, 3);

/// The severity of a stored event's kind.
fn severity_of(stored_kind: &str) -> (u8, u8) {
    stored_kind.parse().map_or(INFORMATIONAL, severity)
}

/// Facility 13, "log audit".
const FACILITY: u8 = 13;

/// One RFC 5424 record: `<PRI>1 TIMESTAMP HOSTNAME kaito-server - MSGID - MSG`.
#[must_use]
pub fn syslog_record(
    event: &AuditEventView,
    team_id: &TeamId,
    format: SyslogFormat,
    hostname: &str,
) -> String {
    let (syslog_severity, _) = severity_of(&event.kind);
    let message = match format {
        SyslogFormat::Cef => cef(event, team_id),
        SyslogFormat::Json => event_json(event, team_id).to_string(),
    };
    // MSGID: printable ASCII, at most 32 characters.
    let msgid: String = event
        .kind
        .chars()
        .filter(char::is_ascii_graphic)
        .take(32)
        .collect();
    format!(
        "<{}>1 {} {} kaito-server - {} - {}",
        u16::from(FACILITY) * 8 + u16::from(syslog_severity),
        rfc3339(event.at),
        hostname,
        if msgid.is_empty() { "-" } else { &msgid },
        message
    )
}

/// `LEN SP RECORD`, the framing of RFC 5425 and RFC 6587 §3.4.1.
#[must_use]
pub fn octet_counted(record: &str) -> Vec<u8> {
    format!("{} {record}", record.len()).into_bytes()
}

/// `ArcSight` CEF: `CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|Extension`.
#[must_use]
pub fn cef(event: &AuditEventView, team_id: &TeamId) -> String {
    let header = |text: &str| text.replace('\\', "\\\\").replace('|', "\\|");
    let value = |text: &str| {
        text.replace('\\', "\\\\")
            .replace('=', "\\=")
            .replace('\r', "\\r")
            .replace('\n', "\\n")
    };
    let (_, cef_severity) = severity_of(&event.kind);
    let mut extension = vec![
        format!("rt={}", event.at),
        format!("externalId={}", value(&event.event_id)),
        format!("cs1Label=team cs1={}", value(team_id.as_str())),
        format!("cn1Label=seq cn1={}", event.seq),
    ];
    if let Some(actor) = &event.actor {
        extension.push(format!("suser={}", value(actor)));
    }
    if let Some(subject) = &event.subject {
        extension.push(format!("cs2Label=subject cs2={}", value(subject)));
    }
    extension.push(format!(
        "cs3Label=details cs3={}",
        value(&event.details.to_string())
    ));
    extension.push(format!("cs4Label=hash cs4={}", value(&event.hash)));
    format!(
        "CEF:0|Kaito|kaito-server|{}|{}|{}|{}|{}",
        header(crate::VERSION),
        header(&event.kind),
        header(&event.kind.replace(['.', '_'], " ")),
        cef_severity,
        extension.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, details: serde_json::Value) -> AuditEventView {
        AuditEventView {
            seq: 7,
            event_id: "evt_1".to_owned(),
            at: 1_764_428_645_123,
            actor: Some("user_a".to_owned()),
            kind: kind.to_owned(),
            subject: Some("tok|x".to_owned()),
            details,
            hash: "ab".to_owned(),
        }
    }

    #[test]
    fn cef_escapes_what_would_break_fields() {
        let team = TeamId::from_stored("team_1".to_owned());
        let line = cef(&event("seed.fetched", json!({ "note": "a=b\nc" })), &team);
        assert!(line.starts_with("CEF:0|Kaito|kaito-server|"), "{line}");
        assert!(
            line.contains("|seed.fetched|seed fetched|5|rt=1764428645123 "),
            "{line}"
        );
        // `=` and newlines inside a value are escaped; `|` only matters in the header.
        assert!(line.contains(r#"cs3={"note":"a\=b\\nc"}"#), "{line}");
        assert!(line.contains("cs2Label=subject cs2=tok|x"), "{line}");
    }

    #[test]
    fn syslog_records_are_rfc5424_and_octet_counted() {
        let team = TeamId::from_stored("team_1".to_owned());
        let record = syslog_record(
            &event("login.failed", json!({})),
            &team,
            SyslogFormat::Json,
            "host1",
        );
        assert!(
            record.starts_with(
                "<108>1 2025-11-29T15:04:05.123Z host1 kaito-server - login.failed - {"
            ),
            "{record}"
        );
        let framed = String::from_utf8(octet_counted("héllo")).unwrap();
        assert_eq!(framed, "6 héllo");
    }

    #[test]
    fn severity_follows_the_kind_and_unknown_kinds_are_routine() {
        assert_eq!(severity_of("device.sequence_gap"), (4, 8));
        assert_eq!(severity_of("seed.refused"), (4, 6));
        assert_eq!(severity_of("audit.pruned"), (5, 5));
        assert_eq!(severity_of("code.served"), (6, 3));
        assert_eq!(severity_of("some.future_kind"), (6, 3));
    }

    #[test]
    fn webhook_signatures_cover_timestamp_and_body() {
        let signature = webhook_signature(b"0123456789abcdef", "1700000000", b"{}");
        assert!(signature.starts_with("v1=") && signature.len() == 67);
        assert_ne!(
            signature,
            webhook_signature(b"0123456789abcdef", "1700000001", b"{}")
        );
    }
    #[test]
    fn hec_records_carry_time_host_and_index() {
        let team = TeamId::from_stored("team_1".to_owned());
        let events = [event("code.served", json!({})), event("login", json!({}))];
        let body = hec_body(&events, &team, "host1", Some("audit"));
        let records: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&body)
            .into_iter()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0]["time"], json!(1_764_428_645.123));
        assert_eq!(records[0]["host"], "host1");
        assert_eq!(records[0]["index"], "audit");
        assert_eq!(records[0]["event"]["kind"], "code.served");
        assert_eq!(records[1]["event"]["team_id"], "team_1");
        assert!(
            hec_body(&events, &team, "host1", None)
                .find("\"index\"")
                .is_none()
        );
        let webhook: serde_json::Value =
            serde_json::from_str(&webhook_body(&events, &team)).unwrap();
        assert_eq!(webhook["team_id"], "team_1");
        assert_eq!(webhook["events"][1]["kind"], "login");
    }
}
