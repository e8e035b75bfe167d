//! The dashboard: Study now (a review across all materials, with what it would serve),
//! what is due, the streak, accuracy and retention, recent materials.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::progress::Chart;
use super::{WebUser, html_error, render};
use crate::accounts;
use crate::app::AppState;
use crate::learn::due::Counts;
use crate::learn::store;
use crate::materials::{self, Material};
use crate::progress::{self, Summary};

/// Recent materials the dashboard shows.
const RECENT: i64 = 5;

#[derive(askama::Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    csrf: super::Csrf,
    username: String,
    summary: Summary,
    accuracy: String,
    retention: String,
    materials: Vec<Material>,
    chart: Chart,
    /// What Study now would serve: due and new cards across all materials.
    counts: Counts,
}

pub async fn page(State(state): State<AppState>, user: WebUser) -> Response {
    let learner = user.auth.user_id;
    let loaded = state.reads.run(user.auth.reader(), async |tx| {
        let summary = progress::load(tx, learner, progress::Detail::Figures).await?;
        let username = accounts::store::user(tx, learner).await?.username;
        let materials = materials::store::list(tx, learner, &Default::default(), None, RECENT).await?;
        let counts = store::counts(tx, learner, None).await?;
        let chart = Chart::load(tx, learner).await?;
        Ok((summary, username, materials, chart, counts))
    });
    match loaded.await {
        Ok((summary, username, materials, chart, counts)) => render(
            StatusCode::OK,
            &Dashboard {
                csrf: user.csrf,
                username,
                accuracy: super::percent(summary.overall.accuracy),
                retention: super::percent(summary.retention),
                summary,
                materials,
                chart,
                counts,
            },
        ),
        Err(error) => html_error(&error),
    }
}
