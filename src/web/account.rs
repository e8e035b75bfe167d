//! The account page: profile, password, export, deletion (through the API, by app.js)
//! and the learner's recent activity, in words (activity.rs).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use super::activity::{self, Day, Names};
use super::{WebUser, html_error, render};
use crate::app::AppState;
use crate::audit::store::AuditLog;
use crate::db::tenant;
use crate::{accounts, audit, learn, materials};

/// Audit rows read for the activity, newest first: a session's answers run together,
/// so this is a few days of study rather than a few minutes.
const AUDIT_ROWS: i64 = 500;

#[derive(askama::Template)]
#[template(path = "account.html")]
struct AccountPage {
    csrf: super::Csrf,
    username: String,
    email: String,
    first_name: String,
    last_name: String,
    activity: Vec<Day>,
}

pub async fn page(State(state): State<AppState>, user: WebUser) -> Response {
    let loaded = async {
        let mut tx = tenant::begin_as(&state.db, Some(user.auth.user_id)).await?;
        let account = accounts::store::user(&mut tx, user.auth.user_id).await?;
        let rows = audit::store::own(&mut tx, user.auth.user_id, None, AUDIT_ROWS).await?;
        let names = names(&mut tx, user.auth.user_id, &rows).await?;
        tx.commit().await?;
        Ok::<_, crate::error::Error>(AccountPage {
            csrf: user.csrf,
            username: account.username,
            email: account.email,
            first_name: account.first_name.unwrap_or_default(),
            last_name: account.last_name.unwrap_or_default(),
            activity: activity::describe(&rows, &names, chrono::Utc::now()),
        })
    };
    match loaded.await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(error) => html_error(&error),
    }
}

/// The sessions and materials the rows mention, by name.
async fn names(conn: &mut sqlx::PgConnection, user: Uuid, rows: &[AuditLog]) -> crate::error::Result<Names> {
    let mut sessions: Vec<Uuid> = Vec::new();
    let mut materials: Vec<Uuid> = Vec::new();
    for row in rows {
        match (row.entity_type.as_str(), row.entity_id) {
            ("learning_session", Some(id)) => sessions.push(id),
            ("material", Some(id)) => materials.push(id),
            _ => sessions.extend(activity::answer_session(row)),
        }
    }
    sessions.sort_unstable();
    sessions.dedup();
    materials.sort_unstable();
    materials.dedup();
    Ok(Names {
        sessions: learn::store::described(conn, user, &sessions)
            .await?
            .into_iter()
            .map(|(id, kind, title)| (id, (kind, title)))
            .collect(),
        materials: materials::store::titles(conn, user, &materials).await?.into_iter().collect(),
    })
}
