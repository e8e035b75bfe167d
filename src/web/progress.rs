//! The progress page: the summary, per subject, and the last 30 days' accuracy and
//! retention as an SVG chart drawn here (with the same figures as a table).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};

use super::{WebUser, html_error, render};
use crate::app::AppState;
use crate::db::tenant;
use crate::progress::{self, Summary};

const DAYS: i64 = 30;
const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 200.0;

/// One day of the chart.
pub struct Day {
    label: String,
    accuracy: Option<f64>,
    retention: Option<f64>,
}

#[derive(askama::Template)]
#[template(path = "progress.html")]
struct ProgressPage {
    csrf: String,
    summary: Summary,
    days: Vec<Day>,
    accuracy_points: String,
    retention_points: String,
    /// Each day's points as circles (a line needs two days; a dot shows one).
    accuracy_dots: Vec<(String, String)>,
    retention_dots: Vec<(String, String)>,
}

impl ProgressPage {
    fn percent(&self, share: &Option<f64>) -> String {
        super::percent(*share)
    }
}

/// The SVG coordinates of the days that have a value: x by day, y from 0 (bottom) to 1.
fn dots(values: impl Iterator<Item = Option<f64>>) -> Vec<(String, String)> {
    let step = WIDTH / (DAYS - 1) as f64;
    values
        .enumerate()
        .filter_map(|(n, v)| {
            v.map(|v| (format!("{:.1}", n as f64 * step), format!("{:.1}", HEIGHT - v.clamp(0.0, 1.0) * HEIGHT)))
        })
        .collect()
}

/// The same as a polyline's points.
fn points(dots: &[(String, String)]) -> String {
    dots.iter().map(|(x, y)| format!("{x},{y}")).collect::<Vec<_>>().join(" ")
}

pub async fn page(State(state): State<AppState>, user: WebUser) -> Response {
    let loaded = async {
        let summary = progress::load(&state, user.auth.user_id).await?;
        let since = (Utc::now() - Duration::days(DAYS - 1)).date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
        let mut tx = tenant::begin_as(&state.db, Some(user.auth.user_id)).await?;
        let rows: Vec<(DateTime<Utc>, String, f64)> = sqlx::query_as(
            "SELECT recorded_at, metric_type, metric_value FROM progress_metrics
              WHERE user_id = $1 AND time_period = 'daily' AND subject_area IS NULL AND recorded_at >= $2
                AND metric_type IN ('accuracy', 'retention')",
        )
        .bind(user.auth.user_id)
        .bind(since)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok::<_, crate::error::Error>((summary, since, rows))
    };
    let (summary, since, rows) = match loaded.await {
        Ok(loaded) => loaded,
        Err(error) => return html_error(&error),
    };
    let days: Vec<Day> = (0..DAYS)
        .map(|n| {
            let day = since + Duration::days(n);
            let value = |kind: &str| rows.iter().find(|(at, k, _)| *at == day && k == kind).map(|r| r.2);
            Day { label: day.format("%b %-d").to_string(), accuracy: value("accuracy"), retention: value("retention") }
        })
        .collect();
    let accuracy_dots = dots(days.iter().map(|d| d.accuracy));
    let retention_dots = dots(days.iter().map(|d| d.retention));
    let page = ProgressPage {
        csrf: user.csrf,
        summary,
        accuracy_points: points(&accuracy_dots),
        retention_points: points(&retention_dots),
        accuracy_dots,
        retention_dots,
        days,
    };
    render(StatusCode::OK, &page)
}
