//! A learner's own FSRS parameters (`learner_parameters`): GET /api/v1/me/fsrs shows
//! them with the log losses of the last fit; POST /api/v1/me/fsrs/optimise fits them
//! again as a durable job ([`Optimise`]); housekeeping queues the same job for learners
//! with [`REFIT_AFTER`] graded answers since their last fit ([`queue_refits`]).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use super::optimise::{self, Answer, MINIMUM_REVIEWS};
use super::preferences::Preferences;
use super::store;
use crate::app::AppState;
use crate::audit::{Change, Work};
use crate::config::WorkerConfig;
use crate::db::tenant;
use crate::error::{Error, Problem, Result};
use crate::http::auth::AuthUser;
use crate::http::extract::Client;
use crate::jobs::kind::JobKind;
use crate::jobs::{self, Job};
use crate::states::JobState;

/// Graded answers since a learner's last fit (or ever, before the first) after which
/// housekeeping fits their parameters again.
pub const REFIT_AFTER: i64 = 200;

/// The caller's FSRS parameters and how the last fit went.
#[derive(Debug, Serialize, ToSchema)]
pub struct FsrsParameters {
    /// The 21 FSRS-6 parameters scheduling uses for the caller: their own once a fit
    /// has been kept, the defaults until then.
    pub parameters: Vec<f32>,
    /// Whether they are the caller's own (true) or the defaults.
    pub fitted: bool,
    /// Log loss, on the caller's history at the last fit, of the default parameters and
    /// of those in use (lower predicts their answers better). Null before any fit, or
    /// without any training review.
    pub log_loss_default: Option<f64>,
    pub log_loss_fitted: Option<f64>,
    /// Graded answers at the last fit, and those a fit learns from (each a day or more
    /// after the item's previous answer).
    pub reviews: i32,
    pub training_reviews: i32,
    /// Training reviews a fit needs.
    pub minimum_reviews: usize,
    /// What the last fit did, in words.
    pub outcome: Option<String>,
    pub fitted_at: Option<DateTime<Utc>>,
    /// The newest optimisation job: its id and `queued`, `running`, `done` or `failed`.
    pub job_id: Option<Uuid>,
    pub job_status: Option<JobState>,
    /// Whether a fit is waiting or running: the newest job is queued or running and has
    /// not written its outcome yet (it is marked done just after it does).
    pub optimising: bool,
}

/// The caller's parameters, read in `conn` (a transaction as the caller).
pub async fn current(conn: &mut PgConnection, user: Uuid) -> Result<FsrsParameters> {
    let row = store::parameters(conn, user, Optimise::NAME).await?;
    Ok(FsrsParameters {
        fitted: row.parameters.is_some(),
        parameters: row.parameters.unwrap_or_else(|| fsrs::DEFAULT_PARAMETERS.to_vec()),
        log_loss_default: row.log_loss_default,
        log_loss_fitted: row.log_loss_fitted,
        reviews: row.reviews.unwrap_or(0),
        training_reviews: row.training_reviews.unwrap_or(0),
        minimum_reviews: MINIMUM_REVIEWS,
        outcome: row.outcome,
        fitted_at: row.fitted_at,
        job_id: row.job_id,
        job_status: row.job_status,
        optimising: row.optimising,
    })
}

/// The caller's FSRS parameters: their own once fitted, with the log loss of the
/// defaults and of theirs on their history, or the defaults.
#[utoipa::path(get, path = "/api/v1/me/fsrs", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = FsrsParameters), (status = 401, body = Problem)))]
pub async fn get(State(state): State<AppState>, auth: AuthUser) -> Result<Json<FsrsParameters>> {
    let mut tx = tenant::begin_as(&state.db, Some(auth.user_id)).await?;
    let parameters = current(&mut tx, auth.user_id).await?;
    tx.commit().await?;
    Ok(Json(parameters))
}

#[derive(Serialize, ToSchema)]
pub struct Accepted {
    /// The fitting job (GET /api/v1/jobs/{id}); its result is the fit's outcome, and GET
    /// /api/v1/me/fsrs shows the parameters it kept.
    job_id: Uuid,
}

/// Fits the caller's FSRS parameters to their graded answers, as a background job. The
/// fit is kept only if it predicts their answers better than the parameters in use; with
/// too few reviews the job says so and keeps them. A job already waiting or running is
/// answered instead of a new one.
#[utoipa::path(post, path = "/api/v1/me/fsrs/optimise", tag = "accounts", security(("bearer" = [])),
    responses((status = 202, body = Accepted), (status = 401, body = Problem)))]
pub async fn optimise(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
) -> Result<(StatusCode, Json<Accepted>)> {
    let job_id = request(&state, &client, &auth).await?;
    Ok((StatusCode::ACCEPTED, Json(Accepted { job_id })))
}

/// What POST /api/v1/me/fsrs/optimise does, for it and the settings page: an audited
/// request for a fit; the job's id.
pub async fn request(state: &AppState, client: &Client, auth: &AuthUser) -> Result<Uuid> {
    let work = Work::new(&state.db, client, "fsrs.optimise", "user").by(auth);
    work.entity(auth.user_id);
    work.change(async |tx| {
        let job_id = enqueue(tx, state, auth.user_id).await?;
        Ok((job_id, Change::created(json!({"job_id": job_id}))))
    })
    .await
}

/// Queues a fit of `user`'s parameters in `conn`'s transaction, unless one is waiting
/// or running already; the job's id either way.
async fn enqueue(conn: &mut PgConnection, state: &AppState, user: Uuid) -> Result<Uuid> {
    let pending = jobs::pending(&mut *conn, user, Optimise::NAME).await?;
    match pending {
        Some(id) => Ok(id),
        None => jobs::enqueue(conn, Optimise::NAME, user, json!(Optimise {}), state.jobs.max_attempts).await,
    }
}

/// Queues a fit for each of `learners` (those who answered lately) with [`REFIT_AFTER`]
/// graded answers since their last fit and none waiting; how many it queued.
pub async fn queue_refits(conn: &mut PgConnection, state: &AppState, learners: &[Uuid]) -> Result<usize> {
    let due = store::refits_due(&mut *conn, learners, Optimise::NAME, REFIT_AFTER).await?;
    for user in &due {
        jobs::enqueue(conn, Optimise::NAME, *user, json!(Optimise {}), state.jobs.max_attempts).await?;
    }
    Ok(due.len())
}

/// The fitting job's payload (the job's user is the learner).
#[derive(Debug, Serialize, Deserialize)]
pub struct Optimise {}

impl JobKind for Optimise {
    const NAME: &'static str = "optimise_fsrs";

    fn time_limit(_: &WorkerConfig) -> Duration {
        // 100,000 answers fit in about half a second (docs/learning.md).
        Duration::from_secs(300)
    }

    async fn run(self, state: &AppState, job: &Job) -> Result<Option<Value>> {
        let user = job.user_id;
        let mut tx = tenant::begin_as(&state.db, Some(user)).await?;
        let (current, preferences) = store::model(&mut tx, user).await?;
        let preferences = Preferences::of(preferences.as_ref());
        let answers = history(&mut tx, user, &preferences).await?;
        tx.commit().await?;

        let steps = preferences.relearning_steps_minutes.len();
        let fit = tokio::task::spawn_blocking(move || optimise::fit(&answers, current.as_deref(), steps))
            .await
            .map_err(Error::failed("the optimiser panicked"))??;

        let mut tx = tenant::begin_as(&state.db, Some(user)).await?;
        let kept = store::Fit {
            parameters: fit.parameters.as_deref(),
            log_loss_default: fit.log_loss_default,
            log_loss_fitted: fit.log_loss_fitted,
            reviews: i32::try_from(fit.reviews).unwrap_or(i32::MAX),
            training_reviews: i32::try_from(fit.training_reviews).unwrap_or(i32::MAX),
            outcome: &fit.outcome,
        };
        store::save_fit(&mut tx, user, &kept).await?;
        tx.commit().await?;
        Ok(Some(json!({
            "improved": fit.improved, "outcome": fit.outcome, "reviews": fit.reviews,
            "training_reviews": fit.training_reviews, "log_loss_default": fit.log_loss_default,
            "log_loss_fitted": fit.log_loss_fitted,
        })))
    }
}

/// `user`'s graded answers to flashcards (their rating) and quiz items (right 3, wrong
/// 1), each with the learner's day it was given on (under `preferences`: days start at
/// their hour in their time zone, UTC for one PostgreSQL does not know). An item whose
/// first answers are gone (rolled up and dropped by the retention
/// policy: fewer answers left than its review state counts) is left out, as Anki leaves
/// out cards whose history does not start at their first review.
async fn history(conn: &mut PgConnection, user: Uuid, preferences: &Preferences) -> Result<Vec<Answer>> {
    let rows = store::history(conn, user, &preferences.time_zone, preferences.day_starts_at_hour as i32).await?;
    Ok(rows
        .into_iter()
        .filter(|row| (1..=4).contains(&row.rating))
        .map(|row| Answer { item: row.item, rating: row.rating as u32, at: row.at as i64, day: i64::from(row.day) })
        .collect())
}
