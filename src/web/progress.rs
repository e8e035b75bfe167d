//! The progress page, and the chart it shares with the dashboard: the last 30 days'
//! accuracy, retention and speed from the daily rollups, drawn here as SVG (with the
//! same figures as a table).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Duration, Utc};
use uuid::Uuid;

use super::{WebUser, html_error, render};
use crate::app::AppState;
use crate::db::tenant;
use crate::error::Result;
use crate::progress::{self, Summary};

const DAYS: i64 = 30;
const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 200.0;

/// One day of the chart.
pub struct Day {
    pub label: String,
    pub accuracy: Option<f64>,
    pub retention: Option<f64>,
    /// Median answer time, in seconds.
    pub speed: Option<f64>,
}

/// One line of the chart: its polyline and a dot per day (a line needs two days).
pub struct Series {
    pub points: String,
    pub dots: Vec<(String, String)>,
}

impl Series {
    /// Values from 0 (bottom) to `top`, x by day.
    fn of(values: impl Iterator<Item = Option<f64>>, top: f64) -> Series {
        let step = WIDTH / (DAYS - 1) as f64;
        let dots: Vec<(String, String)> = values
            .enumerate()
            .filter_map(|(n, v)| {
                v.map(|v| {
                    (format!("{:.1}", n as f64 * step), format!("{:.1}", HEIGHT - (v / top).clamp(0.0, 1.0) * HEIGHT))
                })
            })
            .collect();
        let points = dots.iter().map(|(x, y)| format!("{x},{y}")).collect::<Vec<_>>().join(" ");
        Series { points, dots }
    }
}

/// The chart of the last 30 days.
pub struct Chart {
    pub days: Vec<Day>,
    pub accuracy: Series,
    pub retention: Series,
    pub speed: Series,
    /// The speed axis's top, in seconds.
    pub speed_top: f64,
}

impl Chart {
    pub async fn load(state: &AppState, user: Uuid) -> Result<Chart> {
        let since = (Utc::now() - Duration::days(DAYS - 1)).date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
        let mut tx = tenant::begin_as(&state.db, Some(user)).await?;
        let rows = progress::store::daily(&mut tx, user, since).await?;
        tx.commit().await?;
        let days: Vec<Day> = (0..DAYS)
            .map(|n| {
                let day = since + Duration::days(n);
                let value = |kind: &str| {
                    rows.iter().find(|r| r.recorded_at == day && r.metric_type == kind).map(|r| r.metric_value)
                };
                Day {
                    label: day.format("%b %-d").to_string(),
                    accuracy: value("accuracy"),
                    retention: value("retention"),
                    speed: value("speed").map(|ms| ms / 1000.0),
                }
            })
            .collect();
        let speed_top = days.iter().filter_map(|d| d.speed).fold(10.0, f64::max).ceil();
        Ok(Chart {
            accuracy: Series::of(days.iter().map(|d| d.accuracy), 1.0),
            retention: Series::of(days.iter().map(|d| d.retention), 1.0),
            speed: Series::of(days.iter().map(|d| d.speed), speed_top),
            speed_top,
            days,
        })
    }

    pub fn first_day(&self) -> &str {
        self.days.first().map_or("", |d| d.label.as_str())
    }
}

#[derive(askama::Template)]
#[template(path = "progress.html")]
struct ProgressPage {
    csrf: String,
    summary: Summary,
    chart: Chart,
}

impl ProgressPage {
    fn percent(&self, share: &Option<f64>) -> String {
        super::percent(*share)
    }

    /// A share as the width of a 100-wide bar.
    fn width(&self, share: &Option<f64>) -> String {
        format!("{:.0}", share.unwrap_or(0.0).clamp(0.0, 1.0) * 100.0)
    }
}

pub async fn page(State(state): State<AppState>, user: WebUser) -> Response {
    let loaded = async {
        let summary = progress::load(&state, user.auth.user_id).await?;
        let chart = Chart::load(&state, user.auth.user_id).await?;
        Ok::<_, crate::error::Error>((summary, chart))
    };
    match loaded.await {
        Ok((summary, chart)) => render(StatusCode::OK, &ProgressPage { csrf: user.csrf, summary, chart }),
        Err(error) => html_error(&error),
    }
}
