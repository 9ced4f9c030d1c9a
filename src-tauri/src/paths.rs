//! Where Kaito keeps its files.

use std::path::{Path, PathBuf};

use tauri::{AppHandle, Manager, Runtime};

/// The directory holding the vault and settings. `KAITO_DATA_DIR` overrides the
/// platform default so tests and portable installs never touch a user's real data.
#[derive(Debug, Clone)]
pub struct DataDir(PathBuf);

impl DataDir {
    pub fn resolve<R: Runtime>(app: &AppHandle<R>) -> Result<Self, Box<dyn std::error::Error>> {
        let path = match std::env::var_os("KAITO_DATA_DIR") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => app.path().app_data_dir()?,
        };
        std::fs::create_dir_all(&path).map_err(|error| {
            format!(
                "cannot create the data directory {}: {error}",
                path.display()
            )
        })?;
        Ok(Self(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}
