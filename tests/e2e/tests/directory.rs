//! The 2FA directory in the real app, downloading over real HTTP from a local server
//! that serves a fixture in the API v4 shape: search with a typo, plain verdicts, the
//! token detail's service info, conditional re-download, and a broken download that
//! leaves the cached copy (and offline searching) intact after a restart.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::doc_markdown)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use kaito_e2e::{AppSession, workspace_root};

const ETAG: &str = "\"fixture-1\"";
const LAST_MODIFIED: &str = "Wed, 05 Aug 2026 02:17:11 GMT";
const GITHUB_URI: &str =
    "otpauth://totp/GitHub:bob?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=GitHub";

/// A one-file HTTP/1.1 server: the fixture with an ETag (304 when it matches), or a
/// truncated body once `broken` is set. Records each request's headers.
struct DirectoryServer {
    url: String,
    broken: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl DirectoryServer {
    fn start() -> Self {
        let body = std::fs::read(
            workspace_root().join("crates/kaito-core/tests/fixtures/directory/all-v4.json"),
        )
        .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/v4/all.json", listener.local_addr().unwrap());
        let broken = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (broken_flag, log) = (broken.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut head = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    head.push_str(&line);
                }
                let conditional = head.lines().any(|l| {
                    l.to_ascii_lowercase().starts_with("if-none-match:") && l.contains(ETAG)
                });
                // The server's clock is 15 minutes behind this machine's: the app must
                // warn that codes may fail (here it is the app's clock that is "ahead").
                let date =
                    httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(15 * 60));
                if head.starts_with("HEAD ") {
                    let r = format!(
                        "HTTP/1.1 200 OK\r\nDate: {date}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                    let _ = stream.write_all(r.as_bytes());
                    continue;
                }
                log.lock().unwrap().push(head.clone());
                let response: Vec<u8> = if broken_flag.load(Ordering::SeqCst) {
                    let half = &body[..body.len() / 2];
                    let mut r = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", half.len()).into_bytes();
                    r.extend_from_slice(half);
                    r
                } else if conditional {
                    format!(
                        "HTTP/1.1 304 Not Modified\r\nETag: {ETAG}\r\nConnection: close\r\n\r\n"
                    )
                    .into_bytes()
                } else {
                    let mut r = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nETag: {ETAG}\r\nLast-Modified: {LAST_MODIFIED}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).into_bytes();
                    r.extend_from_slice(&body);
                    r
                };
                let _ = stream.write_all(&response);
            }
        });
        Self {
            url,
            broken,
            requests,
        }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn directory_downloads_searches_enriches_tokens_and_survives_a_bad_update() {
    let server = DirectoryServer::start();
    let env = [("KAITO_DIRECTORY_URL", server.url.as_str())];
    let session = AppSession::start(&env).await;

    // First start: the app downloads the directory by itself.
    session.click("[data-testid=nav-directory]").await;
    let status = session
        .wait_content("[data-testid=directory-status]", |t| {
            t.contains("7 services")
        })
        .await;
    assert!(status.contains("data of 2026-08-05"), "{status}");
    assert!(
        session
            .content("[data-testid=directory-attribution]")
            .await
            .contains("MIT")
    );
    assert_eq!(server.requests().len(), 1);
    // The server's Date is 15 minutes behind ours: a warning, but nothing blocked.
    let warning = session
        .wait_content("[data-testid=clock-warning]", |t| !t.is_empty())
        .await;
    assert!(
        warning.starts_with("This computer's clock is 15 minutes ahead."),
        "{warning}"
    );

    // A typo still finds the service; a single hit opens with its verdict.
    session
        .type_into("[data-testid=directory-search]", "githb")
        .await;
    session
        .wait_content("[data-testid=directory-result-name]", |t| t == "github.com")
        .await;
    let verdict = session
        .wait_content("[data-testid=service-verdict]", |t| !t.is_empty())
        .await;
    assert_eq!(
        verdict,
        "Supports 2FA via TOTP, SMS, hardware key (U2F), custom app"
    );
    session.screenshot("directory-search").await;

    session
        .type_into("[data-testid=directory-search]", "nocode bakery")
        .await;
    session
        .wait_content("[data-testid=service-verdict]", |t| {
            t == "No 2FA — ask them"
        })
        .await;

    // "Update now" asks conditionally; the server's 304 keeps the data and clears errors.
    session.click("[data-testid=directory-refresh]").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.requests().len() < 2 {
        assert!(Instant::now() < deadline, "no second request");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        server.requests()[1]
            .to_ascii_lowercase()
            .contains("if-none-match: \"fixture-1\"")
    );
    session
        .wait_content("[data-testid=directory-status]", |t| {
            t.contains("7 services") && !t.contains("updating")
        })
        .await;
    assert_eq!(session.content("[data-testid=directory-error]").await, "");

    // A new token is matched to its service: on the first-code check and in its details.
    session.click("[data-testid=nav-tokens]").await;
    session.click("[data-testid=add-token]").await;
    session.type_into("[data-testid=add-uri]", GITHUB_URI).await;
    session.click("[data-testid=add-continue]").await;
    session
        .wait_content("[data-testid=add-service]", |t| {
            t.contains("Supports 2FA via TOTP, SMS")
        })
        .await;
    let suggestion = session.content("[data-testid=totp-suggestion]").await;
    assert!(suggestion.contains("switch from SMS"), "{suggestion}");
    session.click("[data-testid=verify-confirm]").await;
    session.click("[data-testid=token-details]").await;
    let detail = session
        .wait_content("[data-testid=token-detail]", |t| {
            t.contains("Supports 2FA via")
        })
        .await;
    assert!(
        detail.contains("github.com in the 2FA directory"),
        "{detail}"
    );
    session.screenshot("token-detail-service").await;

    a_bad_update_keeps_the_cache(session, &server, &env).await;
}

/// Restart with a server now sending a truncated body: the update fails with a clear
/// error, and the cached directory still answers (offline use).
async fn a_bad_update_keeps_the_cache(
    session: AppSession,
    server: &DirectoryServer,
    env: &[(&str, &str)],
) {
    let data_dir = session.data_dir.clone();
    session.finish().await;
    server.broken.store(true, Ordering::SeqCst);
    let session = AppSession::start_in(data_dir, env).await;
    session.click("[data-testid=nav-directory]").await;
    session
        .wait_content("[data-testid=directory-status]", |t| {
            t.contains("7 services")
        })
        .await;
    let before = server.requests().len();
    assert_eq!(before, 2, "a fresh cache is not downloaded again at start");
    session.click("[data-testid=directory-refresh]").await;
    let error = session
        .wait_content("[data-testid=directory-error]", |t| !t.is_empty())
        .await;
    assert!(error.contains("not valid JSON"), "{error}");
    session
        .type_into("[data-testid=directory-search]", "paypal")
        .await;
    session
        .wait_content("[data-testid=service-notes]", |t| {
            t.contains("not available in every country")
        })
        .await;
    assert!(
        session
            .content("[data-testid=directory-status]")
            .await
            .contains("7 services")
    );
    session.screenshot("directory-offline").await;
    session.finish().await;
}
