//! The dashboard: Study now (a review across all materials, with what it would serve),
//! what is due, the streak, accuracy and retention, recent materials.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::progress::Chart;
use super::{WebUser, html_error, render};
use crate::accounts;
use crate::app::AppState;
use crate::db::tenant;
use crate::learn::due::Counts;
use crate::learn::store;
use crate::materials::{self, Material};
use crate::progress::{self, Summary};

/// Recent materials the dashboard shows.
const RECENT: i64 = 5;

#[derive(askama::Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    csrf: String,
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
    let loaded = async {
        let summary = progress::load(&state, user.auth.user_id, progress::Detail::Figures).await?;
        let mut tx = tenant::begin_as(&state.db, Some(user.auth.user_id)).await?;
        let username = accounts::store::user(&mut tx, user.auth.user_id).await?.username;
        let materials = materials::store::list(&mut tx, user.auth.user_id, &Default::default(), None, RECENT).await?;
        let counts = store::counts(&mut tx, user.auth.user_id, None).await?;
        tx.commit().await?;
        let chart = Chart::load(&state, user.auth.user_id).await?;
        Ok::<_, crate::error::Error>((summary, username, materials, chart, counts))
    };
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
