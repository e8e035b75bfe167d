//! Progress: what ending a session records, the rollups, and the endpoints that show
//! them (`/api/v1/progress/summary`, `/api/v1/progress/metrics`).

pub mod rollup;
pub mod session;
pub mod store;

use axum::Json;
use axum::extract::{Query, State};
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::PgConnection;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::error::{Problem, Result};
use crate::http::auth::AuthUser;
use crate::http::page::{self, Page};
use crate::validate::Validator;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(summary))
        .routes(routes!(materials))
        .routes(routes!(metrics))
        .routes(routes!(session::end))
}

/// Days of answers the summary's accuracy and speed cover.
const WINDOW_DAYS: i32 = 30;

/// Days the review forecast covers, today first.
pub const FORECAST_DAYS: i32 = 30;

/// Most materials GET /progress/materials lists.
const MATERIALS_LISTED: i64 = 100;

/// Where the learner stands.
#[derive(Serialize, ToSchema)]
pub struct Summary {
    /// The days `accuracy`, `speed_ms` and `answers` cover (the last 30).
    pub window_days: i32,
    /// Overall, and per subject area (null: materials without one).
    #[serde(flatten)]
    pub overall: Figures,
    /// Items learned: those with a memory state.
    pub items_learned: i64,
    /// Mean predicted chance of recalling a learned item now (FSRS), 0 to 1.
    pub retention: Option<f64>,
    /// Consecutive days (UTC), up to today or yesterday, with at least one answer.
    pub streak_days: i64,
    /// The learner's flashcards by stage.
    pub cards: CardCounts,
    /// Flashcards falling due on each of the learner's next 30 days (their time zone and
    /// day start), today first with those overdue and those in a step; daily limits aside.
    pub forecast: Vec<i64>,
    pub subjects: Vec<SubjectFigures>,
}

/// Flashcards (ready, in live materials) by stage, as Anki counts them.
#[derive(Serialize, ToSchema, Default, Clone, Copy)]
pub struct CardCounts {
    /// Never answered.
    pub new: i64,
    /// In a learning or relearning step.
    pub learning: i64,
    /// In review, with an interval under 21 days.
    pub young: i64,
    /// In review, with an interval of 21 days or more.
    pub mature: i64,
}

/// One material's progress.
#[derive(Serialize, ToSchema)]
pub struct MaterialProgress {
    pub id: Uuid,
    pub title: String,
    pub subject_area: Option<String>,
    #[serde(flatten)]
    pub cards: CardCounts,
    /// Graded answers to its items in the last 30 days.
    pub answers: i64,
    /// The share of those that were right.
    pub accuracy: Option<f64>,
}

#[derive(Serialize, ToSchema, Default)]
pub struct Figures {
    /// The share of graded answers that were right.
    pub accuracy: Option<f64>,
    pub answers: i64,
    /// Median response time of answers, in ms.
    pub speed_ms: Option<f64>,
    /// Flashcards due today, as a review session serves them (in a learning step, or in
    /// review and due before the learner's next day starts, within the day's review
    /// limit); and those plus the review cards due in the six days after today.
    pub due_today: i64,
    pub due_this_week: i64,
}

#[derive(Serialize, ToSchema)]
pub struct SubjectFigures {
    pub subject_area: Option<String>,
    #[serde(flatten)]
    pub figures: Figures,
}

struct AnswerRow {
    overall: bool,
    pub subject_area: Option<String>,
    pub accuracy: Option<f64>,
    pub answers: i64,
    pub speed_ms: Option<f64>,
}

struct DueRow {
    overall: bool,
    pub subject_area: Option<String>,
    pub due_today: i64,
    pub due_this_week: i64,
    items: i64,
    pub retention: Option<f64>,
}

/// The learner's accuracy, speed, retention, streak and reviews due, overall and per
/// subject area.
#[utoipa::path(get, path = "/api/v1/progress/summary", tag = "progress", security(("bearer" = [])),
    responses((status = 200, body = Summary)))]
pub async fn summary(State(state): State<AppState>, auth: AuthUser) -> Result<Json<Summary>> {
    let user = auth.user_id;
    Ok(Json(state.reads.run(auth.reader(), async |tx| load(tx, user, Detail::Full).await).await?))
}

/// How much of a summary to read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// All of it (the API's and the progress page's).
    Full,
    /// The figures the dashboard shows: the card stages and the forecast, which it does
    /// not show, are not read (left at zero and empty).
    Figures,
}

/// The learner's summary (the API's, the progress page's and the dashboard's), read on
/// `conn`, which acts for them.
pub async fn load(conn: &mut PgConnection, user: Uuid, detail: Detail) -> Result<Summary> {
    let answers = store::answers(conn, user, WINDOW_DAYS).await?;
    let due = store::due(conn, user).await?;
    let days = store::answer_days(conn, user).await?;
    let (cards, forecast) = match detail {
        Detail::Full => (store::cards(conn, user).await?, store::forecast(conn, user, FORECAST_DAYS).await?),
        Detail::Figures => (CardCounts::default(), Vec::new()),
    };

    let figures = |overall: bool, subject: Option<&str>| {
        let a = answers.iter().find(|r| r.overall == overall && (overall || r.subject_area.as_deref() == subject));
        let d = due.iter().find(|r| r.overall == overall && (overall || r.subject_area.as_deref() == subject));
        Figures {
            accuracy: a.and_then(|r| r.accuracy),
            answers: a.map_or(0, |r| r.answers),
            speed_ms: a.and_then(|r| r.speed_ms),
            due_today: d.map_or(0, |r| r.due_today),
            due_this_week: d.map_or(0, |r| r.due_this_week),
        }
    };
    let mut subjects: Vec<Option<String>> = answers
        .iter()
        .filter(|r| !r.overall)
        .map(|r| r.subject_area.clone())
        .chain(due.iter().filter(|r| !r.overall).map(|r| r.subject_area.clone()))
        .collect();
    subjects.sort();
    subjects.dedup();
    let overall_due = due.iter().find(|r| r.overall);
    Ok(Summary {
        window_days: WINDOW_DAYS,
        overall: figures(true, None),
        items_learned: overall_due.map_or(0, |r| r.items),
        retention: overall_due.and_then(|r| r.retention),
        streak_days: streak(&days, Utc::now().date_naive()),
        cards,
        forecast,
        subjects: subjects
            .into_iter()
            .map(|subject| SubjectFigures { figures: figures(false, subject.as_deref()), subject_area: subject })
            .collect(),
    })
}

/// Each material's progress: its flashcards by stage and its answers of the last 30
/// days; materials with cards or answers, the most answered first (at most 100).
#[utoipa::path(get, path = "/api/v1/progress/materials", tag = "progress", security(("bearer" = [])),
    responses((status = 200, body = Vec<MaterialProgress>)))]
pub async fn materials(State(state): State<AppState>, auth: AuthUser) -> Result<Json<Vec<MaterialProgress>>> {
    let user = auth.user_id;
    Ok(Json(state.reads.run(auth.reader(), async |tx| by_material(tx, user).await).await?))
}

/// The learner's progress per material (the API's and the progress page's).
pub async fn by_material(conn: &mut PgConnection, user: Uuid) -> Result<Vec<MaterialProgress>> {
    store::materials(conn, user, WINDOW_DAYS, MATERIALS_LISTED).await
}

/// Consecutive days with answers ending today, or yesterday (today is not over yet);
/// `days` newest first, distinct.
fn streak(days: &[NaiveDate], today: NaiveDate) -> i64 {
    let Some(first) = days.first() else { return 0 };
    if *first != today && Some(*first) != today.checked_sub_days(Days::new(1)) {
        return 0;
    }
    let mut count = 1;
    for pair in days.windows(2) {
        if pair[0].checked_sub_days(Days::new(1)) != Some(pair[1]) {
            break;
        }
        count += 1;
    }
    count
}

#[derive(Deserialize, IntoParams)]
pub struct MetricsQuery {
    /// `accuracy`, `speed` or `retention`.
    metric_type: Option<String>,
    /// `daily`, `weekly`, `monthly`, or `session` (what each session recorded).
    time_period: Option<String>,
    pub subject_area: Option<String>,
    /// From this time on (default: 90 days ago).
    from: Option<DateTime<Utc>>,
    /// Before this time (default: now).
    to: Option<DateTime<Utc>>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// One recorded figure.
#[derive(Serialize, ToSchema)]
pub struct Metric {
    id: Uuid,
    metric_type: String,
    metric_value: f64,
    metric_data: Option<Value>,
    /// The period's start (rollups), or when the session ended.
    recorded_at: DateTime<Utc>,
    /// `daily`, `weekly`, `monthly`; null for a session's own figures.
    time_period: Option<String>,
    pub subject_area: Option<String>,
    /// `mean`, `median`, or `session`.
    aggregation_type: Option<String>,
    learning_session_id: Option<Uuid>,
}

/// A series of the learner's progress figures, oldest first.
#[utoipa::path(get, path = "/api/v1/progress/metrics", tag = "progress", security(("bearer" = [])),
    params(MetricsQuery), responses((status = 200, body = Page<Metric>), (status = 422, body = Problem)))]
pub async fn metrics(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<MetricsQuery>,
) -> Result<Json<Page<Metric>>> {
    let (limit, cursor) = page::params::<page::Newest>(query.limit, query.cursor.as_deref())?;
    let mut v = Validator::default();
    v.check(
        query.metric_type.as_deref().is_none_or(|t| ["accuracy", "speed", "retention"].contains(&t)),
        "metric_type",
        "must be accuracy, speed or retention",
    );
    v.check(
        query.time_period.as_deref().is_none_or(|t| ["daily", "weekly", "monthly", "session"].contains(&t)),
        "time_period",
        "must be daily, weekly, monthly or session",
    );
    v.instant("from", query.from.as_ref()).instant("to", query.to.as_ref());
    v.finish()?;
    let to = query.to.unwrap_or_else(Utc::now);
    let from = query.from.unwrap_or(to - chrono::Duration::days(90));
    let filter = store::MetricFilter {
        from,
        to,
        metric_type: query.metric_type.as_deref(),
        time_period: query.time_period.as_deref(),
        subject_area: query.subject_area.as_deref(),
    };
    let user = auth.user_id;
    let rows = state
        .reads
        .run(auth.reader(), async |tx| store::metrics(tx, user, &filter, cursor, i64::from(limit) + 1).await)
        .await?;
    Ok(Json(Page::from_rows(rows, limit, |m| (m.recorded_at, m.id))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaks_count_back_from_today_or_yesterday() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).expect("a date");
        assert_eq!(streak(&[day(10), day(9), day(8), day(6)], day(10)), 3);
        assert_eq!(streak(&[day(9), day(8)], day(10)), 2, "today is not over");
        assert_eq!(streak(&[day(8)], day(10)), 0);
        assert_eq!(streak(&[], day(10)), 0);
    }
}
