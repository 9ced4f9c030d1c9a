//! Kaito's own backups through the importer interface, so "import a file" accepts
//! them like any other export. The format lives in [`crate::backup`].

use super::{Format, ImportError, ImportReport, Importer};
use crate::backup::{self, BackupError};

const FORMAT: Format = Format::KaitoBackup;

#[derive(Debug, Clone, Copy, Default)]
pub struct KaitoBackupImporter;

impl Importer for KaitoBackupImporter {
    fn format(&self) -> Format {
        FORMAT
    }

    fn sniff(&self, bytes: &[u8]) -> bool {
        backup::looks_like_backup(bytes)
    }

    fn import(&self, bytes: &[u8], password: Option<&str>) -> Result<ImportReport, ImportError> {
        super::check_size(bytes)?;
        if !backup::looks_like_backup(bytes) {
            return Err(ImportError::NotThisFormat { expected: FORMAT });
        }
        let password = password.ok_or(ImportError::PasswordRequired { format: FORMAT })?;
        let opened = backup::open_backup(bytes, password).map_err(|error| match error {
            BackupError::NotABackup => ImportError::NotThisFormat { expected: FORMAT },
            BackupError::WrongPassword | BackupError::EmptyPassword => {
                ImportError::WrongPassword { format: FORMAT }
            }
            BackupError::UnsupportedVersion { version } => ImportError::UnsupportedVersion {
                format: FORMAT,
                version: version.to_string(),
            },
            other @ (BackupError::Truncated { .. }
            | BackupError::Tampered
            | BackupError::Corrupt { .. }
            | BackupError::InvalidParams { .. }) => ImportError::corrupt(FORMAT, other.to_string()),
        })?;
        Ok(ImportReport {
            format: Some(FORMAT),
            tokens: opened.tokens,
            skipped: opened.skipped,
            incomplete: Vec::new(),
        })
    }
}
