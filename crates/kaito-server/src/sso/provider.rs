//! Talking to a team's identity provider: discovery, the authorization URL, the
//! code exchange and the ID token's checks, through `openidconnect` over an HTTP
//! client that reaches only the addresses the operator allows (an owner is not
//! the operator: the issuer must not become a way into the server's network).

use std::time::Duration;

use axum::http;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClientAuthMethod,
    CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthType, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken,
    EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpRequest,
    HttpResponse, IdTokenClaims, IdTokenFields, IssuerUrl, Nonce, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, StandardErrorResponse, StandardTokenResponse, TokenResponse as _,
};
use serde::{Deserialize, Serialize};

use super::SsoError;
use crate::error::ServerError;
use crate::siem::{CheckedResolver, DestinationPolicy, RefusedAddress};

/// An identity provider's answer larger than this is refused (a JWKS or token
/// response is a few kilobytes).
const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// The claims beyond the standard ones, kept as they came: the group claim's
/// name is the team's setting.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct OtherClaims {
    #[serde(flatten)]
    pub claims: serde_json::Map<String, serde_json::Value>,
}

impl AdditionalClaims for OtherClaims {}

type IdFields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type TokenAnswer = StandardTokenResponse<IdFields, CoreTokenType>;
type ProviderClient = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenAnswer,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;
pub(super) type VerifiedClaims = IdTokenClaims<OtherClaims, CoreGenderClaim>;

/// Why a request to the identity provider did not get an answer.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error(transparent)]
    Refused(#[from] RefusedAddress),
    #[error("{0}")]
    Http(#[from] reqwest::Error),
    #[error("the answer is over {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    #[error("{0}")]
    Malformed(#[from] http::Error),
}

/// The identity provider's HTTP client: names resolved and checked at every
/// connection, addresses written out checked before, no proxy, no redirects.
#[derive(Debug)]
pub struct OutboundHttp {
    client: reqwest::Client,
    policy: DestinationPolicy,
}

impl OutboundHttp {
    pub fn new(policy: DestinationPolicy) -> Result<Self, ServerError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(CheckedResolver(policy))
            .user_agent(concat!("kaito-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| ServerError::Startup(format!("no HTTP client: {error}")))?;
        Ok(Self { client, policy })
    }

    #[must_use]
    pub fn policy(&self) -> DestinationPolicy {
        self.policy
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, OutboundError> {
        if let Some(Err(refused)) = request
            .uri()
            .host()
            .and_then(|host| self.policy.check_literal(host))
        {
            return Err(refused.into());
        }
        let mut response = self
            .client
            .execute(reqwest::Request::try_from(request)?)
            .await?;
        let mut builder = http::Response::builder().status(response.status());
        if let Some(headers) = builder.headers_mut() {
            *headers = response.headers().clone();
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(OutboundError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(builder.body(body)?)
    }
}

// A named, boxed `Send` future: with closures the handlers' futures stop being
// `Send` (a higher-ranked lifetime the compiler cannot see through).
impl<'c> openidconnect::AsyncHttpClient<'c> for OutboundHttp {
    type Error = OutboundError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<HttpResponse, OutboundError>> + Send + 'c>,
    >;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

/// A team's identity provider, discovered from its issuer URL.
pub(super) struct IdentityProvider<'a> {
    client: ProviderClient,
    http: &'a OutboundHttp,
}

/// The issuer must be https; plain http only where the operator allows private
/// addresses (a provider on the same machine or network, as in tests).
pub(super) fn issuer_url(issuer: &str, policy: DestinationPolicy) -> Result<IssuerUrl, SsoError> {
    let url = IssuerUrl::new(issuer.trim().to_owned())
        .map_err(|error| SsoError::InvalidSettings(format!("The issuer is not a URL: {error}.")))?;
    match url.url().scheme() {
        "https" => Ok(url),
        "http" if policy.allow_private => Ok(url),
        _ => Err(SsoError::InvalidSettings(
            "The issuer must be an https:// URL.".to_owned(),
        )),
    }
}

impl<'a> IdentityProvider<'a> {
    /// Reads the provider's metadata and keys (`/.well-known/openid-configuration`).
    pub async fn discover(
        http: &'a OutboundHttp,
        issuer: &str,
        client_id: &str,
        client_secret: &str,
    ) -> Result<Self, SsoError> {
        let issuer = issuer_url(issuer, http.policy())?;
        let metadata = CoreProviderMetadata::discover_async(issuer, http)
            .await
            .map_err(|error| SsoError::ProviderUnreachable(chain(&error)))?;
        // Basic auth unless the provider takes the secret only in the body.
        let body_only = metadata
            .token_endpoint_auth_methods_supported()
            .is_some_and(|methods| {
                methods.contains(&CoreClientAuthMethod::ClientSecretPost)
                    && !methods.contains(&CoreClientAuthMethod::ClientSecretBasic)
            });
        let mut client = ProviderClient::from_provider_metadata(
            metadata,
            ClientId::new(client_id.to_owned()),
            Some(ClientSecret::new(client_secret.to_owned())),
        );
        if body_only {
            client = client.set_auth_type(AuthType::RequestBody);
        }
        Ok(Self { client, http })
    }

    /// The page to send the browser to.
    pub fn authorize_url(
        &self,
        redirect_uri: &str,
        (state, nonce, code_challenge): (&str, &str, &str),
        extra_scopes: &[String],
    ) -> Result<String, SsoError> {
        let client = self
            .client
            .clone()
            .set_redirect_uri(redirect(redirect_uri)?);
        let (state, nonce) = (state.to_owned(), nonce.to_owned());
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state),
                move || Nonce::new(nonce),
            )
            .add_scope(Scope::new("email".to_owned()))
            // The app made the verifier and keeps it: only the app that asked can
            // trade the code, whoever else catches the redirect.
            .add_extra_param("code_challenge", code_challenge)
            .add_extra_param("code_challenge_method", "S256");
        for scope in extra_scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        Ok(request.url().0.to_string())
    }

    /// Trades the code for tokens and checks the ID token: the issuer's signature,
    /// `iss`, `aud` (this client), `exp` and the nonce of this sign-in.
    pub async fn redeem(
        &self,
        redirect_uri: &str,
        code: &str,
        code_verifier: &str,
        nonce: &str,
    ) -> Result<VerifiedClaims, SsoError> {
        let client = self
            .client
            .clone()
            .set_redirect_uri(redirect(redirect_uri)?);
        let answer = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|error| SsoError::ProviderRefused(error.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(code_verifier.to_owned()))
            .request_async(self.http)
            .await
            .map_err(|error| match error {
                RequestTokenError::ServerResponse(refusal) => {
                    SsoError::ProviderRefused(refusal.to_string())
                }
                other => SsoError::ProviderUnreachable(chain(&other)),
            })?;
        let id_token = answer
            .id_token()
            .ok_or_else(|| SsoError::InvalidIdToken("the provider sent no ID token".to_owned()))?;
        id_token
            .claims(&client.id_token_verifier(), &Nonce::new(nonce.to_owned()))
            .cloned()
            .map_err(|error| SsoError::InvalidIdToken(error.to_string()))
    }
}

fn redirect(redirect_uri: &str) -> Result<RedirectUrl, SsoError> {
    RedirectUrl::new(redirect_uri.to_owned()).map_err(|_| SsoError::AttemptInvalid)
}

/// An error with its causes, for a message that says what went wrong.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
