//! Organising tokens: pin favourites to the top, rename and group in the details,
//! filter by group, and reorder from the keyboard — all still in place after a restart.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::doc_markdown)]

use fantoccini::Locator;
use fantoccini::key::Key;
use kaito_e2e::AppSession;

const URIS: &str = "otpauth://totp/Alpha:a?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Alpha
otpauth://totp/Bravo:b?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Bravo
otpauth://totp/Charlie:c?secret=MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK&issuer=Charlie
";

fn row(issuer_index: usize, part: &str) -> String {
    format!("[data-testid=token]:nth-child({issuer_index}) [data-testid={part}]")
}

#[tokio::test]
async fn favourites_groups_renames_and_order_persist() {
    let list = tempfile::Builder::new().suffix(".txt").tempfile().unwrap();
    std::fs::write(list.path(), URIS).unwrap();
    let session = AppSession::start(&[]).await;
    session.click("[data-testid=add-token]").await;
    session.click("[data-testid=mode-file]").await;
    session
        .choose_file("[data-testid=import-file]", list.path())
        .await;
    session.click("[data-testid=import-commit]").await;
    session.wait_issuers(&["Alpha", "Bravo", "Charlie"]).await;

    // Pinning Charlie puts it on top.
    session.click(&row(3, "token-favorite")).await;
    session.wait_issuers(&["Charlie", "Alpha", "Bravo"]).await;

    // Rename Alpha and put it in a group, from its details.
    session.click(&row(2, "token-details")).await;
    session.click("[data-testid=edit-token]").await;
    session
        .type_into("[data-testid=edit-issuer]", "Alpha Corp")
        .await;
    session.type_into("[data-testid=edit-group]", "Work").await;
    session.click("[data-testid=edit-save]").await;
    // The save re-renders the details: a click on Close that lands on the old
    // button closes nothing, so it is clicked again until the details are gone,
    // as a person would.
    for _attempt in 0..5 {
        session
            .click("[data-testid=token-detail] button[aria-label='Close details']")
            .await;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let open = session
            .eval("document.querySelector('[data-testid=token-detail]') !== null")
            .await;
        if open == serde_json::Value::Bool(false) {
            break;
        }
    }
    session
        .wait_issuers(&["Charlie", "Alpha Corp", "Bravo"])
        .await;

    // The group filter shows only the Work token.
    session
        .click_xpath("//*[@data-testid='group-filter']/button[text()='Work']")
        .await;
    session.wait_issuers(&["Alpha Corp"]).await;
    session.screenshot("organise-group-filter").await;
    session
        .click_xpath("//*[@data-testid='group-filter']/button[text()='All']")
        .await;

    // Alt+Down on Alpha Corp moves it below Bravo.
    let copy = session
        .client
        .find(Locator::Css("[data-testid=token]:nth-child(2) button.copy"))
        .await
        .unwrap();
    copy.send_keys(&format!("{}{}", Key::Alt, Key::Down))
        .await
        .unwrap();
    session
        .wait_issuers(&["Charlie", "Bravo", "Alpha Corp"])
        .await;

    // All of it is stored: a restart shows the same list.
    let data_dir = session.data_dir.clone();
    session.finish().await;
    let session = AppSession::start_in(data_dir, &[]).await;
    session
        .wait_issuers(&["Charlie", "Bravo", "Alpha Corp"])
        .await;
    let group = session
        .eval("document.querySelector('[data-testid=token-group]')?.textContent")
        .await;
    assert_eq!(group.as_str(), Some("Work"));
    session.finish().await;
}
