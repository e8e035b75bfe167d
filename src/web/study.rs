//! The study page: one session, driven by the study loop in app.js through the API.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use super::{WebUser, html_error, render};
use crate::app::AppState;
use crate::db::tenant;
use crate::learn::sessions;

#[derive(askama::Template)]
#[template(path = "study.html")]
struct StudyPage {
    csrf: String,
    id: Uuid,
    kind: String,
}

pub async fn page(State(state): State<AppState>, user: WebUser, Path(id): Path<Uuid>) -> Response {
    let loaded = async {
        let mut tx = tenant::begin_as(&state.db, Some(user.auth.user_id)).await?;
        let session = sessions::fetch(&mut tx, user.auth.user_id, id).await?;
        tx.commit().await?;
        Ok::<_, crate::error::Error>(session)
    };
    match loaded.await {
        Ok(session) => {
            let kind = match session.session_type.as_str() {
                "study" => "Study",
                "review" => "Review",
                _ => "Quiz",
            };
            render(StatusCode::OK, &StudyPage { csrf: user.csrf, id, kind: kind.to_owned() })
        }
        Err(error) => html_error(&error),
    }
}
