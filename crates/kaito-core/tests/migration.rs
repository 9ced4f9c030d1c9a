//! Google Authenticator exports: an independently assembled fixture
//! (`fixtures/migration_vector.py`), round trips through the encoder, multi-code
//! collection and damaged input.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use kaito_core::migration::{
    Added, CollectError, EntryProblem, ExportSkip, MigrationCollector, MigrationError, Progress,
    decode, decode_payload, encode_batches,
};
use kaito_core::{Algorithm, OtpKind, Secret, Token};
use proptest::prelude::*;

const FIXTURE: &str = include_str!("fixtures/migration_vector.txt");

fn fixture_uris() -> Vec<&'static str> {
    FIXTURE
        .lines()
        .filter(|line| {
            line.to_ascii_lowercase()
                .starts_with("otpauth-migration://")
        })
        .collect()
}

#[test]
fn fixture_decodes_in_every_encoding_variant() {
    let uris = fixture_uris();
    assert_eq!(uris.len(), 3, "percent-encoded, raw, URL-safe unpadded");
    let first = decode(uris[0]).unwrap();
    for uri in &uris[1..] {
        assert_eq!(decode(uri).unwrap(), first, "{uri}");
    }
    assert_eq!(
        (
            first.version,
            first.batch_size,
            first.batch_index,
            first.batch_id
        ),
        (1, 1, 0, -1_234_567)
    );
    assert_eq!(first.entries.len(), 5);

    let github = first.entries[0].as_ref().unwrap();
    assert_eq!(
        (github.issuer.as_str(), github.account.as_str()),
        ("GitHub", "alice@example.com")
    );
    assert_eq!(&*github.secret.to_base32(), "JBSWY3DPEHPK3PXP");
    assert_eq!(
        (github.kind, github.algorithm, github.digits),
        (OtpKind::Totp { period: 30 }, Algorithm::Sha1, 6)
    );

    let bob = first.entries[1].as_ref().unwrap();
    assert_eq!(
        (bob.issuer.as_str(), bob.account.as_str()),
        ("Example Corp", "bob")
    );
    assert_eq!((bob.algorithm, bob.digits), (Algorithm::Sha256, 8));
    assert_eq!(bob.secret.expose(), b"12345678901234567890");

    let carol = first.entries[2].as_ref().unwrap();
    assert_eq!(
        (carol.issuer.as_str(), carol.account.as_str()),
        ("Bank", "carol")
    );
    assert_eq!(
        (carol.kind, carol.algorithm, carol.digits),
        (OtpKind::Hotp { counter: 42 }, Algorithm::Sha512, 8)
    );
    assert_eq!(carol.secret.bits(), 512);

    let dave = first.entries[3].as_ref().unwrap_err();
    assert_eq!(dave.problem, EntryProblem::Md5);
    assert_eq!(dave.position, 3);
    assert_eq!(dave.name, "Legacy (dave)");
    assert!(
        dave.to_string().starts_with("Legacy (dave): it uses MD5"),
        "{dave}"
    );

    let erin = first.entries[4].as_ref().unwrap();
    assert_eq!((erin.issuer.as_str(), erin.account.as_str()), ("", "erin"));
    assert_eq!(
        (erin.kind, erin.algorithm, erin.digits),
        (OtpKind::Totp { period: 30 }, Algorithm::Sha1, 6)
    );

    // The importer iterates a batch directly.
    let tokens: Vec<_> = first.into_iter().filter_map(Result::ok).collect();
    assert_eq!(tokens.len(), 4);
}

#[test]
fn fixture_codes_match_the_rfc() {
    // carol carries the RFC 6238 SHA512 seed; HOTP at counter 1 equals TOTP at t = 59 s.
    let batch = decode(fixture_uris()[0]).unwrap();
    let carol = batch.entries[2].as_ref().unwrap();
    let generator = kaito_core::otp::CodeGenerator::new(carol);
    assert_eq!(generator.hotp(1).as_str(), "90693936");
}

fn token(issuer: &str, account: &str, kind: OtpKind, algorithm: Algorithm, digits: u32) -> Token {
    let secret = Secret::from_bytes(format!("{issuer}/{account}/secret").into_bytes()).unwrap();
    Token::new(issuer, account, kind, algorithm, digits, secret).unwrap()
}

#[test]
fn encode_then_decode_round_trips_and_reports_skips() {
    let tokens = vec![
        token(
            "GitHub",
            "alice",
            OtpKind::Totp { period: 30 },
            Algorithm::Sha1,
            6,
        ),
        token(
            "Steam",
            "gaben",
            OtpKind::Steam { period: 30 },
            Algorithm::Sha1,
            5,
        ),
        token(
            "Bank",
            "carol",
            OtpKind::Hotp { counter: 9 },
            Algorithm::Sha512,
            8,
        ),
        token(
            "Odd",
            "seven",
            OtpKind::Totp { period: 30 },
            Algorithm::Sha1,
            7,
        ),
        token(
            "Slow",
            "sixty",
            OtpKind::Totp { period: 60 },
            Algorithm::Sha256,
            6,
        ),
        token(
            "",
            "a:b",
            OtpKind::Totp { period: 30 },
            Algorithm::Sha256,
            8,
        ),
        token(
            "R&D: Ops",
            "x",
            OtpKind::Totp { period: 30 },
            Algorithm::Sha1,
            6,
        ),
    ];
    let export = encode_batches(&tokens, 2, -42);
    let skipped: Vec<_> = export.skipped.iter().map(|s| (s.index, s.reason)).collect();
    assert_eq!(
        skipped,
        vec![
            (1, ExportSkip::Steam),
            (3, ExportSkip::Digits { digits: 7 }),
            (4, ExportSkip::Period { period: 60 })
        ]
    );
    assert_eq!(export.uris.len(), 2, "4 exportable tokens, 2 per code");

    let mut collector = MigrationCollector::new();
    // Scanned out of order, with a repeat, as a camera would.
    assert_eq!(
        collector.add_uri(&export.uris[1]).unwrap(),
        Added::New(Progress {
            scanned: 1,
            total: 2
        })
    );
    assert_eq!(collector.missing(), vec![1]);
    assert_eq!(collector.progress().to_string(), "1 of 2 scanned");
    assert_eq!(
        collector.add_uri(&export.uris[1]).unwrap(),
        Added::AlreadyScanned(Progress {
            scanned: 1,
            total: 2
        })
    );
    assert!(!collector.is_complete());
    assert_eq!(
        collector.add_uri(&export.uris[0]).unwrap(),
        Added::New(Progress {
            scanned: 2,
            total: 2
        })
    );
    assert!(collector.is_complete());
    assert_eq!(collector.entries().filter(|entry| entry.is_ok()).count(), 4);
    let decoded: Vec<Token> = collector
        .into_entries()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let expected: Vec<Token> = [0, 2, 5, 6].iter().map(|&i| tokens[i].clone()).collect();
    assert_eq!(decoded, expected);
}

#[test]
fn collector_refuses_codes_from_another_export() {
    let tokens: Vec<Token> = (0..3)
        .map(|i| {
            token(
                "Svc",
                &format!("user{i}"),
                OtpKind::Totp { period: 30 },
                Algorithm::Sha1,
                6,
            )
        })
        .collect();
    let first = encode_batches(&tokens, 1, 1);
    let other = encode_batches(&tokens, 1, 2);
    let other_size = encode_batches(&tokens, 2, 1);
    let mut collector = MigrationCollector::new();
    assert_eq!(
        collector.progress(),
        Progress {
            scanned: 0,
            total: 1
        }
    );
    collector.add_uri(&first.uris[2]).unwrap();
    assert_eq!(collector.progress().to_string(), "1 of 3 scanned");
    assert_eq!(collector.missing(), vec![1, 2]);
    assert_eq!(
        collector.add_uri(&other.uris[0]),
        Err(CollectError::DifferentExport {
            expected: 1,
            found: 2
        })
    );
    assert_eq!(
        collector.add_uri(&other_size.uris[0]),
        Err(CollectError::DifferentSize {
            expected: 3,
            found: 2
        })
    );
    assert!(matches!(
        collector.add_uri("otpauth-migration://offline?data=!!"),
        Err(CollectError::Decode(_))
    ));
    // Nothing collected so far was lost by the refusals.
    assert_eq!(collector.progress().to_string(), "1 of 3 scanned");
    collector.add_uri(&first.uris[0]).unwrap();
    collector.add_uri(&first.uris[1]).unwrap();
    assert!(collector.is_complete());
    assert_eq!(collector.into_entries().len(), 3);
}

#[test]
fn empty_export_has_no_codes() {
    assert!(encode_batches(&[], 10, 0).uris.is_empty());
}

#[test]
fn whole_uri_errors() {
    assert_eq!(
        decode("https://example.com"),
        Err(MigrationError::NotMigrationUri)
    );
    assert_eq!(
        decode("otpauth://totp/x?secret=AAAA"),
        Err(MigrationError::SingleTokenUri)
    );
    assert_eq!(
        decode("otpauth-migration://offline"),
        Err(MigrationError::MissingData)
    );
    assert_eq!(
        decode("otpauth-migration://offline?data="),
        Err(MigrationError::MissingData)
    );
    assert_eq!(
        decode("otpauth-migration://offline?data=Cj%G0"),
        Err(MigrationError::PercentEncoding { position: 35 })
    );
    assert!(matches!(
        decode("otpauth-migration://offline?data=Cj*Q"),
        Err(MigrationError::Base64 { position: 2 })
    ));
    // Valid base64 of a truncated payload: field 1 claims 52 bytes.
    assert!(matches!(
        decode("otpauth-migration://offline?data=CjQK"),
        Err(MigrationError::Payload(_))
    ));
    // batch_index 3 of batch_size 2.
    assert_eq!(
        decode_payload(&[0x18, 2, 0x20, 3]),
        Err(MigrationError::BatchIndex { index: 4, size: 2 })
    );
    assert_eq!(
        decode_payload(&[0x20, 0xff, 0xff, 0xff, 0xff, 0x0f]),
        Err(MigrationError::BatchIndex { index: 0, size: 1 })
    );
}

#[test]
fn one_bad_entry_does_not_cost_the_others() {
    // entry 1: secret "A", name "ok"; entry 2: truncated field; entry 3: no secret;
    // entry 4: unknown digits, type and algorithm codes in turn.
    let good = [0x0a, 1, b'A', 0x12, 2, b'o', b'k'];
    let truncated = [0x12, 9, b'x'];
    let no_secret = [0x12, 1, b'n'];
    let bad_digits = [0x0a, 1, b'A', 0x28, 9];
    let bad_type = [0x0a, 1, b'A', 0x30, 3];
    let bad_algorithm = [0x0a, 1, b'A', 0x20, 7];
    let wrong_wire_type = [0x0d, 1, 2, 3, 4]; // secret as fixed32
    let mut payload = Vec::new();
    for entry in [
        &good[..],
        &truncated,
        &no_secret,
        &bad_digits,
        &bad_type,
        &bad_algorithm,
        &wrong_wire_type,
    ] {
        payload.push(0x0a);
        payload.push(u8::try_from(entry.len()).unwrap());
        payload.extend_from_slice(entry);
    }
    let batch = decode_payload(&payload).unwrap();
    assert_eq!(batch.entries[0].as_ref().unwrap().account, "ok");
    let problems: Vec<_> = batch.entries[1..]
        .iter()
        .map(|e| e.as_ref().unwrap_err().problem.clone())
        .collect();
    assert!(matches!(problems[0], EntryProblem::Malformed(_)));
    assert_eq!(problems[1], EntryProblem::MissingSecret);
    assert_eq!(problems[2], EntryProblem::UnknownDigits { value: 9 });
    assert_eq!(problems[3], EntryProblem::UnknownType { value: 3 });
    assert_eq!(problems[4], EntryProblem::UnknownAlgorithm { value: 7 });
    assert!(matches!(problems[5], EntryProblem::Malformed(_)));
    assert_eq!(batch.entries[2].as_ref().unwrap_err().name, "n");
}

#[test]
fn encoded_uri_is_what_google_authenticator_writes() {
    let secret = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
    let github = Token::new(
        "GitHub",
        "alice",
        OtpKind::Totp { period: 30 },
        Algorithm::Sha1,
        6,
        secret,
    )
    .unwrap();
    let export = encode_batches(&[github], 10, 7);
    // Hand-checked bytes: entry {secret, name "GitHub:alice", issuer, SHA1, six, TOTP},
    // version 1, batch_size 1, batch_index 0, batch_id 7.
    let expected_payload: Vec<u8> = [
        &[0x0a, 0x28][..],
        &[0x0a, 0x0a],
        b"Hello!\xde\xad\xbe\xef",
        &[0x12, 0x0c],
        b"GitHub:alice",
        &[0x1a, 0x06],
        b"GitHub",
        &[0x20, 1, 0x28, 1, 0x30, 2],
        &[0x10, 1, 0x18, 1, 0x20, 0, 0x28, 7],
    ]
    .concat();
    let data = export.uris[0]
        .strip_prefix("otpauth-migration://offline?data=")
        .unwrap();
    let base64 = data
        .replace("%2B", "+")
        .replace("%2F", "/")
        .replace("%3D", "=");
    assert_eq!(
        data_encoding::BASE64.decode(base64.as_bytes()).unwrap(),
        expected_payload
    );
}

fn token_strategy() -> impl Strategy<Value = Token> {
    let name = "[A-Za-z0-9 :@&é]{0,16}".prop_map(|s| s.trim().to_owned());
    let kind = prop_oneof![
        Just(OtpKind::Totp { period: 30 }),
        any::<u64>().prop_map(|counter| OtpKind::Hotp { counter })
    ];
    (
        name.clone(),
        name,
        kind,
        prop_oneof![
            Just(Algorithm::Sha1),
            Just(Algorithm::Sha256),
            Just(Algorithm::Sha512)
        ],
        prop_oneof![Just(6u32), Just(8u32)],
        proptest::collection::vec(any::<u8>(), 1..70),
    )
        .prop_map(|(issuer, account, kind, algorithm, digits, secret)| {
            Token::new(
                issuer,
                account,
                kind,
                algorithm,
                digits,
                Secret::from_bytes(secret).unwrap(),
            )
            .unwrap()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn round_trip(tokens in proptest::collection::vec(token_strategy(), 0..12), per_batch in 0usize..5, id in any::<i32>()) {
        let export = encode_batches(&tokens, per_batch, id);
        prop_assert!(export.skipped.is_empty());
        let mut collector = MigrationCollector::new();
        // Reverse order: the collector must put them back.
        for uri in export.uris.iter().rev() {
            let added = collector.add_uri(uri);
            prop_assert!(matches!(added, Ok(Added::New(_))), "{:?}", added);
        }
        prop_assert_eq!(collector.is_complete(), !tokens.is_empty());
        let decoded: Vec<Token> = collector.into_entries().into_iter().map(Result::unwrap).collect();
        prop_assert_eq!(decoded, tokens);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode_payload(&bytes);
        let _ = decode(&format!("otpauth-migration://offline?data={}", data_encoding::BASE64URL_NOPAD.encode(&bytes)));
    }
}

#[test]
fn literal_seven_digits_decode_but_cannot_be_exported_back() {
    // Found by fuzzing: a literal digit count of 7 is accepted on import, and the
    // exporter must say why it leaves such a token out rather than write it as 6.
    let batch = decode_payload(&[0x0a, 0x05, 0x0a, 0x01, 0xc1, 0x28, 0x07]).unwrap();
    let token = batch.entries[0].as_ref().unwrap();
    assert_eq!(token.digits, 7);
    let export = encode_batches(std::slice::from_ref(token), 10, 0);
    assert!(export.uris.is_empty());
    assert_eq!(export.skipped[0].reason, ExportSkip::Digits { digits: 7 });
}
