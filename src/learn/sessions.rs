//! /api/v1/sessions: start, list, read and end learning sessions; idle ones are
//! abandoned.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::PgConnection;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::next::candidates;
use super::{Configuration, Session};
use crate::app::AppState;
use crate::audit::{Actor, Change, Work};
use crate::db::tenant;
use crate::error::{Error, Problem, Result};
use crate::http::auth::AuthUser;
use crate::http::extract::{Client, Input};
use crate::http::page::{self, Newest, Page};
use crate::materials::live_status;
use crate::session_columns;
use crate::states::{AssetType, SessionStatus, SessionType};
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
        let session: Session = sqlx::query_as(concat!(
            "WITH s AS (SELECT NULL::uuid AS id, $1::uuid AS user_id, $2::uuid AS study_material_id,
                               $3::text AS session_type, $4::jsonb AS configuration), ",
            candidates!(),
            " INSERT INTO learning_sessions (user_id, study_material_id, session_type, configuration, session_data)
              SELECT $1, $2, $3, $4,
                     jsonb_build_object('planned', least($5, (SELECT count(*) FROM c)), 'done', 0, 'graded', 0,
                                        'correct', 0, 'last_activity_at', now())
              RETURNING ",
            session_columns!()
        ))
        .bind(auth.user_id)
        .bind(material)
        .bind(session_type)
        .bind(json!(config))
        .bind(config.max_items())
        .fetch_one(tx)
        .await?;
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
    let rows: Vec<Session> = sqlx::query_as(concat!(
        "SELECT ",
        session_columns!(),
        " FROM learning_sessions
          WHERE user_id = $1 AND ($2::text IS NULL OR status = $2)
            AND ($3::timestamptz IS NULL OR (started_at, id) < ($3, $4))
          ORDER BY started_at DESC, id DESC LIMIT $5"
    ))
    .bind(auth.user_id)
    .bind(&query.status)
    .bind(cursor.map(|c| c.0))
    .bind(cursor.map(|c| c.1))
    .bind(i64::from(limit) + 1)
    .fetch_all(&mut *tx)
    .await?;
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
    let session = fetch(&mut tx, auth.user_id, id).await?;
    tx.commit().await?;
    Ok(Json(session))
}

/// The caller's sessions among `ids`: each one's type, and the title of its material
/// (deleted or not), or None for a review across all materials (the account's activity).
pub async fn described(
    conn: &mut PgConnection,
    user: Uuid,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, SessionType, Option<String>)>> {
    Ok(sqlx::query_as(
        "SELECT s.id, s.session_type,
                CASE WHEN coalesce((s.configuration->>'all_materials')::boolean, false) THEN NULL ELSE m.title END
           FROM learning_sessions s JOIN study_materials m ON m.id = s.study_material_id
          WHERE s.user_id = $1 AND s.id = ANY($2)",
    )
    .bind(user)
    .bind(ids)
    .fetch_all(conn)
    .await?)
}

pub async fn fetch(conn: &mut PgConnection, user: Uuid, id: Uuid) -> Result<Session> {
    sqlx::query_as(concat!("SELECT ", session_columns!(), " FROM learning_sessions WHERE id = $1 AND user_id = $2"))
        .bind(id)
        .bind(user)
        .fetch_optional(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// Ends a session and records its accuracy, speed and retention in `progress_metrics`.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/end", tag = "sessions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The session")),
    responses((status = 200, body = Session), (status = 404, body = Problem),
              (status = 409, description = "The session has ended already", body = Problem)))]
pub async fn end(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<Session>> {
    let work = Work::new(&state.db, &client, "session.end", "learning_session").by(&auth);
    work.entity(id);
    work.change(async |tx| {
        let (status, idle): (SessionStatus, bool) = sqlx::query_as(
            "SELECT status, studyhall_session_idle(session_data, started_at, $3)
               FROM learning_sessions WHERE id = $1 AND user_id = $2 FOR UPDATE",
        )
        .bind(id)
        .bind(auth.user_id)
        .bind(state.learning.session_idle().as_secs_f64())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound)?;
        work.keeping(ensure_active(tx, work.actor(), id, status, idle).await)?;
        let session = crate::progress::session::record(tx, auth.user_id, id).await?;
        let answered: Vec<Uuid> = sqlx::query_scalar(
            "SELECT DISTINCT generated_asset_id FROM interactions
              WHERE learning_session_id = $1 AND is_correct IS NOT NULL",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        crate::feedback::quality::recalibrate(tx, &answered).await?;
        crate::progress::rollup::recent(tx, auth.user_id).await?;
        let change =
            Change::new(Some(json!({"status": SessionStatus::Active})), Some(json!({"status": session.status})));
        Ok((Json(session), change))
    })
    .await
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
    let abandoned: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "UPDATE learning_sessions
            SET status = 'abandoned', ended_at = studyhall_session_last_activity(session_data, started_at)
          WHERE status = 'active' AND ($1::uuid IS NULL OR id = $1) AND ($2::uuid IS NULL OR user_id = $2)
            AND ($3::float8 IS NULL OR studyhall_session_idle(session_data, started_at, $3))
          RETURNING id, user_id",
    )
    .bind(id)
    .bind(actor.user)
    .bind(idle.map(|idle| idle.as_secs_f64()))
    .fetch_all(&mut *conn)
    .await?;
    for (session, owner) in &abandoned {
        let row = actor.row("session.abandon", "learning_session").user(Some(*owner)).entity(Some(*session));
        let (old, new) = (json!({"status": SessionStatus::Active}), json!({"status": SessionStatus::Abandoned}));
        row.values(Some(old), Some(new)).insert(conn).await?;
    }
    Ok(abandoned.len() as u64)
}

/// An item the learner got wrong in a session, with their answer.
#[derive(sqlx::FromRow)]
pub struct Missed {
    pub asset_type: AssetType,
    pub content: Value,
    pub interaction_data: Value,
}

/// The items missed in session `id`, each once (a card in a learning step may be missed
/// again), in the order first missed.
#[tracing::instrument(skip(conn))]
pub async fn missed(conn: &mut PgConnection, id: Uuid) -> Result<Vec<Missed>> {
    Ok(sqlx::query_as(
        "SELECT asset_type, content, interaction_data FROM (
             SELECT DISTINCT ON (a.id) a.asset_type, a.content, i.interaction_data, i.created_at
               FROM interactions i JOIN generated_assets a ON a.id = i.generated_asset_id
              WHERE i.learning_session_id = $1 AND i.is_correct = false
              ORDER BY a.id, i.created_at) m
          ORDER BY created_at",
    )
    .bind(id)
    .fetch_all(conn)
    .await?)
}
