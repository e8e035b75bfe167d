//! Ending a session (POST /api/v1/sessions/{id}/end) and what it records: its accuracy,
//! speed and retention, the items' recalibrated quality and the learner's recent
//! rollups. It lives here, not in `learn`, so that `progress` imports `learn` (its
//! sessions, its store, the forgetting curve's decay) and `learn` imports nothing of
//! `progress`.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::app::AppState;
use crate::audit::{Change, Work};
use crate::error::{Error, Problem, Result};
use crate::http::auth::AuthUser;
use crate::http::extract::Client;
use crate::learn::schedule::DECAY;
use crate::learn::sessions::ensure_active;
use crate::learn::{Session, store};
use crate::states::SessionStatus;

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
        let (status, idle) = store::lock_session(tx, auth.user_id, id, state.learning.session_idle().as_secs_f64())
            .await?
            .ok_or(Error::NotFound)?;
        work.keeping(ensure_active(tx, work.actor(), id, status, idle).await)?;
        store::complete(tx, auth.user_id, id).await?;
        let session = record(tx, auth.user_id, id).await?;
        let answered = store::graded_items(tx, id).await?;
        crate::feedback::quality::recalibrate(tx, &answered).await?;
        super::rollup::recent(tx, auth.user_id).await?;
        let change =
            Change::new(Some(json!({"status": SessionStatus::Active})), Some(json!({"status": session.status})));
        Ok((Json(session), change))
    })
    .await
}

/// Records, for the (completed) session's material's subject area: accuracy (the share
/// of graded answers that were right), speed (the median response time of its answers,
/// in ms) and retention (the mean predicted recall, now, of the items the learner has
/// learned in its scope); returns the session. Metrics without data are not recorded.
#[tracing::instrument(skip(conn))]
pub async fn record(conn: &mut PgConnection, user: Uuid, session: Uuid) -> Result<Session> {
    sqlx::query_file!("src/progress/sql/record_session.sql", session, user, DECAY).execute(&mut *conn).await?;
    store::session(conn, user, session).await
}
