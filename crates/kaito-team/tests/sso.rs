//! Signing a device in through the team's identity provider (#17), with the real
//! keychain and vault, against a real kaito-server and a real OpenID provider
//! (`scripts/with-oidc-provider.sh`): the "browser" is handed the provider's page,
//! signs in there over HTTP and comes back to the device's loopback port; the
//! device ends up signed in as that member, and a provider that says no, a
//! cancel, or a forged return leaves it signed out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use kaito_server::testing::identity_provider::{
    browse_and_return, set_account, use_for_example_com,
};
use kaito_server::testing::team_with_member;
use kaito_team::{TeamClient, TeamError, sso_availability};
use kaito_vault::{KeyNamespace, KeychainKeyStore, SecretSlot, Vault};

async fn device(path: &std::path::Path, profile: &str) -> (Vault, Arc<dyn SecretSlot>) {
    assert_eq!(
        std::env::var("KAITO_TEST_SESSION").as_deref(),
        Ok("inner"),
        "this test uses the real keychain: run it through scripts/with-test-session.sh"
    );
    let keys = KeychainKeyStore::native(KeyNamespace::current(format!(
        "{profile}-{}",
        std::process::id()
    )))
    .unwrap();
    let slot: Arc<dyn SecretSlot> = Arc::new(keys.secret("team"));
    (Vault::open(path, Arc::new(keys)).await.unwrap(), slot)
}

/// A browser that runs the sign-in at the provider as `email` on its own task,
/// and keeps the page the app showed it at the end.
fn browser(
    email: &'static str,
    shown: Arc<Mutex<Option<String>>>,
) -> impl Fn(&str) -> Result<(), String> + Sync {
    move |url: &str| {
        let url = url.to_owned();
        let shown = shown.clone();
        tokio::spawn(async move {
            let page = browse_and_return(&url, email).await;
            *shown.lock().unwrap() = Some(page);
        });
        Ok(())
    }
}

#[tokio::test]
async fn a_member_signs_in_through_the_system_browser_and_the_identity_provider() {
    let team = team_with_member().await;
    let server = team.server.url();
    let before = sso_availability(&server, "mia@example.com").await.unwrap();
    assert!(!before.available);
    use_for_example_com(&team.server, &team.owner.access_token, false).await;
    assert!(
        sso_availability(&server, "mia@example.com")
            .await
            .unwrap()
            .available
    );
    set_account("mia@example.com", &[], true).await;

    let dir = tempfile::tempdir().unwrap();
    let (vault, slot) = device(&dir.path().join("vault.db"), "team-sso").await;
    let shown = Arc::new(Mutex::new(None));
    let never = tokio::sync::Notify::new();
    let client = TeamClient::sign_in_with_sso(
        &vault,
        slot.clone(),
        (&server, "mia@example.com"),
        "Mia's laptop",
        &browser("mia@example.com", shown.clone()),
        &never,
    )
    .await
    .unwrap();
    assert_eq!(client.link().email, "mia@example.com");
    // The browser reads the app's page on its own task.
    let mut page = String::new();
    for _ in 0..100 {
        if let Some(shown) = shown.lock().unwrap().clone() {
            page = shown;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(page.contains("Signed in to Kaito"), "{page}");
    // Kept like a password sign-in: the next start resumes it.
    drop(client);
    let resumed = TeamClient::resume(&vault, slot)
        .await
        .unwrap()
        .expect("kept");
    assert_eq!(resumed.link().email, "mia@example.com");
    let tokens = resumed.shared_tokens(&vault).await;
    assert!(tokens.is_ok(), "{tokens:?}");
}

#[tokio::test]
async fn a_refusal_a_cancel_or_a_forged_return_leaves_the_device_signed_out() {
    let team = team_with_member().await;
    let server = team.server.url();
    use_for_example_com(&team.server, &team.owner.access_token, false).await;
    let dir = tempfile::tempdir().unwrap();
    let (vault, slot) = device(&dir.path().join("vault.db"), "team-sso-refused").await;
    let never = tokio::sync::Notify::new();

    // The person says no at the provider: it comes back with an error.
    let deny = |url: &str| {
        let url = reqwest::Url::parse(url).unwrap();
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let get = |name: &str| pairs.iter().find(|(key, _)| key == name).unwrap().1.clone();
        let (redirect, state) = (get("redirect_uri"), get("state"));
        tokio::spawn(async move {
            // A forged return first (another state), then the provider's refusal.
            let forged = reqwest::get(format!("{redirect}?code=stolen&state=forged"))
                .await
                .unwrap();
            assert_eq!(forged.status().as_u16(), 404);
            reqwest::get(format!(
                "{redirect}?error=access_denied&error_description=End-User+aborted&state={state}"
            ))
            .await
            .unwrap();
        });
        Ok(())
    };
    let refused = TeamClient::sign_in_with_sso(
        &vault,
        slot.clone(),
        (&server, "mia@example.com"),
        "Mia's laptop",
        &deny,
        &never,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&refused, TeamError::SsoRefusedByProvider(why) if why.contains("access_denied")),
        "{refused:?}"
    );
    assert_eq!(refused.code(), "team.sso_refused");

    // Cancelled while the browser is open.
    let cancel = Arc::new(tokio::sync::Notify::new());
    let idle = |_: &str| Ok(());
    let cancelling = cancel.clone();
    // Again and again: a cancel before the wait begins reaches nobody.
    let repeating = tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            cancelling.notify_waiters();
        }
    });
    let cancelled = TeamClient::sign_in_with_sso(
        &vault,
        slot.clone(),
        (&server, "mia@example.com"),
        "Mia's laptop",
        &idle,
        &cancel,
    )
    .await
    .unwrap_err();
    repeating.abort();
    assert_eq!(cancelled.code(), "team.sso_cancelled");

    // No browser at all.
    let none = |_: &str| Err("xdg-open is not installed".to_owned());
    let no_browser = TeamClient::sign_in_with_sso(
        &vault,
        slot.clone(),
        (&server, "mia@example.com"),
        "Mia's laptop",
        &none,
        &never,
    )
    .await
    .unwrap_err();
    assert_eq!(no_browser.code(), "team.no_browser");
    assert!(TeamClient::resume(&vault, slot).await.unwrap().is_none());

    // An email whose domain has no provider here.
    let elsewhere = TeamClient::sign_in_with_sso(
        &vault,
        device(&dir.path().join("other.db"), "team-sso-other")
            .await
            .1,
        (&server, "mia@other.example"),
        "Mia's laptop",
        &idle,
        &never,
    )
    .await
    .unwrap_err();
    assert_eq!(elsewhere.code(), "sso.not_configured");
}
