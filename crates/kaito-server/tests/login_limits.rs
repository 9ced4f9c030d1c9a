//! The limits on password attempts that are not per account: per client address,
//! and the bounded slots password hashing runs in. Both live in the server's
//! memory, not its database, so one backend (SQLite) shows them; the clients
//! connect from distinct loopback addresses (127.0.0.2, 127.0.0.3…), as distinct
//! machines would.

#![allow(clippy::unwrap_used)]

mod common;

use std::net::IpAddr;
use std::time::Duration;

use common::{OWNER_PASSWORD, TestServer, sqlite_server_with};
use kaito_server::login_throttle::LoginThrottle;
use kaito_server::password_work::PasswordWork;
use serde_json::json;

/// A client whose connections come from `source`.
fn client_from(source: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(source.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// A sign-in attempt: its status, its error code and its `Retry-After`.
async fn sign_in(
    server: &TestServer,
    client: &reqwest::Client,
    (email, password): (&str, &str),
    forwarded_for: Option<&str>,
) -> (u16, String, Option<u64>) {
    let mut request = client
        .post(format!("{}/v1/auth/login", server.base))
        .json(&json!({ "email": email, "password": password }));
    if let Some(forwarded) = forwarded_for {
        request = request.header("x-forwarded-for", forwarded);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().unwrap().parse().unwrap());
    let body: serde_json::Value = response.json().await.unwrap();
    (
        status,
        body["code"].as_str().unwrap_or("").to_owned(),
        retry_after,
    )
}

#[tokio::test]
async fn one_address_spraying_guesses_is_stopped_and_the_owner_still_signs_in() {
    let server = sqlite_server_with(|state| {
        state.with_login_throttle(LoginThrottle::new(5, Duration::from_secs(3600)))
    })
    .await;
    server.acme_owner().await;
    let attacker = client_from("127.0.0.2");
    // One guess at each of five accounts: within the per-account limit every time.
    for victim in ["a", "b", "c", "d", "e"] {
        let email = format!("{victim}@example.com");
        let (status, code, _) = sign_in(&server, &attacker, (&email, "summer2026!!"), None).await;
        assert_eq!((status, code.as_str()), (401, "auth.invalid_credentials"));
    }
    // The sixth, at the owner, is refused for the address before it is tried.
    let (status, code, retry_after) = sign_in(
        &server,
        &attacker,
        ("olivia@example.com", "summer2026!!"),
        None,
    )
    .await;
    assert_eq!((status, code.as_str()), (429, "auth.address_rate_limited"));
    assert!(
        retry_after.is_some_and(|secs| secs > 3000),
        "{retry_after:?}"
    );
    // Even with the right password: the address is out of attempts.
    let (status, _, _) = sign_in(
        &server,
        &attacker,
        ("olivia@example.com", OWNER_PASSWORD),
        None,
    )
    .await;
    assert_eq!(status, 429);
    // The owner, from her own machine, is not affected.
    let owner = client_from("127.0.0.3");
    let (status, code, _) = sign_in(
        &server,
        &owner,
        ("olivia@example.com", OWNER_PASSWORD),
        None,
    )
    .await;
    assert_eq!((status, code.as_str()), (200, ""));
    // Accepting invites draws on the same allowance: it also checks a password.
    let accept = attacker
        .post(format!("{}/v1/invites/accept", server.base))
        .json(&json!({ "token": "guessed", "name": "Eve", "password": "a long passphrase" }))
        .send()
        .await
        .unwrap();
    assert_eq!(accept.status().as_u16(), 429);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance() {
    let proxy = "127.0.0.4";
    let server = sqlite_server_with(|state| {
        state.with_login_throttle(
            LoginThrottle::new(2, Duration::from_secs(3600)).trusting(vec![proxy.parse().unwrap()]),
        )
    })
    .await;
    server.acme_owner().await;
    let through_proxy = client_from(proxy);
    let guess = ("olivia@example.com", "wrong passphrase");
    for _ in 0..2 {
        let (status, _, _) = sign_in(&server, &through_proxy, guess, Some("198.51.100.1")).await;
        assert_eq!(status, 401);
    }
    let (status, code, _) = sign_in(&server, &through_proxy, guess, Some("198.51.100.1")).await;
    assert_eq!((status, code.as_str()), (429, "auth.address_rate_limited"));
    // Another client behind the same proxy still may.
    let (status, _, _) = sign_in(
        &server,
        &through_proxy,
        ("olivia@example.com", OWNER_PASSWORD),
        Some("198.51.100.2"),
    )
    .await;
    assert_eq!(status, 200);
    // A client that is not the proxy cannot choose its address with the header.
    let direct = client_from("127.0.0.5");
    for forwarded in ["203.0.113.1", "203.0.113.2"] {
        assert_eq!(
            sign_in(&server, &direct, guess, Some(forwarded)).await.0,
            401
        );
    }
    assert_eq!(
        sign_in(&server, &direct, guess, Some("203.0.113.3"))
            .await
            .0,
        429
    );
}

#[tokio::test]
async fn a_flood_that_fills_the_hashing_slots_is_told_to_wait_and_uses_up_no_attempts() {
    // One slot and no queue: a burst finds it busy, as a real flood would find
    // every slot of a big server.
    let server = sqlite_server_with(|state| {
        state.with_password_work(
            PasswordWork::with_slots(1).with_queue_wait(Duration::from_millis(1)),
        )
    })
    .await;
    let flood = client_from("127.0.0.6");
    // Distinct emails, as in a flood meant to exhaust the server, not an account.
    let emails: Vec<String> = (0..12).map(|n| format!("user{n}@example.com")).collect();
    let guesses = emails
        .iter()
        .map(|email| sign_in(&server, &flood, (email, "wrong passphrase"), None));
    let answers = futures_util::future::join_all(guesses).await;
    let busy = answers.iter().filter(|(status, ..)| *status == 503).count();
    let wrong = answers.iter().filter(|(status, ..)| *status == 401).count();
    assert!(busy > 0, "{answers:?}");
    assert_eq!(busy + wrong, 12, "{answers:?}");
    for (status, code, retry_after) in &answers {
        if *status == 503 {
            assert_eq!((code.as_str(), *retry_after), ("server.busy", Some(1)));
        }
    }
    // Only the evaluated guesses count against their accounts: a member turned
    // away while a flood fills the slots keeps all five attempts.
    let counted: i64 = sqlx::query_scalar("SELECT COALESCE(SUM(failures), 0) FROM login_failures")
        .fetch_one(server.store.pool())
        .await
        .unwrap();
    assert_eq!(counted, i64::try_from(wrong).unwrap(), "{answers:?}");
}

#[tokio::test]
async fn made_up_invite_tokens_cost_no_password_hashing() {
    // One slot and no queue, as in the flood above: were each made-up token's
    // password hashed before the token is looked up, part of this burst would
    // find the slot busy (503) instead of hearing the invite is not valid.
    let server = sqlite_server_with(|state| {
        state.with_password_work(
            PasswordWork::with_slots(1).with_queue_wait(Duration::from_millis(1)),
        )
    })
    .await;
    let answers = futures_util::future::join_all((0..12).map(|n| {
        // One source each, so the per-address limit stays out of the way.
        let client = client_from(&format!("127.0.1.{}", n + 1));
        let base = server.base.clone();
        async move {
            client
                .post(format!("{base}/v1/invites/accept"))
                .json(&json!({
                    "token": format!("kin_made-up-{n}"),
                    "name": "Mallory",
                    "password": "a long enough passphrase",
                }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    }))
    .await;
    assert_eq!(answers, vec![410; 12]);
}
