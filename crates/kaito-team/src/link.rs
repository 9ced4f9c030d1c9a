//! Where a device is signed in, and the addresses and links that lead there.

use kaito_api::Role;
use serde::{Deserialize, Serialize};

use kaito_vault::Vault;

use crate::error::TeamError;

/// Who this device is signed in as, and where. Not secret: kept in the vault file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamLink {
    /// The server's base URL, as the member typed it (without a trailing slash).
    pub server_url: String,
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub team_id: String,
    pub team_name: String,
    /// This device's id on the server (its audit batches are signed by its key).
    pub device_id: String,
}

impl TeamLink {
    /// The team this profile is signed in to, if any.
    pub async fn load(vault: &Vault) -> Result<Option<Self>, TeamError> {
        Ok(vault.load_team_link().await?)
    }
}

/// Checks and tidies a server address: https, or http to this computer only (a
/// password must not cross a network in clear).
pub fn server_url(text: &str) -> Result<String, TeamError> {
    let trimmed = text.trim().trim_end_matches('/');
    let bad = || TeamError::BadUrl(text.trim().to_owned());
    let url = reqwest::Url::parse(trimmed).map_err(|_| bad())?;
    let local = matches!(
        url.host_str(),
        Some("localhost" | "127.0.0.1" | "[::1]" | "::1")
    );
    match url.scheme() {
        "https" => {}
        "http" if local => {}
        _ => return Err(bad()),
    }
    if url.host_str().is_none() || url.query().is_some() || url.fragment().is_some() {
        return Err(bad());
    }
    Ok(trimmed.to_owned())
}

/// A `kaito://join?server=…&invite=…` link, as an admin's invite makes it.
#[derive(Clone, PartialEq, Eq)]
pub struct JoinLink {
    pub server: String,
    pub invite: String,
}

impl std::fmt::Debug for JoinLink {
    // The invite is a one-time credential: kept out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinLink")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl JoinLink {
    /// Reads a join link; the server address must be one [`server_url`] accepts.
    pub fn parse(text: &str) -> Result<Self, TeamError> {
        let (server, invite) = read_link(text, ("join", "invite"), |why| {
            TeamError::BadJoinLink(why.to_owned())
        })?;
        Ok(Self { server, invite })
    }
}

/// A `kaito://set-password?server=…&token=…` link, as an admin's password reset
/// makes it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordLink {
    pub server: String,
    pub token: String,
}

impl std::fmt::Debug for PasswordLink {
    // The token is a one-time credential: kept out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordLink")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl PasswordLink {
    /// Reads a set-password link; the server address must be one [`server_url`]
    /// accepts.
    pub fn parse(text: &str) -> Result<Self, TeamError> {
        let (server, token) = read_link(text, ("set-password", "token"), |why| {
            TeamError::BadPasswordLink(why.to_owned())
        })?;
        Ok(Self { server, token })
    }
}

/// The server and the one-time `param` of a `kaito://{host}?server=…&{param}=…` link.
fn read_link(
    text: &str,
    (host, param): (&str, &str),
    bad: impl Fn(&str) -> TeamError,
) -> Result<(String, String), TeamError> {
    let url = reqwest::Url::parse(text.trim()).map_err(|_| bad("it is not a link"))?;
    if url.scheme() != "kaito" || url.host_str() != Some(host) {
        return Err(bad(&format!("it does not start with kaito://{host}")));
    }
    let value = |name: &str| {
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    let server = value("server").ok_or_else(|| bad("it names no server"))?;
    let secret = value(param).ok_or_else(|| bad(&format!("it carries no {param}")))?;
    server_url(&server)?;
    Ok((server, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_links_carry_a_server_and_an_invite() {
        let link =
            JoinLink::parse("kaito://join?server=https%3A%2F%2Fkaito.example.com&invite=kin_abc")
                .unwrap();
        assert_eq!(
            (link.server.as_str(), link.invite.as_str()),
            ("https://kaito.example.com", "kin_abc")
        );
        assert!(
            !format!("{link:?}").contains("kin_abc"),
            "the invite is logged"
        );
        for bad in [
            "https://kaito.example.com/join?server=x&invite=y",
            "kaito://join?invite=kin_abc",
            "kaito://join?server=https%3A%2F%2Fa.example",
            "kaito://join?server=http%3A%2F%2Fevil.example&invite=kin_abc",
            "not a link",
        ] {
            let error = JoinLink::parse(bad).unwrap_err();
            assert!(
                matches!(error.code().as_str(), "team.bad_join_link" | "team.bad_url"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn server_addresses_are_https_or_local_http() {
        assert_eq!(
            server_url(" https://kaito.example.com/ ").unwrap(),
            "https://kaito.example.com"
        );
        assert_eq!(
            server_url("http://127.0.0.1:8787").unwrap(),
            "http://127.0.0.1:8787"
        );
        assert_eq!(
            server_url("http://localhost:8787/").unwrap(),
            "http://localhost:8787"
        );
        for bad in [
            "http://kaito.example.com",
            "kaito.example.com",
            "ftp://kaito.example.com",
            "https://kaito.example.com/?x=1",
            "",
        ] {
            assert!(
                matches!(server_url(bad), Err(TeamError::BadUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn set_password_links_carry_a_server_and_a_token() {
        let link = PasswordLink::parse(
            "kaito://set-password?server=https%3A%2F%2Fkaito.example.com&token=kpw_abc",
        )
        .unwrap();
        assert_eq!(link.server, "https://kaito.example.com");
        assert_eq!(link.token, "kpw_abc");
        assert!(!format!("{link:?}").contains("kpw_abc"));
        for (text, why) in [
            (
                "kaito://join?server=https%3A%2F%2Fa.example&token=kpw_abc",
                "kaito://set-password",
            ),
            (
                "kaito://set-password?server=https%3A%2F%2Fa.example",
                "no token",
            ),
            ("kaito://set-password?token=kpw_abc", "no server"),
        ] {
            let refused = PasswordLink::parse(text).unwrap_err();
            assert_eq!(refused.code(), "team.bad_password_link", "{text}");
            assert!(refused.to_string().contains(why), "{text}: {refused}");
        }
    }
}
