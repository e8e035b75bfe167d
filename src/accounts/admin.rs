//! Administering accounts: the admin API (which the admin page calls) and `studyhall
//! user promote | deactivate` share these. Administrators only: anyone else gets 404.
//! Each change is audited on the privileged pool with the value before and after,
//! naming the administrator (or, from the command line, the account) and the account.

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::reset;
use super::store::{self, Account};
use crate::app::AppState;
use crate::audit::{Change, Work};
use crate::error::{Error, Problem, Result};
use crate::http::auth::AuthUser;
use crate::http::extract::Client;
use crate::http::page::{self, Newest, Page};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(deactivate))
        .routes(routes!(reactivate))
        .routes(routes!(promote))
        .routes(routes!(demote))
        .routes(routes!(password_reset))
}

/// What an administrator sets on an account.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Promote,
    Demote,
    Deactivate,
    Reactivate,
}

impl Flag {
    /// The audit action, the column and the value it sets.
    fn sets(self) -> (&'static str, &'static str, bool) {
        match self {
            Flag::Promote => ("user.promote", "is_admin", true),
            Flag::Demote => ("user.demote", "is_admin", false),
            Flag::Deactivate => ("user.deactivate", "is_active", false),
            Flag::Reactivate => ("user.reactivate", "is_active", true),
        }
    }

    pub fn action(self) -> &'static str {
        self.sets().0
    }
}

/// The account an action names: by id (the API), or by email or username (`studyhall user`).
#[derive(Clone, Copy)]
pub enum Target<'a> {
    Id(Uuid),
    Login(&'a str),
}

/// What an operator is told when `login` names no account.
pub fn no_account(login: &str) -> Error {
    Error::Config(format!("no account has the email or username {login:?}"))
}

/// The `target` account, locked until `tx` ends: 404 (or, by login, says so) if none.
async fn find(tx: &mut sqlx::PgConnection, target: Target<'_>) -> Result<Account> {
    let (id, login) = match target {
        Target::Id(id) => (Some(id), None),
        Target::Login(login) => (None, Some(login)),
    };
    store::account(tx, id, login).await?.ok_or_else(|| login.map_or(Error::NotFound, no_account))
}

/// Sets `flag` on the `target` account through `work` (audited): `by` the administrator
/// acting, or an operator (None). Deactivating ends the account's sessions. 409 for an
/// administrator demoting or deactivating themselves, and for demoting the last one.
pub async fn set(work: &Work<'_>, target: Target<'_>, flag: Flag, by: Option<Uuid>) -> Result<Account> {
    let (_, column, value) = flag.sets();
    work.change(async |tx| {
        let account = find(tx, target).await?;
        work.entity(account.id);
        if by.is_none() {
            work.user(account.id);
        }
        if by == Some(account.id) && !value {
            return Err(Error::conflict("id", "is your own account: another administrator must do this"));
        }
        if flag == Flag::Demote && account.is_admin && store::other_admins(tx, account.id).await? == 0 {
            return Err(Error::conflict("id", "is the last administrator: make another account one first"));
        }
        let old = if column == "is_admin" { account.is_admin } else { account.is_active };
        let (is_admin, is_active) = if column == "is_admin" { (Some(value), None) } else { (None, Some(value)) };
        let changed = store::set_flags(tx, account.id, is_admin, is_active).await?;
        let via = if by.is_some() { "admin" } else { "cli" };
        Ok((changed, Change::new(Some(json!({column: old})), Some(json!({column: value, "via": via})))))
    })
    .await
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Accounts whose email or username contains this (whatever its case).
    q: Option<String>,
    /// Rows per page, 1 to 200 (default 50).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Accounts, newest first, found by email or username: administrators only (others get 404).
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Account>), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn list_users(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Page<Account>>> {
    auth.admin()?;
    Ok(Json(accounts(&state, query.q.as_deref(), query.limit, query.cursor.as_deref()).await?))
}

/// A page of accounts matching `q` (the API and the admin page).
pub async fn accounts(
    state: &AppState,
    q: Option<&str>,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<Page<Account>> {
    let (limit, cursor) = page::params::<Newest>(limit, cursor)?;
    let q = q.map(str::trim).filter(|q| !q.is_empty());
    let rows = store::accounts(&mut *state.privileged.acquire().await?, q, cursor, i64::from(limit) + 1).await?;
    Ok(Page::from_rows(rows, limit, |row| (row.created_at, row.id)))
}

/// Sets `flag` on account `id` for administrator `auth` (the API's four actions).
async fn flag(state: &AppState, client: &Client, auth: &AuthUser, id: Uuid, flag: Flag) -> Result<Json<Account>> {
    auth.admin()?;
    let work = Work::new(&state.privileged, client, flag.action(), "user").by(auth);
    Ok(Json(set(&work, Target::Id(id), flag, Some(auth.user_id)).await?))
}

/// Deactivates an account: it can no longer sign in, and its sessions end.
/// Administrators only (others get 404); 409 for your own account. Audited.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/deactivate", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account")),
    responses((status = 200, body = Account), (status = 401, body = Problem), (status = 404, body = Problem),
              (status = 409, description = "Your own account (`id`)", body = Problem)))]
pub async fn deactivate(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<Account>> {
    flag(&state, &client, &auth, id, Flag::Deactivate).await
}

/// Reactivates an account: it can sign in again. Administrators only (others get 404). Audited.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/reactivate", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account")),
    responses((status = 200, body = Account), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn reactivate(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<Account>> {
    flag(&state, &client, &auth, id, Flag::Reactivate).await
}

/// Makes an account an administrator. Administrators only (others get 404). Audited.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/promote", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account")),
    responses((status = 200, body = Account), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn promote(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<Account>> {
    flag(&state, &client, &auth, id, Flag::Promote).await
}

/// Makes an administrator an ordinary account. Administrators only (others get 404);
/// 409 for your own account and for the last administrator. Audited.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/demote", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account")),
    responses((status = 200, body = Account), (status = 401, body = Problem), (status = 404, body = Problem),
              (status = 409, description = "Your own account, or the last administrator (`id`)", body = Problem)))]
pub async fn demote(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<Account>> {
    flag(&state, &client, &auth, id, Flag::Demote).await
}

/// A password-reset link made for an account: the only time it is shown.
#[derive(Serialize, ToSchema)]
pub struct ResetLink {
    /// The one-time link to give the account's owner (`<public URL>/reset?token=...`).
    pub link: String,
    /// When it stops working (an hour from now).
    pub expires_at: DateTime<Utc>,
}

/// Makes a one-time link to choose a new password (as `studyhall user reset-password`
/// prints): it works for an hour, and setting the password ends every sign-in of the
/// account. Administrators only (others get 404); 409 for a deactivated account.
/// Audited (never the link).
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/password-reset", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account")),
    responses((status = 200, body = ResetLink), (status = 401, body = Problem), (status = 404, body = Problem),
              (status = 409, description = "The account is deactivated (`id`)", body = Problem)))]
pub async fn password_reset(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<ResetLink>> {
    auth.admin()?;
    let work = Work::new(&state.privileged, &client, "password_reset.request", "password_reset").by(&auth);
    let checked = async {
        let mut conn = state.privileged.acquire().await?;
        let account = find(&mut conn, Target::Id(id)).await?;
        if !account.is_active {
            return Err(Error::conflict("id", "is deactivated: reactivate the account first"));
        }
        Ok(account.id)
    };
    let (link, expires_at) = reset::operator_link(&work, checked.await, &state.site.links, "admin").await?;
    Ok(Json(ResetLink { link, expires_at }))
}
