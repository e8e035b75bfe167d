//! Password resets: one-time links that expire within the hour, sent by mail ("Forgot
//! password?", with STUDYHALL_SMTP_URL) or printed for an operator (`studyhall user
//! reset-password`), and the new password a link sets, which ends every sign-in.
//!
//! Asking gets the same answer whether or not an account has the address, and takes
//! about as long: the mail is sent by a background task, never while the request waits.
//! The link's secret is never stored (only its SHA-256), logged or audited; for that
//! reason the mail is not a job either, whose payload the database would keep.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{password, store, throttle, validate};
use crate::app::AppState;
use crate::audit::{Change, REDACTED, Work};
use crate::config::Links;
use crate::error::{Error, Problem, Result};
use crate::http::extract::{Client, Input};
use crate::mail::Mailer;

/// How long a reset link works.
pub const LINK_HOURS: i64 = 1;

/// What asking for a link answers, whoever asks.
pub const REQUESTED: &str = "If an account has this email address, a link to choose a new password is on its way \
                             to it. The link works once, within an hour.";
/// Why asking is refused on a server that sends no mail.
pub const NO_MAIL: &str = "This server sends no mail, so it cannot send you a link: ask its administrator to reset \
                           your password. They can make you a one-time link.";

#[derive(Deserialize, ToSchema)]
pub struct ResetRequest {
    /// The account's email address.
    pub email: String,
}

#[derive(Serialize, ToSchema)]
pub struct ResetRequested {
    /// What to tell the person who asked: the same for every address.
    pub message: &'static str,
}

#[derive(Deserialize, ToSchema)]
pub struct ResetConfirm {
    /// The token of the link (`/reset?token=TOKEN`).
    pub token: String,
    /// The new password (12 to 128 characters, not common, not built from the account's
    /// email or username).
    pub new_password: String,
}

/// A reset link.
pub fn link(links: &Links, secret: &str) -> String {
    links.to(&format!("/reset?token={secret}"))
}

/// Asks for a link to choose a new password, sent by mail. The answer is the same
/// whether or not an account has the address.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "accounts", request_body = ResetRequest,
    responses(
        (status = 202, description = "If an account has the address, a link is on its way", body = ResetRequested),
        (status = 403, description = "This server sends no mail: ask its administrator", body = Problem),
        (status = 429, description = "Too many requests for this address or from this client; see Retry-After", body = Problem),
    ))]
pub async fn request(
    State(state): State<AppState>,
    client: Client,
    Input(body): Input<ResetRequest>,
) -> Result<(StatusCode, Json<ResetRequested>)> {
    ask(&state, &client, body).await?;
    Ok((StatusCode::ACCEPTED, Json(ResetRequested { message: REQUESTED })))
}

/// Asks for a reset link by mail (the API and the web app): throttled per address and
/// client, audited, the mail sent in the background.
pub async fn ask(state: &AppState, client: &Client, body: Result<ResetRequest>) -> Result<()> {
    let work = Work::new(&state.db, client, "password_reset.request", "password_reset");
    let checked = async {
        let mailer = state.mail.clone().ok_or(Error::Forbidden(NO_MAIL))?;
        let email = body?.email.trim().to_owned();
        let mut v = validate::Validator::default();
        validate::email(&mut v, "email", &email);
        v.finish()?;
        let mut conn = state.db.acquire().await?;
        throttle::attempt(&mut conn, &throttle::Keys::password_reset(&email, client.ip)).await?;
        // A valid email address is no username: this finds the account with that address.
        let account = store::login_account(&mut conn, &email).await?;
        let account = account.and_then(|a| (a.is_active && !a.is_deleted).then_some(a.user_id));
        if let Some(id) = account {
            work.user(id);
        }
        Ok((mailer, account))
    };
    let mail = work
        .run(checked.await, async |tx, (mailer, account)| {
            let Some(user_id) = account else {
                return Ok((None, Change::created(json!({"sent": false}))));
            };
            let to = store::user(tx, user_id).await?.email;
            let expires_at = Utc::now() + chrono::Duration::hours(LINK_HOURS);
            let (id, secret) = store::create_password_reset(tx, user_id, expires_at).await?;
            work.entity(id);
            let new = json!({"sent": true, "via": "email", "expires_at": expires_at});
            Ok((Some((mailer, to, secret, user_id)), Change::created(new)))
        })
        .await?;
    if let Some((mailer, to, secret, user_id)) = mail {
        send(mailer, to, link(&state.site.links, &secret), user_id);
    }
    Ok(())
}

/// Sends the link to `to` in a task of its own; a failure is logged (with the user's id,
/// never the address or the link).
fn send(mailer: Mailer, to: String, link: String, user_id: Uuid) {
    tokio::spawn(async move {
        let body = format!(
            "Someone, we hope you, asked to choose a new password for your studyhall account.\n\n\
             Open this link within an hour to choose one. It works once:\n\n{link}\n\n\
             Choosing a new password signs you out everywhere. If you did not ask, ignore this mail: \
             your password stays as it is.\n"
        );
        match mailer.send(&to, "Choose a new studyhall password", body).await {
            Ok(()) => tracing::info!(%user_id, "password-reset mail sent"),
            Err(error) => tracing::warn!(%user_id, %error, "the password-reset mail was not sent"),
        }
    });
}

/// Sets a new password with a reset link's token: the link is used up (and every other
/// link of the account with it), and every sign-in of the account ends.
#[utoipa::path(post, path = "/api/v1/auth/password-reset/confirm", tag = "accounts", request_body = ResetConfirm,
    responses(
        (status = 204, description = "The password is set; every sign-in of the account has ended"),
        (status = 422, description = "The link is unknown, used or expired (`token`), or the password is refused (`new_password`)", body = Problem),
    ))]
pub async fn confirm(
    State(state): State<AppState>,
    client: Client,
    Input(body): Input<ResetConfirm>,
) -> Result<StatusCode> {
    reset(&state, &client, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The account a reset link is for, while it works; else 422 naming `token`, in words.
pub async fn link_account(state: &AppState, token: &str) -> Result<Uuid> {
    let found = store::password_reset(&mut *state.db.acquire().await?, token).await?;
    let refused = |why: &str| Err(Error::invalid("token", why));
    match found {
        None => refused("is not a link this server made: check it, or ask for a new one"),
        Some(link) if link.used_at.is_some() => refused("was used already: links work once; ask for a new one"),
        Some(link) if link.expires_at <= Utc::now() => {
            refused("has expired: links work for an hour; ask for a new one")
        }
        Some(link) => Ok(link.user_id),
    }
}

/// Sets the new password a reset link allows (the API and the web app); audited. Returns
/// the account's id.
pub async fn reset(state: &AppState, client: &Client, body: Result<ResetConfirm>) -> Result<Uuid> {
    let work = Work::new(&state.db, client, "user.password_reset", "user");
    let checked = async {
        let body = body?;
        let user_id = link_account(state, &body.token).await?;
        work.user(user_id).entity(user_id);
        let mut tx = crate::db::tenant::begin_as(&state.db, Some(user_id)).await?;
        let user = store::user(&mut tx, user_id).await?;
        tx.commit().await?;
        let mut v = validate::Validator::default();
        validate::new_password(&mut v, "new_password", &body.new_password, &[&user.email, &user.username]);
        v.finish()?;
        Ok((user_id, body.token, password::hash(body.new_password, state.auth.account.bcrypt_cost).await?))
    };
    work.run(checked.await, async |tx, (user_id, token, hash)| {
        if !store::use_password_reset(tx, user_id, &token).await? {
            return Err(Error::invalid("token", "was used or expired a moment ago: ask for a new link"));
        }
        set(tx, user_id, &hash, "link").await
    })
    .await
}

/// Sets `user_id`'s password hash and ends every sign-in: the change a reset makes,
/// `via` a link or the command line.
pub async fn set(tx: &mut sqlx::PgConnection, user_id: Uuid, hash: &str, via: &str) -> Result<(Uuid, Change)> {
    store::set_password(tx, user_id, hash).await?;
    store::revoke_tokens(tx, user_id).await?;
    Ok((user_id, Change::created(json!({"password": REDACTED, "via": via, "signed_out": true}))))
}

/// A reset link for the account `user` names, made by an operator (`studyhall user
/// reset-password`, `via` "cli") or an administrator ("admin"): audited, naming the
/// account. The link and when it expires.
pub async fn operator_link(
    work: &Work<'_>,
    user: Result<Uuid>,
    links: &Links,
    via: &str,
) -> Result<(String, DateTime<Utc>)> {
    work.run(user, async |tx, user_id| {
        let expires_at = Utc::now() + chrono::Duration::hours(LINK_HOURS);
        let (id, secret) = store::create_password_reset(tx, user_id, expires_at).await?;
        work.entity(id);
        let new = json!({"sent": false, "via": via, "user_id": user_id, "expires_at": expires_at});
        Ok(((link(links, &secret), expires_at), Change::created(new)))
    })
    .await
}
