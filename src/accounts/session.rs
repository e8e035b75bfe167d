//! Registration, sign-in and sign-out.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{User, password, store, taken, throttle, validate};
use crate::app::AppState;
use crate::audit::{Change, Work};
use crate::config::Signup;
use crate::error::{Error, Problem, Result};
use crate::http::auth::AuthUser;
use crate::http::extract::{Client, Input};
use crate::http::token;
use crate::states::InvitationStatus;

#[derive(Deserialize, ToSchema)]
pub struct RegisterRequest {
    pub email: String,
    pub username: String,
    pub password: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// The token of an invitation link (`/signup?invite=TOKEN`): required while sign-up
    /// is by invitation (STUDYHALL_SIGNUP=invite), ignored otherwise.
    pub invitation: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    /// The account's email or username, in any case.
    pub login: String,
    pub password: String,
}

/// A new sign-in: the token to send as `Authorization: Bearer <token>`.
#[derive(Serialize, ToSchema)]
pub struct SessionResponse {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

const BAD_LOGIN: &str = "The login or password is wrong.";

/// Creates an account and signs it in, as the server's sign-up policy allows: anyone
/// (open), with an invitation (invite), or no one (closed). The first account of a new
/// server may always sign up, and becomes its administrator.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "accounts", request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered and signed in", body = SessionResponse),
        (status = 400, description = "Malformed JSON", body = Problem),
        (status = 403, description = "Sign-up is closed, or by invitation and none was given", body = Problem),
        (status = 409, description = "Email or username taken", body = Problem),
        (status = 422, description = "Invalid fields (an invitation used, revoked or expired)", body = Problem),
    ))]
pub async fn register(
    State(state): State<AppState>,
    client: Client,
    Input(body): Input<RegisterRequest>,
) -> Result<(StatusCode, Json<SessionResponse>)> {
    Ok((StatusCode::CREATED, Json(sign_up(&state, &client, body).await?)))
}

/// Why sign-up is refused while it is closed.
pub const CLOSED: &str = "Sign-up is closed on this server: ask its administrator for an account.";
/// Why sign-up is refused without an invitation while it is by invitation.
pub const INVITE_ONLY: &str = "Sign-up on this server is by invitation: open the invitation link you were sent, or ask its administrator for one.";

/// Why an invitation's link is refused when there is no such invitation.
pub const UNKNOWN_INVITATION: &str =
    "is not a valid invitation: check the link, or ask the administrator for a new one";

/// Why an invitation in the state `status` (None: there is no such invitation) cannot
/// be used; None when it can.
pub fn invitation_refusal(status: Option<InvitationStatus>) -> Option<&'static str> {
    match status {
        None => Some(UNKNOWN_INVITATION),
        Some(InvitationStatus::Pending) => None,
        Some(InvitationStatus::Used) => {
            Some("was used already: sign in, or ask the administrator for a new invitation")
        }
        Some(InvitationStatus::Revoked) => Some("was withdrawn by the administrator: ask them for a new one"),
        Some(InvitationStatus::Expired) => Some("has expired: ask the administrator for a new one"),
    }
}

/// Who may sign up, as far as can be told before an account is made.
pub struct Admission {
    /// There is no account yet: this one will be the first, and the administrator.
    pub first: bool,
    /// The address the invitation names, if it names one.
    pub invited: Option<String>,
}

/// Whether sign-up may go on (the API and the web app's form), checked before the
/// password is hashed; the transaction decides for good (the first account, the
/// invitation's use). 403 while closed, or by invitation without one; 422 naming
/// `invitation` when it cannot be used.
pub async fn admit(state: &AppState, invitation: Option<&str>) -> Result<Admission> {
    let first = !store::any_account(&state.privileged).await?;
    let open = Admission { first, invited: None };
    match state.site.signup {
        _ if first => Ok(open),
        Signup::Open => Ok(open),
        Signup::Closed => Err(Error::Forbidden(CLOSED)),
        Signup::Invite => {
            let token = invitation.ok_or(Error::Forbidden(INVITE_ONLY))?;
            let found = store::invitation(&mut *state.db.acquire().await?, token).await?;
            if let Some(why) = invitation_refusal(found.as_ref().map(|f| f.2)) {
                return Err(Error::invalid("invitation", why));
            }
            Ok(Admission { first, invited: found.and_then(|f| f.1) })
        }
    }
}

/// Registers an account and signs it in (the API and the web app), as the sign-up
/// policy allows; audited, with the invitation's use.
pub async fn sign_up(state: &AppState, client: &Client, body: Result<RegisterRequest>) -> Result<SessionResponse> {
    let work = Work::new(&state.db, client, "user.register", "user");
    let input = async {
        let body = body?;
        let invited = admit(state, body.invitation.as_deref()).await?.invited;
        let email = body.email.trim().to_owned();
        let username = body.username.trim().to_owned();
        let mut v = validate::Validator::default();
        validate::email(&mut v, "email", &email);
        if let Some(invited) = &invited {
            v.check(invited.eq_ignore_ascii_case(&email), "email", format!("must be the invited address, {invited}"));
        }
        validate::username(&mut v, "username", &username);
        validate::new_password(&mut v, "password", &body.password, &[&email, &username]);
        validate::name(&mut v, "first_name", body.first_name.as_deref());
        validate::name(&mut v, "last_name", body.last_name.as_deref());
        v.finish()?;
        let hash = password::hash(body.password, state.auth.account.bcrypt_cost).await?;
        Ok((email, username, hash, body.first_name, body.last_name, body.invitation))
    };
    let user_id = Uuid::new_v4();
    work.acting_for(user_id);
    work.run(input.await, async |tx, (email, username, hash, first_name, last_name, invitation)| {
        let new = store::NewUser {
            id: user_id,
            email: &email,
            username: &username,
            password_hash: &hash,
            first_name: first_name.as_deref(),
            last_name: last_name.as_deref(),
        };
        let user = taken(store::register(tx, &new).await)?;
        work.user(user_id).entity(user_id);
        let first = store::first_account(tx, user_id).await?;
        let invitation = match (first, state.site.signup) {
            (true, _) | (false, Signup::Open) => None,
            (false, Signup::Closed) => return Err(Error::Forbidden(CLOSED)),
            (false, Signup::Invite) => {
                let token = invitation.ok_or(Error::Forbidden(INVITE_ONLY))?;
                let used = store::use_invitation(tx, &token, user_id).await?;
                let gone =
                    || Error::invalid("invitation", "was used, withdrawn or expired a moment ago: ask for a new one");
                let (id, _) = used.ok_or_else(gone)?;
                let used = json!({"used_by": user_id});
                work.actor()
                    .row("invitation.use", "invitation")
                    .entity(Some(id))
                    .values(None, Some(used))
                    .insert(tx)
                    .await?;
                Some(id)
            }
        };
        let (token, expires_at) = issue_token(tx, state, user_id).await?;
        work.session(token.0);
        let user = User { is_admin: first, ..user };
        let new = json!({"email": email, "username": username, "first_name": first_name, "last_name": last_name,
                         "is_admin": first, "invitation_id": invitation});
        Ok((SessionResponse { token: token.1, expires_at, user }, Change::created(new)))
    })
    .await
}

/// Signs in with an email or username and the password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = SessionResponse),
        (status = 401, description = "Wrong login or password", body = Problem),
        (status = 429, description = "Too many failed attempts; see Retry-After", body = Problem),
    ))]
pub async fn login(
    State(state): State<AppState>,
    client: Client,
    Input(body): Input<LoginRequest>,
) -> Result<Json<SessionResponse>> {
    Ok(Json(sign_in(&state, &client, body).await?))
}

/// Signs in (the API and the web app): throttled and audited.
pub async fn sign_in(state: &AppState, client: &Client, body: Result<LoginRequest>) -> Result<SessionResponse> {
    let work = Work::new(&state.db, client, "auth.login", "user");
    // Counted and checked before the change, on connections of their own: an attempt
    // counts whatever its outcome.
    let checked = async {
        let body = body?;
        let mut conn = state.db.acquire().await?;
        let account = store::login_account(&mut conn, body.login.trim()).await?;
        if let Some(account) = &account {
            work.user(account.user_id).entity(account.user_id);
        }
        let keys = throttle::Keys::new(account.as_ref().map(|a| a.user_id), &body.login, client.ip);
        throttle::attempt(&mut conn, &keys).await?;
        drop(conn); // not held through bcrypt

        // An inactive or deleted account is checked against the dummy hash: its own may be
        // none at all (deletion leaves "!"), and the answer takes as long either way.
        let (user_id, hash) = match account {
            Some(store::LoginAccount { user_id, password_hash, is_active: true, is_deleted: false }) => {
                (Some(user_id), Some(password_hash))
            }
            _ => (None, None),
        };
        let matches = password::verify(body.password, hash, state.auth.account.bcrypt_cost).await?;
        let user_id = user_id.filter(|_| matches).ok_or(Error::Unauthorized(BAD_LOGIN))?;
        Ok((user_id, keys))
    };
    work.run(checked.await, async |tx, (user_id, keys)| {
        throttle::succeeded(tx, &keys).await?;
        let user = store::signed_in(tx, user_id).await?;
        let (token, expires_at) = issue_token(tx, state, user_id).await?;
        work.session(token.0);
        Ok((SessionResponse { token: token.1, expires_at, user }, Change::created(json!({"token_id": token.0}))))
    })
    .await
}

/// Revokes the token this request was made with.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts", security(("bearer" = [])),
    responses((status = 204, description = "Signed out"), (status = 401, description = "Not signed in", body = Problem)))]
pub async fn logout(State(state): State<AppState>, client: Client, auth: AuthUser) -> Result<StatusCode> {
    sign_out(&state, &client, auth).await
}

/// Revokes the caller's token (the API and the web app); audited.
pub async fn sign_out(state: &AppState, client: &Client, auth: AuthUser) -> Result<StatusCode> {
    let work = Work::new(&state.db, client, "auth.logout", "auth_token").by(&auth);
    work.entity(auth.token_id);
    work.change(async |tx| {
        store::revoke_token(tx, auth.user_id, auth.token_id).await?;
        Ok((StatusCode::NO_CONTENT, Change::created(json!({"revoked": true}))))
    })
    .await
}

/// Stores a new token for `user_id`; returns (its id, the secret) and when it expires.
async fn issue_token(
    conn: &mut PgConnection,
    state: &AppState,
    user_id: Uuid,
) -> Result<((Uuid, String), DateTime<Utc>)> {
    let new = token::generate()?;
    let expires_at = Utc::now() + state.auth.token_ttl();
    let id = store::add_token(conn, user_id, &new.hash, expires_at).await?;
    Ok(((id, new.secret), expires_at))
}
