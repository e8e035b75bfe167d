//! The caller's own account: read, update, delete, export.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::{User, password, store, user_columns, validate};
use crate::app::AppState;
use crate::audit::{Change, REDACTED, Work, changed_fields};
use crate::db::tenant;
use crate::error::{Error, Problem, Result};
use crate::http::auth::AuthUser;
use crate::http::extract::{Client, Input, present};
use crate::learn::preferences;

/// The caller's account.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = Problem)))]
pub async fn get_me(State(state): State<AppState>, auth: AuthUser) -> Result<Json<User>> {
    let mut tx = tenant::begin_as(&state.db, Some(auth.user_id)).await?;
    let user = store::user(&mut tx, auth.user_id).await?;
    tx.commit().await?;
    Ok(Json(user))
}

/// A change to the caller's account. Absent fields are left alone; `null` clears a
/// name, the picture or the preferences. Changing the password needs the current one,
/// and signs out every session (the caller signs in again).
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateMe {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    profile_picture_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    preferences: Option<Option<Value>>,
    current_password: Option<String>,
    new_password: Option<String>,
}

impl UpdateMe {
    /// A change of the preferences alone.
    pub fn preferences(preferences: Value) -> UpdateMe {
        UpdateMe { preferences: Some(Some(preferences)), ..UpdateMe::default() }
    }
}

/// Updates names, picture, preferences or password.
#[utoipa::path(patch, path = "/api/v1/me", tag = "accounts", security(("bearer" = [])), request_body = UpdateMe,
    responses((status = 200, body = User), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn update_me(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    Input(body): Input<UpdateMe>,
) -> Result<Json<User>> {
    update(&state, &client, &auth, body, false).await.map(Json)
}

/// What PATCH /me does, for it and the settings page: with `merge_preferences`, the
/// preferences given are merged into those stored (keys not given are kept) rather than
/// replacing them.
pub async fn update(
    state: &AppState,
    client: &Client,
    auth: &AuthUser,
    body: Result<UpdateMe>,
    merge_preferences: bool,
) -> Result<User> {
    let work = Work::new(&state.db, client, "user.update", "user").by(auth);
    work.entity(auth.user_id);
    let input = body.and_then(|body| {
        let mut v = validate::Validator::default();
        for (field, value) in [("first_name", &body.first_name), ("last_name", &body.last_name)] {
            validate::name(&mut v, field, value.clone().flatten().as_deref());
        }
        validate::picture_url(&mut v, "profile_picture_url", body.profile_picture_url.clone().flatten().as_deref());
        validate::preferences(&mut v, "preferences", body.preferences.clone().flatten().as_ref());
        v.check(
            body.new_password.is_none() || body.current_password.is_some(),
            "current_password",
            "is required to change the password",
        );
        v.finish()?;
        Ok(body)
    });
    work.run(input, async |tx, body| {
        let before = store::user(tx, auth.user_id).await?;
        let time_zone = body.preferences.iter().flatten().find_map(|p| p.get("time_zone")?.as_str());
        if let Some(name) = time_zone
            && !preferences::known_time_zone(tx, name).await?
        {
            return Err(Error::invalid(
                "preferences.time_zone",
                "is not a time zone PostgreSQL knows, such as Europe/Paris",
            ));
        }
        let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1 FOR UPDATE")
            .bind(auth.user_id)
            .fetch_one(&mut *tx)
            .await?;
        let new_hash = match (&body.current_password, &body.new_password) {
            (Some(current), Some(new)) => {
                let mut v = validate::Validator::default();
                validate::new_password(&mut v, "new_password", new, &[&before.email, &before.username]);
                v.finish()?;
                if !password::verify(current.clone(), Some(hash), state.auth.bcrypt_cost).await? {
                    return Err(Error::invalid("current_password", "is wrong"));
                }
                Some(password::hash(new.clone(), state.auth.bcrypt_cost).await?)
            }
            _ => None,
        };

        let after: User = sqlx::query_as(concat!(
            "UPDATE users SET
                 first_name = CASE WHEN $2 THEN $3 ELSE first_name END,
                 last_name = CASE WHEN $4 THEN $5 ELSE last_name END,
                 profile_picture_url = CASE WHEN $6 THEN $7 ELSE profile_picture_url END,
                 preferences = CASE WHEN NOT $8 THEN preferences
                                    WHEN $11 THEN coalesce(preferences, '{}') || $9 ELSE $9 END,
                 password_hash = coalesce($10, password_hash)
              WHERE id = $1 RETURNING ",
            user_columns!()
        ))
        .bind(auth.user_id)
        .bind(body.first_name.is_some())
        .bind(body.first_name.clone().flatten())
        .bind(body.last_name.is_some())
        .bind(body.last_name.clone().flatten())
        .bind(body.profile_picture_url.is_some())
        .bind(body.profile_picture_url.clone().flatten())
        .bind(body.preferences.is_some())
        .bind(body.preferences.clone().flatten())
        .bind(&new_hash)
        .bind(merge_preferences)
        .fetch_one(&mut *tx)
        .await?;
        if new_hash.is_some() {
            revoke_all_tokens(tx, auth.user_id).await?;
        }
        let (mut old, mut new) = changed_fields(&before, &after);
        if new_hash.is_some() {
            old.insert("password".to_owned(), json!(REDACTED));
            new.insert("password".to_owned(), json!(REDACTED));
        }
        Ok((after, Change::new(Some(Value::Object(old)), Some(Value::Object(new)))))
    })
    .await
}

async fn revoke_all_tokens(conn: &mut sqlx::PgConnection, user_id: uuid::Uuid) -> Result<()> {
    sqlx::query("UPDATE auth_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes the caller's account: it is deactivated and soft-deleted, its personal data
/// (email, username, names, picture, preferences, password) is replaced or cleared,
/// and every session ends. Learning data stays, tied to the anonymous account, under the
/// retention policy.
#[utoipa::path(delete, path = "/api/v1/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 204, description = "Deleted"), (status = 401, body = Problem)))]
pub async fn delete_me(State(state): State<AppState>, client: Client, auth: AuthUser) -> Result<StatusCode> {
    let work = Work::new(&state.db, &client, "user.delete", "user").by(&auth);
    work.entity(auth.user_id);
    work.change(async |tx| {
        let before = store::user(tx, auth.user_id).await?;
        // The replacements are unique (they contain the id) and cannot sign in: no
        // email address ends in .invalid, and "!" is no bcrypt hash.
        sqlx::query(
            "UPDATE users SET email = 'deleted-' || id || '@deleted.invalid',
                              username = 'deleted-' || replace(id::text, '-', ''),
                              first_name = NULL, last_name = NULL, profile_picture_url = NULL,
                              preferences = NULL, password_hash = '!', is_active = false, deleted_at = now()
              WHERE id = $1",
        )
        .bind(auth.user_id)
        .execute(&mut *tx)
        .await?;
        revoke_all_tokens(tx, auth.user_id).await?;
        let old = json!({"email": before.email, "username": before.username, "first_name": before.first_name,
                         "last_name": before.last_name, "profile_picture_url": before.profile_picture_url});
        Ok((StatusCode::NO_CONTENT, Change::new(Some(old), Some(json!({"deleted": true, "anonymised": true})))))
    })
    .await
}

/// Everything studyhall holds about the caller, table by table, as JSON (secrets, such
/// as the password hash and token hashes, left out). Read where reads run (a replica that
/// shows the caller's changes); its audit row is written on the primary.
#[utoipa::path(get, path = "/api/v1/me/export", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "Every row about the caller", body = Object), (status = 401, body = Problem)))]
pub async fn export(State(state): State<AppState>, client: Client, auth: AuthUser) -> Result<Json<Value>> {
    let work = Work::new(&state.db, &client, "user.export", "user").by(&auth);
    work.entity(auth.user_id);
    let user = auth.user_id;
    let document = state.reads.run(auth.reader(), async |tx| export_document(tx, user).await).await;
    work.run(document, async |_, document| Ok((Json(document), Change::new(None, None)))).await
}

/// The export of `user`, in one round trip; each table filtered by owner explicitly, and
/// by row-level security besides.
async fn export_document(conn: &mut sqlx::PgConnection, user: uuid::Uuid) -> Result<Value> {
    Ok(sqlx::query_scalar(
        "WITH materials AS (SELECT id FROM study_materials WHERE user_id = $1)
             SELECT jsonb_build_object(
               'user', (SELECT to_jsonb(u) - 'password_hash' FROM users u WHERE id = $1),
               'auth_tokens', (SELECT coalesce(jsonb_agg(to_jsonb(t) - 'token_hash' ORDER BY created_at), '[]')
                                 FROM auth_tokens t WHERE user_id = $1),
               'study_materials', (SELECT coalesce(jsonb_agg(t ORDER BY created_at), '[]')
                                     FROM study_materials t WHERE user_id = $1),
               'content_chunks', (SELECT coalesce(jsonb_agg(t ORDER BY study_material_id, chunk_order), '[]')
                                    FROM content_chunks t WHERE study_material_id IN (SELECT id FROM materials)),
               'generated_assets', (SELECT coalesce(jsonb_agg(t ORDER BY created_at), '[]')
                                      FROM generated_assets t WHERE study_material_id IN (SELECT id FROM materials)),
               'learning_sessions', (SELECT coalesce(jsonb_agg(t ORDER BY started_at), '[]')
                                       FROM learning_sessions t WHERE user_id = $1),
               'interactions', (SELECT coalesce(jsonb_agg(t ORDER BY created_at), '[]')
                                  FROM interactions t WHERE user_id = $1),
               'user_feedback', (SELECT coalesce(jsonb_agg(t ORDER BY created_at), '[]')
                                   FROM user_feedback t WHERE user_id = $1),
               'progress_metrics', (SELECT coalesce(jsonb_agg(t ORDER BY recorded_at), '[]')
                                      FROM progress_metrics t WHERE user_id = $1),
               'audit_logs', (SELECT coalesce(jsonb_agg(t ORDER BY created_at), '[]')
                                FROM audit_logs t WHERE user_id = $1),
               'material_sources', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                        'study_material_id', study_material_id, 'media_type', media_type,
                                        'file_name', file_name, 'created_at', created_at,
                                        'content_base64', encode(content, 'base64')) ORDER BY created_at), '[]')
                                      FROM material_sources WHERE user_id = $1),
               'jobs', (SELECT coalesce(jsonb_agg(t ORDER BY created_at), '[]') FROM jobs t WHERE user_id = $1),
               'review_states', (SELECT coalesce(jsonb_agg(t ORDER BY generated_asset_id), '[]')
                                   FROM review_states t WHERE user_id = $1),
               'learner_parameters', (SELECT coalesce(jsonb_agg(t), '[]') FROM learner_parameters t WHERE user_id = $1),
               'user_write_marks', (SELECT coalesce(jsonb_agg(t), '[]') FROM user_write_marks t WHERE user_id = $1)
             )",
    )
    .bind(user)
    .fetch_one(conn)
    .await?)
}
