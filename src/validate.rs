//! Collecting field errors, so that a client learns every invalid field at once; and the
//! one rule for all text: no NUL characters, which PostgreSQL cannot store in `text` or
//! `jsonb`.

use serde_json::Value;

use chrono::{DateTime, Datelike, Utc};

use crate::error::{Error, FieldError, Result};

/// Why a string with a NUL character is refused.
pub const NUL: &str = "must not contain NUL characters (\\u0000)";

#[derive(Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    /// Records `message` for `field` unless `ok`.
    pub fn check(&mut self, ok: bool, field: &str, message: impl Into<String>) -> &mut Self {
        if !ok {
            self.errors.push(FieldError::new(field, message));
        }
        self
    }

    /// Records `message` for `field` if it has none yet (a second complaint about the
    /// same field adds nothing).
    pub fn fail(&mut self, field: &str, message: impl Into<String>) -> &mut Self {
        let seen = self.errors.iter().any(|e| e.field == field);
        self.check(seen, field, message)
    }

    /// Records that `field` holds a NUL character, if `text` does.
    pub fn text(&mut self, field: &str, text: &str) -> &mut Self {
        self.check(!text.contains('\0'), field, NUL)
    }

    /// Ok, or 422 with every recorded field error.
    pub fn finish(&mut self) -> Result<()> {
        if self.errors.is_empty() { Ok(()) } else { Err(Error::Validation(std::mem::take(&mut self.errors))) }
    }
}

/// Where the first NUL character in `value` is, as a field path (`tags[2]`,
/// `interaction_data.answer`): a string holding one, or the object whose key holds one
/// (`body` for the top level).
pub fn nul_path(value: &Value) -> Option<String> {
    fn walk(value: &Value, path: &str) -> Option<String> {
        match value {
            Value::String(text) => text.contains('\0').then(|| path.to_owned()),
            Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| walk(item, &format!("{path}[{i}]"))),
            Value::Object(map) => map.iter().find_map(|(key, item)| {
                if key.contains('\0') {
                    return Some(path.to_owned());
                }
                walk(item, &if path.is_empty() { key.clone() } else { format!("{path}.{key}") })
            }),
            _ => None,
        }
    }
    walk(value, "").map(|path| if path.is_empty() { "body".to_owned() } else { path })
}

/// Whether a client-given instant is in the years 1 to 9999: beyond them chrono's date
/// arithmetic can overflow, and PostgreSQL's timestamps end (before 4713 BC).
pub fn instant_in_range(instant: &DateTime<Utc>) -> bool {
    (1..=9999).contains(&instant.year())
}

impl Validator {
    /// Records an instant outside the years 1 to 9999.
    pub fn instant(&mut self, field: &str, instant: Option<&DateTime<Utc>>) -> &mut Self {
        self.check(instant.is_none_or(instant_in_range), field, "must be in the years 1 to 9999")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn nul_is_found_in_strings_and_keys_at_any_depth() {
        assert_eq!(nul_path(&json!({"title": "fine", "tags": ["a", "b\u{0}"]})).as_deref(), Some("tags[1]"));
        assert_eq!(nul_path(&json!({"data": {"answer": "x\u{0}"}})).as_deref(), Some("data.answer"));
        assert_eq!(nul_path(&json!({"prefs": {"k\u{0}": 1}})).as_deref(), Some("prefs"));
        assert_eq!(nul_path(&json!({"k\u{0}": 1})).as_deref(), Some("body"));
        assert_eq!(nul_path(&json!({"text": "\\u0000 written out is fine", "n": 0})), None);
    }
}
