//! The account page: profile, password, export, deletion (through the API, by app.js)
//! and the learner's own audit trail.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};

use super::{WebUser, html_error, render};
use crate::app::AppState;
use crate::db::tenant;

#[derive(askama::Template)]
#[template(path = "account.html")]
struct AccountPage {
    csrf: String,
    username: String,
    email: String,
    first_name: String,
    last_name: String,
    /// (when, action, succeeded), newest first.
    audit: Vec<(String, String, bool)>,
}

pub async fn page(State(state): State<AppState>, user: WebUser) -> Response {
    let loaded = async {
        let mut tx = tenant::begin_as(&state.db, Some(user.auth.user_id)).await?;
        let (username, email, first_name, last_name): (String, String, Option<String>, Option<String>) =
            sqlx::query_as("SELECT username, email, first_name, last_name FROM users WHERE id = $1")
                .bind(user.auth.user_id)
                .fetch_one(&mut *tx)
                .await?;
        let audit: Vec<(DateTime<Utc>, String, bool)> = sqlx::query_as(
            "SELECT created_at, action, coalesce(is_success, true) FROM audit_logs WHERE user_id = $1
              ORDER BY created_at DESC LIMIT 50",
        )
        .bind(user.auth.user_id)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let audit =
            audit.into_iter().map(|(at, action, ok)| (at.format("%Y-%m-%d %H:%M").to_string(), action, ok)).collect();
        Ok::<_, crate::error::Error>(AccountPage {
            csrf: user.csrf,
            username,
            email,
            first_name: first_name.unwrap_or_default(),
            last_name: last_name.unwrap_or_default(),
            audit,
        })
    };
    match loaded.await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(error) => html_error(&error),
    }
}
