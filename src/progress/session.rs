//! What ending a session records: its accuracy, speed and retention.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Result;
use crate::learn::schedule::DECAY;
use crate::learn::{Session, store};

/// Marks the session `completed` and records, for its material's subject area: accuracy
/// (the share of graded answers that were right), speed (the median response time of its
/// answers, in ms) and retention (the mean predicted recall, now, of the items the
/// learner has learned in its scope). Metrics without data are not recorded.
#[tracing::instrument(skip(conn))]
pub async fn record(conn: &mut PgConnection, user: Uuid, session: Uuid) -> Result<Session> {
    sqlx::query_file!("src/progress/sql/record_session.sql", session, user, DECAY).execute(&mut *conn).await?;
    store::session(conn, user, session).await
}
