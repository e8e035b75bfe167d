//! The account page: profile, password, export, deletion (through the API, by app.js)
//! and the learner's own audit trail.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{WebUser, html_error, render};
use crate::app::AppState;
use crate::db::tenant;
use crate::{accounts, audit};

/// Audit rows the page shows, newest first.
const AUDIT_ROWS: i64 = 50;

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
        let account = accounts::store::user(&mut tx, user.auth.user_id).await?;
        let audit = audit::store::own(&mut tx, user.auth.user_id, None, AUDIT_ROWS).await?;
        tx.commit().await?;
        let audit = audit
            .into_iter()
            .map(|row| (row.created_at.format("%Y-%m-%d %H:%M").to_string(), row.action, row.is_success))
            .collect();
        Ok::<_, crate::error::Error>(AccountPage {
            csrf: user.csrf,
            username: account.username,
            email: account.email,
            first_name: account.first_name.unwrap_or_default(),
            last_name: account.last_name.unwrap_or_default(),
            audit,
        })
    };
    match loaded.await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(error) => html_error(&error),
    }
}
