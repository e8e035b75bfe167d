//! The learner web app: server-rendered pages (askama templates in `templates/`), a
//! little CSS of its own, no outside services. It signs in with the same tokens as the
//! API, kept in an HttpOnly, SameSite=Lax cookie (Secure with STUDYHALL_SECURE_COOKIES),
//! and every form post carries a CSRF token: derived from the session token when signed
//! in, a server-signed double-submit cookie before (both in `http/`); posts from other
//! sites' pages are refused by their Origin (origin.rs). The same tenancy and audit
//! rules apply: pages call the same functions as the API.

mod account;
mod activity;
mod admin;
mod auth;
mod cards;
mod dashboard;
mod errors;
mod materials;
mod origin;
mod passage;
mod progress;
mod reset;
mod settings;
mod study;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
pub use errors::{error_pages, not_found};
use errors::{explained, html_error};
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
        .route("/forgot", get(reset::forgot_page).post(reset::forgot))
        .route("/reset", get(reset::reset_page).post(reset::reset))
        .route("/materials", get(materials::list))
        .route("/materials/{id}", get(materials::page))
        .route("/materials/{id}/chunks/{chunk}", get(passage::page))
        .route("/study/{id}", get(study::page))
        .route("/progress", get(progress::page))
        .route("/account", get(account::page))
        .route("/admin", get(admin::page))
        .route("/settings", get(settings::page).post(settings::save))
        .route("/settings/optimise", axum::routing::post(settings::optimise))
        .route("/static/app.css", get(stylesheet))
        .route("/static/app.js", get(script))
        .route("/static/signed-in.js", get(signed_in_script))
        .route("/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
        .route_layer(axum::middleware::map_response(errors::unexplained))
}

async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", include_str!("app.css"))
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", include_str!("app.js"))
}

async fn signed_in_script() -> Response {
    asset("text/javascript; charset=utf-8", include_str!("signed-in.js"))
}

/// The icon browsers show in the tab (an SVG, also at the address they try by default).
async fn favicon() -> Response {
    asset("image/svg+xml", include_str!("favicon.svg"))
}

/// A static asset: the same for everyone, so it may be cached for an hour.
fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(CONTENT_TYPE, content_type), (CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}

/// A value for a URL's query string.
fn encoded(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A share as a whole percentage, or a dash when there is none.
fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "–".to_owned(), |s| format!("{:.0}%", s * 100.0))
}

/// A signed-in learner of the web app, with the CSRF token their forms carry. Pages
/// that need one redirect to /signin without it.
pub struct WebUser {
    pub auth: AuthUser,
    pub csrf: Csrf,
}

/// What a signed-in page's forms and navigation need: the session's CSRF token (shown
/// as itself) and whether the learner administers (the navigation then links /admin).
#[derive(Clone)]
pub struct Csrf {
    token: String,
    pub admin: bool,
}

impl Csrf {
    pub fn of(auth: &AuthUser, session: &str) -> Csrf {
        Csrf { token: session_csrf(session), admin: auth.is_admin }
    }
}

impl std::fmt::Display for Csrf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.token)
    }
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let signin = || Redirect::to(&signin_for(parts)).into_response();
        let token = cookie(&parts.headers, SESSION).ok_or_else(signin)?;
        match AuthUser::resolve(state, token).await {
            Ok(auth) => Ok(WebUser { csrf: Csrf::of(&auth, token), auth }),
            Err(crate::error::Error::Unauthorized(_)) => Err(signin()),
            Err(error) => Err(html_error(&error)),
        }
    }
}

/// The sign-in page, asked to return to the page requested (a GET of a page other
/// than the dashboard).
fn signin_for(parts: &Parts) -> String {
    let wanted = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    if parts.method != axum::http::Method::GET || wanted == "/" {
        return "/signin".to_owned();
    }
    format!("/signin?next={}", url::form_urlencoded::byte_serialize(wanted.as_bytes()).collect::<String>())
}

impl WebUser {
    /// Whether a posted form's CSRF token is this session's.
    fn checks(&self, posted: &str) -> bool {
        !posted.is_empty() && posted == self.csrf.token
    }
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
    explained(axum::http::StatusCode::FORBIDDEN, Some(message.to_owned()))
}
