//! The learner web app: server-rendered pages (askama templates in `templates/`), a
//! little CSS of its own, no outside services. It signs in with the same tokens as the
//! API, kept in an HttpOnly, SameSite=Lax cookie (Secure with STUDYHALL_SECURE_COOKIES),
//! and every form post carries a CSRF token: derived from the session token when signed
//! in, a server-signed double-submit cookie before (both in `http/`); posts from other
//! sites' pages are refused by their Origin (origin.rs). The same tenancy and audit
//! rules apply: pages call the same functions as the API.

mod account;
mod auth;
mod cards;
mod dashboard;
mod materials;
mod origin;
mod progress;
mod settings;
mod study;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
pub use origin::same_origin;

use crate::app::AppState;
use crate::http::auth::AuthUser;
use crate::http::cookie::{SESSION, cookie};
use crate::http::csrf::session_csrf;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::page))
        .route("/signin", get(auth::signin_page).post(auth::signin))
        .route("/signup", get(auth::signup_page).post(auth::signup))
        .route("/signout", axum::routing::post(auth::signout))
        .route("/materials", get(materials::list))
        .route("/materials/{id}", get(materials::page))
        .route("/study/{id}", get(study::page))
        .route("/progress", get(progress::page))
        .route("/account", get(account::page))
        .route("/settings", get(settings::page).post(settings::save))
        .route("/settings/optimise", axum::routing::post(settings::optimise))
        .route("/static/app.css", get(stylesheet))
        .route("/static/app.js", get(script))
}

async fn stylesheet() -> Response {
    let headers = [(CONTENT_TYPE, "text/css; charset=utf-8"), (CACHE_CONTROL, "public, max-age=3600")];
    (headers, include_str!("app.css")).into_response()
}

async fn script() -> Response {
    let headers = [(CONTENT_TYPE, "text/javascript; charset=utf-8"), (CACHE_CONTROL, "public, max-age=3600")];
    (headers, include_str!("app.js")).into_response()
}

/// A share as a whole percentage, or a dash when there is none.
fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "–".to_owned(), |s| format!("{:.0}%", s * 100.0))
}

/// A signed-in learner of the web app, with the CSRF token their forms carry. Pages
/// that need one redirect to /signin without it.
pub struct WebUser {
    pub auth: AuthUser,
    pub csrf: String,
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let signin = || Redirect::to("/signin").into_response();
        let token = cookie(&parts.headers, SESSION).ok_or_else(signin)?;
        match AuthUser::resolve(state, token).await {
            Ok(auth) => Ok(WebUser { auth, csrf: session_csrf(token) }),
            Err(crate::error::Error::Unauthorized(_)) => Err(signin()),
            Err(error) => Err(html_error(&error)),
        }
    }
}

impl WebUser {
    /// Whether a posted form's CSRF token is this session's.
    fn checks(&self, posted: &str) -> bool {
        !posted.is_empty() && posted == self.csrf
    }
}

/// An error page.
#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    message: String,
}

/// A failure as a page (a database outage is a 503, others a 500), never with internals.
fn html_error(error: &crate::error::Error) -> Response {
    let status = error.status();
    let message = error.client_message().unwrap_or_else(|| "Something went wrong on our side.".to_owned());
    render(status, &ErrorPage { status: status.as_u16(), message })
}

/// A template rendered with `status`, as HTML; a template that cannot render is a 500.
fn render(status: axum::http::StatusCode, page: &impl askama::Template) -> Response {
    match page.render() {
        Ok(html) => (status, [(CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        Err(error) => {
            tracing::error!(%error, "a page did not render");
            (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// 403 for a form post whose CSRF token is missing or wrong.
fn forbidden() -> Response {
    refused("The form has expired or did not come from studyhall; reload the page and try again.")
}

/// A 403 page saying why.
fn refused(message: &str) -> Response {
    render(axum::http::StatusCode::FORBIDDEN, &ErrorPage { status: 403, message: message.to_owned() })
}
