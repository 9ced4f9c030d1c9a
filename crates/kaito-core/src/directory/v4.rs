//! API v4's `all.json`: an object keyed by domain, one entry repeated per additional
//! domain. Repeats are folded back into one service.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Service, host_of, service_from_fields};

/// The services of a v4 body, and how many entries were skipped.
pub(super) fn services(entries: Vec<(String, Value)>) -> (Vec<Service>, usize) {
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
