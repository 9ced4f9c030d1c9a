//! The 2FA directory: "does this service support 2FA, and how?", from the public
//! [2fa.directory](https://2fa.directory) data (MIT licensed).
//!
//! Two shapes are read:
//! - the API v4 `all.json` the app downloads: an object keyed by domain, each value
//!   `{methods, custom-software, custom-hardware, documentation, recovery, notes, contact}`
//!   (an empty object for a site without 2FA). v4 repeats an entry once per additional
//!   domain; such repeats (identical entries with a docs, recovery or notes text) are
//!   folded back into one service with several domains. v4 carries no display names, so
//!   a service is named after its main domain;
//! - the repository's entry format (an array of `{name, domain, tfa, …}` objects, or of
//!   `[name, {…}]` pairs as API v3 serves them), which has real names and regions.
//!
//! Parsing is tolerant per entry (unknown fields and methods are kept or ignored, a
//! malformed entry is skipped and counted) but a body that is not a directory at all
//! is refused, so a broken download never replaces a good cache.
//!
//! Search is typo-tolerant and ranks exact, prefix, word-prefix, substring and then
//! near matches; token matching ([`Directory::match_issuer`]) is exact after
//! normalisation, because a wrong "this service has no 2FA" is worse than none.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where the app downloads the directory from by default.
pub const DEFAULT_SOURCE_URL: &str = "https://api.2fa.directory/v4/all.json";

/// The attribution the data's MIT licence asks for.
pub const ATTRIBUTION: &str =
    "2FA data from 2fa.directory, © 2fa.directory contributors, MIT licence";

/// A second-factor method a service offers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    Totp,
    Sms,
    Email,
    Call,
    U2f,
    CustomSoftware,
    CustomHardware,
    /// A method this version does not know yet, kept as the directory spells it.
    Other(String),
}

impl Method {
    fn from_name(name: &str) -> Method {
        match name.trim().to_ascii_lowercase().as_str() {
            "totp" => Method::Totp,
            "sms" => Method::Sms,
            "email" => Method::Email,
            "call" | "phone" => Method::Call,
            "u2f" => Method::U2f,
            "custom-software" | "proprietary" => Method::CustomSoftware,
            "custom-hardware" | "hardware" => Method::CustomHardware,
            _ => Method::Other(name.trim().to_owned()),
        }
    }

    /// The directory's own name for the method (`totp`, `sms`, `custom-software`…).
    #[must_use]
    pub fn id(&self) -> &str {
        match self {
            Method::Totp => "totp",
            Method::Sms => "sms",
            Method::Email => "email",
            Method::Call => "call",
            Method::U2f => "u2f",
            Method::CustomSoftware => "custom-software",
            Method::CustomHardware => "custom-hardware",
            Method::Other(name) => name,
        }
    }

    /// The wording the app shows.
    #[must_use]
    pub fn label(&self) -> &str {
        match self {
            Method::Totp => "TOTP",
            Method::Sms => "SMS",
            Method::Email => "email",
            Method::Call => "phone call",
            Method::U2f => "hardware key (U2F)",
            Method::CustomSoftware => "custom app",
            Method::CustomHardware => "custom hardware",
            Method::Other(name) => name,
        }
    }
}

/// One service in the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Display name (the main domain when the source has no names).
    pub name: String,
    /// Main domain first, then additional domains.
    pub domains: Vec<String>,
    /// Supported methods, in a stable order (TOTP first); empty means no 2FA.
    pub methods: Vec<Method>,
    pub custom_software: Vec<String>,
    pub custom_hardware: Vec<String>,
    pub documentation: Option<String>,
    pub recovery: Option<String>,
    pub notes: Option<String>,
    /// ISO 3166-1 codes; a leading `-` means "everywhere but". Empty when unknown.
    pub regions: Vec<String>,
}

impl Service {
    #[must_use]
    pub fn supports_2fa(&self) -> bool {
        !self.methods.is_empty()
    }

    #[must_use]
    pub fn supports(&self, method: &Method) -> bool {
        self.methods.contains(method)
    }

    /// The plain answer: "Supports 2FA via TOTP, SMS" or "No 2FA — ask them".
    #[must_use]
    pub fn verdict(&self) -> String {
        if self.methods.is_empty() {
            return "No 2FA — ask them".to_owned();
        }
        let labels: Vec<&str> = self.methods.iter().map(Method::label).collect();
        format!("Supports 2FA via {}", labels.join(", "))
    }

    /// Advice for someone relying on a weaker method the service offers alongside TOTP.
    #[must_use]
    pub fn totp_suggestion(&self) -> Option<String> {
        let weaker: Vec<&str> = [Method::Sms, Method::Email, Method::Call]
            .iter()
            .filter(|method| self.supports(method))
            .map(Method::label)
            .collect();
        (self.supports(&Method::Totp) && !weaker.is_empty()).then(|| {
            format!(
                "{} supports authenticator codes (TOTP): switch from {} to Kaito — codes sent by {} can be intercepted.",
                self.name,
                weaker.join(" or "),
                weaker.join(" or ")
            )
        })
    }

    /// The main domain.
    #[must_use]
    pub fn domain(&self) -> &str {
        self.domains.first().map_or("", String::as_str)
    }
}

/// Why a downloaded or cached body is not a usable directory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    #[error("the 2FA directory data is not valid JSON ({detail})")]
    NotJson { detail: String },
    #[error(
        "the 2FA directory data has an unexpected shape: expected an object keyed by domain (API v4) or an array of entries"
    )]
    UnexpectedShape,
    #[error("the 2FA directory data holds no services ({skipped} malformed entries skipped)")]
    Empty { skipped: usize },
}

impl DirectoryError {
    /// Stable code for the UI.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            DirectoryError::NotJson { .. } => "directory.not_json",
            DirectoryError::UnexpectedShape => "directory.unexpected_shape",
            DirectoryError::Empty { .. } => "directory.empty",
        }
    }
}

/// A parsed, indexed directory.
#[derive(Debug, Clone)]
pub struct Directory {
    services: Vec<Service>,
    /// Entries that were not objects or had unusable fields, for diagnostics.
    skipped: usize,
    by_domain: HashMap<String, usize>,
    by_name: HashMap<String, usize>,
    by_label: HashMap<String, usize>,
    search_keys: Vec<SearchKeys>,
}

#[derive(Debug, Clone)]
struct SearchKeys {
    name: String,
    /// Words of the name, normalised, for word-prefix matches ("web" → "Amazon Web Services").
    words: Vec<String>,
    /// Each domain without dots, and each domain's registrable label.
    domains: Vec<String>,
}

impl Directory {
    /// Parses either supported shape (see the module docs).
    pub fn parse(body: &[u8]) -> Result<Directory, DirectoryError> {
        let shape: Shape = serde_json::from_slice(body).map_err(|error| {
            if error.is_data() {
                DirectoryError::UnexpectedShape
            } else {
                DirectoryError::NotJson {
                    detail: error.to_string(),
                }
            }
        })?;
        let (services, skipped) = match shape {
            Shape::ByDomain(entries) => services_from_v4(entries),
            Shape::List(items) => services_from_list(items),
        };
        if services.is_empty() {
            return Err(DirectoryError::Empty { skipped });
        }
        Ok(Directory::index(services, skipped))
    }

    fn index(mut services: Vec<Service>, skipped: usize) -> Directory {
        services
            .sort_by_cached_key(|service| (normalise(&service.name), service.domain().to_owned()));
        let mut by_domain = HashMap::new();
        let mut by_name = HashMap::new();
        let mut by_label: HashMap<String, usize> = HashMap::new();
        let mut search_keys = Vec::with_capacity(services.len());
        for (index, service) in services.iter().enumerate() {
            for domain in &service.domains {
                by_domain.entry(domain.clone()).or_insert(index);
                let label = normalise(registrable_label(domain));
                if label.is_empty() {
                    continue;
                }
                // Several services share a label (amazon.com, amazon.de): prefer the .com one.
                let is_com = |domain: &str| domain.rsplit('.').next() == Some("com");
                let replace = by_label
                    .get(&label)
                    .is_none_or(|&existing| is_com(domain) && !is_com(services[existing].domain()));
                if replace {
                    by_label.insert(label, index);
                }
            }
            let name = normalise(&service.name);
            if !name.is_empty() {
                by_name.entry(name.clone()).or_insert(index);
            }
            let mut domains: Vec<String> = service
                .domains
                .iter()
                .map(|domain| normalise(domain))
                .collect();
            domains.extend(
                service
                    .domains
                    .iter()
                    .map(|domain| normalise(registrable_label(domain))),
            );
            domains.retain(|key| !key.is_empty());
            domains.dedup();
            search_keys.push(SearchKeys {
                words: service
                    .name
                    .split(|c: char| !c.is_alphanumeric())
                    .map(normalise)
                    .filter(|w| !w.is_empty())
                    .collect(),
                name,
                domains,
            });
        }
        Directory {
            services,
            skipped,
            by_domain,
            by_name,
            by_label,
            search_keys,
        }
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.services.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }

    /// Entries the parser had to skip.
    #[must_use]
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// All services, sorted by name.
    #[must_use]
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// The service at a domain or any parent of it (`login.example.co.uk` → `example.co.uk`).
    #[must_use]
    pub fn by_domain(&self, host: &str) -> Option<&Service> {
        let mut host = host_of(host);
        loop {
            if let Some(&index) = self.by_domain.get(host.as_str()) {
                return Some(&self.services[index]);
            }
            let (_, parent) = host.split_once('.')?;
            if !parent.contains('.') {
                return None;
            }
            host = parent.to_owned();
        }
    }

    /// The service a token's issuer names, if exactly recognisable: a domain (or URL),
    /// a service name, or a domain's main label ("GitHub" → github.com), in that order,
    /// then the issuer's first word when it is specific enough ("Google Cloud" → Google).
    #[must_use]
    pub fn match_issuer(&self, issuer: &str) -> Option<&Service> {
        let issuer = issuer.trim();
        if issuer.is_empty() {
            return None;
        }
        if issuer.contains('.')
            && !issuer.contains(' ')
            && let Some(service) = self.by_domain(issuer)
        {
            return Some(service);
        }
        let key = normalise(issuer);
        if let Some(service) = self.lookup_name(&key) {
            return Some(service);
        }
        let first_word = issuer
            .split(|c: char| c.is_whitespace() || c == '-' || c == '(')
            .next()
            .map(normalise)?;
        if first_word != key && first_word.chars().count() >= 4 {
            return self.lookup_name(&first_word);
        }
        None
    }

    fn lookup_name(&self, key: &str) -> Option<&Service> {
        if key.is_empty() {
            return None;
        }
        self.by_name
            .get(key)
            .or_else(|| self.by_label.get(key))
            .map(|&index| &self.services[index])
    }

    /// Services matching a query, best first. Typo-tolerant: a query of 4+ characters
    /// may be one edit away (two from 8 characters) from a name or domain.
    #[must_use]
    pub fn search(&self, query: &str, limit: usize) -> Vec<&Service> {
        let query = normalise(query);
        if query.is_empty() {
            return self.services.iter().take(limit).collect();
        }
        let mut ranked: Vec<(u32, usize)> = self
            .search_keys
            .iter()
            .enumerate()
            .filter_map(|(index, keys)| score(keys, &query).map(|score| (score, index)))
            .collect();
        // Higher score first; ties keep name order (services are sorted by name).
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        ranked
            .into_iter()
            .take(limit)
            .map(|(_, index)| &self.services[index])
            .collect()
    }
}

fn score(keys: &SearchKeys, query: &str) -> Option<u32> {
    let mut best = 0;
    for (key, weight) in
        std::iter::once((&keys.name, 10)).chain(keys.domains.iter().map(|key| (key, 0)))
    {
        let score = if key == query {
            1000
        } else if key.starts_with(query) {
            800
        } else if key.contains(query) {
            500
        } else {
            0
        };
        best = best.max(if score > 0 { score + weight } else { 0 });
    }
    if best == 0 && keys.words.iter().any(|word| word.starts_with(query)) {
        best = 700;
    }
    if best > 0 {
        return Some(best);
    }
    let allowed = match query.chars().count() {
        0..=3 => return None,
        4..=7 => 1,
        _ => 2,
    };
    std::iter::once(&keys.name)
        .chain(keys.words.iter())
        .chain(keys.domains.iter())
        .filter_map(|key| near_prefix_distance(query, key, allowed))
        .min()
        .map(|distance| 300 - 100 * distance)
}

/// Edit distance (with transpositions) between `query` and the closest prefix of `key`,
/// if at most `allowed`; so "githbu" finds "githubcom" and "gihub" finds "github".
/// Three rolling rows on the stack: this runs for every key on every keystroke.
fn near_prefix_distance(query: &str, key: &str, allowed: u32) -> Option<u32> {
    const MAX: usize = 48;
    let mut query_chars = ['\0'; MAX];
    let mut query_len = 0;
    for (slot, c) in query_chars.iter_mut().zip(query.chars()) {
        *slot = c;
        query_len += 1;
    }
    let query = &query_chars[..query_len];
    let mut key_chars = ['\0'; MAX + 2];
    let mut key_len = 0;
    for (slot, c) in key_chars
        .iter_mut()
        .zip(key.chars().take(query_len + allowed as usize))
    {
        *slot = c;
        key_len += 1;
    }
    let key = &key_chars[..key_len];
    if key_len + (allowed as usize) < query_len {
        return None;
    }
    let width = key_len + 1;
    // Rows i-2, i-1 and i of the table distance(query[..i], key[..j]).
    let mut before = [0u32; MAX + 3];
    let mut previous = [0u32; MAX + 3];
    let mut current = [0u32; MAX + 3];
    for (j, cell) in previous.iter_mut().take(width).enumerate() {
        *cell = u32::try_from(j).unwrap_or(u32::MAX);
    }
    for i in 1..=query_len {
        current[0] = u32::try_from(i).unwrap_or(u32::MAX);
        let mut row_min = current[0];
        for j in 1..width {
            let cost = u32::from(query[i - 1] != key[j - 1]);
            let mut value = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && query[i - 1] == key[j - 2] && query[i - 2] == key[j - 1] {
                value = value.min(before[j - 2] + 1);
            }
            current[j] = value;
            row_min = row_min.min(value);
        }
        if row_min > allowed {
            return None;
        }
        before = previous;
        previous = current;
    }
    // Any prefix of the key may end the match.
    let distance = *previous[..width].iter().min()?;
    (distance <= allowed).then_some(distance)
}

/// Lower-case letters and digits only: "Amazon Web Services" → "amazonwebservices".
#[must_use]
pub fn normalise(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A bare lower-case host from a domain or URL: `https://www.GitHub.com/login` → `github.com`.
fn host_of(text: &str) -> String {
    let text = text.trim();
    let without_scheme = text.split_once("://").map_or(text, |(_, rest)| rest);
    let host = without_scheme
        .split(['/', '?', '#', ':'])
        .next()
        .unwrap_or_default();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host.strip_prefix("www.").map(str::to_owned).unwrap_or(host)
}

/// Second-level labels under which country domains register names (example.co.uk).
const SECOND_LEVEL: &[&str] = &[
    "co", "com", "org", "net", "gov", "ac", "edu", "ne", "or", "gob", "go", "gv", "nic",
];

/// The label a service is known by: "login.example.co.uk" → "example".
fn registrable_label(domain: &str) -> &str {
    let labels: Vec<&str> = domain.split('.').collect();
    match labels.as_slice() {
        [] => "",
        [only] => only,
        [.., second, last]
            if labels.len() >= 3 && last.len() == 2 && SECOND_LEVEL.contains(second) =>
        {
            labels[labels.len() - 3]
        }
        [.., label, _] => label,
    }
}

enum Shape {
    /// API v4: domain → entry, in the order served (main domain before its repeats).
    ByDomain(Vec<(String, Value)>),
    /// Repository entries or API v3 pairs.
    List(Vec<Value>),
}

impl<'de> Deserialize<'de> for Shape {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Shape, D::Error> {
        struct ShapeVisitor;
        impl<'de> Visitor<'de> for ShapeVisitor {
            type Value = Shape;
            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("an object keyed by domain or an array of entries")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
                let mut entries = Vec::new();
                while let Some((domain, entry)) = map.next_entry::<String, Value>()? {
                    entries.push((domain, entry));
                }
                Ok(Shape::ByDomain(entries))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Value>()? {
                    items.push(item);
                }
                Ok(Shape::List(items))
            }
        }
        deserializer.deserialize_any(ShapeVisitor)
    }
}

fn services_from_v4(entries: Vec<(String, Value)>) -> (Vec<Service>, usize) {
    let mut services: Vec<Service> = Vec::new();
    let mut skipped = 0;
    // Canonical JSON of a distinctive entry → its service, to fold additional domains.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (domain, entry) in entries {
        let domain = host_of(&domain);
        let Value::Object(fields) = &entry else {
            skipped += 1;
            continue;
        };
        if domain.is_empty() || !domain.contains('.') {
            skipped += 1;
            continue;
        }
        let distinctive = ["documentation", "recovery", "notes"].iter().any(|key| {
            fields
                .get(*key)
                .is_some_and(|value| value.as_str().is_some_and(|text| !text.trim().is_empty()))
        });
        if distinctive {
            let canonical = entry.to_string();
            if let Some(&index) = seen.get(&canonical) {
                if !services[index].domains.contains(&domain) {
                    services[index].domains.push(domain);
                }
                continue;
            }
            seen.insert(canonical, services.len());
        }
        let service = service_from_fields(domain.clone(), vec![domain], fields, "methods");
        services.push(service);
    }
    (services, skipped)
}

fn services_from_list(items: Vec<Value>) -> (Vec<Service>, usize) {
    let mut services = Vec::with_capacity(items.len());
    let mut skipped = 0;
    for item in items {
        let (name, fields) = match &item {
            Value::Object(fields) => (
                fields
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                fields,
            ),
            // API v3: ["Name", {…}]
            Value::Array(pair) => {
                let [Value::String(name), Value::Object(fields)] = pair.as_slice() else {
                    skipped += 1;
                    continue;
                };
                (Some(name.clone()), fields)
            }
            _ => {
                skipped += 1;
                continue;
            }
        };
        let Some(domain) = fields
            .get("domain")
            .and_then(Value::as_str)
            .map(host_of)
            .filter(|d| d.contains('.'))
        else {
            skipped += 1;
            continue;
        };
        let mut domains = vec![domain.clone()];
        for extra in strings(fields.get("additional-domains")) {
            let extra = host_of(&extra);
            if extra.contains('.') && !domains.contains(&extra) {
                domains.push(extra);
            }
        }
        let name = name
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .unwrap_or(domain);
        services.push(service_from_fields(name, domains, fields, "tfa"));
    }
    (services, skipped)
}

fn service_from_fields(
    name: String,
    domains: Vec<String>,
    fields: &serde_json::Map<String, Value>,
    methods_key: &str,
) -> Service {
    let mut methods: Vec<Method> = strings(fields.get(methods_key))
        .iter()
        .map(|m| Method::from_name(m))
        .collect();
    methods.sort();
    methods.dedup();
    Service {
        name,
        domains,
        methods,
        custom_software: strings(fields.get("custom-software")),
        custom_hardware: strings(fields.get("custom-hardware")),
        documentation: text(fields.get("documentation")),
        recovery: text(fields.get("recovery")),
        notes: text(fields.get("notes")),
        regions: strings(fields.get("regions")),
    }
}

/// The strings of a JSON array; anything else reads as empty (tolerant per field).
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn text(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_prefix_distance_counts_typos_against_prefixes() {
        assert_eq!(near_prefix_distance("github", "githubcom", 1), Some(0));
        assert_eq!(near_prefix_distance("gihub", "githubcom", 1), Some(1));
        assert_eq!(near_prefix_distance("githbu", "githubcom", 1), Some(1));
        assert_eq!(near_prefix_distance("gtihub", "github", 1), Some(1));
        assert_eq!(near_prefix_distance("gitlab", "github", 1), None);
        assert_eq!(near_prefix_distance("paypol", "paypal", 1), Some(1));
    }

    #[test]
    fn registrable_label_skips_country_second_levels() {
        assert_eq!(registrable_label("github.com"), "github");
        assert_eq!(registrable_label("login.example.co.uk"), "example");
        assert_eq!(registrable_label("aws.amazon.com"), "amazon");
        assert_eq!(registrable_label("bbc.co.uk"), "bbc");
        assert_eq!(registrable_label("co.uk"), "co");
    }

    #[test]
    fn host_of_strips_scheme_path_port_and_www() {
        assert_eq!(host_of("https://www.GitHub.com/login?x=1"), "github.com");
        assert_eq!(host_of("example.org:8443"), "example.org");
        assert_eq!(host_of("example.org."), "example.org");
    }
}
