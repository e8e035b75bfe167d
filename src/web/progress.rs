//! The progress page, and the chart it shares with the dashboard: the last 30 days'
//! accuracy, retention and speed from the daily rollups, drawn here as SVG (with the
//! same figures as a table); the cards by stage, the next 30 days' reviews as a bar
//! chart, and each material's progress.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Duration, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{WebUser, html_error, render};
use crate::app::AppState;
use crate::error::Result;
use crate::progress::{self, MaterialProgress, Summary};

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
    /// The chart of `user`, read on `conn`, which acts for them.
    pub async fn load(conn: &mut PgConnection, user: Uuid) -> Result<Chart> {
        let since = (Utc::now() - Duration::days(DAYS - 1)).date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
        let rows = progress::store::daily(conn, user, since).await?;
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

/// One day of the review forecast: a bar of the chart.
pub struct Bar {
    /// "today", "tomorrow", "in 5 days".
    pub label: String,
    pub count: i64,
    pub x: String,
    pub y: String,
    pub height: String,
}

/// The next 30 days' reviews as bars, the tallest day at the top.
pub struct Forecast {
    pub bars: Vec<Bar>,
    pub top: i64,
    pub total: i64,
    /// The bars' width, a little less than a day's.
    pub width: String,
}

impl Forecast {
    fn of(counts: &[i64]) -> Forecast {
        let top = counts.iter().copied().max().unwrap_or(0).max(1);
        let step = WIDTH / counts.len().max(1) as f64;
        let bars = counts
            .iter()
            .enumerate()
            .map(|(day, &count)| {
                let height = count as f64 / top as f64 * HEIGHT;
                Bar {
                    label: in_days(day),
                    count,
                    x: format!("{:.1}", day as f64 * step),
                    y: format!("{:.1}", HEIGHT - height),
                    height: format!("{height:.1}"),
                }
            })
            .collect();
        Forecast { bars, top, total: counts.iter().sum(), width: format!("{:.1}", step * 0.8) }
    }
}

/// A day of the learner's as the page names it, counted from their today.
fn in_days(day: usize) -> String {
    match day {
        0 => "today".to_owned(),
        1 => "tomorrow".to_owned(),
        n => format!("in {n} days"),
    }
}

#[derive(askama::Template)]
#[template(path = "progress.html")]
struct ProgressPage {
    csrf: super::Csrf,
    summary: Summary,
    chart: Chart,
    forecast: Forecast,
    materials: Vec<MaterialProgress>,
}

impl ProgressPage {
    fn percent(&self, share: &Option<f64>) -> String {
        super::percent(*share)
    }

    /// The right answers of the last 30 days.
    fn right(&self) -> i64 {
        let overall = &self.summary.overall;
        (overall.accuracy.unwrap_or(0.0) * overall.answers as f64).round() as i64
    }

    /// A share as the width of a 100-wide bar.
    fn width(&self, share: &Option<f64>) -> String {
        format!("{:.0}", share.unwrap_or(0.0).clamp(0.0, 1.0) * 100.0)
    }
}

pub async fn page(State(state): State<AppState>, user: WebUser) -> Response {
    let learner = user.auth.user_id;
    let loaded = state.reads.run(user.auth.reader(), async |tx| {
        let summary = progress::load(tx, learner, progress::Detail::Full).await?;
        let chart = Chart::load(tx, learner).await?;
        let materials = progress::by_material(tx, learner).await?;
        Ok((summary, chart, materials))
    });
    match loaded.await {
        Ok((summary, chart, materials)) => {
            let forecast = Forecast::of(&summary.forecast);
            render(StatusCode::OK, &ProgressPage { csrf: user.csrf, summary, chart, forecast, materials })
        }
        Err(error) => html_error(&error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forecast_scales_to_its_busiest_day_and_names_days_from_today() {
        let forecast = Forecast::of(&[4, 0, 8, 2]);
        assert_eq!(forecast.total, 14);
        assert_eq!(forecast.top, 8);
        let heights: Vec<&str> = forecast.bars.iter().map(|b| b.height.as_str()).collect();
        assert_eq!(heights, ["100.0", "0.0", "200.0", "50.0"]);
        let labels: Vec<&str> = forecast.bars.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["today", "tomorrow", "in 2 days", "in 3 days"]);
        // Nothing due: flat bars, no division by zero.
        assert!(Forecast::of(&[0, 0]).bars.iter().all(|b| b.height == "0.0"));
    }
}
