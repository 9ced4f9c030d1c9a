//! One-time codes: HOTP (RFC 4226), TOTP (RFC 6238) and Steam Guard.
//!
//! [`CodeGenerator`] keys the HMAC once per token and clones that keyed state for
//! every code, so refreshing a long token list costs one hash of 8 bytes per token
//! rather than re-deriving the inner/outer pads each time (see `BENCHMARKS.md`).
//! Time is always passed in as unix seconds: this crate never reads the clock.

use std::fmt;

use hmac::{EagerHash, Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha512};

use crate::secret::constant_time_eq;
use crate::token::{Algorithm, OtpKind, Token};

/// Steam Guard's 26-character alphabet (no vowels, no look-alikes such as 0/O, 1/I).
pub const STEAM_ALPHABET: &[u8; 26] = b"23456789BCDFGHJKMNPQRTVWXY";

const _: () = assert!(STEAM_ALPHABET.len() == 26, "steam_code divides by 26");

/// Steam codes are always five characters long.
pub const STEAM_DIGITS: u32 = 5;

/// Upper bound on `window_steps` in [`CodeGenerator::verify`]: a larger window would
/// accept almost any guess and let one call spin for a long time.
pub const MAX_VERIFY_WINDOW: u32 = 1000;

// A keyed HMAC holds two hash states (inner and outer pad) that are as good as the
// key. With the `zeroize` features of hmac/sha1/sha2 those core states (and the block
// buffer) wipe themselves on drop; fail the build if a dependency update drops that.
const _: () = {
    const fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    wiped_on_drop::<<Sha1 as EagerHash>::Core>();
    wiped_on_drop::<<Sha256 as EagerHash>::Core>();
    wiped_on_drop::<<Sha512 as EagerHash>::Core>();
};

/// A one-time code: 6–8 decimal digits, or 5 Steam characters. Stored inline so that
/// generating codes for a long list does not allocate.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Code {
    chars: [u8; 8],
    len: u8,
}

impl Code {
    /// The code as the service expects it typed: "123456", "K7BQ9".
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and Steam letters are ever stored, so this cannot fail.
        std::str::from_utf8(&self.chars[..usize::from(self.len)]).unwrap_or_default()
    }

    /// Number of characters (5 for Steam, else the token's digits).
    #[must_use]
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Always false; present because `len` is.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The code split in two for reading aloud and typing: "123 456", "123 4567",
    /// "1234 5678". The shorter half comes first so 7-digit codes read as 3 + 4, like
    /// phone numbers. Steam codes stay whole ("K7BQ9"): Steam shows them unsplit.
    #[must_use]
    pub fn grouped(&self) -> String {
        let code = self.as_str();
        if self.len <= 5 {
            return code.to_owned();
        }
        let split = code.len() / 2;
        format!("{} {}", &code[..split], &code[split..])
    }

    fn from_ascii(chars: [u8; 8], len: usize) -> Self {
        Self {
            chars,
            len: u8::try_from(len.min(8)).unwrap_or(8),
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Code {
    // A code is shown to the user anyway and lives 30 s; showing it keeps test
    // failures readable. Seeds are what must never be printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Code({:?})", self.as_str())
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// What a time-based token shows at one instant: the code, the one after it, and how
/// long the current one stays valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TotpWindow {
    pub current: Code,
    pub next: Code,
    /// Seconds until `next` becomes current: 1..=period, never 0.
    pub remaining_secs: u32,
    pub period: u32,
}

/// An HMAC already keyed with the token's secret.
#[derive(Clone)]
enum KeyedMac {
    Sha1(Hmac<Sha1>),
    Sha256(Hmac<Sha256>),
    Sha512(Hmac<Sha512>),
}

impl KeyedMac {
    fn new(algorithm: Algorithm, key: &[u8]) -> Self {
        match algorithm {
            Algorithm::Sha1 => Self::Sha1(keyed(key)),
            Algorithm::Sha256 => Self::Sha256(keyed(key)),
            Algorithm::Sha512 => Self::Sha512(keyed(key)),
        }
    }

    /// RFC 4226 §5.3 dynamic truncation of HMAC(counter): a 31-bit number.
    fn truncated(&self, counter: u64) -> u32 {
        let message = counter.to_be_bytes();
        match self {
            Self::Sha1(mac) => truncate(&finish(mac.clone(), &message)),
            Self::Sha256(mac) => truncate(&finish(mac.clone(), &message)),
            Self::Sha512(mac) => truncate(&finish(mac.clone(), &message)),
        }
    }
}

fn keyed<M: KeyInit>(key: &[u8]) -> M {
    // HMAC takes keys of any length (long ones are hashed first), so this cannot
    // fail; an all-zero key is a fallback that keeps the no-panic promise should a
    // future version of the crate ever change that.
    M::new_from_slice(key).unwrap_or_else(|_| M::new(&hmac::digest::Key::<M>::default()))
}

fn finish<M: Mac>(mut mac: M, message: &[u8]) -> hmac::digest::Output<M> {
    mac.update(message);
    mac.finalize().into_bytes()
}

fn truncate(digest: &[u8]) -> u32 {
    // Every supported digest is at least 20 bytes and the offset is at most 15, so the
    // four bytes read are always in range; `get` keeps that a checked fact.
    let offset = usize::from(digest.last().copied().unwrap_or(0) & 0x0f);
    let word = digest
        .get(offset..offset + 4)
        .and_then(|bytes| <[u8; 4]>::try_from(bytes).ok())
        .unwrap_or_default();
    u32::from_be_bytes(word) & 0x7fff_ffff
}

/// Produces codes for one token. Build it once per token and keep it while the token
/// is on screen; it holds the keyed HMAC, which wipes itself on drop.
#[derive(Clone)]
pub struct CodeGenerator {
    mac: KeyedMac,
    kind: OtpKind,
    digits: u32,
}

impl fmt::Debug for CodeGenerator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodeGenerator")
            .field("kind", &self.kind)
            .field("digits", &self.digits)
            .finish_non_exhaustive()
    }
}

impl CodeGenerator {
    /// Keys the HMAC with the token's secret.
    ///
    /// [`Token::new`] guarantees 6–8 digits (5 for Steam) and a period of at least one
    /// second. A `Token` assembled field by field could break that, so digits are
    /// clamped into range and a zero period counts as one second: codes for such a
    /// token are wrong, but nothing panics.
    #[must_use]
    pub fn new(token: &Token) -> Self {
        let (kind, digits) = match token.kind {
            OtpKind::Steam { period } => (
                OtpKind::Steam {
                    period: period.max(1),
                },
                STEAM_DIGITS,
            ),
            OtpKind::Totp { period } => (
                OtpKind::Totp {
                    period: period.max(1),
                },
                token.digits.clamp(6, 8),
            ),
            hotp @ OtpKind::Hotp { .. } => (hotp, token.digits.clamp(6, 8)),
        };
        Self {
            mac: KeyedMac::new(token.algorithm, token.secret.expose()),
            kind,
            digits,
        }
    }

    /// The token's kind (with a zero period already raised to 1).
    #[must_use]
    pub fn kind(&self) -> OtpKind {
        self.kind
    }

    /// The code for an explicit moving factor. For TOTP and Steam this is the time
    /// step; for HOTP the counter. RFC 4226 §5.3 truncation, then decimal digits or
    /// Steam's alphabet.
    #[must_use]
    pub fn hotp(&self, counter: u64) -> Code {
        let value = self.mac.truncated(counter);
        match self.kind {
            OtpKind::Steam { .. } => steam_code(value),
            OtpKind::Totp { .. } | OtpKind::Hotp { .. } => decimal_code(value, self.digits),
        }
    }

    /// The time step (RFC 6238 "T") containing `unix_secs`; for HOTP the stored counter.
    #[must_use]
    pub fn step_at(&self, unix_secs: u64) -> u64 {
        match self.kind {
            OtpKind::Totp { period } | OtpKind::Steam { period } => unix_secs / u64::from(period),
            OtpKind::Hotp { counter } => counter,
        }
    }

    /// The code valid at `unix_secs`. For HOTP, time plays no part: this is the code
    /// for the token's stored counter.
    #[must_use]
    pub fn code_at(&self, unix_secs: u64) -> Code {
        self.hotp(self.step_at(unix_secs))
    }

    /// Current and next code plus the countdown, for time-based tokens. `None` for
    /// HOTP, whose codes change on use rather than with time.
    #[must_use]
    pub fn window(&self, unix_secs: u64) -> Option<TotpWindow> {
        let period = self.kind.period()?;
        let step = unix_secs / u64::from(period);
        // remainder < period, so the difference is in 1..=period and fits in u32.
        let elapsed = unix_secs % u64::from(period);
        let remaining_secs = u32::try_from(u64::from(period) - elapsed).unwrap_or(period);
        Some(TotpWindow {
            current: self.hotp(step),
            // Steps count modulo 2^64, as the 8-byte counter in RFC 4226 does.
            next: self.hotp(step.wrapping_add(1)),
            remaining_secs,
            period,
        })
    }

    /// Checks a code the user typed, for the "verify the first code" step and for
    /// code-only grants on the server.
    ///
    /// Spaces and dashes in `code` are ignored and Steam letters may be lower case.
    /// Time-based tokens accept steps from `-window_steps` to `+window_steps` around
    /// `unix_secs` (clock skew either way), preferring the nearest; HOTP accepts the
    /// stored counter and up to `window_steps` ahead (codes generated but never used).
    /// Returns the matching offset: for HOTP, store `counter + offset + 1` next.
    /// `window_steps` is capped at [`MAX_VERIFY_WINDOW`].
    #[must_use]
    pub fn verify(&self, code: &str, unix_secs: u64, window_steps: u32) -> Option<i64> {
        let typed = normalize_typed_code(code, self.kind)?;
        let window = i64::from(window_steps.min(MAX_VERIFY_WINDOW));
        let base = self.step_at(unix_secs);
        let offsets: Box<dyn Iterator<Item = i64>> = match self.kind {
            OtpKind::Hotp { .. } => Box::new(0..=window),
            OtpKind::Totp { .. } | OtpKind::Steam { .. } => {
                Box::new((0..=window).flat_map(|distance| {
                    let behind = (distance != 0).then_some(-distance);
                    std::iter::once(distance).chain(behind)
                }))
            }
        };
        let mut found = None;
        for offset in offsets {
            // Steps before 0 or past u64::MAX do not exist; skip rather than wrap so
            // a code from the far end of the counter space never matches.
            let Some(step) = base.checked_add_signed(offset) else {
                continue;
            };
            // Keep looking after a match so the time taken does not reveal which
            // offset matched; the nearest match is kept.
            if constant_time_eq(self.hotp(step).as_str().as_bytes(), &typed[..]) && found.is_none()
            {
                found = Some(offset);
            }
        }
        found
    }
}

/// Strips what people type around a code; `None` when it cannot be a code at all.
fn normalize_typed_code(code: &str, kind: OtpKind) -> Option<Vec<u8>> {
    let mut typed = Vec::with_capacity(8);
    for character in code.chars() {
        match character {
            ' ' | '-' | '\u{a0}' => {}
            _ if typed.len() >= 8 => return None,
            '0'..='9' => typed.push(character as u8),
            'a'..='z' | 'A'..='Z' if matches!(kind, OtpKind::Steam { .. }) => {
                typed.push(character.to_ascii_uppercase() as u8);
            }
            _ => return None,
        }
    }
    (!typed.is_empty()).then_some(typed)
}

fn decimal_code(value: u32, digits: u32) -> Code {
    let digits = digits.clamp(1, 8);
    let mut remaining = value % 10u32.pow(digits);
    let mut chars = [b'0'; 8];
    let len = digits as usize;
    for slot in chars[..len].iter_mut().rev() {
        // remaining % 10 < 10, so the cast is exact.
        *slot = b'0' + (remaining % 10) as u8;
        remaining /= 10;
    }
    Code::from_ascii(chars, len)
}

fn steam_code(value: u32) -> Code {
    let mut remaining = value;
    let mut chars = [0u8; 8];
    let alphabet_len = 26u32; // STEAM_ALPHABET.len()
    for slot in &mut chars[..STEAM_DIGITS as usize] {
        *slot = STEAM_ALPHABET[(remaining % alphabet_len) as usize];
        remaining /= alphabet_len;
    }
    Code::from_ascii(chars, STEAM_DIGITS as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn token(kind: OtpKind, digits: u32) -> Token {
        let secret = Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
        Token::new("Example", "alice", kind, Algorithm::Sha1, digits, secret).unwrap()
    }

    #[test]
    fn grouping_splits_codes_for_reading() {
        let six = decimal_code(123_456, 6);
        assert_eq!(six.grouped(), "123 456");
        assert_eq!(decimal_code(1_234_567, 7).grouped(), "123 4567");
        assert_eq!(decimal_code(12_345_678, 8).grouped(), "1234 5678");
        assert_eq!(steam_code(0).grouped(), "22222");
        assert_eq!(six.to_string(), "123456");
        assert_eq!(six.len(), 6);
    }

    #[test]
    fn leading_zeros_are_kept() {
        assert_eq!(decimal_code(42, 6).as_str(), "000042");
        assert_eq!(decimal_code(1_000_000_042, 8).as_str(), "00000042");
    }

    #[test]
    fn window_counts_down_and_rolls_over_at_the_boundary() {
        let generator = CodeGenerator::new(&token(OtpKind::Totp { period: 30 }, 6));
        let at_start = generator.window(60).unwrap();
        assert_eq!(at_start.remaining_secs, 30);
        assert_eq!(at_start.current, generator.hotp(2));
        assert_eq!(at_start.next, generator.hotp(3));
        let last_second = generator.window(89).unwrap();
        assert_eq!(last_second.remaining_secs, 1);
        assert_eq!(last_second.current, at_start.current);
        let rolled = generator.window(90).unwrap();
        assert_eq!(rolled.remaining_secs, 30);
        assert_eq!(rolled.current, at_start.next);
        assert_eq!(rolled.period, 30);
    }

    #[test]
    fn hotp_has_no_time_window_and_ignores_time() {
        let generator = CodeGenerator::new(&token(OtpKind::Hotp { counter: 7 }, 6));
        assert!(generator.window(1_000).is_none());
        assert_eq!(generator.code_at(0), generator.hotp(7));
        assert_eq!(generator.code_at(u64::MAX), generator.hotp(7));
    }

    #[test]
    fn large_periods_and_times_near_u64_max_do_not_panic() {
        for period in [1, 30, 86_400, u32::MAX] {
            let generator = CodeGenerator::new(&token(OtpKind::Totp { period }, 8));
            for time in [0, 1, u64::MAX - 1, u64::MAX] {
                let window = generator.window(time).unwrap();
                assert!((1..=period).contains(&window.remaining_secs));
                assert_eq!(window.current, generator.code_at(time));
                assert_eq!(generator.verify(window.current.as_str(), time, 2), Some(0));
            }
        }
        let steam = CodeGenerator::new(&token(OtpKind::Steam { period: 1 }, 5));
        let window = steam.window(u64::MAX).unwrap();
        // Step u64::MAX + 1 wraps to step 0, as an 8-byte counter does.
        assert_eq!(window.next, steam.hotp(0));
        assert_eq!(window.remaining_secs, 1);
    }

    #[test]
    fn huge_period_counts_down_across_the_whole_range() {
        let generator = CodeGenerator::new(&token(OtpKind::Totp { period: u32::MAX }, 6));
        let window = generator.window(0).unwrap();
        assert_eq!(window.remaining_secs, u32::MAX);
        assert_eq!(window.current, generator.hotp(0));
        assert_eq!(
            generator.window(u64::from(u32::MAX)).unwrap().current,
            generator.hotp(1)
        );
    }

    #[test]
    fn field_built_token_with_bad_values_does_not_panic() {
        let mut bad = token(OtpKind::Totp { period: 30 }, 6);
        bad.kind = OtpKind::Totp { period: 0 };
        bad.digits = 42;
        let generator = CodeGenerator::new(&bad);
        assert_eq!(generator.code_at(12_345).len(), 8);
        assert_eq!(generator.window(12_345).unwrap().period, 1);
    }
}
