//! Importers against fixtures written by `fixtures/import/generate.py`, an
//! implementation independent of Kaito's (Python hashlib, `cryptography`, `PyNaCl`).

// Helpers outside #[test] fns are not covered by clippy's allow-unwrap-in-tests; a
// panic in a fixture helper is the test failure report.
#![allow(clippy::unwrap_used)]

use kaito_core::import::{self, Format, ImportError, ImportReport, SkipReason};
use kaito_core::{Algorithm, OtpKind, Token};

const PASSWORD: &str = "correct horse";
const HELLO: &[u8] = b"Hello!\xde\xad\xbe\xef";
const RFC: &[u8] = b"12345678901234567890";
const TEST: &[u8] = b"TestSecretSuperSecre";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/import/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn find<'a>(report: &'a ImportReport, issuer: &str) -> &'a Token {
    report
        .tokens
        .iter()
        .find(|t| t.issuer == issuer)
        .unwrap_or_else(|| {
            panic!(
                "no token for {issuer}; got {:?}",
                report
                    .tokens
                    .iter()
                    .map(Token::display_name)
                    .collect::<Vec<_>>()
            )
        })
}

fn issuers(report: &ImportReport) -> Vec<&str> {
    report.tokens.iter().map(|t| t.issuer.as_str()).collect()
}

/// The tokens every "full" fixture holds, checked field by field.
fn assert_common_tokens(report: &ImportReport) {
    let github = find(report, "GitHub");
    assert_eq!(github.account, "alice@example.com");
    assert_eq!(github.kind, OtpKind::Totp { period: 30 });
    assert_eq!(github.algorithm, Algorithm::Sha1);
    assert_eq!(github.digits, 6);
    assert_eq!(github.secret.expose(), HELLO);

    let example = find(report, "Example");
    assert_eq!(example.account, "bob");
    assert_eq!(example.kind, OtpKind::Hotp { counter: 5 });
    assert_eq!(example.digits, 8);
    assert_eq!(example.secret.expose(), RFC);
}

fn assert_broken_skipped(report: &ImportReport) {
    let broken: Vec<_> = report
        .skipped
        .iter()
        .filter(|s| s.label.contains("Broken") || s.label.contains("carol"))
        .collect();
    assert_eq!(broken.len(), 1, "skips: {:?}", report.skipped);
    assert!(
        matches!(
            broken[0].reason,
            SkipReason::Secret(_) | SkipReason::Uri { .. }
        ),
        "{:?}",
        broken[0].reason
    );
    // The label names the entry but never carries the (broken) secret.
    assert!(!broken[0].to_string().contains("NOT-BASE32"));
}

#[test]
fn uri_list_imports_good_lines_and_skips_bad_ones() {
    let bytes = fixture("uri_list.txt");
    assert_eq!(import::detect(&bytes), Some(Format::UriList));
    let report = import::detect_and_import(&bytes, None).unwrap();
    assert_eq!(report.format, Some(Format::UriList));
    assert_common_tokens(&report);
    let work = find(&report, "Work");
    assert_eq!(work.kind, OtpKind::Totp { period: 60 });
    assert_eq!(work.algorithm, Algorithm::Sha256);
    assert_eq!(work.secret.expose(), TEST);
    assert_eq!(report.tokens.len(), 3);
    // The broken secret and the prose line; comments and blank lines are not skips.
    assert_eq!(report.skipped.len(), 2, "{:?}", report.skipped);
    assert_eq!(report.skipped[0].index, 5);
    assert_eq!(report.skipped[1].label, "line 7");
    for skip in &report.skipped {
        assert!(!skip.to_string().contains("NOT-BASE32"), "{skip}");
    }
}

#[test]
fn google_migration_lines_import_all_batches_and_skip_md5() {
    let bytes = fixture("google_migration.txt");
    assert_eq!(import::detect(&bytes), Some(Format::GoogleMigration));
    let report = import::detect_and_import(&bytes, None).unwrap();
    assert_eq!(report.format, Some(Format::GoogleMigration));
    assert_eq!(issuers(&report), ["GitHub", "Example", "Work"]);
    let example = find(&report, "Example");
    assert_eq!(example.kind, OtpKind::Hotp { counter: 7 });
    assert_eq!(example.digits, 8);
    assert_eq!(find(&report, "Work").algorithm, Algorithm::Sha256);
    assert_eq!(report.skipped.len(), 1);
    assert!(
        report.skipped[0].to_string().contains("MD5"),
        "{}",
        report.skipped[0]
    );
}

#[test]
fn aegis_plain_v3_resolves_groups_and_skips_unsupported() {
    let bytes = fixture("aegis_plain.json");
    assert_eq!(import::detect(&bytes), Some(Format::Aegis));
    let report = import::detect_and_import(&bytes, None).unwrap();
    assert_common_tokens(&report);
    assert_eq!(find(&report, "GitHub").group.as_deref(), Some("Work"));
    assert_eq!(find(&report, "Example").group, None);
    let steam = find(&report, "Steam");
    assert_eq!(steam.kind, OtpKind::Steam { period: 30 });
    assert_eq!(steam.digits, 5);
    assert_eq!(steam.group.as_deref(), Some("Home"));
    let work = find(&report, "Work");
    assert_eq!(
        (work.algorithm, work.digits, work.kind),
        (Algorithm::Sha512, 7, OtpKind::Totp { period: 60 })
    );
    // Several groups: the first one wins.
    assert_eq!(work.group.as_deref(), Some("Work"));
    assert_eq!(report.tokens.len(), 4);

    assert_eq!(report.skipped.len(), 2);
    let yandex = report
        .skipped
        .iter()
        .find(|s| s.label.contains("Yandex"))
        .unwrap();
    assert_eq!(yandex.index, 3);
    assert_eq!(
        yandex.reason,
        SkipReason::UnsupportedKind {
            kind: "yandex".to_owned()
        }
    );
    assert_broken_skipped(&report);
}

#[test]
fn aegis_plain_v1_uses_group_names() {
    let report = import::AegisImporter.import_bytes(&fixture("aegis_plain_v1.json"));
    assert_eq!(find(&report, "GitHub").group.as_deref(), Some("Personal"));
    assert_eq!(find(&report, "NoGroup").group, None);
    assert_eq!(find(&report, "NoGroup").algorithm, Algorithm::Sha256);
}

#[test]
fn aegis_encrypted_opens_with_password_past_a_biometric_slot() {
    let bytes = fixture("aegis_encrypted.json");
    assert_eq!(import::detect(&bytes), Some(Format::Aegis));
    let report = import::detect_and_import(&bytes, Some(PASSWORD)).unwrap();
    assert_common_tokens(&report);
    assert_eq!(report.tokens.len(), 4);
    assert_eq!(report.skipped.len(), 2);
}

#[test]
fn aegis_encrypted_errors_are_specific() {
    let bytes = fixture("aegis_encrypted.json");
    assert_eq!(
        import::detect_and_import(&bytes, None).unwrap_err(),
        ImportError::PasswordRequired {
            format: Format::Aegis
        }
    );
    assert_eq!(
        import::detect_and_import(&bytes, Some("wrong horse")).unwrap_err(),
        ImportError::WrongPassword {
            format: Format::Aegis
        }
    );
    let tampered =
        import::detect_and_import(&fixture("aegis_encrypted_tampered.json"), Some(PASSWORD))
            .unwrap_err();
    assert!(
        matches!(&tampered, ImportError::Corrupt { format: Format::Aegis, detail } if detail.contains("authentication")),
        "{tampered:?}"
    );
    let truncated =
        import::detect_and_import(&fixture("aegis_truncated.json"), Some(PASSWORD)).unwrap_err();
    assert!(
        matches!(&truncated, ImportError::Corrupt { format: Format::Aegis, detail } if detail.contains("truncated")),
        "{truncated:?}"
    );
    assert_eq!(
        import::detect_and_import(&fixture("aegis_future_version.json"), None).unwrap_err(),
        ImportError::UnsupportedVersion {
            format: Format::Aegis,
            version: "2".to_owned()
        }
    );
}

#[test]
fn aegis_hostile_kdf_parameters_are_refused_not_run() {
    let text = String::from_utf8(fixture("aegis_encrypted.json")).unwrap();
    let greedy = text.replace("\"n\": 32768", "\"n\": 1073741824");
    let error = import::detect_and_import(greedy.as_bytes(), Some(PASSWORD)).unwrap_err();
    assert!(
        matches!(&error, ImportError::Unsupported { format: Format::Aegis, detail } if detail.contains("expensive")),
        "{error:?}"
    );
    let odd = text.replace("\"n\": 32768", "\"n\": 1000");
    assert!(matches!(
        import::detect_and_import(odd.as_bytes(), Some(PASSWORD)),
        Err(ImportError::Corrupt { .. })
    ));
}

#[test]
fn twofas_plain_imports_and_skips_bad_entries() {
    let bytes = fixture("twofas_plain.2fas");
    assert_eq!(import::detect(&bytes), Some(Format::TwoFas));
    let report = import::detect_and_import(&bytes, None).unwrap();
    assert_common_tokens(&report);
    assert_eq!(find(&report, "GitHub").group.as_deref(), Some("Work"));
    let steam = find(&report, "Steam");
    assert_eq!(
        (steam.kind, steam.digits, steam.account.as_str()),
        (OtpKind::Steam { period: 30 }, 5, "gamer")
    );
    assert_eq!(report.tokens.len(), 3);
    assert_eq!(report.skipped.len(), 2);
    assert_broken_skipped(&report);
    let md5 = report
        .skipped
        .iter()
        .find(|s| s.label.contains("Odd"))
        .unwrap();
    assert!(
        matches!(md5.reason, SkipReason::Parameters(_)),
        "{:?}",
        md5.reason
    );
}

#[test]
fn twofas_encrypted_opens_and_errors_are_specific() {
    let bytes = fixture("twofas_encrypted.2fas");
    assert_eq!(import::detect(&bytes), Some(Format::TwoFas));
    let report = import::detect_and_import(&bytes, Some(PASSWORD)).unwrap();
    assert_common_tokens(&report);
    assert_eq!(report.tokens.len(), 3);
    assert_eq!(
        import::detect_and_import(&bytes, None).unwrap_err(),
        ImportError::PasswordRequired {
            format: Format::TwoFas
        }
    );
    assert_eq!(
        import::detect_and_import(&bytes, Some("wrong horse")).unwrap_err(),
        ImportError::WrongPassword {
            format: Format::TwoFas
        }
    );
    // The reference opens, the services do not: damage, not a wrong password.
    let corrupt =
        import::detect_and_import(&fixture("twofas_encrypted_corrupt.2fas"), Some(PASSWORD))
            .unwrap_err();
    assert!(
        matches!(
            corrupt,
            ImportError::Corrupt {
                format: Format::TwoFas,
                ..
            }
        ),
        "{corrupt:?}"
    );
    // ...but with a wrong password it is reported as such.
    assert_eq!(
        import::detect_and_import(&fixture("twofas_encrypted_corrupt.2fas"), Some("nope"))
            .unwrap_err(),
        ImportError::WrongPassword {
            format: Format::TwoFas
        }
    );
}

#[test]
fn twofas_garbled_encrypted_field_is_corrupt() {
    let text = String::from_utf8(fixture("twofas_encrypted.2fas")).unwrap();
    let start = text.find("\"servicesEncrypted\": \"").unwrap() + "\"servicesEncrypted\": \"".len();
    let garbled = format!("{}@@@{}", &text[..start], &text[start..]);
    let error = import::detect_and_import(garbled.as_bytes(), Some(PASSWORD)).unwrap_err();
    assert!(
        matches!(&error, ImportError::Corrupt { detail, .. } if detail.contains("base64")),
        "{error:?}"
    );
}

#[test]
fn bitwarden_reads_uri_steam_and_bare_secrets() {
    let bytes = fixture("bitwarden.json");
    assert_eq!(import::detect(&bytes), Some(Format::Bitwarden));
    let report = import::detect_and_import(&bytes, None).unwrap();
    let github = find(&report, "GitHub");
    assert_eq!(
        (github.account.as_str(), github.secret.expose()),
        ("alice@example.com", HELLO)
    );
    assert_eq!(github.group.as_deref(), Some("Work"));
    let plain = find(&report, "Plain Secret Site");
    assert_eq!(plain.account, "bob");
    assert_eq!(plain.kind, OtpKind::Totp { period: 30 });
    assert_eq!(plain.secret.expose(), RFC);
    let steam = find(&report, "Steam");
    assert_eq!(
        (steam.kind, steam.digits, steam.secret.expose()),
        (OtpKind::Steam { period: 30 }, 5, TEST)
    );
    // Items without a TOTP (a login, a secure note) are simply not tokens.
    assert_eq!(report.tokens.len(), 3);
    assert_eq!(report.skipped.len(), 1);
    assert_broken_skipped(&report);
}

#[test]
fn bitwarden_encrypted_export_is_refused_clearly() {
    let bytes = fixture("bitwarden_encrypted.json");
    assert_eq!(import::detect(&bytes), Some(Format::Bitwarden));
    let error = import::detect_and_import(&bytes, Some(PASSWORD)).unwrap_err();
    assert!(
        matches!(&error, ImportError::Unsupported { format: Format::Bitwarden, detail } if detail.contains("unencrypted")),
        "{error:?}"
    );
}

#[test]
fn ente_encrypted_export_decrypts_libsodium_secretstream() {
    let bytes = fixture("ente_encrypted.json");
    assert_eq!(import::detect(&bytes), Some(Format::Ente));
    let report = import::detect_and_import(&bytes, Some(PASSWORD)).unwrap();
    assert_eq!(report.format, Some(Format::Ente));
    assert_common_tokens(&report);
    assert_eq!(report.tokens.len(), 2);
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].index, 2);
}

#[test]
fn ente_errors_are_specific() {
    let bytes = fixture("ente_encrypted.json");
    assert_eq!(
        import::detect_and_import(&bytes, None).unwrap_err(),
        ImportError::PasswordRequired {
            format: Format::Ente
        }
    );
    assert_eq!(
        import::detect_and_import(&bytes, Some("wrong horse")).unwrap_err(),
        ImportError::WrongPassword {
            format: Format::Ente
        }
    );
    let text = String::from_utf8(bytes).unwrap();
    let future = text.replace("\"version\": 1", "\"version\": 2");
    assert_eq!(
        import::detect_and_import(future.as_bytes(), Some(PASSWORD)).unwrap_err(),
        ImportError::UnsupportedVersion {
            format: Format::Ente,
            version: "2".to_owned()
        }
    );
    let greedy = text.replace("\"memLimit\": 67108864", "\"memLimit\": 68719476736");
    assert!(matches!(
        import::detect_and_import(greedy.as_bytes(), Some(PASSWORD)),
        Err(ImportError::Unsupported { .. })
    ));
}

#[test]
fn unknown_and_empty_inputs_are_unknown_format() {
    for bytes in [
        &b""[..],
        b"hello world",
        b"{\"just\": \"json\"}",
        b"\xff\xfe\x00",
        b"[1,2,3]",
    ] {
        assert_eq!(
            import::detect_and_import(bytes, None).unwrap_err(),
            ImportError::UnknownFormat,
            "{bytes:?}"
        );
    }
}

#[test]
fn explicit_importer_rejects_other_formats() {
    let aegis = fixture("aegis_plain.json");
    for format in [
        Format::TwoFas,
        Format::Bitwarden,
        Format::Ente,
        Format::UriList,
        Format::GoogleMigration,
        Format::KaitoBackup,
    ] {
        let importer = format.importer();
        assert!(!importer.sniff(&aegis), "{format:?} sniffed an Aegis vault");
        assert_eq!(
            importer.import(&aegis, Some(PASSWORD)).unwrap_err(),
            ImportError::NotThisFormat { expected: format }
        );
    }
}

#[test]
fn every_format_has_an_adapter_reporting_itself() {
    for format in Format::ALL {
        assert_eq!(format.importer().format(), format);
        assert!(!format.name().is_empty());
    }
}

/// Test-only convenience: import a plain fixture through a concrete adapter.
trait ImportBytes {
    fn import_bytes(&self, bytes: &[u8]) -> ImportReport;
}

impl<T: import::Importer> ImportBytes for T {
    fn import_bytes(&self, bytes: &[u8]) -> ImportReport {
        self.import(bytes, None).unwrap()
    }
}

#[test]
fn kaito_backup_written_from_the_format_doc_by_python_opens() {
    let bytes = fixture("kaito_backup.bin");
    assert_eq!(import::detect(&bytes), Some(Format::KaitoBackup));
    let opened = kaito_core::backup::open_backup(&bytes, PASSWORD).unwrap();
    assert_eq!(opened.extra, Some(serde_json::json!({ "favorites": [1] })));
    let report = import::detect_and_import(&bytes, Some(PASSWORD)).unwrap();
    assert_common_tokens(&report);
    assert_eq!(find(&report, "GitHub").group.as_deref(), Some("Work"));
    assert_eq!(report.tokens.len(), 2);
    assert_broken_skipped(&report);
    assert_eq!(
        import::detect_and_import(&bytes, Some("wrong horse")).unwrap_err(),
        ImportError::WrongPassword {
            format: Format::KaitoBackup
        }
    );
}

#[test]
fn google_export_with_a_missing_qr_code_says_which() {
    let text = String::from_utf8(fixture("google_migration.txt")).unwrap();
    let first_only = text.lines().next().unwrap();
    let report = import::detect_and_import(first_only.as_bytes(), None).unwrap();
    assert_eq!(issuers(&report), ["GitHub", "Example"]);
    assert_eq!(
        report.incomplete,
        [import::MissingBatches {
            total: 2,
            missing: vec![2]
        }]
    );
    assert_eq!(
        report.incomplete[0].to_string(),
        "QR code 2 of 2 missing from this Google Authenticator export"
    );

    // The complete export, with its first code pasted twice: nothing doubled.
    let doubled = format!("{first_only}\n{text}");
    let report = import::detect_and_import(doubled.as_bytes(), None).unwrap();
    assert_eq!(issuers(&report), ["GitHub", "Example", "Work"]);
    assert_eq!(report.skipped.len(), 1);
    assert!(report.incomplete.is_empty());
}
