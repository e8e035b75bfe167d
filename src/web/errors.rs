//! Error pages. A page that fails says so in words, in the normal layout, never as
//! problem+json: a handler answers with [`explained`] (a status and, for a client error,
//! what to tell), a page without the navigation, and [`error_pages`], around the whole
//! router, adds the navigation when the learner is signed in. The web routes also
//! explain a request they could not read themselves (a malformed id in the path: 400),
//! and an unknown address outside /api/ is the 404 page ([`not_found`]).

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::middleware::Next;
use axum::response::Response;

use super::render;
use crate::app::AppState;
use crate::error::Error;
use crate::http::auth::AuthUser;
use crate::http::cookie::session_cookie;

/// Marks an error page for [`error_pages`]: what it says.
#[derive(Clone)]
struct Explained(ErrorPage);

/// A failure as a page, never with internals: a client error's message is told, a
/// server error is logged and answered in general words.
pub fn html_error(error: &Error) -> Response {
    let status = error.status();
    if status.is_server_error() {
        tracing::error!(%error, "a page failed");
    }
    explained(status, error.client_message().filter(|_| status.is_client_error()))
}

/// The error page of `status`, with `message` or the status's own words.
pub fn explained(status: StatusCode, message: Option<String>) -> Response {
    let (heading, default) = words(status);
    let page = ErrorPage { heading, message: message.unwrap_or_else(|| default.to_owned()), csrf: None };
    let mut response = render(status, &page);
    response.extensions_mut().insert(Explained(page));
    response
}

/// The 404 page: no such page (or another learner's).
pub fn not_found() -> Response {
    explained(StatusCode::NOT_FOUND, None)
}

/// Around the web routes: a failure they did not explain (axum's rejection of a
/// malformed id or an unreadable form, in plain text) is explained by its status.
pub async fn unexplained(response: Response) -> Response {
    let status = response.status();
    let html = response.headers().get(CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if (status.is_client_error() || status.is_server_error()) && !html {
        return explained(status, None);
    }
    response
}

/// An error page, as the learner sees it.
#[derive(Clone, askama::Template)]
#[template(path = "error.html")]
struct ErrorPage {
    heading: &'static str,
    message: String,
    /// The session's CSRF token when signed in (the navigation's sign-out form).
    csrf: Option<super::Csrf>,
}

/// What a page of `status` says without a message of its own.
fn words(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::BAD_REQUEST => (
            "This address is not right",
            "The link is broken or mistyped: it does not name anything studyhall made. \
             Check it, or find what you were looking for from the dashboard.",
        ),
        StatusCode::FORBIDDEN => ("Not allowed", "This is not something you can do here."),
        StatusCode::NOT_FOUND => {
            ("Page not found", "There is nothing here. It may have been deleted, or the link may be mistyped.")
        }
        StatusCode::SERVICE_UNAVAILABLE => {
            ("studyhall is unavailable", "studyhall cannot reach its database just now. Try again in a minute.")
        }
        status if status.is_server_error() => (
            "Something went wrong",
            "Something went wrong on our side. Try again in a moment; if it keeps happening, \
             tell whoever runs this studyhall.",
        ),
        _ => ("This could not be done", "The request could not be handled. Go back, reload the page and try again."),
    }
}

/// Around the whole router: an error page gets the navigation if the request's session
/// is live. Other responses pass.
pub async fn error_pages(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let session = session_cookie(request.headers()).map(str::to_owned);
    let response = next.run(request).await;
    let (Some(token), Some(Explained(page))) = (session, response.extensions().get::<Explained>().cloned()) else {
        return response;
    };
    let Ok(auth) = AuthUser::resolve(&state, &token).await else {
        return response;
    };
    let (parts, _) = response.into_parts();
    let mut rendered = render(parts.status, &ErrorPage { csrf: Some(super::Csrf::of(&auth, &token)), ..page });
    // What the failure set besides its body (Set-Cookie, Retry-After) is kept.
    for (name, value) in &parts.headers {
        if name != CONTENT_TYPE && name != CONTENT_LENGTH {
            rendered.headers_mut().append(name.clone(), value.clone());
        }
    }
    rendered
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;

    use super::*;

    async fn body(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
        String::from_utf8(bytes.to_vec()).expect("UTF-8")
    }

    #[tokio::test]
    async fn a_server_failure_is_a_page_in_general_words_without_internals() {
        let failed = html_error(&Error::Internal("SELECT secret FROM users went wrong".to_owned()));
        assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(failed.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
        let html = body(failed).await;
        assert!(html.contains("<title>Something went wrong · studyhall</title>"), "{html}");
        assert!(html.contains("Something went wrong on our side.") && !html.contains("SELECT"), "{html}");
        assert!(html.contains("href=\"/signin\""), "without the navigation until error_pages adds it");

        let unreadable =
            unexplained((StatusCode::BAD_REQUEST, "Invalid URL: UUID parsing failed").into_response()).await;
        assert_eq!(unreadable.status(), StatusCode::BAD_REQUEST);
        let html = body(unreadable).await;
        assert!(html.contains("This address is not right") && !html.contains("UUID parsing"), "{html}");

        let refused = html_error(&Error::BadRequest("The query string is malformed.".to_owned()));
        assert!(body(refused).await.contains("The query string is malformed."), "a client error's own words");
    }
}
