//! Kaito's encrypted backup: round trips, wrong passwords, tampering, truncation.

// Helpers outside #[test] fns are not covered by clippy's allow-unwrap-in-tests; a
// panic in a fixture helper is the test failure report.
#![allow(clippy::unwrap_used)]

mod common;

use kaito_core::Token;
use kaito_core::backup::{self, BackupError, BackupRandomness, HEADER_LEN, KdfParams};
use kaito_core::import::{self, Format, ImportError};

/// Small Argon2 costs keep the suite fast; the format stores whatever is used.
const FAST: KdfParams = KdfParams {
    memory_kib: 256,
    passes: 1,
    lanes: 1,
};
const RANDOM: BackupRandomness = BackupRandomness {
    salt: [7; 16],
    nonce: [9; 12],
};

fn tokens() -> Vec<Token> {
    common::one_of_each_kind()
}

fn sealed() -> Vec<u8> {
    let extra = serde_json::json!({ "favorites": [0], "order": [2, 0, 1] });
    backup::seal_backup(&tokens(), Some(&extra), "open sesame", FAST, RANDOM).unwrap()
}

#[test]
fn round_trip_keeps_every_field_group_and_extra() {
    let opened = backup::open_backup(&sealed(), "open sesame").unwrap();
    assert_eq!(opened.tokens, tokens());
    assert!(opened.skipped.is_empty());
    assert_eq!(
        opened.extra,
        Some(serde_json::json!({ "favorites": [0], "order": [2, 0, 1] }))
    );
}

#[test]
fn empty_vault_and_no_extra_round_trip() {
    let bytes = backup::seal_backup(&[], None, "pw", FAST, RANDOM).unwrap();
    let opened = backup::open_backup(&bytes, "pw").unwrap();
    assert!(opened.tokens.is_empty());
    assert_eq!(opened.extra, None);
}

#[test]
fn default_params_round_trip() {
    // The shipped default (64 MiB, t = 3) must work end to end.
    let bytes =
        backup::seal_backup(&tokens()[..1], None, "pw", KdfParams::default(), RANDOM).unwrap();
    assert_eq!(&bytes[11..15], &(64u32 * 1024).to_be_bytes());
    assert_eq!(
        backup::open_backup(&bytes, "pw").unwrap().tokens,
        tokens()[..1]
    );
}

#[test]
fn secrets_are_not_in_clear_and_layout_matches_the_doc() {
    let bytes = sealed();
    assert_eq!(&bytes[..8], b"KAITOBAK");
    assert_eq!(&bytes[8..10], &[0, 1]);
    assert_eq!(bytes[10], 1, "kdf id");
    assert_eq!(&bytes[11..15], &256u32.to_be_bytes());
    assert_eq!(&bytes[15..19], &1u32.to_be_bytes());
    assert_eq!(&bytes[19..23], &1u32.to_be_bytes());
    assert_eq!(&bytes[23..39], &[7; 16]);
    assert_eq!(bytes[55], 1, "cipher id");
    assert_eq!(&bytes[56..68], &[9; 12]);
    assert_eq!(HEADER_LEN, 68);
    for needle in [
        &b"JBSWY3DPEHPK3PXP"[..],
        b"12345678901234567890",
        b"GitHub",
        b"alice",
    ] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "{:?} in clear",
            String::from_utf8_lossy(needle)
        );
    }
}

#[test]
fn wrong_password_is_reported_as_such() {
    assert_eq!(
        backup::open_backup(&sealed(), "open sesam").unwrap_err(),
        BackupError::WrongPassword
    );
    assert_eq!(
        backup::open_backup(&sealed(), "").unwrap_err(),
        BackupError::WrongPassword
    );
}

#[test]
fn any_changed_byte_is_detected() {
    let original = sealed();
    for position in 0..original.len() {
        let mut bytes = original.clone();
        bytes[position] ^= 0x01;
        let error = backup::open_backup(&bytes, "open sesame").unwrap_err();
        let expected_kinds = match position {
            0..8 => matches!(error, BackupError::NotABackup),
            8..10 => matches!(error, BackupError::UnsupportedVersion { .. }),
            10 | 55 => matches!(error, BackupError::Corrupt { .. }),
            // Changed cost parameters either fail validation or derive another key.
            11..23 => matches!(
                error,
                BackupError::Corrupt { .. } | BackupError::WrongPassword
            ),
            // Salt and password check: a different key or check, like a wrong password.
            23..55 => error == BackupError::WrongPassword,
            // Nonce, ciphertext, tag.
            _ => error == BackupError::Tampered,
        };
        assert!(expected_kinds, "byte {position}: {error:?}");
    }
}

#[test]
fn truncated_files_are_reported_truncated() {
    let bytes = sealed();
    for len in [1, 5, 9, 10, 40, HEADER_LEN, HEADER_LEN + 15] {
        assert_eq!(
            backup::open_backup(&bytes[..len], "open sesame").unwrap_err(),
            BackupError::Truncated { len },
            "len {len}"
        );
    }
    // Cut inside the ciphertext: the tag no longer matches.
    assert_eq!(
        backup::open_backup(&bytes[..bytes.len() - 1], "open sesame").unwrap_err(),
        BackupError::Tampered
    );
}

#[test]
fn other_files_and_future_versions_are_refused() {
    assert_eq!(
        backup::open_backup(b"{\"version\":1}", "pw").unwrap_err(),
        BackupError::NotABackup
    );
    assert_eq!(
        backup::open_backup(b"", "pw").unwrap_err(),
        BackupError::NotABackup
    );
    let mut future = sealed();
    future[8..10].copy_from_slice(&2u16.to_be_bytes());
    assert_eq!(
        backup::open_backup(&future, "open sesame").unwrap_err(),
        BackupError::UnsupportedVersion { version: 2 }
    );
}

#[test]
fn hostile_kdf_parameters_are_refused_before_running() {
    let mut bytes = sealed();
    bytes[11..15].copy_from_slice(&u32::MAX.to_be_bytes());
    let error = backup::open_backup(&bytes, "open sesame").unwrap_err();
    assert!(matches!(error, BackupError::Corrupt { .. }), "{error:?}");
}

#[test]
fn sealing_refuses_empty_password_and_bad_params() {
    assert_eq!(
        backup::seal_backup(&tokens(), None, "", FAST, RANDOM).unwrap_err(),
        BackupError::EmptyPassword
    );
    let tiny = KdfParams {
        memory_kib: 1,
        passes: 1,
        lanes: 1,
    };
    assert!(matches!(
        backup::seal_backup(&tokens(), None, "pw", tiny, RANDOM),
        Err(BackupError::InvalidParams { .. })
    ));
}

#[test]
fn backups_import_through_the_importer_interface() {
    let bytes = sealed();
    assert_eq!(import::detect(&bytes), Some(Format::KaitoBackup));
    assert_eq!(
        import::detect_and_import(&bytes, None).unwrap_err(),
        ImportError::PasswordRequired {
            format: Format::KaitoBackup
        }
    );
    assert_eq!(
        import::detect_and_import(&bytes, Some("nope")).unwrap_err(),
        ImportError::WrongPassword {
            format: Format::KaitoBackup
        }
    );
    let report = import::detect_and_import(&bytes, Some("open sesame")).unwrap();
    assert_eq!(report.tokens, tokens());
}

#[test]
fn different_randomness_gives_different_files_that_both_open() {
    let a = backup::seal_backup(&tokens(), None, "pw", FAST, RANDOM).unwrap();
    let b = backup::seal_backup(
        &tokens(),
        None,
        "pw",
        FAST,
        BackupRandomness {
            salt: [1; 16],
            nonce: [2; 12],
        },
    )
    .unwrap();
    assert_ne!(a, b);
    assert_eq!(
        backup::open_backup(&a, "pw").unwrap().tokens,
        backup::open_backup(&b, "pw").unwrap().tokens
    );
}
