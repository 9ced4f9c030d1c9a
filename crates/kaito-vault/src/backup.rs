//! Encrypted backups through kaito-core's backup format. Vault-only metadata
//! (favourite, service domain, icon) rides in the format's opaque `extra` field,
//! one entry per token in file order.

use kaito_core::Token;
use kaito_core::backup::{BackupRandomness, KdfParams, open_backup, seal_backup};
use kaito_core::import::EntrySkip;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::TokenId;
use crate::audit::AuditAction;
use crate::error::VaultError;
use crate::vault::{Inserted, TokenExtras, Vault, unseal};

/// Key of our metadata inside the backup's `extra` object.
const EXTRA_KEY: &str = "kaito_vault";

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// Tokens added, in file order.
    pub added: Vec<TokenId>,
    /// Entries already in the vault (same issuer, account and secret): label of the
    /// entry and the existing token.
    pub duplicates: Vec<(String, TokenId)>,
    /// Entries the backup holds but that cannot be used.
    pub unusable: Vec<EntrySkip>,
}

fn extras_json(extras: &TokenExtras) -> Value {
    json!({
        "favorite": extras.favorite,
        "service_domain": extras.service_domain,
        "icon": extras.icon,
    })
}

fn extras_from_json(value: Option<&Value>) -> TokenExtras {
    let text = |key: &str| {
        value
            .and_then(|v| v.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    TokenExtras {
        favorite: value
            .and_then(|v| v.get("favorite"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        service_domain: text("service_domain"),
        icon: text("icon"),
    }
}

impl Vault {
    /// Seals every live token into a backup file under `password`. Reading the
    /// seeds, sealing and the `Export` audit event happen in one transaction: no
    /// export without its event.
    pub async fn export_backup(
        &self,
        password: &str,
        params: KdfParams,
    ) -> Result<Vec<u8>, VaultError> {
        let keys = self.unlocked_keys()?;
        let listed = self.list().await?;
        let mut tx = self.audited(self.now()).await?;
        let mut tokens = Vec::with_capacity(listed.len());
        let mut extras = Vec::with_capacity(listed.len());
        for stored in &listed {
            let secret = unseal(&mut tx, &keys, stored.id).await?;
            let token = Token::new(
                stored.issuer.clone(),
                stored.account.clone(),
                stored.kind,
                stored.algorithm,
                stored.digits,
                secret,
            )?
            .with_group(stored.group.clone());
            tokens.push(token);
            extras.push(extras_json(&TokenExtras {
                service_domain: stored.service_domain.clone(),
                icon: stored.icon.clone(),
                favorite: stored.favorite,
            }));
        }
        let extra = json!({ EXTRA_KEY: { "version": 1, "entries": extras } });
        let mut randomness = BackupRandomness {
            salt: [0; 16],
            nonce: [0; 12],
        };
        getrandom::fill(&mut randomness.salt)?;
        getrandom::fill(&mut randomness.nonce)?;
        let password = Zeroizing::new(password.to_owned());
        let count = tokens.len();
        let bytes = tokio::task::spawn_blocking(move || {
            seal_backup(&tokens, Some(&extra), &password, params, randomness)
        })
        .await??;
        tx.record(AuditAction::Export, None, Some(format!("{count} tokens")))
            .await?;
        tx.commit().await?;
        Ok(bytes)
    }

    /// Opens a backup and adds its tokens, skipping (and reporting) those already
    /// present. All additions commit together, with one `Add` event each and an
    /// `Import` summary event.
    pub async fn import_backup(
        &self,
        bytes: &[u8],
        password: &str,
    ) -> Result<ImportReport, VaultError> {
        // Locked: say so before spending a second on the backup's KDF.
        self.unlocked_keys()?;
        let bytes = bytes.to_vec();
        let password = Zeroizing::new(password.to_owned());
        let backup = tokio::task::spawn_blocking(move || open_backup(&bytes, &password)).await??;
        let entries = backup
            .extra
            .as_ref()
            .and_then(|extra| extra.get(EXTRA_KEY))
            .and_then(|ours| ours.get("entries"))
            .and_then(Value::as_array);
        // Tokens come without the skipped entries; walk file positions to pair each
        // token with its metadata entry.
        let skipped_positions: Vec<usize> = backup.skipped.iter().map(|skip| skip.index).collect();
        let positions = (0..).filter(|index| !skipped_positions.contains(index));

        let with_extras = backup
            .tokens
            .iter()
            .zip(positions)
            .map(|(token, position)| {
                (
                    token,
                    extras_from_json(entries.and_then(|list| list.get(position))),
                )
            })
            .collect();
        self.insert_imported(with_extras, backup.skipped).await
    }
}

impl Vault {
    /// Adds tokens read from another authenticator's export in one transaction with
    /// one `Import` audit event. Entries already in the vault are reported, not added
    /// twice; `unusable` (entries the importer could not read) is passed through to
    /// the report so the user sees every entry's fate in one place.
    pub async fn import_tokens(
        &self,
        tokens: &[Token],
        unusable: Vec<EntrySkip>,
    ) -> Result<ImportReport, VaultError> {
        let with_extras = tokens
            .iter()
            .map(|token| (token, TokenExtras::default()))
            .collect();
        self.insert_imported(with_extras, unusable).await
    }

    /// Inserts imported tokens in one transaction: an `Add` event per new token,
    /// duplicates reported rather than added, and one `Import` summary event.
    async fn insert_imported(
        &self,
        tokens: Vec<(&Token, TokenExtras)>,
        unusable: Vec<EntrySkip>,
    ) -> Result<ImportReport, VaultError> {
        let keys = self.unlocked_keys()?;
        let mut report = ImportReport {
            unusable,
            ..ImportReport::default()
        };
        let mut tx = self.audited(self.now()).await?;
        for (token, extras) in tokens {
            match self.insert_token(&mut tx, &keys, token, &extras).await? {
                Inserted::New(id) => report.added.push(id),
                Inserted::Duplicate(existing) => {
                    report.duplicates.push((token.display_name(), existing));
                }
            }
        }
        let detail = format!(
            "{} added, {} duplicates, {} unusable",
            report.added.len(),
            report.duplicates.len(),
            report.unusable.len()
        );
        tx.record(AuditAction::Import, None, Some(detail)).await?;
        tx.commit().await?;
        Ok(report)
    }

    /// For each token, the live vault token it duplicates (same issuer, account and
    /// secret), if any: lets an import preview mark what will be skipped.
    pub async fn existing_duplicates(
        &self,
        tokens: &[Token],
    ) -> Result<Vec<Option<TokenId>>, VaultError> {
        let keys = self.unlocked_keys()?;
        let mut conn = self.pool().acquire().await?;
        let mut found = Vec::with_capacity(tokens.len());
        for token in tokens {
            found.push(self.duplicate_of(&mut conn, &keys, token).await?);
        }
        Ok(found)
    }
}
