//! What ending a session records: its accuracy, speed and retention.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Result;
use crate::learn::Session;
use crate::learn::schedule::DECAY;
use crate::{predicted_recall_sql, session_columns};

/// Marks the session `completed` and records, for its material's subject area: accuracy
/// (the share of graded answers that were right), speed (the median response time of its
/// answers, in ms) and retention (the mean predicted recall, now, of the items the
/// learner has learned in its scope). Metrics without data are not recorded.
pub async fn record(conn: &mut PgConnection, user: Uuid, session: Uuid) -> Result<Session> {
    Ok(sqlx::query_as(concat!(
        "WITH s AS (UPDATE learning_sessions SET status = 'completed', ended_at = now()
                     WHERE id = $1 AND user_id = $2
                    RETURNING ",
        session_columns!(),
        "),
              m AS (SELECT m.subject_area FROM study_materials m JOIN s ON m.id = s.study_material_id),
              stats AS (SELECT count(*) FILTER (WHERE is_correct IS NOT NULL) AS graded,
                               count(*) FILTER (WHERE is_correct) AS correct,
                               percentile_cont(0.5) WITHIN GROUP (ORDER BY response_time_ms)
                                   FILTER (WHERE interaction_type = 'answer') AS speed,
                               count(response_time_ms) FILTER (WHERE interaction_type = 'answer') AS timed
                          FROM interactions WHERE learning_session_id = $1),
              ret AS (SELECT avg(",
        predicted_recall_sql!("$2", "$3"),
        ") AS retention,
                             count(*) AS items
                        FROM review_states r, s
                       WHERE r.user_id = $2
                         AND (r.study_material_id = s.study_material_id
                              OR coalesce((s.configuration->>'all_materials')::boolean, false))),
              ins AS (INSERT INTO progress_metrics (user_id, learning_session_id, metric_type, metric_value, metric_data,
                                                    subject_area, aggregation_type)
                      SELECT $2, $1, t.metric_type, t.value, t.data, m.subject_area, 'session'
                        FROM stats, ret, m
                       CROSS JOIN LATERAL (VALUES
                           ('accuracy', stats.correct::float8 / nullif(stats.graded, 0),
                            jsonb_build_object('graded', stats.graded, 'correct', stats.correct)),
                           ('speed', stats.speed, jsonb_build_object('answers', stats.timed)),
                           ('retention', ret.retention, jsonb_build_object('items', ret.items))
                       ) AS t(metric_type, value, data)
                       WHERE t.value IS NOT NULL)
         SELECT * FROM s"
    ))
    .bind(session)
    .bind(user)
    .bind(DECAY)
    .fetch_one(conn)
    .await?)
}
