//! The cookies of the web app's sign-in: the session token (read by the API's
//! [`AuthUser`](super::auth::AuthUser) too) and the sign-in forms' CSRF token.

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue};

use crate::app::AppState;

/// The cookie holding the session token.
pub const SESSION: &str = "studyhall_session";
/// The double-submit CSRF cookie of the sign-in and sign-up forms.
pub const FORM_CSRF: &str = "studyhall_csrf";

/// The value of cookie `name`.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

/// A Set-Cookie value: HttpOnly, SameSite=Lax, path /, Secure when configured;
/// `max_age` None ends the cookie.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let secure = if state.web_secure_cookies { "; Secure" } else { "" };
    let age = max_age.unwrap_or(0);
    HeaderValue::from_str(&format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={age}{secure}"))
        .expect("cookie values are ASCII")
}

/// The session token in the web app's cookie, if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, SESSION)
}
