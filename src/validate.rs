//! Collecting field errors, so that a client learns every invalid field at once.

use chrono::{DateTime, Datelike, Utc};

use crate::error::{Error, FieldError, Result};

#[derive(Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    /// Records `message` for `field` unless `ok`.
    pub fn check(&mut self, ok: bool, field: &str, message: impl Into<String>) -> &mut Self {
        if !ok {
            self.errors.push(FieldError { field: field.to_owned(), message: message.into() });
        }
        self
    }

    /// Records `message` for `field` if it has none yet (a second complaint about the
    /// same field adds nothing).
    pub fn fail(&mut self, field: &str, message: impl Into<String>) -> &mut Self {
        let seen = self.errors.iter().any(|e| e.field == field);
        self.check(seen, field, message)
    }

    /// Ok, or 422 with every recorded field error.
    pub fn finish(&mut self) -> Result<()> {
        if self.errors.is_empty() { Ok(()) } else { Err(Error::Validation(std::mem::take(&mut self.errors))) }
    }
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
