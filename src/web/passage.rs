//! A passage of a material (one chunk), where a search result leads: its text with the
//! search's words marked, the headings above it, and the passages before and after.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use super::{WebUser, html_error, render};
use crate::app::AppState;
use crate::materials::store::{self, Passage};

#[derive(Deserialize)]
pub struct Found {
    /// The search that found it, whose words are marked.
    q: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "passage.html")]
struct PassagePage {
    csrf: super::Csrf,
    material: Uuid,
    passage: Passage,
    /// The search, or empty.
    q: String,
}

impl PassagePage {
    /// A link to another passage of the material, keeping the search's marks.
    fn link(&self, chunk: &Uuid) -> String {
        let mut link = format!("/materials/{}/chunks/{chunk}", self.material);
        if !self.q.is_empty() {
            link.push_str("?q=");
            link.push_str(&super::encoded(&self.q));
        }
        link
    }

    /// The search's results page.
    fn results(&self) -> String {
        format!("/materials?q={}", super::encoded(&self.q))
    }
}

pub async fn page(
    State(state): State<AppState>,
    user: WebUser,
    Path((material, chunk)): Path<(Uuid, Uuid)>,
    Query(found): Query<Found>,
) -> Response {
    // As the search box takes it: at most 500 characters.
    let q: String = found.q.unwrap_or_default().trim().chars().take(500).collect();
    let learner = user.auth.user_id;
    match state.reads.run(user.auth.reader(), async |tx| store::passage(tx, learner, material, chunk, &q).await).await {
        Ok(passage) => render(StatusCode::OK, &PassagePage { csrf: user.csrf, material, passage, q }),
        Err(error) => html_error(&error),
    }
}
