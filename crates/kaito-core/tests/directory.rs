//! The 2FA directory: parsing the API v4 shape and the repository's entry format,
//! searching, and matching token issuers.

#![allow(
    clippy::expect_used,
    reason = "test helpers: a failed expect is a failed test"
)]

use kaito_core::directory::{Directory, DirectoryError, Method};

const FIXTURE: &[u8] = include_bytes!("fixtures/directory/all-v4.json");

fn fixture() -> Directory {
    Directory::parse(FIXTURE).expect("fixture parses")
}

fn names(services: &[&kaito_core::directory::Service]) -> Vec<String> {
    services.iter().map(|s| s.name.clone()).collect()
}

#[test]
fn v4_entries_become_services_with_methods_links_and_notes() {
    let directory = fixture();
    // 9 keys: 1password.ca folds into 1password.com, the string entry is skipped.
    assert_eq!(directory.len(), 7);
    assert_eq!(directory.skipped(), 1);

    let github = directory.by_domain("github.com").expect("github");
    assert_eq!(github.name, "github.com");
    assert_eq!(
        github.methods,
        vec![
            Method::Totp,
            Method::Sms,
            Method::U2f,
            Method::CustomSoftware
        ]
    );
    assert_eq!(github.custom_software, vec!["GitHub Mobile"]);
    assert!(
        github
            .documentation
            .as_deref()
            .unwrap()
            .starts_with("https://docs.github.com/")
    );
    assert!(github.recovery.is_some());
    assert_eq!(
        github.verdict(),
        "Supports 2FA via TOTP, SMS, hardware key (U2F), custom app"
    );

    let paypal = directory.by_domain("paypal.com").unwrap();
    assert_eq!(
        paypal.notes.as_deref(),
        Some("SMS is not available in every country.")
    );
}

#[test]
fn additional_domains_fold_into_one_service_and_similar_ones_stay_apart() {
    let directory = fixture();
    let one = directory
        .by_domain("1password.ca")
        .expect("additional domain");
    assert_eq!(one.domains, vec!["1password.com", "1password.ca"]);
    // amazon.com and amazon.de have different documentation: two services.
    assert_ne!(
        directory.by_domain("amazon.de").unwrap().domain(),
        "amazon.com"
    );
}

#[test]
fn a_site_without_2fa_gets_a_plain_answer() {
    let directory = fixture();
    let bakery = directory.by_domain("nocode-bakery.example").unwrap();
    assert!(!bakery.supports_2fa());
    assert_eq!(bakery.verdict(), "No 2FA — ask them");
    assert_eq!(bakery.totp_suggestion(), None);
}

#[test]
fn unknown_methods_are_kept_by_name() {
    let bank = fixture().by_domain("examplebank.co.uk").cloned().unwrap();
    assert_eq!(
        bank.methods,
        vec![Method::CustomHardware, Method::Other("passkeys".into())]
    );
    assert_eq!(bank.verdict(), "Supports 2FA via custom hardware, passkeys");
    let ids: Vec<&str> = bank.methods.iter().map(Method::id).collect();
    assert_eq!(ids, ["custom-hardware", "passkeys"]);
}

#[test]
fn subdomains_and_urls_find_their_service() {
    let directory = fixture();
    assert_eq!(
        directory
            .by_domain("https://www.github.com/settings/security")
            .unwrap()
            .domain(),
        "github.com"
    );
    assert_eq!(
        directory.by_domain("gist.github.com").unwrap().domain(),
        "github.com"
    );
    assert!(directory.by_domain("github.io").is_none());
}

#[test]
fn totp_is_suggested_where_a_weaker_method_is_offered() {
    let directory = fixture();
    let suggestion = directory
        .by_domain("paypal.com")
        .unwrap()
        .totp_suggestion()
        .unwrap();
    assert!(suggestion.contains("TOTP"), "{suggestion}");
    assert!(suggestion.contains("SMS or email"), "{suggestion}");
    assert_eq!(
        directory
            .by_domain("1password.com")
            .unwrap()
            .totp_suggestion(),
        None
    );
}

#[test]
fn search_is_instant_ranked_and_forgives_typos() {
    let directory = fixture();
    assert_eq!(names(&directory.search("github", 5))[0], "github.com");
    assert_eq!(names(&directory.search("GitHub.com", 5))[0], "github.com");
    assert_eq!(
        names(&directory.search("gihtub", 5)),
        vec!["github.com"],
        "transposition"
    );
    assert_eq!(
        names(&directory.search("githb", 5)),
        vec!["github.com"],
        "missing letter"
    );
    assert_eq!(
        names(&directory.search("paypol", 5)),
        vec!["paypal.com"],
        "substitution"
    );
    let amazon = names(&directory.search("amazon", 5));
    assert_eq!(amazon, vec!["amazon.com", "amazon.de"]);
    assert!(directory.search("zzzzqqq", 5).is_empty());
    assert_eq!(
        directory.search("", 3).len(),
        3,
        "an empty query lists services"
    );
    // Short queries are never fuzzy: "gxt" must not match everything with a 'g'.
    assert!(directory.search("gxt", 5).is_empty());
}

#[test]
fn issuers_match_exactly_after_normalisation() {
    let directory = fixture();
    let domain_of = |issuer: &str| {
        directory
            .match_issuer(issuer)
            .map(|s| s.domain().to_owned())
    };
    assert_eq!(domain_of("GitHub").as_deref(), Some("github.com"));
    assert_eq!(domain_of("github.com").as_deref(), Some("github.com"));
    assert_eq!(domain_of("1Password").as_deref(), Some("1password.com"));
    assert_eq!(
        domain_of("Amazon").as_deref(),
        Some("amazon.com"),
        "the .com wins a shared label"
    );
    assert_eq!(domain_of("amazon.de").as_deref(), Some("amazon.de"));
    assert_eq!(
        domain_of("PayPal (Business)").as_deref(),
        Some("paypal.com"),
        "first word"
    );
    assert_eq!(domain_of("Gitlab"), None, "no fuzzy guess on tokens");
    assert_eq!(domain_of(""), None);
    assert_eq!(domain_of("   "), None);
}

#[test]
fn repository_entries_and_v3_pairs_parse_with_names() {
    let entries = br#"[
        {"name": "GitHub", "domain": "github.com", "tfa": ["totp", "u2f"], "categories": ["developer"],
         "additional-domains": ["github.io"], "regions": ["-cn"]},
        {"name": "No 2FA Shop", "domain": "shop.example", "contact": {"email": "a@shop.example"}},
        {"domain": "nameless.example", "tfa": ["sms"]},
        {"name": "Broken", "tfa": ["totp"]},
        ["Amazon Web Services", {"domain": "aws.amazon.com", "tfa": ["totp", "u2f"]}],
        42
    ]"#;
    let directory = Directory::parse(entries).unwrap();
    assert_eq!(directory.len(), 4);
    assert_eq!(
        directory.skipped(),
        2,
        "an entry without a domain and a number"
    );
    let github = directory.match_issuer("GitHub").unwrap();
    assert_eq!(github.domains, vec!["github.com", "github.io"]);
    assert_eq!(github.regions, vec!["-cn"]);
    assert_eq!(
        directory.by_domain("nameless.example").unwrap().name,
        "nameless.example"
    );
    assert_eq!(
        directory
            .match_issuer("Amazon Web Services")
            .unwrap()
            .domain(),
        "aws.amazon.com"
    );
    assert_eq!(
        names(&directory.search("web serv", 5)),
        vec!["Amazon Web Services"]
    );
    assert_eq!(
        directory.match_issuer("No 2FA Shop").unwrap().verdict(),
        "No 2FA — ask them"
    );
}

#[test]
fn bodies_that_are_not_a_directory_are_refused_with_a_reason() {
    assert!(matches!(
        Directory::parse(b""),
        Err(DirectoryError::NotJson { .. })
    ));
    assert!(matches!(
        Directory::parse(b"<html>Cloudflare</html>"),
        Err(DirectoryError::NotJson { .. })
    ));
    let truncated = &FIXTURE[..FIXTURE.len() / 2];
    assert!(matches!(
        Directory::parse(truncated),
        Err(DirectoryError::NotJson { .. })
    ));
    assert_eq!(
        Directory::parse(b"\"hello\"").unwrap_err(),
        DirectoryError::UnexpectedShape
    );
    assert_eq!(
        Directory::parse(b"{}").unwrap_err(),
        DirectoryError::Empty { skipped: 0 }
    );
    assert_eq!(
        Directory::parse(b"[1, 2]").unwrap_err(),
        DirectoryError::Empty { skipped: 2 }
    );
    let error = Directory::parse(b"{\"a.example\": 1}").unwrap_err();
    assert_eq!(error.code(), "directory.empty");
    assert!(error.to_string().contains("1 malformed"));
}

#[test]
fn random_bytes_never_panic() {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for length in 0..200 {
        let bytes: Vec<u8> = (0..length)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                b"{}[]\",:ab.1 tfa methods"[(state % 23) as usize]
            })
            .collect();
        let _ = Directory::parse(&bytes);
    }
}

/// The full snapshot of the real directory, when the shared data is present.
#[test]
fn every_real_entry_parses_when_the_snapshot_is_present() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/2fa-directory/entries.json");
    let Ok(body) = std::fs::read(&path) else {
        eprintln!("skipped: {} not present", path.display());
        return;
    };
    let raw: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap();
    let directory = Directory::parse(&body).unwrap();
    assert_eq!(directory.skipped(), 0, "every real entry parses");
    assert_eq!(directory.len(), raw.len());
    // Every entry is found by its domain; every 25th also by searching its name.
    for (index, entry) in raw.iter().enumerate() {
        let domain = entry["domain"].as_str().unwrap();
        let service = directory
            .by_domain(domain)
            .unwrap_or_else(|| panic!("{domain}"));
        if index % 25 == 0 {
            let found = directory.search(&service.name, 50);
            assert!(
                found.iter().any(|s| s.domain() == service.domain()),
                "{}",
                service.name
            );
        }
    }
    // Spot checks a user would notice.
    let github = directory.match_issuer("GitHub").unwrap();
    assert!(github.supports(&Method::Totp));
    assert!(directory.services().iter().any(|s| !s.supports_2fa()));
    assert!(directory.services().iter().all(|s| !s.verdict().is_empty()));
}
