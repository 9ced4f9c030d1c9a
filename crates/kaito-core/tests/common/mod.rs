//! Tokens several test files start from. (`qr_corpus.rs` beside this is
//! included by path by the QR tests and bench, not through this module.)

#![allow(dead_code, reason = "each test file uses a different part")]
#![allow(
    clippy::unwrap_used,
    reason = "fixture helpers: a failed unwrap is a failed test"
)]

use kaito_core::{Algorithm, OtpKind, Secret, Token};

/// One token of each kind, with a group on the first: what a backup or an
/// export must carry through unchanged.
pub fn one_of_each_kind() -> Vec<Token> {
    vec![
        Token::new(
            "GitHub",
            "alice@example.com",
            OtpKind::Totp { period: 30 },
            Algorithm::Sha1,
            6,
            Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap(),
        )
        .unwrap()
        .with_group(Some("Work".to_owned())),
        Token::new(
            "Example",
            "bob",
            OtpKind::Hotp { counter: 42 },
            Algorithm::Sha512,
            8,
            Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap(),
        )
        .unwrap(),
        Token::new(
            "Steam",
            "gamer",
            OtpKind::Steam { period: 30 },
            Algorithm::Sha1,
            5,
            Secret::from_bytes(vec![0xAB; 20]).unwrap(),
        )
        .unwrap(),
    ]
}

/// Steam Guard token "Steam:gaben" (five characters, 30 s) on `base32`.
pub fn steam_token(base32: &str) -> Token {
    Token::new(
        "Steam",
        "gaben",
        OtpKind::Steam { period: 30 },
        Algorithm::Sha1,
        5,
        Secret::from_base32(base32).unwrap(),
    )
    .unwrap()
}
