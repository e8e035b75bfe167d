//! The rules for account fields.

use super::password;
pub use crate::validate::Validator;

pub const MAX_EMAIL: usize = 255;
pub const MAX_NAME: usize = 100;
pub const MAX_PICTURE_URL: usize = 500;
/// Largest `preferences` object accepted, serialized.
pub const MAX_PREFERENCES_BYTES: usize = 16 * 1024;

pub fn email(v: &mut Validator, field: &str, email: &str) {
    v.check(email.chars().count() <= MAX_EMAIL, field, format!("must be at most {MAX_EMAIL} characters"));
    v.check(email_address::EmailAddress::is_valid(email), field, "is not a valid email address");
}

/// 3 to 50 ASCII letters, digits, `_`, `.` or `-` (ASCII only: no look-alike letters).
pub fn username(v: &mut Validator, field: &str, username: &str) {
    let valid_chars = username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    v.check((3..=50).contains(&username.len()), field, "must be 3 to 50 characters");
    v.check(valid_chars, field, "may contain only letters, digits, '_', '.' and '-'");
}

pub fn new_password(v: &mut Validator, field: &str, new: &str, user_inputs: &[&str]) {
    if let Some(problem) = password::policy_violation(new, user_inputs) {
        v.fail(field, problem);
    }
}

pub fn name(v: &mut Validator, field: &str, name: Option<&str>) {
    let length = name.map_or(0, |n| n.chars().count());
    v.check(length <= MAX_NAME, field, format!("must be at most {MAX_NAME} characters"));
}

pub fn picture_url(v: &mut Validator, field: &str, picture: Option<&str>) {
    let Some(picture) = picture else { return };
    v.check(picture.len() <= MAX_PICTURE_URL, field, format!("must be at most {MAX_PICTURE_URL} characters"));
    let web = url::Url::parse(picture).is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.has_host());
    v.check(web, field, "must be an http or https URL");
}

pub fn preferences(v: &mut Validator, field: &str, preferences: Option<&serde_json::Value>) {
    let Some(preferences) = preferences else {
        return;
    };
    v.check(preferences.is_object(), field, "must be a JSON object");
    v.check(
        preferences.to_string().len() <= MAX_PREFERENCES_BYTES,
        field,
        format!("must be at most {MAX_PREFERENCES_BYTES} bytes"),
    );
    // Scheduling reads them: a value out of range (or a string) would be silently ignored.
    crate::learn::preferences::validate(v, field, preferences);
}
