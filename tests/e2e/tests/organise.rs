//! Organising tokens: pin favourites to the top, rename and group in the details,
//! filter by group, and reorder from the keyboard — all still in place after a restart.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::doc_markdown)]

use std::time::{Duration, Instant};

use fantoccini::Locator;
use fantoccini::key::Key;
use kaito_e2e::AppSession;

const URIS: &str = "otpauth://totp/Alpha:a?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Alpha
otpauth://totp/Bravo:b?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Bravo
otpauth://totp/Charlie:c?secret=MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK&issuer=Charlie
";

async fn click(session: &AppSession, css: &str) {
    session
        .client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("{css:?} never appeared: {error}"))
        .click()
        .await
        .unwrap_or_else(|error| panic!("clicking {css:?} failed: {error}"));
}

async fn type_into(session: &AppSession, css: &str, text: &str) {
    let element = session
        .client
        .wait()
        .for_element(Locator::Css(css))
        .await
        .expect("input exists");
    element.clear().await.expect("clear input");
    element.send_keys(text).await.expect("typing");
}

async fn issuers(session: &AppSession) -> Vec<String> {
    let names = session
        .eval("Array.from(document.querySelectorAll('[data-testid=token-issuer]'), (e) => e.textContent.trim())")
        .await;
    serde_json::from_value(names).unwrap()
}

async fn wait_issuers(session: &AppSession, expected: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let shown = issuers(session).await;
        if shown == expected {
            return;
        }
        if Instant::now() >= deadline {
            let shot = session.screenshot("failure-organise").await;
            panic!(
                "list shows {shown:?}, expected {expected:?} (see {})",
                shot.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn row(issuer_index: usize, part: &str) -> String {
    format!("[data-testid=token]:nth-child({issuer_index}) [data-testid={part}]")
}

#[tokio::test]
async fn favourites_groups_renames_and_order_persist() {
    let list = tempfile::Builder::new().suffix(".txt").tempfile().unwrap();
    std::fs::write(list.path(), URIS).unwrap();
    let session = AppSession::start(&[]).await;
    click(&session, "[data-testid=add-token]").await;
    click(&session, "[data-testid=mode-file]").await;
    let input = session
        .client
        .wait()
        .for_element(Locator::Css("[data-testid=import-file]"))
        .await
        .unwrap();
    input
        .send_keys(&list.path().display().to_string())
        .await
        .unwrap();
    click(&session, "[data-testid=import-commit]").await;
    wait_issuers(&session, &["Alpha", "Bravo", "Charlie"]).await;

    // Pinning Charlie puts it on top.
    click(&session, &row(3, "token-favorite")).await;
    wait_issuers(&session, &["Charlie", "Alpha", "Bravo"]).await;

    // Rename Alpha and put it in a group, from its details.
    click(&session, &row(2, "token-details")).await;
    click(&session, "[data-testid=edit-token]").await;
    type_into(&session, "[data-testid=edit-issuer]", "Alpha Corp").await;
    type_into(&session, "[data-testid=edit-group]", "Work").await;
    click(&session, "[data-testid=edit-save]").await;
    session
        .client
        .find(Locator::Css(
            "[data-testid=token-detail] button[aria-label='Close details']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_issuers(&session, &["Charlie", "Alpha Corp", "Bravo"]).await;

    // The group filter shows only the Work token.
    session
        .client
        .find(Locator::XPath(
            "//*[@data-testid='group-filter']/button[text()='Work']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_issuers(&session, &["Alpha Corp"]).await;
    session.screenshot("organise-group-filter").await;
    session
        .client
        .find(Locator::XPath(
            "//*[@data-testid='group-filter']/button[text()='All']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // Alt+Down on Alpha Corp moves it below Bravo.
    let copy = session
        .client
        .find(Locator::Css("[data-testid=token]:nth-child(2) button.copy"))
        .await
        .unwrap();
    copy.send_keys(&format!("{}{}", Key::Alt, Key::Down))
        .await
        .unwrap();
    wait_issuers(&session, &["Charlie", "Bravo", "Alpha Corp"]).await;

    // All of it is stored: a restart shows the same list.
    let data_dir = session.data_dir.clone();
    session.finish().await;
    let session = AppSession::start_in(data_dir, &[]).await;
    wait_issuers(&session, &["Charlie", "Bravo", "Alpha Corp"]).await;
    let group = session
        .eval("document.querySelector('[data-testid=token-group]')?.textContent")
        .await;
    assert_eq!(group.as_str(), Some("Work"));
    session.finish().await;
}
