//! How fast the pre-keyed generator refreshes codes: one token, and a 1,000-token
//! list (mixed SHA1/SHA256/SHA512) as the app and the server redraw each period.
//! Numbers go in BENCHMARKS.md (`## kaito-core: OTP`).

#![allow(clippy::expect_used, reason = "fixed, valid benchmark inputs")]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kaito_core::otp::CodeGenerator;
use kaito_core::{Algorithm, OtpKind, Secret, Token};

const NOW: u64 = 1_763_900_000;

fn token(index: usize, algorithm: Algorithm) -> Token {
    // Realistic key sizes per algorithm (RFC 6238 uses 20/32/64 bytes).
    let len = match algorithm {
        Algorithm::Sha1 => 20,
        Algorithm::Sha256 => 32,
        Algorithm::Sha512 => 64,
    };
    let bytes = (0..len)
        .map(|i| u8::try_from((i * 31 + index * 7) % 251).unwrap_or(0))
        .collect();
    let secret = Secret::from_bytes(bytes).expect("non-empty");
    Token::new(
        "Bench",
        format!("user{index}"),
        OtpKind::Totp { period: 30 },
        algorithm,
        6,
        secret,
    )
    .expect("valid token")
}

fn mixed_tokens(count: usize) -> Vec<Token> {
    (0..count)
        .map(|index| {
            let algorithm = match index % 3 {
                0 => Algorithm::Sha1,
                1 => Algorithm::Sha256,
                _ => Algorithm::Sha512,
            };
            token(index, algorithm)
        })
        .collect()
}

fn one_token(c: &mut Criterion) {
    let mut group = c.benchmark_group("one_token");
    group.throughput(Throughput::Elements(1));
    for algorithm in [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512] {
        let generator = CodeGenerator::new(&token(0, algorithm));
        group.bench_function(format!("code_at/{}", algorithm.name()), |b| {
            b.iter(|| generator.code_at(black_box(NOW)));
        });
    }
    let generator = CodeGenerator::new(&token(0, Algorithm::Sha1));
    group.bench_function("window/SHA1", |b| {
        b.iter(|| generator.window(black_box(NOW)));
    });
    // What keying per code would cost instead of the pre-keyed path.
    let sha1 = token(0, Algorithm::Sha1);
    group.bench_function("new+code_at/SHA1", |b| {
        b.iter(|| CodeGenerator::new(black_box(&sha1)).code_at(black_box(NOW)));
    });
    group.finish();
}

fn thousand_tokens(c: &mut Criterion) {
    let tokens = mixed_tokens(1_000);
    let generators: Vec<CodeGenerator> = tokens.iter().map(CodeGenerator::new).collect();
    let mut group = c.benchmark_group("refresh_1000_mixed");
    group.throughput(Throughput::Elements(1_000));
    group.bench_function("code_at", |b| {
        b.iter(|| {
            for generator in &generators {
                black_box(generator.code_at(black_box(NOW)));
            }
        });
    });
    group.bench_function("window (current+next)", |b| {
        b.iter(|| {
            for generator in &generators {
                black_box(generator.window(black_box(NOW)));
            }
        });
    });
    group.bench_function("key+code_at", |b| {
        b.iter(|| {
            for token in &tokens {
                black_box(CodeGenerator::new(token).code_at(black_box(NOW)));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, one_token, thousand_tokens);
criterion_main!(benches);
