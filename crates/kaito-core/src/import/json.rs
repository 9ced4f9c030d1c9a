//! Lenient JSON access for import files.
//!
//! Export files are read as a `serde_json::Value` tree rather than typed structs so
//! that one malformed entry becomes one skipped entry instead of failing the whole
//! file. The tree holds secrets as plain strings, so [`Scrubbed`] wipes every string
//! in it when dropped.

use serde_json::{Map, Value};
use zeroize::{Zeroize, Zeroizing};

/// A parsed JSON document whose strings are zeroized on drop.
#[derive(Debug)]
pub(crate) struct Scrubbed(pub(crate) Value);

impl Scrubbed {
    pub(crate) fn parse(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok().map(Scrubbed)
    }

    /// Parses a file the user said is `format`: unparsable JSON is reported as a
    /// damaged file of that format (typically a truncated copy), anything that is
    /// not JSON at all as not this format.
    pub(crate) fn parse_as(
        bytes: &[u8],
        format: super::Format,
    ) -> Result<Self, super::ImportError> {
        match serde_json::from_slice(bytes) {
            Ok(value) => Ok(Scrubbed(value)),
            Err(error) if looks_like_json_object(bytes) => Err(super::ImportError::corrupt(
                format,
                format!("the file is not valid JSON ({error}); it may be truncated"),
            )),
            Err(_) => Err(super::ImportError::NotThisFormat { expected: format }),
        }
    }

    /// The top-level object, if the document is one.
    pub(crate) fn object(&self) -> Option<&Map<String, Value>> {
        self.0.as_object()
    }
}

/// Whether `bytes` is a JSON object for which `looks_right` holds: the sniff of
/// every JSON format, each naming the top-level keys that make it that format.
pub(crate) fn sniff_object(
    bytes: &[u8],
    looks_right: impl FnOnce(&Map<String, Value>) -> bool,
) -> bool {
    Scrubbed::parse(bytes).is_some_and(|doc| doc.object().is_some_and(looks_right))
}

impl Drop for Scrubbed {
    fn drop(&mut self) {
        scrub(&mut self.0);
    }
}

/// Starts (after whitespace and a byte-order mark) with `{`.
pub(crate) fn looks_like_json_object(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

fn scrub(value: &mut Value) {
    match value {
        Value::String(text) => text.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(scrub),
        Value::Object(map) => map.values_mut().for_each(scrub),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// A string field; `None` when absent, null or not a string.
pub(crate) fn text<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    object.get(key).and_then(Value::as_str)
}

/// A string field or "" — for display fields where absence means empty.
pub(crate) fn text_or_empty<'a>(object: &'a Map<String, Value>, key: &str) -> &'a str {
    text(object, key).unwrap_or("")
}

/// What a numeric field held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Number {
    Absent,
    Value(u64),
    /// Present but not a non-negative integer (or a string holding one).
    Invalid,
}

/// A non-negative integer field. Some exporters write numbers as strings ("30"),
/// so those are accepted too.
pub(crate) fn number(object: &Map<String, Value>, key: &str) -> Number {
    match object.get(key) {
        None | Some(Value::Null) => Number::Absent,
        Some(Value::Number(n)) => n.as_u64().map_or(Number::Invalid, Number::Value),
        Some(Value::String(s)) => s.trim().parse().map_or(Number::Invalid, Number::Value),
        Some(_) => Number::Invalid,
    }
}

/// Serialises into a buffer sized up front, so that no reallocation leaves an
/// unwiped copy of the secrets in freed memory.
pub(crate) fn to_zeroizing_vec(value: &Value, pretty: bool) -> Zeroizing<Vec<u8>> {
    let write = |writer: &mut dyn std::io::Write| {
        // Serialising a `Value` only fails on I/O errors, which neither writer has.
        let _ = if pretty {
            serde_json::to_writer_pretty(writer, value)
        } else {
            serde_json::to_writer(writer, value)
        };
    };
    let mut counter = ByteCounter(0);
    write(&mut counter);
    let mut buffer = Zeroizing::new(Vec::with_capacity(counter.0));
    write(&mut *buffer);
    buffer
}

struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_accept_numeric_strings_and_flag_garbage() {
        let object: Map<String, Value> =
            serde_json::from_str(r#"{"a": 30, "b": "60", "c": -1, "d": "x", "e": null}"#).unwrap();
        assert_eq!(number(&object, "a"), Number::Value(30));
        assert_eq!(number(&object, "b"), Number::Value(60));
        assert_eq!(number(&object, "c"), Number::Invalid);
        assert_eq!(number(&object, "d"), Number::Invalid);
        assert_eq!(number(&object, "e"), Number::Absent);
        assert_eq!(number(&object, "missing"), Number::Absent);
    }

    #[test]
    fn scrub_wipes_every_string() {
        let mut value: Value =
            serde_json::from_str(r#"{"s": "SECRET", "list": [{"inner": "SECRET2"}], "n": 1}"#)
                .unwrap();
        scrub(&mut value);
        assert_eq!(
            value,
            serde_json::json!({"s": "", "list": [{"inner": ""}], "n": 1})
        );
    }

    #[test]
    fn presized_serialisation_matches_serde_json() {
        let value = serde_json::json!({"a": [1, "two", {"three": null}]});
        assert_eq!(
            *to_zeroizing_vec(&value, false),
            serde_json::to_vec(&value).unwrap()
        );
        assert_eq!(
            *to_zeroizing_vec(&value, true),
            serde_json::to_vec_pretty(&value).unwrap()
        );
    }
}
