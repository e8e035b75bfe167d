//! The dashboard: Study now (a review across all materials, with what it would serve),
//! what is due, the streak, accuracy and retention, recent materials.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::progress::Chart;
use super::{WebUser, html_error, render};
use crate::app::AppState;
use crate::db::tenant;
use crate::learn::due::{self, Counts};
use crate::progress::{self, Summary};

#[derive(sqlx::FromRow)]
struct Recent {
    id: uuid::Uuid,
    title: String,
    status: String,
}

#[derive(askama::Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    csrf: String,
    username: String,
    summary: Summary,
    accuracy: String,
    retention: String,
    materials: Vec<Recent>,
    chart: Chart,
    /// What Study now would serve: due and new cards across all materials.
    counts: Counts,
}

pub async fn page(State(state): State<AppState>, user: WebUser) -> Response {
    let loaded = async {
        let summary = progress::load(&state, user.auth.user_id).await?;
        let mut tx = tenant::begin_as(&state.db, Some(user.auth.user_id)).await?;
        let username: String = sqlx::query_scalar("SELECT username FROM users WHERE id = $1")
            .bind(user.auth.user_id)
            .fetch_one(&mut *tx)
            .await?;
        let materials: Vec<Recent> = sqlx::query_as(
            "SELECT id, title, status FROM study_materials WHERE user_id = $1 AND deleted_at IS NULL
              ORDER BY created_at DESC LIMIT 5",
        )
        .bind(user.auth.user_id)
        .fetch_all(&mut *tx)
        .await?;
        let counts = due::counts(&mut tx, user.auth.user_id, None).await?;
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
