//! Extractors shared by the handlers: the JSON body, and who the client is.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::app::AppState;
use crate::error::Error;
use crate::validate;

/// A JSON request body, read and parsed, or why it could not be. It never rejects the
/// request itself, so a handler can record a malformed request in the audit trail
/// before it answers: `let body = input.0?`.
///
/// Malformed JSON is 400; JSON of the wrong shape, or with a NUL character in any string
/// or key, is 422 naming the field (its path, such as `tags[2]`); a body that does not
/// say it is JSON is 415.
pub struct Input<T>(pub Result<T, Error>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Input<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Error> {
        let is_json =
            request.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).is_some_and(is_json);
        // Errors reading the body (too large, a dropped connection) do reject.
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| match rejection.status() {
            axum::http::StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge,
            _ => Error::BadRequest(rejection.body_text()),
        })?;
        if !is_json {
            return Ok(Input(Err(Error::UnsupportedMediaType(
                "Send the body as JSON with Content-Type: application/json.".to_owned(),
            ))));
        }
        Ok(Input(parse(&bytes)))
    }
}

/// Refuses a query string with a NUL character in a parameter's name or value: 422
/// naming the parameter, before any handler sees it (PostgreSQL stores no NUL).
pub async fn refuse_nul_in_query(request: Request, next: Next) -> Response {
    let query = request.uri().query().unwrap_or_default();
    // Percent-encoded, since a URI holds no raw NUL.
    if query.contains("%00")
        && let Some((name, _)) = url::form_urlencoded::parse(query.as_bytes())
            .find(|(name, value)| name.contains('\0') || value.contains('\0'))
    {
        let field = name.replace('\0', "\\u0000");
        return Error::invalid(field, validate::NUL).into_response();
    }
    next.run(request).await
}

/// `application/json` or `application/<something>+json`, with any parameters.
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    // JSON can carry a NUL only as the escape `\u0000`; only then is the body walked, to
    // name where it is.
    if bytes.windows(6).any(|w| w == br"\u0000")
        && let Some(field) = serde_json::from_slice(bytes).ok().as_ref().and_then(validate::nul_path)
    {
        return Err(Error::invalid(field, validate::NUL));
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let message = data_error_message(&inner);
                // A missing field's path is its parent's; the name is in the message.
                let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
                let field = match (path.as_str(), missing) {
                    (".", Some(name)) => name.to_owned(),
                    (parent, Some(name)) => format!("{parent}.{name}"),
                    (".", None) => "body".to_owned(),
                    (_, None) => path,
                };
                let message = if missing.is_some() { "is required".to_owned() } else { message };
                Error::invalid(field, message)
            }
            _ => Error::BadRequest(format!("The body is not valid JSON: {inner}.")),
        }
    })
}

/// serde's message without its " at line L column C" suffix.
fn data_error_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(end) => text[..end].to_owned(),
        None => text,
    }
}

/// For `#[serde(default, deserialize_with = "present")]` on an `Option<Option<T>>`
/// field of a PATCH body: tells a field sent as `null` (`Some(None)`: clear it) from one
/// left out (`None`: leave it alone).
pub fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// The names of the fields a PATCH body sent (set or cleared), of `fields`: each name
/// with whether it was sent (`present`'s `Some`). A statement sets these, and leaves
/// the others alone.
pub fn sent<const N: usize>(fields: [(&'static str, bool); N]) -> Vec<&'static str> {
    fields.into_iter().filter_map(|(field, sent)| sent.then_some(field)).collect()
}

/// Who sent the request: the client's address (through trusted proxies only) and its
/// user agent, for sign-in throttling and the audit trail.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Client
where
    AppState: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
        let forwarded = parts.headers.get("x-forwarded-for").and_then(|value| value.to_str().ok());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(|agent| agent.chars().take(500).collect());
        Ok(Client { ip: client_ip(peer, forwarded, &state.auth.trusted_proxies), user_agent })
    }
}

/// The client's address: the peer's, unless the peer is a trusted proxy; then the
/// nearest address in X-Forwarded-For that is not a trusted proxy (read from the right,
/// since a client can write anything on the left).
fn client_ip(peer: Option<IpAddr>, forwarded: Option<&str>, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let mut client = peer;
    for hop in forwarded.unwrap_or_default().rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    Some(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("a network")];
        let xff = Some("6.6.6.6, 203.0.113.9, 10.0.0.2");
        // From an untrusted peer the header is ignored.
        assert_eq!(client_ip(Some(ip("198.51.100.1")), xff, &trusted), Some(ip("198.51.100.1")));
        // Through trusted proxies, the first untrusted hop from the right is the client;
        // what it claims further left (6.6.6.6) is not believed.
        assert_eq!(client_ip(Some(ip("10.0.0.1")), xff, &trusted), Some(ip("203.0.113.9")));
        // No trusted proxies configured: the peer.
        assert_eq!(client_ip(Some(ip("10.0.0.1")), xff, &[]), Some(ip("10.0.0.1")));
        // Garbage in the header stops the walk at the last good hop.
        assert_eq!(client_ip(Some(ip("10.0.0.1")), Some("nonsense"), &trusted), Some(ip("10.0.0.1")));
    }

    #[test]
    fn bodies_of_the_wrong_shape_name_the_field() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Body {
            tags: Vec<String>,
        }
        match parse::<Body>(br#"{"tags": ["a", 3]}"#) {
            Err(Error::Validation(errors)) => assert_eq!(errors[0].field, "tags[1]"),
            other => panic!("a validation error, not {other:?}"),
        }
        assert!(matches!(parse::<Body>(b"{\"tags\": ["), Err(Error::BadRequest(_))));
        match parse::<Body>(b"{}") {
            Err(Error::Validation(errors)) => {
                assert_eq!((errors[0].field.as_str(), errors[0].message.as_str()), ("tags", "is required"))
            }
            other => panic!("a validation error, not {other:?}"),
        }
    }
}
