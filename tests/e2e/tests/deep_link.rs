//! Opening an `otpauth://` link with Kaito while it runs: the second launch hands the
//! link to the running app (one Kaito per data directory) and exits; the running app
//! comes forward with the link in its first-code check.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::doc_markdown)]

use std::time::{Duration, Instant};

use fantoccini::Locator;
use kaito_e2e::{AppSession, app_binary};

const URI: &str =
    "otpauth://totp/Linked:frank?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Linked";

#[tokio::test]
async fn a_second_launch_with_a_link_opens_it_in_the_running_app() {
    let session = AppSession::start(&[]).await;
    session
        .client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("[data-testid=empty-state]"))
        .await
        .expect("the app is up");

    let mut second = std::process::Command::new(app_binary())
        .arg(URI)
        .env("KAITO_DATA_DIR", session.data_dir.path())
        .spawn()
        .expect("second launch");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = second.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = second.kill();
            panic!("the second launch did not hand over and exit");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "second launch exited with {status}");

    let deadline = Instant::now() + Duration::from_secs(20);
    while session.content("[data-testid=verify-issuer]").await != "Linked" {
        assert!(
            Instant::now() < deadline,
            "the link never reached the first-code check"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    session.screenshot("deep-link-verify").await;
    session
        .client
        .find(Locator::Css("[data-testid=verify-confirm]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while session.content("[data-testid=token-issuer]").await != "Linked" {
        assert!(Instant::now() < deadline, "the linked token was not saved");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    session.finish().await;
}
