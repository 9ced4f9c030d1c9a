//! Shared tokens: the list this member may use, the server's codes, and the seeds of
//! full-seed grants kept sealed on the device.

use kaito_api::ids::TokenId;
use kaito_api::{CodesView, GrantMode, SeedView, SharedTokenView, paths};
use kaito_vault::{Vault, VaultError};
use zeroize::Zeroizing;

use crate::client::TeamClient;
use crate::error::TeamError;

/// The shared tokens as last fetched, and when: shown (as stale) while offline.
pub async fn cached_tokens(
    vault: &Vault,
) -> Result<Option<(Vec<SharedTokenView>, std::time::SystemTime)>, TeamError> {
    Ok(vault.cached_team_tokens().await?)
}

impl TeamClient {
    /// The shared tokens this member may use, with their grant; kept in the vault
    /// for when the server cannot be reached.
    pub async fn shared_tokens(&self, vault: &Vault) -> Result<Vec<SharedTokenView>, TeamError> {
        let tokens: Vec<SharedTokenView> = self.get(&paths::tokens()).await?;
        vault.cache_team_tokens(&tokens).await?;
        // A locked vault cannot touch seeds; the next list after unlocking will.
        match self.reconcile_seeds(vault, &tokens).await {
            Err(TeamError::Vault(VaultError::Locked)) | Ok(()) => {}
            Err(error) => return Err(error),
        }
        Ok(tokens)
    }

    /// The current and next code of a shared token, computed by the server (which
    /// records that this member viewed it).
    pub async fn codes(&self, token_id: &TokenId) -> Result<CodesView, TeamError> {
        self.get(&paths::token_codes(token_id)).await
    }

    /// Fetches the seed of a shared token this member holds a full-seed grant for and
    /// keeps it in the vault, sealed, so its codes work offline. The server logs the
    /// fetch.
    pub async fn keep_seed(&self, vault: &Vault, token_id: &TokenId) -> Result<(), TeamError> {
        // The rotation the copy is for, read before the seed: a rotation in between
        // makes the copy look older than it is, which costs one extra fetch.
        let rotated_at = cached_tokens(vault)
            .await?
            .and_then(|(tokens, _)| {
                tokens
                    .into_iter()
                    .find(|token| token.token_id == token_id.as_str())
            })
            .and_then(|token| token.rotated_at);
        let seed: SeedView = self.get(&paths::token_seed(token_id)).await?;
        let uri = Zeroizing::new(seed.uri);
        kaito_core::uri::parse(&uri).map_err(|error| {
            TeamError::Protocol(format!(
                "the server sent a seed that does not parse: {error}"
            ))
        })?;
        vault
            .store_team_seed(token_id.as_str(), &uri, rotated_at)
            .await?;
        Ok(())
    }

    /// Brings the kept seeds in line with a fresh list: a seed whose full-seed grant
    /// ended is removed, one kept before the token's latest rotation is fetched
    /// again (or removed when that fails, so no outdated code is ever shown).
    async fn reconcile_seeds(
        &self,
        vault: &Vault,
        listed: &[SharedTokenView],
    ) -> Result<(), TeamError> {
        for (token_id, kept_rotation) in vault.team_seed_rotations().await? {
            let listed = listed.iter().find(|token| token.token_id == token_id);
            let still_seed = listed.is_some_and(|token| token.access == Some(GrantMode::Seed));
            if !still_seed {
                vault.forget_team_seed(&token_id).await?;
                continue;
            }
            let rotated_since = listed.is_some_and(|token| token.rotated_at != kept_rotation);
            if rotated_since && self.keep_seed(vault, &token_id.parse()?).await.is_err() {
                vault.forget_team_seed(&token_id).await?;
            }
        }
        Ok(())
    }
}
