//! Who the caller is: [`AuthUser`], from a bearer token or the web app's session cookie.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use uuid::Uuid;

use super::cookie::session_cookie;
use super::csrf::session_csrf;
use super::token;
use crate::app::AppState;
use crate::db::reads::Reader;
use crate::error::{Error, Result};

/// The signed-in caller, from `Authorization: Bearer <token>`; 401 without a live token
/// of an active account.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser {
    pub user_id: Uuid,
    /// The token's id: the `session_id` of audit rows.
    pub token_id: Uuid,
    pub is_admin: bool,
    /// The user's write mark on the primary as the request began: what a replica must
    /// show before their reads may run on it (`db::reads`).
    pub write_mark: i64,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = Error;

    /// The bearer token; or, from the web app's pages, its session cookie, which for
    /// anything but GET and HEAD must come with the session's CSRF token in
    /// `X-CSRF-Token` (another site's page can make a browser send the cookie, not read
    /// the token).
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        const MISSING: &str = "Sign in and send the token as Authorization: Bearer <token>.";
        if let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) {
            let secret = header
                .to_str()
                .ok()
                .and_then(|value| value.strip_prefix("Bearer "))
                .ok_or(Error::Unauthorized(MISSING))?;
            return AuthUser::resolve(state, secret.trim()).await;
        }
        let secret = session_cookie(&parts.headers).ok_or(Error::Unauthorized(MISSING))?;
        let safe = matches!(parts.method, axum::http::Method::GET | axum::http::Method::HEAD);
        let csrf = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !safe && csrf != session_csrf(secret) {
            return Err(Error::Unauthorized("A request signed in by cookie needs the page's X-CSRF-Token."));
        }
        AuthUser::resolve(state, secret).await
    }
}

impl AuthUser {
    /// The signed-in caller behind a token (from the Authorization header or the web
    /// app's cookie); 401 unless it is live and its account active.
    pub async fn resolve(state: &AppState, secret: &str) -> Result<AuthUser> {
        let found = sqlx::query!(
            r#"SELECT token_id AS "token_id!", user_id AS "user_id!", is_admin AS "is_admin!",
                      write_mark AS "write_mark!"
                 FROM studyhall_token_user($1)"#,
            token::hash(secret)
        )
        .fetch_optional(&state.db)
        .await?;
        let found = found.ok_or(Error::Unauthorized("The token is invalid, expired or revoked; sign in again."))?;
        let (token_id, user_id, is_admin, write_mark) =
            (found.token_id, found.user_id, found.is_admin, found.write_mark);
        tracing::Span::current().record("user_id", tracing::field::display(user_id));
        Ok(AuthUser { user_id, token_id, is_admin, write_mark })
    }

    /// Ok for an administrator; 404 for anyone else, to whom admin paths do not exist.
    pub fn admin(&self) -> Result<()> {
        if self.is_admin { Ok(()) } else { Err(Error::NotFound) }
    }

    /// The caller's reads, which see every change of theirs made before this request.
    pub fn reader(&self) -> Reader {
        Reader { user: self.user_id, mark: self.write_mark }
    }
}
