//! The progress area's reads of recorded figures (`progress_metrics`).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{AnswerRow, CardCounts, DueRow, MaterialProgress, Metric};
use crate::error::Result;
use crate::http::page::Newest;
use crate::learn::schedule::DECAY;

/// Which figures GET /api/v1/progress/metrics returns.
pub struct MetricFilter<'a> {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub metric_type: Option<&'a str>,
    /// A rollup's period, or `session` for what sessions recorded.
    pub time_period: Option<&'a str>,
    pub subject_area: Option<&'a str>,
}

/// The learner's figures matching `filter`, oldest first, after `cursor`, at most `limit`.
#[tracing::instrument(skip_all, fields(%user))]
pub async fn metrics(
    conn: &mut PgConnection,
    user: Uuid,
    filter: &MetricFilter<'_>,
    cursor: Option<Newest>,
    limit: i64,
) -> Result<Vec<Metric>> {
    Ok(sqlx::query_as!(
        Metric,
        "SELECT id, metric_type, metric_value, metric_data, recorded_at, time_period, subject_area, aggregation_type,
                learning_session_id
           FROM progress_metrics
          WHERE user_id = $1 AND recorded_at >= $2 AND recorded_at < $3
            AND ($4::text IS NULL OR metric_type = $4)
            AND ($5::text IS NULL OR ($5 = 'session' AND learning_session_id IS NOT NULL) OR time_period = $5)
            AND ($6::text IS NULL OR subject_area = $6)
            AND ($7::timestamptz IS NULL OR (recorded_at, id) > ($7, $8))
          ORDER BY recorded_at, id LIMIT $9",
        user,
        filter.from,
        filter.to,
        filter.metric_type,
        filter.time_period,
        filter.subject_area,
        cursor.map(|c| c.0),
        cursor.map(|c| c.1),
        limit,
    )
    .fetch_all(conn)
    .await?)
}

/// One day's figure of a learner, across all subjects.
pub struct Daily {
    /// The day's start (UTC).
    pub recorded_at: DateTime<Utc>,
    /// `accuracy`, `retention` or `speed` (ms).
    pub metric_type: String,
    pub metric_value: f64,
}

/// The learner's daily rollups across all subjects since `since` (the progress chart's).
#[tracing::instrument(skip(conn))]
pub async fn daily(conn: &mut PgConnection, user: Uuid, since: DateTime<Utc>) -> Result<Vec<Daily>> {
    Ok(sqlx::query_as!(
        Daily,
        "SELECT recorded_at, metric_type, metric_value FROM progress_metrics
          WHERE user_id = $1 AND time_period = 'daily' AND subject_area IS NULL AND recorded_at >= $2",
        user,
        since,
    )
    .fetch_all(conn)
    .await?)
}

/// The learner's answers of the last `window_days`: accuracy, count and median speed,
/// overall and per subject area.
#[tracing::instrument(skip(conn))]
pub(super) async fn answers(conn: &mut PgConnection, user: Uuid, window_days: i32) -> Result<Vec<AnswerRow>> {
    Ok(sqlx::query_as!(
        AnswerRow,
        r#"SELECT GROUPING(m.subject_area) = 1 AS "overall!", m.subject_area,
                  avg(i.is_correct::int)::float8 AS accuracy, count(*) AS "answers!",
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY i.response_time_ms) AS speed_ms
             FROM interactions i
             JOIN generated_assets a ON a.id = i.generated_asset_id
             JOIN study_materials m ON m.id = a.study_material_id
            WHERE i.user_id = $1 AND i.interaction_type = 'answer' AND i.is_correct IS NOT NULL
              AND i.created_at >= now() - make_interval(days => $2)
            GROUP BY GROUPING SETS ((m.subject_area), ())"#,
        user,
        window_days,
    )
    .fetch_all(conn)
    .await?)
}

/// The learner's learned items: due today and this week, how many, and their mean
/// predicted recall now, overall and per subject area.
#[tracing::instrument(skip(conn))]
pub(super) async fn due(conn: &mut PgConnection, user: Uuid) -> Result<Vec<DueRow>> {
    Ok(sqlx::query_as!(
        DueRow,
        r#"WITH t AS (SELECT d.next_day_start FROM users u, studyhall_learner_today(u.preferences, now()) d
                       WHERE u.id = $1),
                q AS (SELECT generated_asset_id FROM studyhall_study_queue($1, NULL, ARRAY['flashcard'])
                       WHERE queue <> 'new'),
                -- The learner's decay: the last of their parameters, or the default's.
                d AS (SELECT coalesce((SELECT parameters[21] FROM learner_parameters WHERE user_id = $1), $2::float8)
                                 AS decay)
           SELECT GROUPING(m.subject_area) = 1 AS "overall!", m.subject_area,
                  count(q.generated_asset_id) AS "due_today!",
                  count(*) FILTER (WHERE q.generated_asset_id IS NOT NULL
                                      OR a.asset_type = 'flashcard' AND r.due >= t.next_day_start
                                         AND r.due < t.next_day_start + interval '6 days') AS "due_this_week!",
                  count(*) AS "items!", avg(studyhall_predicted_recall(r.stability, r.last_review, d.decay)) AS retention
             FROM review_states r
             JOIN generated_assets a ON a.id = r.generated_asset_id AND a.status = 'ready'
             JOIN live_study_materials m ON m.id = r.study_material_id
             CROSS JOIN t CROSS JOIN d
             LEFT JOIN q ON q.generated_asset_id = r.generated_asset_id
            WHERE r.user_id = $1
            GROUP BY GROUPING SETS ((m.subject_area), ())"#,
        user,
        DECAY,
    )
    .fetch_all(conn)
    .await?)
}

/// The days (UTC) the learner answered on, newest first, in the last 400.
#[tracing::instrument(skip(conn))]
pub(super) async fn answer_days(conn: &mut PgConnection, user: Uuid) -> Result<Vec<NaiveDate>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date AS "day!" FROM interactions
            WHERE user_id = $1 AND interaction_type = 'answer' AND created_at >= now() - interval '400 days'
            ORDER BY 1 DESC"#,
        user
    )
    .fetch_all(conn)
    .await?)
}

/// The learner's flashcards in each live material by stage (`studyhall_card_stages`,
/// migration 0022), with the material's answers and accuracy in the last `window_days`.
/// Materials with cards or answers, the most answered first, at most `limit`.
#[tracing::instrument(skip(conn))]
pub(super) async fn materials(
    conn: &mut PgConnection,
    user: Uuid,
    window_days: i32,
    limit: i64,
) -> Result<Vec<MaterialProgress>> {
    let rows = sqlx::query!(
        r#"WITH answers AS (
               SELECT a.study_material_id AS id, count(*) AS answers, avg(i.is_correct::int)::float8 AS accuracy
                 FROM interactions i JOIN generated_assets a ON a.id = i.generated_asset_id
                WHERE i.user_id = $1 AND i.interaction_type = 'answer' AND i.is_correct IS NOT NULL
                  AND i.created_at >= now() - make_interval(days => $2)
                GROUP BY 1)
           SELECT m.id AS "id!", m.title AS "title!", m.subject_area,
                  coalesce(c.new, 0) AS "new!", coalesce(c.learning, 0) AS "learning!",
                  coalesce(c.young, 0) AS "young!", coalesce(c.mature, 0) AS "mature!",
                  coalesce(x.answers, 0) AS "answers!", x.accuracy
             FROM live_study_materials m
             LEFT JOIN studyhall_card_stages($1) c ON c.study_material_id = m.id
             LEFT JOIN answers x ON x.id = m.id
            WHERE m.user_id = $1 AND (c.study_material_id IS NOT NULL OR x.id IS NOT NULL)
            ORDER BY coalesce(x.answers, 0) DESC, m.title, m.id
            LIMIT $3"#,
        user,
        window_days,
        limit,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| MaterialProgress {
            id: row.id,
            title: row.title,
            subject_area: row.subject_area,
            cards: CardCounts { new: row.new, learning: row.learning, young: row.young, mature: row.mature },
            answers: row.answers,
            accuracy: row.accuracy,
        })
        .collect())
}

/// The learner's flashcards by stage across all their live materials (as
/// [`materials`] counts them per material).
#[tracing::instrument(skip(conn))]
pub(super) async fn cards(conn: &mut PgConnection, user: Uuid) -> Result<CardCounts> {
    Ok(sqlx::query_as!(
        CardCounts,
        r#"SELECT coalesce(sum(new), 0)::bigint AS "new!", coalesce(sum(learning), 0)::bigint AS "learning!",
                  coalesce(sum(young), 0)::bigint AS "young!", coalesce(sum(mature), 0)::bigint AS "mature!"
             FROM studyhall_card_stages($1)"#,
        user
    )
    .fetch_one(conn)
    .await?)
}

/// How many of the learner's flashcards fall due on each of their next `days` days (in
/// their time zone, from the hour their day starts): today first, with everything
/// overdue and every card in a step; daily limits aside.
#[tracing::instrument(skip(conn))]
pub(super) async fn forecast(conn: &mut PgConnection, user: Uuid, days: i32) -> Result<Vec<i64>> {
    // width_bucket: 0 before today's end, n in the nth day after, `days` past the last.
    let rows = sqlx::query!(
        r#"WITH ends AS (SELECT array_agg(d.next_day_start ORDER BY n) AS ends
                         FROM users u, generate_series(0, $2 - 1) n,
                              studyhall_learner_today(u.preferences, now() + make_interval(days => n)) d
                        WHERE u.id = $1)
         SELECT width_bucket(r.due, ends.ends) AS "day!", count(*) AS "count!"
           FROM ends, review_states r
           JOIN generated_assets a ON a.id = r.generated_asset_id AND a.status = 'ready' AND a.asset_type = 'flashcard'
           JOIN live_study_materials m ON m.id = r.study_material_id
          WHERE r.user_id = $1 AND r.due < ends.ends[$2]
          GROUP BY 1"#,
        user,
        days,
    )
    .fetch_all(conn)
    .await?;
    let mut forecast = vec![0; usize::try_from(days).unwrap_or_default()];
    for row in rows {
        if let Some(slot) = usize::try_from(row.day).ok().and_then(|d| forecast.get_mut(d)) {
            *slot = row.count;
        }
    }
    Ok(forecast)
}

/// The learners who answered (or viewed, or skipped) from `from`, before `to` if given.
#[tracing::instrument(skip(conn))]
pub async fn learners(conn: &mut PgConnection, from: DateTime<Utc>, to: Option<DateTime<Utc>>) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT DISTINCT user_id AS "user_id!" FROM interactions
            WHERE created_at >= $1 AND ($2::timestamptz IS NULL OR created_at < $2)"#,
        from,
        to,
    )
    .fetch_all(conn)
    .await?)
}
