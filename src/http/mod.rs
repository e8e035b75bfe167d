//! What the HTTP interface shares: who the caller is (auth.rs: bearer tokens, made in
//! token.rs, and the web app's session cookie, with its CSRF token in csrf.rs and its
//! cookies in cookie.rs), extractors, pagination, health, the OpenAPI document's finishing
//! and its explorer (explorer.rs), and the middleware every response passes (security
//! headers, problem+json). The router that puts them together is in [`crate::root`].

pub mod auth;
pub mod cookie;
pub mod csrf;
pub mod explorer;
pub mod extract;
pub mod health;
pub mod openapi;
pub mod page;
pub mod token;

use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::error::{PROBLEM_JSON, Problem};

/// Most bytes of a plain-text client error kept as a problem's detail.
const MAX_DETAIL_BYTES: usize = 1024;

/// The policy of every response: the app's own scripts, stylesheet, images and API only,
/// nothing inline, no plugins, forms posted only to studyhall, and never in a frame.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Adds the security headers a response's handler did not set itself: the Content
/// Security Policy, no framing, no type sniffing, referrers only to studyhall, no-store
/// (pages and API answers hold personal data; static assets set their own max-age), and
/// with secure cookies (served over TLS) Strict-Transport-Security.
pub async fn security_headers(State(secure): State<bool>, mut response: Response) -> Response {
    let headers = response.headers_mut();
    let mut default = |name: HeaderName, value: &'static str| {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    };
    default(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    default(header::X_FRAME_OPTIONS, "DENY");
    default(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    default(header::REFERRER_POLICY, "same-origin");
    default(header::CACHE_CONTROL, "no-store");
    if secure {
        default(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    response
}

/// Gives every error response a problem+json body, including those made outside the
/// handlers (unknown method, timeout, body too large, rejected JSON). A client error's
/// plain-text explanation becomes the detail; a server error's body is never passed on.
pub async fn problem_for_bare_errors(response: Response) -> Response {
    let status = response.status();
    // Problems already, and the web app's pages (which explain themselves in HTML).
    let explained = response.headers().get(header::CONTENT_TYPE).is_some_and(|value| {
        value.as_bytes().starts_with(PROBLEM_JSON.as_bytes()) || value.as_bytes().starts_with(b"text/html")
    });
    if explained || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let detail = if status.is_client_error() {
        axum::body::to_bytes(body, MAX_DETAIL_BYTES)
            .await
            .ok()
            .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
            .filter(|text| !text.is_empty())
    } else {
        None
    };
    let mut problem = Problem::new(status, detail).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            problem.headers_mut().insert(name.clone(), value.clone());
        }
    }
    problem.headers_mut().entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    problem
}
