//! The one-time code in a text message ("Your Acme code is 482 913"), so the inbox
//! can highlight it and copy it in one click.
//!
//! A code is 4–8 digits, or two groups of 3–4 digits joined by one space or hyphen.
//! Longer digit runs (phone numbers, amounts with separators, order numbers) are
//! not codes. When several candidates appear, the first one after a word like
//! "code", "OTP", "PIN" or "passcode" wins, then the first with 6 digits, then the
//! first.

/// Words that introduce a code in the languages providers send most.
const CUES: [&str; 12] = [
    "code",
    "otp",
    "pin",
    "passcode",
    "password",
    "token",
    "verification",
    "código",
    "codice",
    "kod",
    "验证码",
    "認証",
];

#[derive(Debug, Clone, PartialEq, Eq)]
struct Candidate {
    /// Byte offset in the message.
    start: usize,
    digits: String,
}

/// The one-time code in `body`, digits only (`"482913"`), if there is one.
#[must_use]
pub fn extract_code(body: &str) -> Option<String> {
    let candidates = candidates(body);
    let lower = body.to_lowercase();
    // Positions where a cue word ends, in `lower` (same byte offsets for ASCII;
    // for the rest, a cue before any candidate still counts).
    let cue_ends: Vec<usize> = CUES
        .iter()
        .flat_map(|cue| lower.match_indices(cue).map(|(at, cue)| at + cue.len()))
        .collect();
    let after_cue = candidates
        .iter()
        .find(|candidate| cue_ends.iter().any(|&end| end <= candidate.start));
    after_cue
        .or_else(|| {
            candidates
                .iter()
                .find(|candidate| candidate.digits.len() == 6)
        })
        .or_else(|| candidates.first())
        .map(|candidate| candidate.digits.clone())
}

fn candidates(body: &str) -> Vec<Candidate> {
    let bytes = body.as_bytes();
    let mut found = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        if !bytes[index].is_ascii_digit() {
            index += 1;
            continue;
        }
        let start = index;
        // Digits, allowing single spaces or hyphens between groups.
        let mut groups = Vec::new();
        let mut group_start = index;
        let mut end = index;
        loop {
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                end += 1;
            }
            groups.push(&body[group_start..end]);
            let joined = end + 1 < bytes.len()
                && matches!(bytes[end], b' ' | b'-')
                && bytes[end + 1].is_ascii_digit();
            if !joined {
                break;
            }
            group_start = end + 1;
            end += 1;
        }
        // A digit run glued to letters or decimal points is part of something else
        // ("A1234", "12.50").
        let glued_before = start > 0
            && (bytes[start - 1].is_ascii_alphabetic()
                || bytes[start - 1] == b'.'
                || bytes[start - 1] == b',');
        let glued_after = end < bytes.len()
            && (bytes[end].is_ascii_alphabetic()
                || (matches!(bytes[end], b'.' | b',')
                    && bytes.get(end + 1).is_some_and(u8::is_ascii_digit)));
        if !glued_before && !glued_after {
            let digits: String = groups.concat();
            let single = groups.len() == 1 && (4..=8).contains(&digits.len());
            let split = groups.len() == 2
                && groups.iter().all(|group| (3..=4).contains(&group.len()))
                && (6..=8).contains(&digits.len());
            if single || split {
                found.push(Candidate { start, digits });
            }
        }
        index = end.max(index + 1);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::extract_code;

    #[test]
    fn codes_from_the_messages_services_send() {
        let cases = [
            (
                "Your Acme verification code is 482913. It expires in 10 minutes.",
                Some("482913"),
            ),
            ("G-572810 is your Google verification code.", Some("572810")),
            ("Your code: 482 913", Some("482913")),
            ("Use 123-456 to sign in to Contoso", Some("123456")),
            ("Amazon: 8841 is your one-time passcode", Some("8841")),
            (
                "Call +1 415 555 0100 if this wasn't you. Code 771204",
                Some("771204"),
            ),
            ("Order 1234567890 shipped; your PIN is 5521", Some("5521")),
            ("Pay $12.50 by 2026-12-01. Code: 90817263", Some("90817263")),
            ("Tu código de verificación es 350912", Some("350912")),
            ("Welcome to the team!", None),
            ("Your order A12345 is on its way", None),
        ];
        for (body, expected) in cases {
            assert_eq!(extract_code(body).as_deref(), expected, "{body}");
        }
    }

    #[test]
    fn without_a_cue_six_digits_win() {
        assert_eq!(
            extract_code("2026 sign-in: 551234").as_deref(),
            Some("551234")
        );
        assert_eq!(extract_code("ref 4412").as_deref(), Some("4412"));
    }
}
