//! The web app's defence against cross-site request forgery by other sites' pages: the
//! same-origin check on every request that changes something (the tokens forms carry
//! are in `http/csrf.rs`).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::Problem;

/// Refuses, with 403, a request that changes something (anything but GET, HEAD and
/// OPTIONS) sent from another site: its `Origin` (or, without one, its `Referer`) names
/// another host and port than the request's own `Host` (and, with `secure` cookies,
/// another scheme than https). Requests with neither header (not from a browser) go on
/// to the CSRF token checks, and so do those with an `Authorization` header, which
/// browsers never add by themselves.
pub async fn same_origin(State(secure): State<bool>, request: Request, next: Next) -> Response {
    let exempt = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || request.headers().contains_key(header::AUTHORIZATION);
    if exempt || from_own_origin(request.headers(), request.uri().authority().map(|a| a.as_str()), secure) {
        return next.run(request).await;
    }
    if request.uri().path().starts_with("/api/") {
        let detail = "The request came from another site's page (its Origin or Referer).".to_owned();
        return Problem::new(StatusCode::FORBIDDEN, Some(detail)).into_response();
    }
    super::refused(
        "This form was sent from another site. studyhall only accepts forms from its own pages: \
         open studyhall and try again.",
    )
}

/// Whether the request's Origin (or Referer) is absent or its own.
fn from_own_origin(headers: &HeaderMap, authority: Option<&str>, secure: bool) -> bool {
    let text = |name: header::HeaderName| headers.get(name).map(|value| value.to_str().unwrap_or_default());
    let Some(source) = text(header::ORIGIN).or_else(|| text(header::REFERER)) else { return true };
    let Some(host) = authority.or_else(|| text(header::HOST)) else { return false };
    let Ok(source) = url::Url::parse(source) else { return false };
    let scheme = source.scheme();
    if !(scheme == "https" || (scheme == "http" && !secure)) {
        return false;
    }
    // The Host as an origin of the same scheme, so default ports compare equal.
    url::Url::parse(&format!("{scheme}://{host}/"))
        .is_ok_and(|own| own.host() == source.host() && own.port_or_known_default() == source.port_or_known_default())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(name: header::HeaderName, value: &str) -> HeaderMap {
        HeaderMap::from_iter([(name, HeaderValue::from_str(value).expect("a header value"))])
    }

    #[test]
    fn the_origin_must_be_the_request_s_own_host_and_port() {
        let origin = |value| headers(header::ORIGIN, value);
        let host = Some("studyhall.example:8080");
        assert!(from_own_origin(&HeaderMap::new(), host, false), "no Origin, no Referer: the tokens decide");
        assert!(from_own_origin(&origin("http://studyhall.example:8080"), host, false));
        assert!(from_own_origin(&origin("https://studyhall.example:8080"), host, true));
        assert!(!from_own_origin(&origin("http://studyhall.example:8080"), host, true), "plain http behind TLS");
        assert!(!from_own_origin(&origin("http://evil.example"), host, false));
        assert!(!from_own_origin(&origin("http://studyhall.example:9090"), host, false), "another port");
        assert!(!from_own_origin(&origin("null"), host, false), "an opaque origin");
        assert!(!from_own_origin(&origin("http://studyhall.example:8080"), None, false), "no Host to compare");
        assert!(from_own_origin(&origin("https://studyhall.example"), Some("studyhall.example:443"), true));
        assert!(from_own_origin(&origin("http://[::1]:3000"), Some("[::1]:3000"), false));
        let referer = headers(header::REFERER, "http://studyhall.example:8080/signin?next=1");
        assert!(from_own_origin(&referer, host, false));
        assert!(!from_own_origin(&headers(header::REFERER, "http://evil.example/x"), host, false));
    }
}
