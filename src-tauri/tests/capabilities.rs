//! Which window may call which app command (#16 L6): every command the app
//! registers is declared to tauri-build and allowed to the main window, and the
//! palette is allowed only its few. Read from the files tauri-build reads, so a
//! command added to one list and not the others fails here, not in a user's hands.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

fn source(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// The commands `generate_handler!` registers.
fn registered() -> BTreeSet<String> {
    let lib = source("src/lib.rs");
    let start = lib.find("generate_handler![").unwrap();
    let end = start + lib[start..].find("])").unwrap();
    lib[start..end]
        .split(',')
        .filter_map(|item| item.trim().rsplit("::").next())
        .map(|name| {
            name.trim()
                .trim_start_matches("generate_handler![")
                .trim()
                .to_owned()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

/// The commands build.rs declares to tauri-build.
fn declared() -> BTreeSet<String> {
    let build = source("build.rs");
    let start = build.find("const COMMANDS").unwrap();
    let end = start + build[start..].find("];").unwrap();
    build[start..end]
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The commands a capability file allows.
fn allowed(file: &str) -> BTreeSet<String> {
    let capability: serde_json::Value =
        serde_json::from_str(&source(&format!("capabilities/{file}"))).unwrap();
    capability["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|permission| permission.as_str()?.strip_prefix("allow-"))
        .map(|command| command.replace('-', "_"))
        .collect()
}

#[test]
fn every_registered_command_is_declared_and_allowed_to_the_main_window() {
    let registered = registered();
    assert!(registered.len() > 50, "{registered:?}");
    assert_eq!(declared(), registered);
    assert_eq!(allowed("main.json"), registered);
}

#[test]
fn the_palette_may_list_and_copy_codes_and_nothing_more() {
    let palette = allowed("palette.json");
    let expected: BTreeSet<String> = [
        "list_tokens",
        "team_tokens",
        "copy_code",
        "copy_team_code",
        "hide_palette",
        "show_main_window",
        "get_settings",
    ]
    .map(str::to_owned)
    .into();
    assert_eq!(palette, expected);
    for dangerous in [
        "reveal_secret",
        "open_link",
        "team_admin_overview",
        "team_add_sink",
    ] {
        assert!(!palette.contains(dangerous), "{dangerous}");
    }
}
