//! 2FA directory: parse the full data set and search it per keystroke.
//! Uses the shared snapshot of the real directory (../shared/data/2fa-directory), in
//! both the repository's entry format and re-shaped as the API v4 `all.json`.

#![allow(clippy::expect_used, reason = "fixed, valid benchmark inputs")]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kaito_core::directory::Directory;

fn snapshot() -> Option<Vec<u8>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/2fa-directory/entries.json");
    std::fs::read(path).ok()
}

/// The v4 shape, built from the entries as the directory's own API script does.
fn as_v4(entries: &[u8]) -> Vec<u8> {
    let entries: Vec<serde_json::Value> = serde_json::from_slice(entries).expect("snapshot");
    let mut all = serde_json::Map::new();
    for entry in entries {
        let api_entry = serde_json::json!({
            "methods": entry.get("tfa"),
            "custom-software": entry.get("custom-software"),
            "custom-hardware": entry.get("custom-hardware"),
            "documentation": entry.get("documentation"),
            "recovery": entry.get("recovery"),
            "notes": entry.get("notes"),
        });
        let api_entry: serde_json::Map<String, serde_json::Value> = api_entry
            .as_object()
            .expect("object")
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut domains = vec![entry["domain"].as_str().expect("domain").to_owned()];
        if let Some(extra) = entry.get("additional-domains").and_then(|d| d.as_array()) {
            domains.extend(extra.iter().filter_map(|d| d.as_str().map(str::to_owned)));
        }
        for domain in domains {
            all.insert(domain, serde_json::Value::Object(api_entry.clone()));
        }
    }
    serde_json::to_vec(&all).expect("json")
}

fn directory(c: &mut Criterion) {
    let Some(entries) = snapshot() else {
        eprintln!("2FA directory snapshot not present: directory benchmarks skipped");
        return;
    };
    let v4 = as_v4(&entries);
    c.bench_function("parse + index, repository entries (2,566 services)", |b| {
        b.iter(|| Directory::parse(black_box(&entries)).expect("parses"));
    });
    c.bench_function("parse + index, API v4 all.json", |b| {
        b.iter(|| Directory::parse(black_box(&v4)).expect("parses"));
    });
    let parsed = Directory::parse(&entries).expect("parses");
    for query in ["github", "bank", "gthub", "amazon web serv", "zzqxv"] {
        c.bench_function(&format!("search {query:?}, 50 results"), |b| {
            b.iter(|| parsed.search(black_box(query), 50).len());
        });
    }
}

criterion_group!(benches, directory);
criterion_main!(benches);
