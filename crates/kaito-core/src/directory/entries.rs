//! The repository's entry format: an array of `{name, domain, tfa, …}` objects, or of
//! `[name, {…}]` pairs as API v3 serves them.

use serde_json::Value;

use super::{Service, host_of, service_from_fields, strings};

/// The services of an entry list, and how many entries were skipped.
pub(super) fn services(items: Vec<Value>) -> (Vec<Service>, usize) {
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
