//! `otpauth://` parsing as real QR codes and exports write it, the errors users get
//! for broken links, and the canonical form Kaito emits.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use kaito_core::uri::{ParsedUri, UriError, parse, parse_full, to_uri};
use kaito_core::{Algorithm, OtpKind, Secret, SecretError, Token};
use proptest::prelude::*;

const HELLO: &[u8] = b"Hello!\xde\xad\xbe\xef"; // JBSWY3DPEHPK3PXP, an 80-bit secret

fn ok(uri: &str) -> Token {
    parse(uri).unwrap_or_else(|error| panic!("{uri}: {error}"))
}

#[test]
fn google_key_uri_example() {
    let token =
        ok("otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example");
    assert_eq!(token.issuer, "Example");
    assert_eq!(token.account, "alice@google.com");
    assert_eq!(token.kind, OtpKind::Totp { period: 30 });
    assert_eq!(token.algorithm, Algorithm::Sha1);
    assert_eq!(token.digits, 6);
    assert_eq!(token.secret.expose(), HELLO, "80-bit secrets are accepted");
}

#[test]
fn all_parameters_in_any_case() {
    let token = ok(
        "OTPAUTH://TOTP/ACME%20Co:john.doe@email.com?SECRET=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&Issuer=ACME%20Co&Algorithm=sha512&DIGITS=8&Period=60",
    );
    assert_eq!(token.issuer, "ACME Co");
    assert_eq!(token.account, "john.doe@email.com");
    assert_eq!(token.kind, OtpKind::Totp { period: 60 });
    assert_eq!(token.algorithm, Algorithm::Sha512);
    assert_eq!(token.digits, 8);
}

#[test]
fn label_forms() {
    // Encoded colon, space after it, no issuer parameter.
    let token = ok("otpauth://totp/GitHub%3A%20octocat?secret=JBSWY3DPEHPK3PXP");
    assert_eq!(
        (token.issuer.as_str(), token.account.as_str()),
        ("GitHub", "octocat")
    );
    // Literal colon with several spaces after it.
    let token = ok("otpauth://totp/GitHub:   octocat?secret=JBSWY3DPEHPK3PXP");
    assert_eq!(
        (token.issuer.as_str(), token.account.as_str()),
        ("GitHub", "octocat")
    );
    // No issuer anywhere.
    let token = ok("otpauth://totp/octocat?secret=JBSWY3DPEHPK3PXP");
    assert_eq!(
        (token.issuer.as_str(), token.account.as_str()),
        ("", "octocat")
    );
    // No label at all.
    let token = ok("otpauth://totp?secret=JBSWY3DPEHPK3PXP&issuer=Bare");
    assert_eq!(
        (token.issuer.as_str(), token.account.as_str()),
        ("Bare", "")
    );
    // Parameter wins, the duplicated prefix goes (any case).
    let token = ok("otpauth://totp/github:octocat?secret=JBSWY3DPEHPK3PXP&issuer=GitHub");
    assert_eq!(
        (token.issuer.as_str(), token.account.as_str()),
        ("GitHub", "octocat")
    );
    // Parameter wins; a different prefix stays in the account so nothing is lost.
    let token = ok("otpauth://totp/OldName:octocat?secret=JBSWY3DPEHPK3PXP&issuer=GitHub");
    assert_eq!(
        (token.issuer.as_str(), token.account.as_str()),
        ("GitHub", "OldName:octocat")
    );
    // Form-encoded spaces in values, percent-encoded UTF-8 in the label.
    let token =
        ok("otpauth://totp/B%C3%BCro:j%C3%BCrgen?secret=JBSWY3DPEHPK3PXP&issuer=B%C3%BCro+GmbH");
    assert_eq!(
        (token.issuer.as_str(), token.account.as_str()),
        ("Büro GmbH", "Büro:jürgen")
    );
    // '+' in a label is a literal plus (path, not form encoding).
    let token = ok("otpauth://totp/Mail:a+tag@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Mail");
    assert_eq!(token.account, "a+tag@example.com");
}

#[test]
fn human_written_secrets() {
    for secret in [
        "jbswy3dpehpk3pxp",
        "JBSWY3DPEHPK3PXP====",
        "JBSW%20Y3DP%20EHPK%203PXP",
        "jbsw+y3dp+ehpk+3pxp",
        "JBSW-Y3DP-EHPK-3PXP",
    ] {
        let token = ok(&format!("otpauth://totp/x?secret={secret}"));
        assert_eq!(token.secret.expose(), HELLO, "{secret}");
    }
}

#[test]
fn hotp_and_steam_variants() {
    let hotp =
        ok("otpauth://hotp/Bank:carol?secret=JBSWY3DPEHPK3PXP&counter=42&issuer=Bank&digits=8");
    assert_eq!(hotp.kind, OtpKind::Hotp { counter: 42 });
    assert_eq!(hotp.digits, 8);

    let steam = ok("otpauth://steam/Steam:gaben?secret=JBSWY3DPEHPK3PXP&issuer=Steam");
    assert_eq!(
        (steam.kind, steam.digits),
        (OtpKind::Steam { period: 30 }, 5)
    );
    // Aegis / KeePassXC style: totp with a Steam encoder.
    let keepass = ok(
        "otpauth://totp/Steam:gaben?secret=JBSWY3DPEHPK3PXP&period=30&digits=5&issuer=Steam&encoder=steam",
    );
    assert_eq!(
        (keepass.kind, keepass.digits),
        (OtpKind::Steam { period: 30 }, 5)
    );
    let encoder_only = ok("otpauth://totp/gaben?secret=JBSWY3DPEHPK3PXP&encoder=Steam");
    assert_eq!(encoder_only.kind, OtpKind::Steam { period: 30 });
    let by_issuer = ok("otpauth://totp/gaben?secret=JBSWY3DPEHPK3PXP&digits=5&issuer=Steam");
    assert_eq!(by_issuer.kind, OtpKind::Steam { period: 30 });
}

#[test]
fn unknown_parameters_are_kept_in_order() {
    let parsed = parse_full("otpauth://totp/x?image=https%3A%2F%2Fexample.com%2Fi.png&secret=JBSWY3DPEHPK3PXP&Color=%23ff0000&flag").unwrap();
    assert_eq!(
        parsed.extra_params,
        vec![
            ("image".to_owned(), "https://example.com/i.png".to_owned()),
            ("Color".to_owned(), "#ff0000".to_owned()),
            ("flag".to_owned(), String::new()),
        ]
    );
    let again = parse_full(&parsed.to_uri()).unwrap();
    assert_eq!(again, parsed);
}

#[test]
fn first_occurrence_of_a_known_parameter_wins() {
    let token = ok("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=8&digits=6&secret=AAAAAAAA");
    assert_eq!(token.digits, 8);
    assert_eq!(token.secret.expose(), HELLO);
}

#[test]
fn errors_say_what_is_wrong() {
    let cases: Vec<(&str, UriError)> = vec![
        ("https://example.com", UriError::NotOtpauth),
        ("", UriError::NotOtpauth),
        (
            "otpauth-migration://offline?data=AAAA",
            UriError::MigrationExport,
        ),
        (
            "otpauth://yaotp/x?secret=JBSWY3DPEHPK3PXP",
            UriError::UnknownType {
                kind: "yaotp".into(),
            },
        ),
        ("otpauth://totp/x", UriError::MissingSecret),
        ("otpauth://totp/x?secret=", UriError::MissingSecret),
        ("otpauth://totp/x?secret=%20", UriError::MissingSecret),
        (
            "otpauth://totp/x?secret=JBSW1Y3D",
            UriError::Secret(SecretError::InvalidBase32 { position: 4 }),
        ),
        (
            "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=5",
            UriError::Digits { digits: 5 },
        ),
        (
            "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=9",
            UriError::Digits { digits: 9 },
        ),
        (
            "otpauth://steam/x?secret=JBSWY3DPEHPK3PXP&digits=6",
            UriError::SteamDigits { digits: 6 },
        ),
        (
            "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=six",
            UriError::NotANumber {
                param: "digits",
                value: "six".into(),
            },
        ),
        (
            "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=0",
            UriError::ZeroPeriod,
        ),
        (
            "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=-30",
            UriError::NotANumber {
                param: "period",
                value: "-30".into(),
            },
        ),
        (
            "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=99999999999",
            UriError::PeriodTooLong {
                period: 99_999_999_999,
            },
        ),
        (
            "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=MD5",
            UriError::UnknownAlgorithm { name: "MD5".into() },
        ),
        (
            "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=SHA3",
            UriError::UnknownAlgorithm {
                name: "SHA3".into(),
            },
        ),
        (
            "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP",
            UriError::MissingCounter,
        ),
        (
            "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=x",
            UriError::NotANumber {
                param: "counter",
                value: "x".into(),
            },
        ),
        (
            "otpauth://totp/a%2?secret=JBSWY3DPEHPK3PXP",
            UriError::PercentEncoding { position: 16 },
        ),
        (
            "otpauth://totp/%FF?secret=JBSWY3DPEHPK3PXP",
            UriError::NotUtf8 { part: "label" },
        ),
    ];
    for (uri, expected) in cases {
        assert_eq!(parse(uri), Err(expected.clone()), "{uri}");
        assert!(!expected.to_string().is_empty());
    }
}

#[test]
fn error_messages_never_contain_the_secret() {
    let uri = "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=12";
    let message = parse(uri).unwrap_err().to_string();
    assert!(!message.contains("JBSWY3DP"), "{message}");
    let long = format!(
        "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm={}",
        "A".repeat(10_000)
    );
    assert!(
        parse(&long).unwrap_err().to_string().len() < 200,
        "user input is echoed only briefly"
    );
    let message = parse("otpauth://totp/x?secret=JBSWY3DPEHPK3PX!")
        .unwrap_err()
        .to_string();
    assert!(!message.contains("JBSWY3DP"), "{message}");
    assert!(message.contains("position 15"), "{message}");
}

#[test]
fn algorithm_names_are_read_liberally() {
    for (name, expected) in [
        ("sha-256", Algorithm::Sha256),
        ("HmacSHA1", Algorithm::Sha1),
        ("SHA_512", Algorithm::Sha512),
    ] {
        let token = ok(&format!(
            "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm={name}"
        ));
        assert_eq!(token.algorithm, expected, "{name}");
    }
}

#[test]
fn canonical_emission_is_exact() {
    // (issuer, account, kind, algorithm, digits, the URI, whether it is checked
    // to parse back to the same token)
    let cases = [
        (
            "ACME Co",
            "john.doe@email.com",
            OtpKind::Totp { period: 30 },
            Algorithm::Sha1,
            6,
            "otpauth://totp/ACME%20Co:john.doe@email.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30",
            false,
        ),
        (
            "R&D: Ops",
            "a+b/c?d#e",
            OtpKind::Hotp { counter: 7 },
            Algorithm::Sha256,
            8,
            "otpauth://hotp/R%26D%3A%20Ops:a%2Bb%2Fc%3Fd%23e?secret=JBSWY3DPEHPK3PXP&issuer=R%26D%3A%20Ops&algorithm=SHA256&digits=8&counter=7",
            true,
        ),
        (
            "Steam",
            "gaben",
            OtpKind::Steam { period: 30 },
            Algorithm::Sha1,
            5,
            "otpauth://steam/Steam:gaben?secret=JBSWY3DPEHPK3PXP&issuer=Steam&algorithm=SHA1&digits=5&period=30",
            false,
        ),
        (
            "",
            "a:b",
            OtpKind::Totp { period: 30 },
            Algorithm::Sha1,
            6,
            "otpauth://totp/:a%3Ab?secret=JBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30",
            true,
        ),
    ];
    for (issuer, account, kind, algorithm, digits, expected, round_trip) in cases {
        let secret = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        let token = Token::new(issuer, account, kind, algorithm, digits, secret).unwrap();
        assert_eq!(&*to_uri(&token), expected);
        if round_trip {
            assert_eq!(parse(&to_uri(&token)).unwrap(), token, "{expected}");
        }
    }
}

#[test]
fn emitted_uri_is_accepted_by_totp_rs() {
    // totp-rs (with its otpauth feature off) cannot parse URIs, but its secret parser
    // must accept our canonical base32 and produce the same codes.
    let token = ok(
        "otpauth://totp/Example:alice?secret=jbsw-y3dp-ehpk-3pxp&issuer=Example&period=45&digits=7",
    );
    let uri = to_uri(&token);
    let secret_b32 = uri
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let secret = totp_rs::Secret::try_from_base32(secret_b32).unwrap();
    let theirs = totp_rs::Builder::new()
        .with_digits(7)
        .with_step_duration(45)
        .with_secret(secret)
        .build_noncompliant();
    let ours = kaito_core::otp::CodeGenerator::new(&parse(&uri).unwrap());
    assert_eq!(
        ours.code_at(1_700_000_000).as_str(),
        theirs.generate(1_700_000_000).to_string()
    );
}

fn name_strategy() -> impl Strategy<Value = String> {
    // Printable text including every character the encoder must escape, trimmed
    // because parsing trims names.
    "[A-Za-z0-9 :@&=+%/?#._~\\-é漢😀]{0,24}".prop_map(|s| s.trim().to_owned())
}

fn token_strategy() -> impl Strategy<Value = Token> {
    let kind = prop_oneof![
        (1u32..=u32::MAX).prop_map(|period| (OtpKind::Totp { period }, 6u32..=8)),
        any::<u64>().prop_map(|counter| (OtpKind::Hotp { counter }, 6u32..=8)),
        (1u32..=u32::MAX).prop_map(|period| (OtpKind::Steam { period }, 5u32..=5)),
    ];
    (
        name_strategy(),
        name_strategy(),
        kind.prop_flat_map(|(kind, digits)| (Just(kind), digits)),
        prop_oneof![
            Just(Algorithm::Sha1),
            Just(Algorithm::Sha256),
            Just(Algorithm::Sha512)
        ],
        proptest::collection::vec(any::<u8>(), 1..70),
    )
        .prop_filter_map(
            "valid token",
            |(issuer, account, (kind, digits), algorithm, secret)| {
                // "Steam" + 5 digits reads as Steam by design, which only matters for TOTP
                // tokens, and those cannot have 5 digits; no filtering needed for that.
                Token::new(
                    issuer,
                    account,
                    kind,
                    algorithm,
                    digits,
                    Secret::from_bytes(secret).ok()?,
                )
                .ok()
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn parse_of_emit_is_identity(token in token_strategy()) {
        let uri = to_uri(&token);
        prop_assert_eq!(parse(&uri), Ok(token));
    }

    #[test]
    fn emit_is_canonical(token in token_strategy()) {
        let uri = to_uri(&token);
        prop_assert_eq!(&*to_uri(&parse(&uri).unwrap()), &*uri);
        prop_assert!(uri.is_ascii());
    }

    #[test]
    fn extras_round_trip(token in token_strategy(), extras in proptest::collection::vec(("[a-z]{1,8}", "[ -~]{0,12}"), 0..4)) {
        let reserved = ["secret", "issuer", "algorithm", "digits", "period", "counter", "encoder"];
        let extra_params: Vec<(String, String)> = extras.into_iter().filter(|(k, _)| !reserved.contains(&k.as_str())).collect();
        let parsed = ParsedUri { token, extra_params };
        prop_assert_eq!(parse_full(&parsed.to_uri()), Ok(parsed));
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = parse(&text);
        let _ = parse(&format!("otpauth://totp/{text}"));
        let _ = parse(&format!("otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&{text}"));
    }
}
