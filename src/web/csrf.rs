//! The web app's defences against cross-site request forgery: the tokens its forms
//! carry, and the same-origin check on every request that changes something.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::app::AppState;
use crate::error::{Error, Problem, Result};

/// How long a sign-in or sign-up form's token is good for: its cookie's lifetime too.
pub const FORM_TOKEN_SECS: i64 = 3600;

/// The CSRF token of a signed-in session: derived from its token, so it needs no storage
/// and dies with the session.
pub fn session_csrf(token: &str) -> String {
    Sha256::digest(format!("studyhall-csrf|{token}").as_bytes())[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The key that signs form tokens (`web_secret`, made by the migrations and shared by
/// every node), read on first use and kept.
#[derive(Default)]
pub struct FormKey(OnceCell<Vec<u8>>);

async fn form_key(state: &AppState) -> Result<&[u8]> {
    let key = state
        .form_key
        .0
        .get_or_try_init(|| async {
            let key: Option<Vec<u8>> =
                sqlx::query_scalar("SELECT form_key FROM web_secret").fetch_optional(&state.privileged).await?;
            key.ok_or_else(|| Error::Internal("web_secret holds no key: the migrations did not run".to_owned()))
        })
        .await?;
    Ok(key)
}

fn signature(key: &[u8], body: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(b"studyhall-form|");
    mac.update(body.as_bytes());
    mac
}

/// `<issued at>.<nonce>.<HMAC-SHA256 of both under key>`, base64url.
fn sign(key: &[u8], issued: i64, nonce: &[u8]) -> String {
    let body = format!("{issued}.{}", URL_SAFE_NO_PAD.encode(nonce));
    let mac = signature(key, &body).finalize().into_bytes();
    format!("{body}.{}", URL_SAFE_NO_PAD.encode(mac))
}

/// Whether `token` was signed with `key` less than [`FORM_TOKEN_SECS`] before `now` (a
/// minute ahead is allowed for the clocks of other nodes).
fn verify(key: &[u8], token: &str, now: i64) -> bool {
    let Some((body, mac)) = token.rsplit_once('.') else { return false };
    let issued = body.split_once('.').and_then(|(issued, _)| issued.parse::<i64>().ok());
    let fresh = issued.is_some_and(|issued| (-60..=FORM_TOKEN_SECS).contains(&(now - issued)));
    fresh && URL_SAFE_NO_PAD.decode(mac).is_ok_and(|mac| signature(key, body).verify_slice(&mac).is_ok())
}

/// A new token for a sign-in or sign-up form, signed by the server: a token a client
/// made up is refused.
pub async fn new_form_token(state: &AppState) -> Result<String> {
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).expect("the OS has randomness");
    Ok(sign(form_key(state).await?, chrono::Utc::now().timestamp(), &nonce))
}

/// Whether `token` is one this server issued less than [`FORM_TOKEN_SECS`] ago.
pub async fn form_token_valid(state: &AppState, token: &str) -> Result<bool> {
    Ok(verify(form_key(state).await?, token, chrono::Utc::now().timestamp()))
}

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

    #[test]
    fn form_tokens_verify_only_under_their_key_unaltered_and_within_the_hour() {
        let (key, now) = ([7u8; 32], 1_800_000_000);
        let token = sign(&key, now, &[1; 16]);
        assert!(verify(&key, &token, now));
        assert!(verify(&key, &token, now + FORM_TOKEN_SECS), "good for an hour");
        assert!(!verify(&key, &token, now + FORM_TOKEN_SECS + 1), "not longer");
        assert!(verify(&key, &token, now - 60) && !verify(&key, &token, now - 61), "a minute of clock skew");
        assert!(!verify(&[8u8; 32], &token, now), "another key");
        let later = sign(&key, now + 1, &[1; 16]);
        let (_, mac) = later.rsplit_once('.').expect("a signature");
        let (body, _) = token.rsplit_once('.').expect("a body");
        assert!(!verify(&key, &format!("{body}.{mac}"), now), "another token's signature");
        for forged in ["attacker-chosen", "", "1800000000.nonce.", "1800000000..", "x.y.z"] {
            assert!(!verify(&key, forged, now), "{forged}");
        }
    }

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
