//! Signing in through the team's identity provider, in the system browser and
//! never in a webview (RFC 8252): this device listens on a loopback port, keeps a
//! PKCE verifier to itself, has the server start the sign-in, opens the
//! provider's page, waits for the browser to come back with a code, and lets the
//! server trade it with the verifier.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use kaito_api::{SsoAvailability, SsoFinish, SsoRedirect, SsoStart, TokenPair, paths};
use kaito_vault::{SecretSlot, Vault};
use sha2::Digest as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use zeroize::Zeroizing;

use crate::client::{TeamClient, http_client, read, unreachable};
use crate::error::TeamError;
use crate::link::server_url;

/// Where the browser comes back to, on the loopback port.
const CALLBACK_PATH: &str = "/callback";
/// A browser's request line and headers are far shorter.
const MAX_REQUEST_BYTES: usize = 16 * 1024;

/// Whether `email`'s team signs in through an identity provider on `server`.
pub async fn sso_availability(server: &str, email: &str) -> Result<SsoAvailability, TeamError> {
    let server_url = server_url(server)?;
    let answer = http_client()?
        .get(format!("{server_url}{}", paths::sso_availability()))
        .query(&[("email", email.trim())])
        .send()
        .await
        .map_err(|error| unreachable(&server_url, &error))?;
    read(answer).await
}

/// A PKCE verifier (kept here) and its S256 challenge (sent).
fn pkce() -> Result<(Zeroizing<String>, String), TeamError> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(bytes.as_mut())
        .map_err(|error| TeamError::Protocol(format!("no randomness: {error}")))?;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let verifier = Zeroizing::new(engine.encode(bytes.as_ref()));
    let challenge = engine.encode(sha2::Sha256::digest(verifier.as_bytes()));
    Ok((verifier, challenge))
}

/// What the browser brought back.
enum Returned {
    Code(Zeroizing<String>),
    /// The provider sent the person back without a sign-in (`access_denied`, …).
    Refused(String),
}

impl TeamClient {
    /// Signs this device in through the team's identity provider: `open_browser`
    /// is handed the provider's page and must show it in the system browser. Ends
    /// when the browser comes back, when the sign-in expires, or when `cancelled`
    /// is notified. A refused sign-in leaves nothing behind.
    pub async fn sign_in_with_sso(
        vault: &Vault,
        secrets: Arc<dyn SecretSlot>,
        (server, email): (&str, &str),
        device_name: &str,
        open_browser: &(dyn Fn(&str) -> Result<(), String> + Sync),
        cancelled: &tokio::sync::Notify,
    ) -> Result<Self, TeamError> {
        let server_url = server_url(server)?;
        let http = http_client()?;
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|error| TeamError::SsoLoopback(error.to_string()))?;
        let port = listener
            .local_addr()
            .map_err(|error| TeamError::SsoLoopback(error.to_string()))?
            .port();
        let redirect_uri = format!("http://127.0.0.1:{port}{CALLBACK_PATH}");
        let (verifier, challenge) = pkce()?;
        let started = http
            .post(format!("{server_url}{}", paths::sso_start()))
            .json(&SsoStart {
                email: email.trim().to_owned(),
                redirect_uri,
                code_challenge: challenge,
            })
            .send()
            .await
            .map_err(|error| unreachable(&server_url, &error))?;
        let redirect: SsoRedirect = read(started).await?;
        open_browser(&redirect.authorize_url).map_err(TeamError::NoBrowser)?;
        let returned = tokio::select! {
            returned = wait_for_browser(&listener, &redirect.state) => returned?,
            () = tokio::time::sleep(Duration::from_secs(redirect.expires_in_secs)) => {
                return Err(TeamError::SsoTimedOut);
            }
            () = cancelled.notified() => return Err(TeamError::SsoCancelled),
        };
        let code = match returned {
            Returned::Code(code) => code,
            Returned::Refused(why) => return Err(TeamError::SsoRefusedByProvider(why)),
        };
        let finished = http
            .post(format!("{server_url}{}", paths::sso_finish()))
            .json(&SsoFinish {
                state: redirect.state.clone(),
                code: code.to_string(),
                code_verifier: verifier.to_string(),
            })
            .send()
            .await
            .map_err(|error| unreachable(&server_url, &error))?;
        let pair: TokenPair = read(finished).await?;
        Self::enrol(vault, secrets, server_url, http, &pair, device_name).await
    }
}

/// Answers the browser's requests on the loopback port until one comes back to
/// the callback with this sign-in's state. Others (a favicon, a stale or forged
/// redirect) are answered and ignored.
async fn wait_for_browser(listener: &TcpListener, state: &str) -> Result<Returned, TeamError> {
    loop {
        let (mut stream, _) = listener
            .accept()
            .await
            .map_err(|error| TeamError::SsoLoopback(error.to_string()))?;
        let Some(target) = request_target(&mut stream).await else {
            continue;
        };
        let Ok(url) = reqwest::Url::parse(&format!("http://127.0.0.1{target}")) else {
            respond(&mut stream, 400, "Kaito did not understand this address.").await;
            continue;
        };
        let value = |name: &str| {
            url.query_pairs()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned())
        };
        if url.path() != CALLBACK_PATH || value("state").as_deref() != Some(state) {
            respond(
                &mut stream,
                404,
                "This is not the sign-in Kaito is waiting for.",
            )
            .await;
            continue;
        }
        if let Some(code) = value("code") {
            respond(
                &mut stream,
                200,
                "Signed in to Kaito. You can close this tab and go back to the app.",
            )
            .await;
            return Ok(Returned::Code(Zeroizing::new(code)));
        }
        let error = value("error").unwrap_or_else(|| "no code".to_owned());
        let why = match value("error_description") {
            Some(description) => format!("{error}: {description}"),
            None => error,
        };
        respond(&mut stream, 200, &format!("Kaito was not signed in: {why}")).await;
        return Ok(Returned::Refused(why));
    }
}

/// The request line's target (`/callback?code=…`) of a GET, or `None` for
/// anything else (answered 405 or dropped).
async fn request_target(stream: &mut TcpStream) -> Option<String> {
    let mut request = Vec::new();
    let mut buffer = [0u8; 2048];
    while !request.windows(4).any(|window| window == b"\r\n\r\n") {
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer))
            .await
            .ok()?
            .ok()?;
        if read == 0 || request.len() + read > MAX_REQUEST_BYTES {
            return None;
        }
        request.extend_from_slice(&buffer[..read]);
    }
    let line = std::str::from_utf8(&request)
        .ok()?
        .lines()
        .next()?
        .to_owned();
    let mut parts = line.split(' ');
    let (method, target) = (parts.next()?, parts.next()?);
    if method != "GET" {
        respond(stream, 405, "Kaito waits for the browser here.").await;
        return None;
    }
    Some(target.to_owned())
}

async fn respond(stream: &mut TcpStream, status: u16, text: &str) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    let page = format!(
        "<!doctype html><meta charset=utf-8><title>Kaito</title>\
         <p style=\"font: 16px system-ui; margin: 3em\">{}</p>",
        html_escape(text)
    );
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
    // The person sees the app either way; a browser gone away changes nothing.
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
