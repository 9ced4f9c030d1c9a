//! The stored tokens: the list with its codes, copying, revealing, editing,
//! ordering and deleting.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kaito_core::CodeGenerator;
use kaito_vault::{StoredToken, TokenEdit, UndoHandle};

use super::{AppState, CopiedCode, lock, parse_id};
use crate::views::{self, DeletedToken, RevealedSecret, TokenEditForm, TokenView};
use crate::{AppError, IpcError};

impl AppState {
    /// Every live token with its codes at `unix_secs`.
    pub async fn list(&self, unix_secs: u64) -> Result<Vec<TokenView>, IpcError> {
        let vault = self.vault()?;
        let tokens = vault.list().await?;
        let missing = {
            let generators = lock(&self.generators);
            tokens
                .iter()
                .any(|token| !generators.contains_key(&token.id))
        };
        let mut failures = HashMap::new();
        if missing {
            // Matched by id: list() and secrets() are separate queries, so a token added
            // in between must not shift every seed onto its neighbour's metadata.
            let mut secrets: HashMap<_, _> = vault.secrets().await?.into_iter().collect();
            let mut generators = lock(&self.generators);
            for token in &tokens {
                match secrets.remove(&token.id) {
                    Some(Ok(secret)) => {
                        generators.insert(token.id, CodeGenerator::new(&token.with_secret(secret)));
                    }
                    Some(Err(error)) => {
                        failures.insert(token.id, error.to_string());
                    }
                    None => {}
                }
            }
        }
        let generators = lock(&self.generators);
        Ok(tokens
            .iter()
            .map(|token| {
                let code = match (generators.get(&token.id), failures.remove(&token.id)) {
                    (_, Some(error)) => Err(error),
                    (Some(generator), None) => Ok(views::code_view(generator, unix_secs)),
                    (None, None) => Err("the secret of this token could not be read".to_owned()),
                };
                let mut view = views::token_view(token, code);
                view.service = self.directory.brief_for(token);
                view
            })
            .collect())
    }

    /// The code to copy, computed now (never a stale one from the list), audited.
    pub async fn code_for_copy(&self, id: &str) -> Result<CopiedCode, IpcError> {
        Ok(self.vault()?.code_for_copy(parse_id(id)?).await?)
    }

    /// The current code and seconds left of each time-based token among `ids` whose
    /// generator is ready (the list has been shown since the last unlock). Nothing is
    /// decrypted here: the tray asks every second.
    pub fn live_codes(&self, ids: &[&str], unix_secs: u64) -> HashMap<String, (String, u32)> {
        let generators = lock(&self.generators);
        ids.iter()
            .filter_map(|id| {
                let generator = generators.get(&id.parse().ok()?)?;
                let window = generator.window(unix_secs)?;
                Some((
                    (*id).to_owned(),
                    (window.current.grouped(), window.remaining_secs),
                ))
            })
            .collect()
    }

    /// The secret, its link and a QR code, for moving a token to another device. With
    /// a passphrase set, it must be entered again: an unlocked, unattended window must
    /// not be enough to walk away with seeds. Without one, `confirm` asks the person
    /// outside the webview (a native dialog), so a script running in the page cannot
    /// read seeds on its own. Audited as a seed reveal.
    pub async fn reveal<Confirmed: Future<Output = bool>>(
        &self,
        id: &str,
        passphrase: Option<&str>,
        confirm: impl FnOnce(&StoredToken) -> Confirmed,
    ) -> Result<RevealedSecret, IpcError> {
        let id = parse_id(id)?;
        let vault = self.vault()?;
        let stored = if vault.has_passphrase().await? {
            let passphrase = passphrase
                .filter(|p| !p.is_empty())
                .ok_or_else(|| IpcError::from(AppError::RevealNeedsPassphrase))?;
            vault.unlock(passphrase).await?;
            vault.get(id).await?
        } else {
            let stored = vault.get(id).await?;
            if !confirm(&stored).await {
                return Err(AppError::RevealNotConfirmed.into());
            }
            stored
        };
        let token = stored.with_secret(vault.reveal_secret(id).await?);
        let uri = kaito_core::uri::to_uri(&token);
        let qr_svg = views::qr_svg(&uri, 232)?;
        let secret = views::in_groups_of_four(&token.secret.to_base32());
        Ok(RevealedSecret {
            secret,
            uri: uri.to_string(),
            qr_svg,
        })
    }

    /// Renames, regroups or (un)favourites a token; empty group means none.
    pub async fn edit(&self, id: &str, edit: TokenEditForm) -> Result<TokenView, IpcError> {
        let id = parse_id(id)?;
        let vault = self.vault()?;
        let group = edit
            .group
            .map(|g| Some(g.trim().to_owned()).filter(|g| !g.is_empty()));
        let stored = vault
            .edit(
                id,
                TokenEdit {
                    issuer: edit.issuer,
                    account: edit.account,
                    group,
                    favorite: edit.favorite,
                    ..TokenEdit::default()
                },
            )
            .await?;
        // The generator keeps its seed; only names changed.
        let code = lock(&self.generators)
            .get(&id)
            .map(|generator| views::code_view(generator, views::unix_now()))
            .ok_or_else(|| "the code will show after the next refresh".to_owned());
        let mut view = views::token_view(&stored, code);
        view.service = self.directory.brief_for(&stored);
        Ok(view)
    }

    /// Moves a token in front of `before` (or to the end), as a drag and drop does.
    pub async fn move_before(&self, id: &str, before: Option<&str>) -> Result<(), IpcError> {
        let id = parse_id(id)?;
        let before = before.map(parse_id).transpose()?;
        let vault = self.vault()?;
        let mut order = vault.list().await?;
        order.sort_by_key(|token| (token.sort_order, token.created_at));
        order.retain(|token| token.id != id);
        let position = before
            .and_then(|before| order.iter().position(|token| token.id == before))
            .unwrap_or(order.len());
        vault.move_to(id, position).await?;
        Ok(())
    }

    /// Every group name, for the group picker and filter.
    pub async fn groups(&self) -> Result<Vec<String>, IpcError> {
        Ok(self.vault()?.groups().await?)
    }

    pub async fn delete(&self, id: &str) -> Result<DeletedToken, IpcError> {
        let id = parse_id(id)?;
        let handle = self.vault()?.delete(id).await?;
        lock(&self.generators).remove(&id);
        Ok(DeletedToken {
            id: id.to_string(),
            deleted_at_ms: views::millis(handle.deleted_at),
        })
    }

    pub async fn undo_delete(&self, id: &str, deleted_at_ms: f64) -> Result<(), IpcError> {
        let id = parse_id(id)?;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        // millis from our own DeletedToken
        let deleted_at: SystemTime =
            UNIX_EPOCH + Duration::from_millis(deleted_at_ms.max(0.0) as u64);
        self.vault()?
            .undo_delete(UndoHandle { id, deleted_at })
            .await?;
        Ok(())
    }
}
