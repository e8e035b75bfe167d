//! Collecting field errors, so that a client learns every invalid field at once.

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
