//! /api/v1/sessions: start, list and read learning sessions; idle ones are abandoned.
//! Ending one records progress: `progress::session::end`.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use sqlx::PgConnection;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{Configuration, Session, store};
use crate::app::AppState;
use crate::audit::{Actor, Change, Work};
use crate::db::tenant;
use crate::error::{Error, Problem, Result};
use crate::http::auth::AuthUser;
use crate::http::extract::{Client, Input};
use crate::http::page::{self, Newest, Page};
use crate::materials::live_status;
use crate::states::{SessionStatus, SessionType};
use crate::validate::Validator;

/// A session to start.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    study_material_id: Uuid,
    /// `study`, `review` or `quiz`.
    session_type: SessionType,
    configuration: Option<Configuration>,
}

/// Starts a session on one of the caller's materials.
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", security(("bearer" = [])),
    request_body = NewSession,
    responses((status = 201, body = Session), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    Input(body): Input<NewSession>,
) -> Result<(StatusCode, Json<Session>)> {
    let work = Work::new(&state.db, &client, "session.create", "learning_session").by(&auth);
    let checked = body.and_then(|body| {
        let mut v = Validator::default();
        let config = body.configuration.unwrap_or_default().complete(body.session_type, &mut v);
        v.finish()?;
        Ok((body.study_material_id, body.session_type, config))
    });
    work.run(checked, async |tx, (material, session_type, config)| {
        live_status(tx, auth.user_id, material).await?;
        // The items it plans to serve: its candidates now, up to max_items.
        let session =
            store::create_session(tx, auth.user_id, material, session_type, &json!(config), config.max_items()).await?;
        work.entity(session.id);
        let details = json!({"study_material_id": session.study_material_id, "session_type": session.session_type,
                             "configuration": session.configuration});
        Ok(((StatusCode::CREATED, Json(session)), Change::created(details)))
    })
    .await
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// `active`, `completed` or `abandoned`.
    #[param(value_type = Option<SessionStatus>)]
    status: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// The caller's sessions, newest first (idle ones abandoned first, each audited).
#[utoipa::path(get, path = "/api/v1/sessions", tag = "sessions", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = Page<Session>), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Page<Session>>> {
    let (limit, cursor) = page::params::<Newest>(query.limit, query.cursor.as_deref())?;
    let mut tx = tenant::begin_as(&state.db, Some(auth.user_id)).await?;
    abandon_idle(&mut tx, Actor::of(&auth, &client), state.learning.session_idle()).await?;
    let rows = store::sessions(&mut tx, auth.user_id, query.status.as_deref(), cursor, i64::from(limit) + 1).await?;
    tx.commit().await?;
    Ok(Json(Page::from_rows(rows, limit, |s| (s.started_at, s.id))))
}

/// One of the caller's sessions (idle ones abandoned first, each audited).
#[utoipa::path(get, path = "/api/v1/sessions/{id}", tag = "sessions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The session")),
    responses((status = 200, body = Session), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<Session>> {
    let mut tx = tenant::begin_as(&state.db, Some(auth.user_id)).await?;
    abandon_idle(&mut tx, Actor::of(&auth, &client), state.learning.session_idle()).await?;
    let session = store::session(&mut tx, auth.user_id, id).await?;
    tx.commit().await?;
    Ok(Json(session))
}

/// Ok if the session is active; otherwise 409, an idle session being abandoned first
/// (audited as `actor`'s): the caller commits that, though the request fails.
pub async fn ensure_active(
    conn: &mut PgConnection,
    actor: Actor<'_>,
    id: Uuid,
    status: SessionStatus,
    idle: bool,
) -> Result<()> {
    match status {
        SessionStatus::Active if idle => {
            abandon(conn, actor, Some(id), None).await?;
            Err(ended(SessionStatus::Abandoned))
        }
        SessionStatus::Active => Ok(()),
        SessionStatus::Completed | SessionStatus::Abandoned => Err(ended(status)),
    }
}

fn ended(status: SessionStatus) -> Error {
    Error::conflict("status", format!("is {status}: the session has ended"))
}

/// Abandons active sessions idle for longer than `idle`: the actor's, or with nobody
/// acting (studyhall's upkeep, on the privileged pool) everyone's. Returns how many.
pub async fn abandon_idle(conn: &mut PgConnection, actor: Actor<'_>, idle: Duration) -> Result<u64> {
    abandon(conn, actor, None, Some(idle)).await
}

/// Abandons the active session `id` (known to be idle), or the actor's sessions idle
/// for longer than `idle`; each gets a `session.abandon` audit row, its owner's.
async fn abandon(conn: &mut PgConnection, actor: Actor<'_>, id: Option<Uuid>, idle: Option<Duration>) -> Result<u64> {
    let abandoned = store::abandon(conn, id, actor.user, idle.map(|idle| idle.as_secs_f64())).await?;
    for (session, owner) in &abandoned {
        let row = actor.row("session.abandon", "learning_session").user(Some(*owner)).entity(Some(*session));
        let (old, new) = (json!({"status": SessionStatus::Active}), json!({"status": SessionStatus::Abandoned}));
        row.values(Some(old), Some(new)).insert(conn).await?;
    }
    Ok(abandoned.len() as u64)
}
