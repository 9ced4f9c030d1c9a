//! Text exports with one URI per line: `otpauth://` (Ente Auth's plain export,
//! andOTP/FreeOTP+ style lists) and Google Authenticator's `otpauth-migration://`
//! payloads. Both adapters read either kind of line; they differ only in what their
//! sniffer recognises, so the format picker can name the file correctly.
//!
//! Blank lines and lines starting with `#` or `//` are ignored. Any other line that
//! is not a URI of either kind is skipped with a reason, never echoed: it may hold a
//! secret.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use sha2::Digest as _;

use super::{Format, ImportError, ImportReport, Importer, MissingBatches, SkipReason};
use crate::token::Token;

#[derive(Debug, Clone, Copy, Default)]
pub struct UriListImporter;

#[derive(Debug, Clone, Copy, Default)]
pub struct GoogleMigrationImporter;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineKind {
    Ignored,
    Otpauth,
    Migration,
    Other,
}

fn classify(line: &str) -> LineKind {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') || line.starts_with("//") {
        return LineKind::Ignored;
    }
    let prefix: String = line
        .chars()
        .take(21)
        .collect::<String>()
        .to_ascii_lowercase();
    if prefix.starts_with("otpauth-migration://") {
        LineKind::Migration
    } else if prefix.starts_with("otpauth://") {
        LineKind::Otpauth
    } else {
        LineKind::Other
    }
}

/// The first meaningful line's kind, for sniffing.
fn first_kind(bytes: &[u8]) -> Option<LineKind> {
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)).ok()?;
    text.lines()
        .map(classify)
        .find(|kind| *kind != LineKind::Ignored)
}

impl Importer for UriListImporter {
    fn format(&self) -> Format {
        Format::UriList
    }

    fn sniff(&self, bytes: &[u8]) -> bool {
        first_kind(bytes) == Some(LineKind::Otpauth)
    }

    fn import(&self, bytes: &[u8], _password: Option<&str>) -> Result<ImportReport, ImportError> {
        import_lines(bytes, Format::UriList)
    }
}

impl Importer for GoogleMigrationImporter {
    fn format(&self) -> Format {
        Format::GoogleMigration
    }

    fn sniff(&self, bytes: &[u8]) -> bool {
        first_kind(bytes) == Some(LineKind::Migration)
    }

    fn import(&self, bytes: &[u8], _password: Option<&str>) -> Result<ImportReport, ImportError> {
        import_lines(bytes, Format::GoogleMigration)
    }
}

/// Reads a text of URI lines. Also used for Ente's decrypted payload.
pub(crate) fn import_lines(bytes: &[u8], format: Format) -> Result<ImportReport, ImportError> {
    super::check_size(bytes)?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text =
        std::str::from_utf8(bytes).map_err(|_| ImportError::NotThisFormat { expected: format })?;
    let mut report = ImportReport::new(format);
    let mut recognised = false;
    let mut batches = BatchTracker::default();
    for (index, line) in text.lines().enumerate() {
        let label = format!("line {}", index + 1);
        match classify(line) {
            LineKind::Ignored => {}
            LineKind::Other => report.skip(
                index,
                label,
                SkipReason::Uri {
                    detail: "not an otpauth:// or otpauth-migration:// URI".to_owned(),
                },
            ),
            LineKind::Otpauth => {
                recognised = true;
                let outcome = parse_uri(line.trim());
                let label = outcome.as_ref().map_or(label, Token::display_name);
                report.push(index, label, outcome);
            }
            LineKind::Migration => {
                recognised = true;
                read_migration_line(line.trim(), index, &mut report, &mut batches);
            }
        }
    }
    if !recognised {
        return Err(ImportError::NotThisFormat { expected: format });
    }
    report.incomplete = batches.missing();
    Ok(report)
}

/// Parses one `otpauth://` URI through the shared URI parser.
pub(crate) fn parse_uri(uri: &str) -> Result<Token, SkipReason> {
    crate::uri::parse(uri).map_err(|error| SkipReason::Uri {
        detail: error.to_string(),
    })
}

/// One migration payload holds several tokens; each is reported on its own, all
/// under the line's index.
fn read_migration_line(
    line: &str,
    index: usize,
    report: &mut ImportReport,
    batches: &mut BatchTracker,
) {
    match crate::migration::decode(line) {
        Ok(batch) => {
            // The same QR payload twice (scanned or pasted again) would import
            // every token on it twice.
            if !batches.first_sighting(line, &batch) {
                return;
            }
            for entry in batch {
                match entry {
                    Ok(token) => report.tokens.push(token),
                    Err(error) => {
                        let label = if error.name.is_empty() {
                            format!("line {}, account {}", index + 1, error.position + 1)
                        } else {
                            error.name.clone()
                        };
                        report.skip(
                            index,
                            label,
                            SkipReason::Uri {
                                detail: error.problem.to_string(),
                            },
                        );
                    }
                }
            }
        }
        Err(error) => report.skip(
            index,
            format!("line {}", index + 1),
            SkipReason::Uri {
                detail: error.to_string(),
            },
        ),
    }
}

/// Which codes of each multi-QR export were seen, by export id and size.
#[derive(Debug, Default)]
struct BatchTracker {
    exports: BTreeMap<(i32, u32), BTreeSet<u32>>,
    /// SHA-256 of each payload line read, so the secrets are not kept around.
    lines: HashSet<[u8; 32]>,
}

impl BatchTracker {
    /// Records the batch; false if this exact payload was already read. Only an
    /// identical payload counts as a repeat: some exporters give every export the
    /// same batch id, so two different single-code exports must both import.
    fn first_sighting(&mut self, line: &str, batch: &crate::migration::MigrationBatch) -> bool {
        let digest: [u8; 32] = sha2::Sha256::digest(line.as_bytes()).into();
        if !self.lines.insert(digest) {
            return false;
        }
        self.exports
            .entry((batch.batch_id, batch.batch_size))
            .or_default()
            .insert(batch.batch_index);
        true
    }

    fn missing(&self) -> Vec<MissingBatches> {
        self.exports
            .iter()
            .filter_map(|((_, total), seen)| {
                // A hostile payload may claim billions of codes; list at most the
                // first thousand gaps rather than allocate for all of them.
                let missing: Vec<u32> = (0..*total)
                    .filter(|i| !seen.contains(i))
                    .take(1000)
                    .map(|i| i + 1)
                    .collect();
                (!missing.is_empty()).then_some(MissingBatches {
                    total: *total,
                    missing,
                })
            })
            .collect()
    }
}
