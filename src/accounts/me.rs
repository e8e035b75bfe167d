//! The caller's own account: read, update, delete, export.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::{User, password, store, validate};
use crate::app::AppState;
use crate::audit::{Change, REDACTED, Work, changed_fields};
use crate::db::tenant;
use crate::error::{Error, Problem, Result};
use crate::http::auth::AuthUser;
use crate::http::extract::{Client, Input, present};
use crate::learn;

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
            && !learn::store::known_time_zone(tx, name).await?
        {
            return Err(Error::invalid(
                "preferences.time_zone",
                "is not a time zone PostgreSQL knows, such as Europe/Paris",
            ));
        }
        let hash = store::password_hash(tx, auth.user_id).await?;
        let new_hash = match (&body.current_password, &body.new_password) {
            (Some(current), Some(new)) => {
                let mut v = validate::Validator::default();
                validate::new_password(&mut v, "new_password", new, &[&before.email, &before.username]);
                v.finish()?;
                if !password::verify(current.clone(), Some(hash), state.auth.account.bcrypt_cost).await? {
                    return Err(Error::invalid("current_password", "is wrong"));
                }
                Some(password::hash(new.clone(), state.auth.account.bcrypt_cost).await?)
            }
            _ => None,
        };

        let edit = store::Edit {
            first_name: body.first_name.as_ref().map(Option::as_deref),
            last_name: body.last_name.as_ref().map(Option::as_deref),
            profile_picture_url: body.profile_picture_url.as_ref().map(Option::as_deref),
            preferences: body.preferences.as_ref().map(Option::as_ref),
            merge_preferences,
            password_hash: new_hash.as_deref(),
        };
        let after = store::update(tx, auth.user_id, &edit).await?;
        if new_hash.is_some() {
            store::revoke_tokens(tx, auth.user_id).await?;
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
        store::anonymise(tx, auth.user_id).await?;
        store::revoke_tokens(tx, auth.user_id).await?;
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
    let document = state.reads.run(auth.reader(), async |tx| store::export(tx, user).await).await;
    work.run(document, async |_, document| Ok((Json(document), Change::new(None, None)))).await
}
