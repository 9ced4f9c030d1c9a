//! The signed-in connection to a team server: one HTTP client, the access token
//! renewed once when the server stops taking it, and the server's `{code, message}`
//! refusals read into [`TeamError`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use kaito_api::{ApiError, RefreshRequest, TokenPair, paths};
use kaito_vault::{SecretSlot, VaultError};
use zeroize::{Zeroize, Zeroizing};

use crate::error::TeamError;
use crate::link::TeamLink;
use crate::secrets::TeamSecrets;

/// An access token and when to stop using it.
pub(crate) struct Access {
    pub(crate) token: Zeroizing<String>,
    pub(crate) good_until: Instant,
}

impl Access {
    /// A fresh access token, used until 30 s before the server's expiry.
    pub(crate) fn from_pair(pair: &TokenPair) -> Self {
        Self {
            token: Zeroizing::new(pair.access_token.clone()),
            good_until: Instant::now()
                + Duration::from_secs(pair.access_expires_in_secs.saturating_sub(30)),
        }
    }
}

/// The signed-in team connection of this profile.
pub struct TeamClient {
    pub(crate) http: reqwest::Client,
    pub(crate) link: TeamLink,
    pub(crate) secrets: Arc<dyn SecretSlot>,
    /// One refresh at a time: refresh tokens rotate, and a second use of a spent
    /// one would end the session.
    pub(crate) access: tokio::sync::Mutex<Option<Access>>,
}

impl std::fmt::Debug for TeamClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamClient")
            .field("link", &self.link)
            .finish_non_exhaustive()
    }
}

/// No redirects: a 307 or 308 would send the password or the refresh token on to
/// wherever the answer points.
pub(crate) fn http_client() -> Result<reqwest::Client, TeamError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(15))
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("kaito/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| TeamError::Protocol(format!("no HTTP client: {error}")))
}

pub(crate) fn unreachable(url: &str, error: &reqwest::Error) -> TeamError {
    TeamError::Unreachable {
        url: url.to_owned(),
        detail: if error.is_timeout() {
            "it did not answer in time".to_owned()
        } else if error.is_connect() {
            "the connection was refused or the name is unknown".to_owned()
        } else {
            error.to_string()
        },
    }
}

/// The body of a successful answer, or the server's `{code, message}` refusal.
pub(crate) async fn read<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, TeamError> {
    let status = response.status();
    if status.is_redirection() {
        return Err(redirected(&response));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|error| TeamError::Protocol(error.to_string()))?;
    if status.is_success() {
        return serde_json::from_slice(&bytes)
            .map_err(|error| TeamError::Protocol(format!("an answer did not parse: {error}")));
    }
    match serde_json::from_slice::<ApiError>(&bytes) {
        Ok(error) => Err(TeamError::Refused {
            status: status.as_u16(),
            code: error.code,
            message: error.message,
        }),
        Err(_) => Err(TeamError::Protocol(format!(
            "HTTP {status} without an error body"
        ))),
    }
}

/// The server (or a proxy before it) answered with a redirect, which is not
/// followed.
pub(crate) fn redirected(response: &reqwest::Response) -> TeamError {
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|location| location.to_str().ok())
        .unwrap_or("elsewhere");
    TeamError::Protocol(format!(
        "the server redirects (HTTP {}) to {location}; Kaito does not follow redirects, so nothing was sent there. Use the server's own address.",
        response.status().as_u16()
    ))
}

pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, VaultError> + Send + 'static,
) -> Result<T, TeamError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| {
            TeamError::Vault(VaultError::Task {
                detail: error.to_string(),
            })
        })?
        .map_err(TeamError::Vault)
}

impl TeamClient {
    #[must_use]
    pub fn link(&self) -> &TeamLink {
        &self.link
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// A usable access token: the current one, or a new one bought with the refresh
    /// token (which rotates: the new one is in the keychain before it is used).
    pub(crate) async fn access_token(&self, renew: bool) -> Result<Zeroizing<String>, TeamError> {
        let mut access = self.access.lock().await;
        if !renew
            && let Some(current) = access.as_ref()
            && current.good_until > Instant::now()
        {
            return Ok(current.token.clone());
        }
        let slot = self.secrets.clone();
        let text = blocking(move || slot.load())
            .await?
            .ok_or(TeamError::SignedOut)?;
        let mut secrets = TeamSecrets::from_text(&text)?;
        let answer = self
            .http
            .post(format!("{}{}", self.link.server_url, paths::refresh()))
            .json(&RefreshRequest {
                refresh_token: secrets.refresh_token.clone(),
            })
            .send()
            .await
            .map_err(|error| unreachable(&self.link.server_url, &error))?;
        let pair: TokenPair = match read(answer).await {
            Err(TeamError::Refused { status: 401, .. }) => return Err(TeamError::SignedOut),
            other => other?,
        };
        secrets.refresh_token.zeroize();
        secrets.refresh_token.clone_from(&pair.refresh_token);
        let stored = secrets.to_text()?;
        let slot = self.secrets.clone();
        blocking(move || slot.store(&stored)).await?;
        let fresh = Access::from_pair(&pair);
        let token = fresh.token.clone();
        *access = Some(fresh);
        Ok(token)
    }

    /// Drops the access token held in memory (the app locked): the next call needs
    /// the refresh token, which only an unlocked vault opens.
    pub(crate) async fn forget_access(&self) {
        *self.access.lock().await = None;
    }

    /// Sends the request `build` makes with the access token. An access token the
    /// server no longer takes is renewed once; refused again, the sign-in has ended.
    pub(crate) async fn send_signed_in(
        &self,
        build: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, TeamError> {
        let mut renew = false;
        loop {
            let token = self.access_token(renew).await?;
            let response = build(token.as_str())
                .send()
                .await
                .map_err(|error| unreachable(&self.link.server_url, &error))?;
            if response.status() != reqwest::StatusCode::UNAUTHORIZED {
                return Ok(response);
            }
            if renew {
                return Err(TeamError::SignedOut);
            }
            renew = true;
        }
    }

    /// GET `path` as the signed-in member.
    pub(crate) async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<T, TeamError> {
        let url = format!("{}{path}", self.link.server_url);
        read(
            self.send_signed_in(|token| self.http.get(&url).bearer_auth(token))
                .await?,
        )
        .await
    }
}
