//! Any text: parsing must not panic, and whatever it accepts must come back unchanged
//! through the canonical emitter (and give codes without panicking).
#![no_main]

use kaito_core::otp::CodeGenerator;
use kaito_core::uri::parse_full;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(parsed) = parse_full(text) else { return };
    let emitted = parsed.to_uri();
    let again = parse_full(&emitted).expect("a canonical URI must parse");
    assert_eq!(again, parsed, "emit/parse changed the token");
    assert_eq!(*again.to_uri(), *emitted, "emission is not canonical");
    let generator = CodeGenerator::new(&parsed.token);
    let seed = data
        .iter()
        .fold(0u64, |acc, &b| acc.rotate_left(8) ^ u64::from(b));
    let code = generator.code_at(seed);
    assert_eq!(generator.verify(code.as_str(), seed, 1).is_some(), true);
    let _ = generator.window(seed);
});
