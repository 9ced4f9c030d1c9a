//! Manual entry: per-field errors a form can show as the user types, and tokens that
//! produce the same codes as the service's own URI.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use kaito_core::manual::{Field, ManualEntry, build};
use kaito_core::{CodeGenerator, OtpKind, uri};

fn entry() -> ManualEntry {
    ManualEntry {
        issuer: "Example".into(),
        account: "alice@example.com".into(),
        secret: "gezd gnbv gy3t qojq gezd gnbv gy3t qojq".into(),
        kind: "totp".into(),
        algorithm: "SHA1".into(),
        digits: 6,
        period: 30,
        counter: 0,
    }
}

fn fields(entry: &ManualEntry) -> Vec<Field> {
    build(entry)
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect()
}

#[test]
fn a_typed_secret_gives_the_same_codes_as_the_services_link() {
    let token = build(&entry()).unwrap();
    let from_link = uri::parse("otpauth://totp/Example:alice@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Example").unwrap();
    assert_eq!(token, from_link);
    assert_eq!(
        CodeGenerator::new(&token).code_at(59).to_string(),
        "287082",
        "RFC 6238 vector at T=59 (6 digits)"
    );
}

#[test]
fn every_bad_field_is_reported_at_once_with_a_plain_message() {
    let bad = ManualEntry {
        issuer: " ".into(),
        account: String::new(),
        secret: "ABC1".into(),
        algorithm: "MD5".into(),
        digits: 9,
        period: 0,
        ..entry()
    };
    let errors = build(&bad).unwrap_err();
    let got: Vec<Field> = errors.iter().map(|e| e.field).collect();
    assert_eq!(
        got,
        [
            Field::Name,
            Field::Secret,
            Field::Algorithm,
            Field::Period,
            Field::Digits
        ]
    );
    let secret = &errors[1].message;
    assert!(secret.contains("Character 4"), "{secret}");
    assert!(!secret.contains("ABC1"), "never echo the secret");
}

#[test]
fn field_rules() {
    assert_eq!(
        fields(&ManualEntry {
            secret: String::new(),
            ..entry()
        }),
        [Field::Secret]
    );
    assert_eq!(
        fields(&ManualEntry {
            period: 86_401,
            ..entry()
        }),
        [Field::Period]
    );
    assert_eq!(
        fields(&ManualEntry {
            digits: 5,
            ..entry()
        }),
        [Field::Digits]
    );
    assert_eq!(
        fields(&ManualEntry {
            kind: "motp".into(),
            ..entry()
        }),
        [Field::Kind]
    );
    // Only the account is enough of a name.
    assert!(
        build(&ManualEntry {
            issuer: String::new(),
            ..entry()
        })
        .is_ok()
    );
    // HOTP keeps its counter and ignores the period.
    let hotp = build(&ManualEntry {
        kind: "hotp".into(),
        counter: 7,
        period: 0,
        ..entry()
    })
    .unwrap();
    assert_eq!(hotp.kind, OtpKind::Hotp { counter: 7 });
    // Steam is always 5 characters, whatever the digits field says.
    let steam = build(&ManualEntry {
        kind: "Steam".into(),
        digits: 6,
        ..entry()
    })
    .unwrap();
    assert_eq!(steam.digits, 5);
    assert_eq!(steam.kind, OtpKind::Steam { period: 30 });
}
