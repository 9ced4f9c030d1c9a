//! Code generation against published vectors (RFC 4226 Appendix D, RFC 6238 Appendix
//! B), Steam known answers computed by `fixtures/steam_vectors.py` (Python stdlib
//! hmac, independent of this crate), and a cross-check against totp-rs.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

mod common;

use kaito_core::otp::{CodeGenerator, MAX_VERIFY_WINDOW};
use kaito_core::{Algorithm, OtpKind, Secret, Token};
use proptest::prelude::*;

const SEED_SHA1: &[u8] = b"12345678901234567890";
const SEED_SHA256: &[u8] = b"12345678901234567890123456789012";
const SEED_SHA512: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

fn token(seed: &[u8], kind: OtpKind, algorithm: Algorithm, digits: u32) -> Token {
    let secret = Secret::from_bytes(seed.to_vec()).unwrap();
    Token::new("RFC", "test", kind, algorithm, digits, secret).unwrap()
}

#[test]
fn rfc4226_appendix_d_hotp() {
    // (counter, 6-digit HOTP, truncated 31-bit value in decimal)
    let vectors = [
        (0, "755224", 1_284_755_224u32),
        (1, "287082", 1_094_287_082),
        (2, "359152", 137_359_152),
        (3, "969429", 1_726_969_429),
        (4, "338314", 1_640_338_314),
        (5, "254676", 868_254_676),
        (6, "287922", 1_918_287_922),
        (7, "162583", 82_162_583),
        (8, "399871", 673_399_871),
        (9, "520489", 645_520_489),
    ];
    let six = CodeGenerator::new(&token(
        SEED_SHA1,
        OtpKind::Hotp { counter: 0 },
        Algorithm::Sha1,
        6,
    ));
    let eight = CodeGenerator::new(&token(
        SEED_SHA1,
        OtpKind::Hotp { counter: 0 },
        Algorithm::Sha1,
        8,
    ));
    for (counter, expected, truncated) in vectors {
        assert_eq!(six.hotp(counter).as_str(), expected, "counter {counter}");
        // The 8-digit code is the same truncated value mod 10^8: checks truncation itself.
        assert_eq!(
            eight.hotp(counter).as_str(),
            format!("{:08}", truncated % 100_000_000),
            "counter {counter}"
        );
    }
    // code_at on an HOTP token uses its stored counter.
    let at_five = CodeGenerator::new(&token(
        SEED_SHA1,
        OtpKind::Hotp { counter: 5 },
        Algorithm::Sha1,
        6,
    ));
    assert_eq!(at_five.code_at(1_700_000_000).as_str(), "254676");
}

#[test]
fn rfc6238_appendix_b_totp() {
    let rows: [(u64, &str, Algorithm); 18] = [
        (59, "94287082", Algorithm::Sha1),
        (59, "46119246", Algorithm::Sha256),
        (59, "90693936", Algorithm::Sha512),
        (1_111_111_109, "07081804", Algorithm::Sha1),
        (1_111_111_109, "68084774", Algorithm::Sha256),
        (1_111_111_109, "25091201", Algorithm::Sha512),
        (1_111_111_111, "14050471", Algorithm::Sha1),
        (1_111_111_111, "67062674", Algorithm::Sha256),
        (1_111_111_111, "99943326", Algorithm::Sha512),
        (1_234_567_890, "89005924", Algorithm::Sha1),
        (1_234_567_890, "91819424", Algorithm::Sha256),
        (1_234_567_890, "93441116", Algorithm::Sha512),
        (2_000_000_000, "69279037", Algorithm::Sha1),
        (2_000_000_000, "90698825", Algorithm::Sha256),
        (2_000_000_000, "38618901", Algorithm::Sha512),
        (20_000_000_000, "65353130", Algorithm::Sha1),
        (20_000_000_000, "77737706", Algorithm::Sha256),
        (20_000_000_000, "47863826", Algorithm::Sha512),
    ];
    for (time, expected, algorithm) in rows {
        let seed = match algorithm {
            Algorithm::Sha1 => SEED_SHA1,
            Algorithm::Sha256 => SEED_SHA256,
            Algorithm::Sha512 => SEED_SHA512,
        };
        let generator =
            CodeGenerator::new(&token(seed, OtpKind::Totp { period: 30 }, algorithm, 8));
        assert_eq!(
            generator.code_at(time).as_str(),
            expected,
            "{algorithm:?} at {time}"
        );
        let window = generator.window(time).unwrap();
        assert_eq!(window.current.as_str(), expected);
        assert_eq!(window.next, generator.code_at(time + 30));
        // The RFC's 6-digit reading of the same value is its last six digits.
        let six = CodeGenerator::new(&token(seed, OtpKind::Totp { period: 30 }, algorithm, 6));
        assert_eq!(six.code_at(time).as_str(), &expected[2..]);
    }
}

#[test]
fn steam_known_answers_from_python_script() {
    // Output of `python3 tests/fixtures/steam_vectors.py`.
    let vectors = [
        ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 0, "GG5F5"),
        ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 29, "GG5F5"),
        ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 30, "PV9M4"),
        ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59, "PV9M4"),
        ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 1_111_111_109, "PY4YB"),
        ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 1_234_567_890, "VHHQY"),
        ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 1_700_000_000, "R87JJ"),
        ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 2_000_000_000, "9N776"),
        ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 20_000_000_000, "R5DMB"),
        ("Z3ZBVSU5ZE7PWU6DGRD7XA6MDKS5T4KB", 0, "HNK7H"),
        ("Z3ZBVSU5ZE7PWU6DGRD7XA6MDKS5T4KB", 29, "HNK7H"),
        ("Z3ZBVSU5ZE7PWU6DGRD7XA6MDKS5T4KB", 30, "JTQ9N"),
        ("Z3ZBVSU5ZE7PWU6DGRD7XA6MDKS5T4KB", 59, "JTQ9N"),
        ("Z3ZBVSU5ZE7PWU6DGRD7XA6MDKS5T4KB", 1_111_111_109, "TC26W"),
        ("Z3ZBVSU5ZE7PWU6DGRD7XA6MDKS5T4KB", 1_234_567_890, "WF9GY"),
        ("Z3ZBVSU5ZE7PWU6DGRD7XA6MDKS5T4KB", 1_700_000_000, "J7GMY"),
        ("Z3ZBVSU5ZE7PWU6DGRD7XA6MDKS5T4KB", 2_000_000_000, "DQRPQ"),
        ("Z3ZBVSU5ZE7PWU6DGRD7XA6MDKS5T4KB", 20_000_000_000, "NTH58"),
    ];
    for (base32, time, expected) in vectors {
        let steam = common::steam_token(base32);
        let generator = CodeGenerator::new(&steam);
        let code = generator.code_at(time);
        assert_eq!(code.as_str(), expected, "{base32} at {time}");
        assert_eq!(code.grouped(), expected, "Steam codes are shown unsplit");
        assert!(
            code.as_str()
                .bytes()
                .all(|c| kaito_core::otp::STEAM_ALPHABET.contains(&c))
        );
    }
}

#[test]
fn verify_accepts_skew_within_the_window_and_reports_the_offset() {
    let generator = CodeGenerator::new(&token(
        SEED_SHA1,
        OtpKind::Totp { period: 30 },
        Algorithm::Sha1,
        8,
    ));
    let now = 1_111_111_111; // 14050471
    assert_eq!(generator.verify("14050471", now, 1), Some(0));
    assert_eq!(
        generator.verify("1405 0471", now, 0),
        Some(0),
        "grouping spaces are ignored"
    );
    // The code from 30 s ago is the RFC row at 1111111109 - 30... compute both sides.
    let previous = generator.code_at(now - 30);
    let following = generator.code_at(now + 30);
    let two_ahead = generator.code_at(now + 60);
    assert_eq!(generator.verify(previous.as_str(), now, 1), Some(-1));
    assert_eq!(generator.verify(following.as_str(), now, 1), Some(1));
    assert_eq!(
        generator.verify(two_ahead.as_str(), now, 1),
        None,
        "outside the window"
    );
    assert_eq!(generator.verify(two_ahead.as_str(), now, 2), Some(2));
    assert_eq!(
        generator.verify(previous.as_str(), now, 0),
        None,
        "window 0 means exact step only"
    );
    assert_eq!(generator.verify("1405047", now, 1), None, "wrong length");
    assert_eq!(generator.verify("", now, 1), None);
    assert_eq!(generator.verify("abcdefgh", now, 1), None);
    assert_eq!(generator.verify("140504711405047114050471", now, 1), None);
    // Near the epoch there are no negative steps to look at, and nothing panics.
    assert_eq!(
        generator.verify(generator.code_at(0).as_str(), 0, 5),
        Some(0)
    );
    assert_eq!(
        generator.verify(
            generator.code_at(u64::MAX).as_str(),
            u64::MAX,
            MAX_VERIFY_WINDOW + 5
        ),
        Some(0)
    );
}

#[test]
fn verify_hotp_looks_ahead_only() {
    let generator = CodeGenerator::new(&token(
        SEED_SHA1,
        OtpKind::Hotp { counter: 3 },
        Algorithm::Sha1,
        6,
    ));
    assert_eq!(
        generator.verify("969429", 0, 0),
        Some(0),
        "counter 3 itself"
    );
    assert_eq!(
        generator.verify("162583", 0, 5),
        Some(4),
        "counter 7 is 4 ahead"
    );
    assert_eq!(
        generator.verify("162583", 0, 3),
        None,
        "beyond the look-ahead"
    );
    assert_eq!(
        generator.verify("359152", 0, 5),
        None,
        "counter 2 is already used"
    );
}

#[test]
fn verify_steam_is_case_insensitive() {
    let steam = common::steam_token("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    let generator = CodeGenerator::new(&steam);
    assert_eq!(generator.verify("pv9m4", 45, 0), Some(0));
    assert_eq!(generator.verify("GG5F5", 45, 1), Some(-1));
    assert_eq!(generator.verify("PV9M", 45, 1), None);
}

#[test]
fn remaining_seconds_at_boundaries_for_odd_periods() {
    let generator = CodeGenerator::new(&token(
        SEED_SHA1,
        OtpKind::Totp { period: 7 },
        Algorithm::Sha1,
        6,
    ));
    let cases = [(0, 7), (1, 6), (6, 1), (7, 7), (13, 1), (14, 7)];
    for (time, remaining) in cases {
        let window = generator.window(time).unwrap();
        assert_eq!(window.remaining_secs, remaining, "at {time}");
        assert_eq!(window.current, generator.hotp(time / 7));
    }
    let one_second = CodeGenerator::new(&token(
        SEED_SHA1,
        OtpKind::Totp { period: 1 },
        Algorithm::Sha1,
        6,
    ));
    let window = one_second.window(100).unwrap();
    assert_eq!(window.remaining_secs, 1);
    assert_eq!(window.next, one_second.code_at(101));
}

fn totp_rs_algorithm(algorithm: Algorithm) -> totp_rs::Algorithm {
    match algorithm {
        Algorithm::Sha1 => totp_rs::Algorithm::SHA1,
        Algorithm::Sha256 => totp_rs::Algorithm::SHA256,
        Algorithm::Sha512 => totp_rs::Algorithm::SHA512,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// totp-rs is an independent implementation: any secret, time, period, digits
    /// and algorithm must give the same code.
    #[test]
    fn matches_totp_rs(
        seed in proptest::collection::vec(any::<u8>(), 1..80),
        time in any::<u64>(),
        period in 1u32..100_000,
        digits in 6u32..=8,
        algorithm in prop_oneof![Just(Algorithm::Sha1), Just(Algorithm::Sha256), Just(Algorithm::Sha512)],
    ) {
        let ours = CodeGenerator::new(&token(&seed, OtpKind::Totp { period }, algorithm, digits));
        let theirs = totp_rs::Builder::new()
            .with_algorithm(totp_rs_algorithm(algorithm))
            .with_digits(u8::try_from(digits).unwrap())
            .with_step_duration(u64::from(period))
            .with_secret(seed.clone())
            .build_noncompliant();
        prop_assert_eq!(ours.code_at(time).to_string(), theirs.generate(time).to_string());
    }

    #[test]
    fn steam_matches_totp_rs(seed in proptest::collection::vec(any::<u8>(), 1..40), time in any::<u64>()) {
        let secret = Secret::from_bytes(seed.clone()).unwrap();
        let steam = Token::new("Steam", "x", OtpKind::Steam { period: 30 }, Algorithm::Sha1, 5, secret).unwrap();
        let theirs = totp_rs::Builder::new_steam().with_secret(seed).build_noncompliant();
        prop_assert_eq!(CodeGenerator::new(&steam).code_at(time).to_string(), theirs.generate(time).to_string());
    }

    #[test]
    fn window_is_consistent_with_code_at(time in any::<u64>(), period in 1u32..=u32::MAX) {
        let generator = CodeGenerator::new(&token(SEED_SHA1, OtpKind::Totp { period }, Algorithm::Sha1, 6));
        let window = generator.window(time).unwrap();
        prop_assert!(window.remaining_secs >= 1 && window.remaining_secs <= period);
        prop_assert_eq!(window.current, generator.code_at(time));
        if let Some(rollover) = time.checked_add(u64::from(window.remaining_secs)) {
            prop_assert_eq!(window.next, generator.code_at(rollover));
            prop_assert_eq!(window.current, generator.code_at(rollover - 1));
        }
    }
}
