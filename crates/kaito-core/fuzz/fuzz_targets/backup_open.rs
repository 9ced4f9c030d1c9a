//! Any bytes as a Kaito backup: an error or a backup, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = kaito_core::backup::open_backup(data, "fuzz");
});
