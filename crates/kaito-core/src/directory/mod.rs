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

mod entries;
mod index;
mod v4;

use std::fmt;

use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use index::{Directory, normalise};

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
            Shape::ByDomain(entries) => v4::services(entries),
            Shape::List(items) => entries::services(items),
        };
        if services.is_empty() {
            return Err(DirectoryError::Empty { skipped });
        }
        Ok(Directory::index(services, skipped))
    }
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

/// A service from an entry's fields, in either shape; `methods_key` is where the
/// shape lists the methods.
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
    fn host_of_strips_scheme_path_port_and_www() {
        assert_eq!(host_of("https://www.GitHub.com/login?x=1"), "github.com");
        assert_eq!(host_of("example.org:8443"), "example.org");
        assert_eq!(host_of("example.org."), "example.org");
    }
}
