//! The accounts area's SQL: accounts, sign-in tokens, the first account, invitations and
//! password-reset links (throttle.rs holds the sign-in counters').

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use super::User;
use crate::error::{Error, Result};
use crate::http::extract::sent;

/// `sqlx::query_as!` of [`User`]s: `$head`, the account's columns, then `$tail`.
macro_rules! query_users {
    ($head:literal, $tail:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            User,
            $head
                + "id, email, username, first_name, last_name, profile_picture_url, preferences, is_admin, created_at,
                   updated_at, last_login_at"
                + $tail
            $(, $arg)*
        )
    };
}
use crate::http::page::Newest;
use crate::http::token;
use crate::states::InvitationStatus;

/// The account `user_id` (the caller's, under row-level security), or 404.
#[tracing::instrument(skip(conn))]
pub async fn user(conn: &mut PgConnection, user_id: Uuid) -> Result<User> {
    query_users!("SELECT ", " FROM users WHERE id = $1 AND deleted_at IS NULL", user_id)
        .fetch_optional(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// Whether any account exists, on the privileged pool (row-level security would hide
/// every account from a request's connection).
#[tracing::instrument(skip_all)]
pub async fn any_account(privileged: &sqlx::PgPool) -> Result<bool> {
    Ok(sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM users) AS "any!""#).fetch_one(privileged).await?)
}

/// An account to register.
pub struct NewUser<'a> {
    pub id: Uuid,
    pub email: &'a str,
    pub username: &'a str,
    pub password_hash: &'a str,
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
}

/// Registers an account (a taken email or username violates their unique keys).
#[tracing::instrument(skip_all, fields(id = %new.id))]
pub async fn register(conn: &mut PgConnection, new: &NewUser<'_>) -> Result<User> {
    Ok(query_users!(
        "INSERT INTO users (id, email, username, password_hash, first_name, last_name)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
        "",
        new.id,
        new.email,
        new.username,
        new.password_hash,
        new.first_name,
        new.last_name,
    )
    .fetch_one(conn)
    .await?)
}

/// Adds an account, an administrator if `is_admin` (`studyhall user create`); its id.
#[tracing::instrument(skip(conn, password_hash))]
pub async fn create(
    conn: &mut PgConnection,
    email: &str,
    username: &str,
    password_hash: &str,
    is_admin: bool,
) -> Result<Uuid> {
    Ok(sqlx::query_scalar!(
        "INSERT INTO users (email, username, password_hash, is_admin) VALUES ($1, $2, $3, $4) RETURNING id",
        email,
        username,
        password_hash,
        is_admin,
    )
    .fetch_one(conn)
    .await?)
}

/// An account as administrators list it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Account {
    pub id: Uuid,
    pub email: String,
    pub username: String,
    /// False once deactivated: it cannot sign in.
    pub is_active: bool,
    pub is_admin: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// Accounts (not deleted) whose email or username contains `q` (whatever its case),
/// newest first, after `cursor` (privileged connection).
#[tracing::instrument(skip(conn))]
pub async fn accounts(
    conn: &mut PgConnection,
    q: Option<&str>,
    cursor: Option<Newest>,
    limit: i64,
) -> Result<Vec<Account>> {
    Ok(sqlx::query_as!(
        Account,
        "SELECT id, email, username, is_active, is_admin, created_at, last_login_at FROM users
          WHERE deleted_at IS NULL
            AND ($1::text IS NULL OR strpos(lower(email), lower($1)) > 0 OR strpos(lower(username), lower($1)) > 0)
            AND studyhall_older_than(created_at, id, $2, $3)
          ORDER BY created_at DESC, id DESC LIMIT $4",
        q,
        cursor.map(|c| c.0),
        cursor.map(|c| c.1),
        limit,
    )
    .fetch_all(conn)
    .await?)
}

/// The account (not deleted) with id `id`, or else whose email or username is `login`
/// (whatever its case), locked until the transaction ends (privileged connection).
#[tracing::instrument(skip(conn))]
pub async fn account(conn: &mut PgConnection, id: Option<Uuid>, login: Option<&str>) -> Result<Option<Account>> {
    Ok(sqlx::query_as!(
        Account,
        "SELECT id, email, username, is_active, is_admin, created_at, last_login_at FROM users
          WHERE (id = $1 OR ($1 IS NULL AND (lower(email) = lower($2) OR lower(username) = lower($2))))
            AND deleted_at IS NULL
            FOR UPDATE",
        id,
        login,
    )
    .fetch_optional(conn)
    .await?)
}

/// How many active administrators there are besides account `id`, locked until the
/// transaction ends (two demoting each other at once cannot leave none).
#[tracing::instrument(skip(conn))]
pub async fn other_admins(conn: &mut PgConnection, id: Uuid) -> Result<usize> {
    let admins = sqlx::query_scalar!(
        "SELECT id FROM users WHERE is_admin AND is_active AND deleted_at IS NULL AND id <> $1 FOR UPDATE",
        id
    )
    .fetch_all(conn)
    .await?;
    Ok(admins.len())
}

/// Sets account `id`'s `is_admin` and `is_active` where given; deactivating it revokes
/// its tokens (its sessions end).
#[tracing::instrument(skip(conn))]
pub async fn set_flags(
    conn: &mut PgConnection,
    id: Uuid,
    is_admin: Option<bool>,
    is_active: Option<bool>,
) -> Result<Account> {
    Ok(sqlx::query_as!(
        Account,
        "WITH _ AS (UPDATE auth_tokens SET revoked_at = now()
                     WHERE user_id = $1 AND revoked_at IS NULL AND $3::boolean IS FALSE)
         UPDATE users SET is_admin = coalesce($2, is_admin), is_active = coalesce($3, is_active) WHERE id = $1
         RETURNING id, email, username, is_active, is_admin, created_at, last_login_at",
        id,
        is_admin,
        is_active,
    )
    .fetch_one(conn)
    .await?)
}

/// What signing in needs of the account whose email or username is `login`.
pub struct LoginAccount {
    pub user_id: Uuid,
    pub password_hash: String,
    pub is_active: bool,
    pub is_deleted: bool,
}

/// The account `login` names (email or username), if any.
#[tracing::instrument(skip_all)]
pub async fn login_account(conn: &mut PgConnection, login: &str) -> Result<Option<LoginAccount>> {
    Ok(sqlx::query_as!(
        LoginAccount,
        r#"SELECT user_id AS "user_id!", password_hash AS "password_hash!", is_active AS "is_active!",
                  is_deleted AS "is_deleted!"
             FROM studyhall_login_account($1)"#,
        login
    )
    .fetch_optional(conn)
    .await?)
}

/// Records that account `id` signed in now.
#[tracing::instrument(skip(conn))]
pub async fn signed_in(conn: &mut PgConnection, id: Uuid) -> Result<User> {
    Ok(query_users!("UPDATE users SET last_login_at = now() WHERE id = $1 RETURNING ", "", id).fetch_one(conn).await?)
}

/// Stores a sign-in token of `user` by its hash; its id.
#[tracing::instrument(skip(conn, token_hash))]
pub async fn add_token(
    conn: &mut PgConnection,
    user: Uuid,
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> Result<Uuid> {
    Ok(sqlx::query_scalar!(
        "INSERT INTO auth_tokens (user_id, token_hash, expires_at) VALUES ($1, $2, $3) RETURNING id",
        user,
        token_hash,
        expires_at,
    )
    .fetch_one(conn)
    .await?)
}

/// Revokes `user`'s token `token`.
#[tracing::instrument(skip(conn))]
pub async fn revoke_token(conn: &mut PgConnection, user: Uuid, token: Uuid) -> Result<()> {
    sqlx::query!(
        "UPDATE auth_tokens SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
        token,
        user,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Revokes every token of `user`.
#[tracing::instrument(skip(conn))]
pub async fn revoke_tokens(conn: &mut PgConnection, user: Uuid) -> Result<()> {
    sqlx::query!("UPDATE auth_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL", user)
        .execute(conn)
        .await?;
    Ok(())
}

/// Account `id`'s password hash, the account locked until the transaction ends.
#[tracing::instrument(skip(conn))]
pub async fn password_hash(conn: &mut PgConnection, id: Uuid) -> Result<String> {
    Ok(sqlx::query_scalar!("SELECT password_hash FROM users WHERE id = $1 FOR UPDATE", id).fetch_one(conn).await?)
}

/// An edit of an account: the fields to set (`Some`), which `null` clears (`Some(None)`),
/// and a new password's hash.
pub struct Edit<'a> {
    pub first_name: Option<Option<&'a str>>,
    pub last_name: Option<Option<&'a str>>,
    pub profile_picture_url: Option<Option<&'a str>>,
    pub preferences: Option<Option<&'a Value>>,
    /// Whether the preferences given are merged into those stored (or replace them).
    pub merge_preferences: bool,
    pub password_hash: Option<&'a str>,
}

/// Edits account `id`.
#[tracing::instrument(skip(conn, edit))]
pub async fn update(conn: &mut PgConnection, id: Uuid, edit: &Edit<'_>) -> Result<User> {
    let given = sent([
        ("first_name", edit.first_name.is_some()),
        ("last_name", edit.last_name.is_some()),
        ("profile_picture_url", edit.profile_picture_url.is_some()),
        ("preferences", edit.preferences.is_some()),
    ]);
    Ok(query_users!(
        "UPDATE users SET
             first_name = CASE WHEN 'first_name' = ANY($2) THEN $3 ELSE first_name END,
             last_name = CASE WHEN 'last_name' = ANY($2) THEN $4 ELSE last_name END,
             profile_picture_url = CASE WHEN 'profile_picture_url' = ANY($2) THEN $5 ELSE profile_picture_url END,
             preferences = CASE WHEN NOT 'preferences' = ANY($2) THEN preferences
                                WHEN $7 THEN coalesce(preferences, '{}') || $6 ELSE $6 END,
             password_hash = coalesce($8, password_hash)
          WHERE id = $1 RETURNING ",
        "",
        id,
        &given as &[&str],
        edit.first_name.flatten(),
        edit.last_name.flatten(),
        edit.profile_picture_url.flatten(),
        edit.preferences.flatten(),
        edit.merge_preferences,
        edit.password_hash,
    )
    .fetch_one(conn)
    .await?)
}

/// Deletes account `id`: deactivated and soft-deleted, its personal data replaced or
/// cleared. The replacements are unique (they contain the id) and cannot sign in: no
/// email address ends in .invalid, and "!" is no bcrypt hash.
#[tracing::instrument(skip(conn))]
pub async fn anonymise(conn: &mut PgConnection, id: Uuid) -> Result<()> {
    sqlx::query!(
        "UPDATE users SET email = 'deleted-' || id || '@deleted.invalid',
                          username = 'deleted-' || replace(id::text, '-', ''),
                          first_name = NULL, last_name = NULL, profile_picture_url = NULL,
                          preferences = NULL, password_hash = '!', is_active = false, deleted_at = now()
          WHERE id = $1",
        id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Everything studyhall holds about account `id` (sql/export.sql).
#[tracing::instrument(skip(conn))]
pub async fn export(conn: &mut PgConnection, id: Uuid) -> Result<Value> {
    Ok(sqlx::query_file_scalar!("src/accounts/sql/export.sql", id).fetch_one(conn).await?)
}

/// Makes `account`, made in this transaction, the administrator if it is the only
/// account (the first sign-up of a new server); whether it did.
pub async fn first_account(conn: &mut PgConnection, account: Uuid) -> Result<bool> {
    Ok(sqlx::query_scalar!(r#"SELECT studyhall_first_account($1) AS "first!""#, account).fetch_one(conn).await?)
}

/// An invitation as administrators see it (never its token).
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Invitation {
    pub id: Uuid,
    /// The address the new account must have, if the invitation names one.
    pub email: Option<String>,
    /// The administrator who made it; null when an operator did (`studyhall user invite`).
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    /// The account its link made.
    pub used_by: Option<Uuid>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub status: InvitationStatus,
}

/// A checked statement of [`Invitation`]s: `$head`, its columns, `$tail`.
macro_rules! query_invitations {
    ($head:literal, $tail:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Invitation,
            $head
                + r#"id, email, created_by, created_at, expires_at, used_at, used_by, revoked_at,
                     studyhall_invitation_status(used_at, revoked_at, expires_at) AS "status!: InvitationStatus""#
                + $tail
            $(, $arg)*
        )
    };
}

/// A new invitation (on the privileged connection: requests are granted nothing on
/// invitations), and the secret of its link.
#[tracing::instrument(skip(conn, email))]
pub async fn create_invitation(
    conn: &mut PgConnection,
    created_by: Option<Uuid>,
    email: Option<&str>,
    expires_at: DateTime<Utc>,
) -> Result<(Invitation, String)> {
    let new = token::generate()?;
    let invitation = query_invitations!(
        "INSERT INTO invitations (token_hash, email, created_by, expires_at) VALUES ($1, $2, $3, $4) RETURNING ",
        "",
        &new.hash,
        email,
        created_by,
        expires_at,
    )
    .fetch_one(conn)
    .await?;
    Ok((invitation, new.secret))
}

/// Invitations, newest first, after `cursor` (privileged connection).
#[tracing::instrument(skip(conn))]
pub async fn invitations(conn: &mut PgConnection, cursor: Option<Newest>, limit: i64) -> Result<Vec<Invitation>> {
    Ok(query_invitations!(
        "SELECT ",
        " FROM invitations WHERE studyhall_older_than(created_at, id, $1, $2)
          ORDER BY created_at DESC, id DESC LIMIT $3",
        cursor.map(|c| c.0),
        cursor.map(|c| c.1),
        limit,
    )
    .fetch_all(conn)
    .await?)
}

/// Withdraws invitation `id` (privileged connection): its link stops working. 404 if
/// there is none; 409 if its link was used already. Revoking twice changes nothing.
#[tracing::instrument(skip(conn))]
pub async fn revoke_invitation(conn: &mut PgConnection, id: Uuid) -> Result<Invitation> {
    let invitation = query_invitations!(
        "UPDATE invitations SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING ",
        "",
        id,
    )
    .fetch_optional(conn)
    .await?
    .ok_or(Error::NotFound)?;
    if invitation.used_at.is_some() {
        return Err(Error::conflict("id", "was used already: its account exists"));
    }
    Ok(invitation)
}

/// The invitation behind a link's token: its id, the address it names, where it stands
/// (any connection: a definer function).
#[tracing::instrument(skip_all)]
pub async fn invitation(
    conn: &mut PgConnection,
    token: &str,
) -> Result<Option<(Uuid, Option<String>, InvitationStatus)>> {
    let found = sqlx::query!(
        r#"SELECT id AS "id!", email, status AS "status!: InvitationStatus" FROM studyhall_invitation($1)"#,
        &token::hash(token)
    )
    .fetch_optional(conn)
    .await?;
    Ok(found.map(|row| (row.id, row.email, row.status)))
}

/// Uses the invitation behind `token` for `account`, made in this transaction: its id
/// and address, or None if it was used, revoked or expired meanwhile.
#[tracing::instrument(skip(conn, token))]
pub async fn use_invitation(
    conn: &mut PgConnection,
    token: &str,
    account: Uuid,
) -> Result<Option<(Uuid, Option<String>)>> {
    let used = sqlx::query!(
        r#"SELECT id AS "id!", email FROM studyhall_use_invitation($1, $2)"#,
        &token::hash(token),
        account
    )
    .fetch_optional(conn)
    .await?;
    Ok(used.map(|row| (row.id, row.email)))
}

/// A new password-reset link for `user_id` (acting for them, or privileged): its id and
/// its secret.
#[tracing::instrument(skip(conn))]
pub async fn create_password_reset(
    conn: &mut PgConnection,
    user_id: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<(Uuid, String)> {
    let new = token::generate()?;
    let id = sqlx::query_scalar!(
        "INSERT INTO password_resets (user_id, token_hash, expires_at) VALUES ($1, $2, $3) RETURNING id",
        user_id,
        &new.hash,
        expires_at
    )
    .fetch_one(conn)
    .await?;
    Ok((id, new.secret))
}

/// A password-reset link, as its token finds it.
pub struct ResetLink {
    /// The account (active, not deleted) it resets.
    pub user_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// The reset link behind `token` (any connection: a definer function).
#[tracing::instrument(skip_all)]
pub async fn password_reset(conn: &mut PgConnection, token: &str) -> Result<Option<ResetLink>> {
    Ok(sqlx::query_as!(
        ResetLink,
        r#"SELECT user_id AS "user_id!", expires_at AS "expires_at!", used_at FROM studyhall_password_reset($1)"#,
        &token::hash(token)
    )
    .fetch_optional(conn)
    .await?)
}

/// Uses the reset link behind `token` (acting for its user); false if it was used or
/// expired meanwhile.
#[tracing::instrument(skip(conn, token))]
pub async fn use_password_reset(conn: &mut PgConnection, user_id: Uuid, token: &str) -> Result<bool> {
    let used = sqlx::query!(
        "UPDATE password_resets SET used_at = now()
          WHERE user_id = $1 AND token_hash = $2 AND used_at IS NULL AND expires_at > now()",
        user_id,
        &token::hash(token)
    )
    .execute(conn)
    .await?;
    Ok(used.rows_affected() == 1)
}

/// Sets `user_id`'s password hash; every reset link of theirs still unused stops working.
#[tracing::instrument(skip(conn, hash))]
pub async fn set_password(conn: &mut PgConnection, user_id: Uuid, hash: &str) -> Result<()> {
    sqlx::query!(
        "WITH links AS (UPDATE password_resets SET used_at = now() WHERE user_id = $1 AND used_at IS NULL)
         UPDATE users SET password_hash = $2 WHERE id = $1",
        user_id,
        hash
    )
    .execute(conn)
    .await?;
    Ok(())
}
