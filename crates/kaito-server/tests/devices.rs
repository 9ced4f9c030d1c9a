//! Devices sending their audit events, on SQLite and PostgreSQL: signed batches
//! land in the team's chain once however often they are resent, skipped sequence
//! numbers are recorded as gaps, and unsigned, foreign or revoked devices are refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{MEMBER_PASSWORD, TestServer, servers};
use ed25519_dalek::{Signer as _, SigningKey};
use kaito_api::{AuditEventView, BatchReceipt, ChainReport, TokenPair};
use serde_json::json;

fn event(seq: i64, token: &str) -> serde_json::Value {
    json!({
        "event_id": format!("00000000-0000-4000-8000-{seq:012}"),
        "seq": seq,
        "at": 1_790_000_000_000_i64 + seq,
        "kind": "code.copied",
        "token_id": token,
        "details": { "from": "tray" },
    })
}

async fn send(
    server: &TestServer,
    who: &TokenPair,
    key: &SigningKey,
    device_id: &str,
    (seqs, token): (&[i64], &str),
) -> common::Answer {
    let body = serde_json::to_vec(&json!({
        "device_id": device_id,
        "events": seqs.iter().map(|&seq| event(seq, token)).collect::<Vec<_>>(),
    }))
    .unwrap();
    let signature = STANDARD.encode(key.sign(&body).to_bytes());
    send_raw(server, who, body, &signature).await
}

async fn send_raw(
    server: &TestServer,
    who: &TokenPair,
    body: Vec<u8>,
    signature: &str,
) -> common::Answer {
    let response = server
        .client
        .post(format!("{}/v1/events:batch", server.base))
        .bearer_auth(&who.access_token)
        .header("content-type", "application/json")
        .header("x-kaito-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().unwrap().to_owned());
    let body = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    common::Answer {
        status,
        body,
        retry_after,
    }
}

/// A shared token of the caller's team, as device events name them.
async fn shared_token(server: &TestServer, owner: &TokenPair, issuer: &str) -> String {
    let added = server
        .post(
            "/v1/tokens",
            Some(&owner.access_token),
            &json!({ "uri": format!("otpauth://totp/{issuer}:ops?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer={issuer}") }),
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    added.body["id"]
        .as_str()
        .or(added.body["token_id"].as_str())
        .unwrap()
        .to_owned()
}

/// Enrols a device for `who` with `key`; answers its id.
async fn enrol(server: &TestServer, who: &TokenPair, key: &SigningKey) -> String {
    let enrolled = server
        .post(
            "/v1/devices",
            Some(&who.access_token),
            &json!({ "name": "Laptop", "public_key": STANDARD.encode(key.verifying_key().to_bytes()) }),
        )
        .await;
    assert_eq!(enrolled.status, 200, "{}", enrolled.body);
    enrolled.body["id"].as_str().unwrap().to_owned()
}

/// Signs and sends `events` as they are.
async fn send_events(
    server: &TestServer,
    who: &TokenPair,
    (key, device_id): (&SigningKey, &str),
    events: &[serde_json::Value],
) -> common::Answer {
    let body = serde_json::to_vec(&json!({ "device_id": device_id, "events": events })).unwrap();
    let signature = STANDARD.encode(key.sign(&body).to_bytes());
    send_raw(server, who, body, &signature).await
}

#[tokio::test]
async fn batches_are_checked_and_bounded_and_ids_are_scoped_to_their_device() {
    let limited = |state: kaito_server::http::ServerState| {
        state.with_device_events(kaito_server::device_limit::DeviceEventLimit::new(
            12,
            std::time::Duration::from_secs(3600),
        ))
    };
    for server in common::servers_with(limited).await {
        let label = server.label;
        let acme = server.acme_owner().await;
        let rival = server.rival_owner().await;
        let acme_token = shared_token(&server, &acme, "GitHub").await;
        let rival_token = shared_token(&server, &rival, "GitLab").await;
        let acme_key = SigningKey::from_bytes(&[7; 32]);
        let rival_key = SigningKey::from_bytes(&[9; 32]);
        let acme_device = enrol(&server, &acme, &acme_key).await;
        let rival_device = enrol(&server, &rival, &rival_key).await;
        let acme_sends = |events: Vec<serde_json::Value>| {
            let (server, acme, acme_key, acme_device) = (&server, &acme, &acme_key, &acme_device);
            async move { send_events(server, acme, (acme_key, acme_device), &events).await }
        };

        // Another team's device used the id first: Acme's event is still kept.
        let rival_first = send_events(
            &server,
            &rival,
            (&rival_key, &rival_device),
            &[event(1, &rival_token)],
        )
        .await;
        assert_eq!(rival_first.status, 200, "{label}: {}", rival_first.body);
        let kept: BatchReceipt = acme_sends(vec![event(1, &acme_token)]).await.parse();
        assert_eq!((kept.accepted, kept.duplicates), (1, 0), "{label}");
        let resent: BatchReceipt = acme_sends(vec![event(1, &acme_token)]).await.parse();
        assert_eq!((resent.accepted, resent.duplicates), (0, 1), "{label}");
        let events: Vec<AuditEventView> = server
            .get(
                "/v1/audit/events?kind=code.copied",
                Some(&acme.access_token),
            )
            .await
            .parse();
        assert_eq!(events.len(), 1, "{label}");
        assert_eq!(
            events[0].details["device_event_id"],
            "00000000-0000-4000-8000-000000000001"
        );

        // Values no device sends: refused whole, with the event named, and no 500.
        let mut huge = event(2, &acme_token);
        huge["seq"] = json!(i64::MAX);
        let mut foreign = event(2, &acme_token);
        foreign["token_id"] = json!(rival_token);
        let mut made_up = event(2, &acme_token);
        made_up["token_id"] = json!("tok_made_up");
        let mut bulky = event(2, &acme_token);
        bulky["details"] = json!({ "note": "x".repeat(3000) });
        let mut listed = event(2, &acme_token);
        listed["details"] = json!(["not", "an", "object"]);
        let leap = event(5_000_000, &acme_token);
        let mut no_id = event(2, &acme_token);
        no_id["event_id"] = json!("");
        for (what, bad) in [
            ("a huge seq", huge),
            ("another team's token", foreign),
            ("an unknown token", made_up),
            ("bulky details", bulky),
            ("details that are a list", listed),
            ("an empty event id", no_id),
            ("a leap of millions", leap),
        ] {
            let refused = acme_sends(vec![event(3, &acme_token), bad]).await;
            assert_eq!(
                (refused.status, refused.code()),
                (400, "request.invalid"),
                "{label}: {what}: {}",
                refused.body
            );
            assert!(
                refused.body["message"].as_str().unwrap().contains("Event"),
                "{label}: {what}"
            );
        }

        // The device's allowance: 12 events, 2 spent. A batch over it takes nothing.
        let nine: Vec<_> = (2..=10).map(|seq| event(seq, &acme_token)).collect();
        assert_eq!(acme_sends(nine).await.status, 200, "{label}");
        let over = acme_sends((11..=13).map(|seq| event(seq, &acme_token)).collect()).await;
        assert_eq!(
            (over.status, over.code()),
            (429, "device.rate_limited"),
            "{label}: {}",
            over.body
        );
        assert!(over.retry_after.is_some(), "{label}");
        let last = acme_sends(vec![event(11, &acme_token)]).await;
        assert_eq!(last.status, 200, "{label}: {}", last.body);
        let events: Vec<AuditEventView> = server
            .get(
                "/v1/audit/events?kind=code.copied&limit=100",
                Some(&acme.access_token),
            )
            .await
            .parse();
        assert_eq!(events.len(), 11, "{label}: nothing refused was stored");
        let report: ChainReport = server
            .get("/v1/audit/verify", Some(&acme.access_token))
            .await
            .parse();
        assert!(report.intact, "{label}");
    }
}

#[tokio::test]
async fn signed_batches_land_once_and_gaps_are_recorded() {
    for server in servers().await {
        let label = server.label;
        let owner = server.acme_owner().await;
        let token = shared_token(&server, &owner, "GitHub").await;
        let key = SigningKey::from_bytes(&[7; 32]);
        let public = STANDARD.encode(key.verifying_key().to_bytes());
        let bad_key = server
            .post(
                "/v1/devices",
                Some(&owner.access_token),
                &json!({ "name": "Laptop", "public_key": "AAAA" }),
            )
            .await;
        assert_eq!(
            (bad_key.status, bad_key.code()),
            (400, "request.invalid"),
            "{label}"
        );
        let enrolled = server
            .post(
                "/v1/devices",
                Some(&owner.access_token),
                &json!({ "name": "Laptop", "public_key": public }),
            )
            .await;
        assert_eq!(enrolled.status, 200, "{label}: {}", enrolled.body);
        let device_id = enrolled.body["id"].as_str().unwrap().to_owned();

        let first: BatchReceipt = send(&server, &owner, &key, &device_id, (&[1, 2, 3], &token))
            .await
            .parse();
        assert_eq!(
            first,
            BatchReceipt {
                accepted: 3,
                duplicates: 0,
                gaps: vec![]
            },
            "{label}"
        );
        // The same batch again (the answer was lost on the way back): nothing new.
        let again: BatchReceipt = send(&server, &owner, &key, &device_id, (&[1, 2, 3], &token))
            .await
            .parse();
        assert_eq!(
            again,
            BatchReceipt {
                accepted: 0,
                duplicates: 3,
                gaps: vec![]
            },
            "{label}"
        );
        // 4 and 5 never arrive.
        let gap: BatchReceipt = send(&server, &owner, &key, &device_id, (&[6, 7], &token))
            .await
            .parse();
        assert_eq!(
            gap,
            BatchReceipt {
                accepted: 2,
                duplicates: 0,
                gaps: vec![[4, 5]]
            },
            "{label}"
        );

        let events: Vec<AuditEventView> = server
            .get("/v1/audit/events?limit=1000", Some(&owner.access_token))
            .await
            .parse();
        let copied: Vec<&AuditEventView> =
            events.iter().filter(|e| e.kind == "code.copied").collect();
        assert_eq!(copied.len(), 5, "{label}");
        assert_eq!(copied[0].event_id, "00000000-0000-4000-8000-000000000001");
        assert_eq!(copied[0].details["device_id"], device_id.as_str());
        assert_eq!(copied[0].details["details"]["from"], "tray");
        let gap_event = events
            .iter()
            .find(|e| e.kind == "device.sequence_gap")
            .unwrap();
        assert_eq!(
            (
                gap_event.details["missing_from"].as_i64(),
                gap_event.details["missing_to"].as_i64()
            ),
            (Some(4), Some(5))
        );
        let report: ChainReport = server
            .get("/v1/audit/verify", Some(&owner.access_token))
            .await
            .parse();
        assert!(report.intact, "{label}");

        // Unsigned, mis-signed, altered after signing, unknown kinds: refused, nothing stored.
        let body =
            serde_json::to_vec(&json!({ "device_id": device_id, "events": [event(8, &token)] }))
                .unwrap();
        let signature = STANDARD.encode(key.sign(&body).to_bytes());
        let altered =
            serde_json::to_vec(&json!({ "device_id": device_id, "events": [event(9, &token)] }))
                .unwrap();
        assert_eq!(
            send_raw(&server, &owner, altered, &signature).await.code(),
            "signature.invalid",
            "{label}"
        );
        let other_key = SigningKey::from_bytes(&[8; 32]);
        assert_eq!(
            send(&server, &owner, &other_key, &device_id, (&[8], &token))
                .await
                .status,
            403,
            "{label}"
        );
        assert_eq!(
            send_raw(&server, &owner, body.clone(), "").await.status,
            403,
            "{label}"
        );
        let bad_kind = serde_json::to_vec(&json!({ "device_id": device_id, "events": [{ "event_id": "x", "seq": 8, "at": 0, "kind": "seed.fetched" }] })).unwrap();
        let bad_kind_signature = STANDARD.encode(key.sign(&bad_kind).to_bytes());
        assert_eq!(
            send_raw(&server, &owner, bad_kind, &bad_kind_signature)
                .await
                .status,
            400,
            "{label}"
        );

        // Another member cannot send as this device; a revoked device sends nothing.
        server.add_member(&owner, "mia@example.com", "member").await;
        let mia: TokenPair = server
            .login("mia@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        let foreign = send(&server, &mia, &key, &device_id, (&[8], &token)).await;
        assert_eq!(
            (foreign.status, foreign.code()),
            (403, "device.unknown"),
            "{label}"
        );
        // An admin cannot cut off an owner's device (the rank rule).
        server.add_member(&owner, "ada@example.com", "admin").await;
        let ada: TokenPair = server
            .login("ada@example.com", MEMBER_PASSWORD)
            .await
            .parse();
        let by_admin = server
            .delete(&format!("/v1/devices/{device_id}"), Some(&ada.access_token))
            .await;
        assert_eq!(
            (by_admin.status, by_admin.code()),
            (403, "auth.forbidden"),
            "{label}: {}",
            by_admin.body
        );
        let revoked = server
            .delete(
                &format!("/v1/devices/{device_id}"),
                Some(&owner.access_token),
            )
            .await;
        assert_eq!(revoked.status, 200, "{label}: {}", revoked.body);
        assert_eq!(
            send(&server, &owner, &key, &device_id, (&[8], &token))
                .await
                .code(),
            "device.unknown",
            "{label}"
        );
        let after: Vec<AuditEventView> = server
            .get("/v1/audit/events?limit=1000", Some(&owner.access_token))
            .await
            .parse();
        assert_eq!(
            after.iter().filter(|e| e.kind == "code.copied").count(),
            5,
            "{label}: nothing refused was stored"
        );
    }
}
