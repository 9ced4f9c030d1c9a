//! The tests' OpenID provider (`tests/oidc/provider.mjs`, started by
//! `scripts/with-oidc-provider.sh`) and a browser's part of a sign-in there,
//! over plain HTTP: its sign-in page, then its "Continue" page, up to the
//! redirect back to the app.

use std::collections::BTreeMap;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

/// The provider's confidential client, as `provider.mjs` registers it.
pub const CLIENT_ID: &str = "kaito";
pub const CLIENT_SECRET: &str = "kaito-test-secret";

/// The running provider's issuer URL; the SSO tests need it.
#[must_use]
pub fn issuer() -> String {
    std::env::var("KAITO_TEST_OIDC_ISSUER").expect(
        "KAITO_TEST_OIDC_ISSUER is not set: run under scripts/with-oidc-provider.sh (make test does)",
    )
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("an HTTP client")
}

async fn control(path: &str, body: serde_json::Value) {
    let answer = client()
        .post(format!("{}{path}", issuer()))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("the test provider answers");
    assert_eq!(answer.status().as_u16(), 204, "{path}");
}

/// The claims the provider gives `email` from now on.
pub async fn set_account(email: &str, groups: &[&str], email_verified: bool) {
    control(
        "/test/accounts",
        serde_json::json!({ "email": email, "groups": groups, "email_verified": email_verified }),
    )
    .await;
}

/// How the provider spoils the next ID token it issues (signed with its own key):
/// `wrong_audience`, `expired`, or `bad_signature` (another key, its key id).
pub async fn tamper_next_id_token(how: &str) {
    control("/test/next-id-token", serde_json::json!({ "tamper": how })).await;
}

/// Signs in at the provider as `email` from `authorize_url` on, as a person in
/// a browser would, and answers the URL the provider sends the browser back to
/// (the app's loopback redirect, with `code` and `state`). The browser does not
/// follow that last redirect: the caller does, or reads it.
pub async fn sign_in_at_provider(authorize_url: &str, email: &str) -> String {
    let http = client();
    let issuer = issuer();
    let mut cookies: BTreeMap<String, String> = BTreeMap::new();
    let mut request = http.get(authorize_url);
    for _ in 0..12 {
        let cookie = cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        let response = request
            .header(COOKIE, cookie)
            .send()
            .await
            .expect("the provider answers");
        for set in response.headers().get_all(SET_COOKIE) {
            let pair = set.to_str().unwrap_or("").split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                cookies.insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|value| value.to_str().ok())
                .expect("a redirect names its target")
                .to_owned();
            let location = if location.starts_with('/') {
                format!("{issuer}{location}")
            } else {
                location
            };
            if !location.starts_with(&issuer) {
                return location;
            }
            request = http.get(location);
            continue;
        }
        let url = response.url().to_string();
        let page = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "{status} at {url}: {page}");
        let action = page
            .split("action=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no form at {url}: {page}"))
            .replace("&amp;", "&");
        let form: Vec<(&str, &str)> = if page.contains("name=\"login\"") {
            vec![("prompt", "login"), ("login", email), ("password", "any")]
        } else {
            vec![("prompt", "consent")]
        };
        request = http.post(action).form(&form);
    }
    panic!("the provider never sent the browser back");
}

/// Has `server`'s team (its owner's `owner_access`) sign in `example.com` through
/// the tests' provider.
pub async fn use_for_example_com(server: &super::Server, owner_access: &str, sso_only: bool) {
    server
        .call(
            reqwest::Method::PUT,
            "/v1/team/sso",
            owner_access,
            serde_json::json!({
                "issuer": issuer(),
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "email_domains": ["example.com"],
                "sso_only": sso_only,
            }),
        )
        .await;
}

/// What a browser does with the provider's page: signs in as `email` there, then
/// follows the redirect back to the app's loopback port. Answers the app's page.
pub async fn browse_and_return(authorize_url: &str, email: &str) -> String {
    let back = sign_in_at_provider(authorize_url, email).await;
    client()
        .get(back)
        .send()
        .await
        .expect("the app's loopback answers")
        .text()
        .await
        .expect("its page")
}
