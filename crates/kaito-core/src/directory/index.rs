//! The parsed directory as an index: lookups by domain and by name for matching
//! tokens, and the typo-tolerant ranked search.

use std::collections::HashMap;

use super::{Service, host_of};

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
    pub(super) fn index(mut services: Vec<Service>, skipped: usize) -> Directory {
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
}
