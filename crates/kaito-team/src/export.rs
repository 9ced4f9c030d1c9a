//! The audit log as files an auditor opens: CSV (formulas defused) and JSON Lines.

use kaito_api::AuditEventView;

/// The events as CSV (RFC 4180): seq, time (RFC 3339, UTC), actor, kind, subject,
/// details (JSON), hash. Fields a spreadsheet would run as a formula are prefixed
/// with `'`: the log holds text members and webhooks chose.
#[must_use]
pub fn audit_csv(events: &[AuditEventView]) -> String {
    let mut out = String::from("seq,time,actor,kind,subject,details,hash\r\n");
    for event in events {
        let fields = [
            event.seq.to_string(),
            kaito_core::clock::rfc3339(event.at),
            event.actor.clone().unwrap_or_default(),
            event.kind.clone(),
            event.subject.clone().unwrap_or_default(),
            event.details.to_string(),
            event.hash.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|field| csv_field(field)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The events as JSON Lines: one event per line, as the server gives them.
#[must_use]
pub fn audit_jsonl(events: &[AuditEventView]) -> String {
    let mut out = String::new();
    for event in events {
        // An AuditEventView always serialises: its fields are strings, numbers
        // and an already-parsed JSON value.
        if let Ok(line) = serde_json::to_string(event) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(seq: i64, kind: &str, details: serde_json::Value) -> AuditEventView {
        AuditEventView {
            seq,
            event_id: format!("ev{seq}"),
            at: 1_764_428_645_123,
            actor: Some("usr_1".to_owned()),
            kind: kind.to_owned(),
            subject: None,
            details,
            hash: "ab12".to_owned(),
        }
    }

    #[test]
    fn csv_quotes_what_needs_it_and_defuses_formulas() {
        let events = [
            event(1, "code.copied", json!({ "surface": "tray" })),
            event(2, "=HYPERLINK(\"x\")", json!({})),
        ];
        let csv = audit_csv(&events);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], "seq,time,actor,kind,subject,details,hash");
        assert_eq!(
            lines[1],
            r#"1,2025-11-29T15:04:05.123Z,usr_1,code.copied,,"{""surface"":""tray""}",ab12"#
        );
        assert_eq!(
            lines[2],
            r#"2,2025-11-29T15:04:05.123Z,usr_1,"'=HYPERLINK(""x"")",,{},ab12"#
        );
        assert_eq!(lines.len(), 4, "a line per event and a final line break");
    }

    #[test]
    fn jsonl_is_one_parsable_event_per_line() {
        let events = [
            event(1, "code.viewed", json!({ "a": "b\nc" })),
            event(2, "x", json!({})),
        ];
        let text = audit_jsonl(&events);
        let parsed: Vec<AuditEventView> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(parsed, events);
    }
}
