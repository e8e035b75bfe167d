//! The study page: one session. While it is active, the study loop in app.js drives it
//! through the API; once it has ended (completed, or abandoned when idle) the page shows
//! its results: items, accuracy and the items missed.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
use uuid::Uuid;

use super::{WebUser, html_error, render};
use crate::app::AppState;
use crate::audit::Actor;
use crate::db::tenant;
use crate::error::Result;
use crate::http::extract::Client;
use crate::learn::{Configuration, sessions, store};
use crate::materials;
use crate::states::{AssetType, SessionStatus, SessionType};

#[derive(askama::Template)]
#[template(path = "study.html")]
struct StudyPage {
    csrf: super::Csrf,
    id: Uuid,
    kind: &'static str,
    /// Where "Back to ..." leads when the session has ended, and its words.
    back: (String, &'static str),
}

#[derive(askama::Template)]
#[template(path = "results.html")]
struct ResultsPage {
    csrf: super::Csrf,
    kind: &'static str,
    material: Uuid,
    title: String,
    /// A review across all materials (Study now): its title says so, and it leads back to
    /// the dashboard.
    all_materials: bool,
    /// Abandoned (idle) rather than ended by the learner or run to its end.
    abandoned: bool,
    idle_minutes: u64,
    done: i64,
    graded: i64,
    correct: i64,
    accuracy: String,
    /// What to say when the session served nothing.
    empty: Option<&'static str>,
    missed: Vec<Missed>,
}

/// An item answered wrongly (or a card rated Again) in the session.
struct Missed {
    question: String,
    /// The learner's pick, for a quiz item.
    chosen: Option<String>,
    answer: String,
    explanation: Option<String>,
}

pub async fn page(State(state): State<AppState>, client: Client, user: WebUser, Path(id): Path<Uuid>) -> Response {
    match load(&state, &client, &user, id).await {
        Ok(page) => page,
        Err(error) => html_error(&error),
    }
}

async fn load(state: &AppState, client: &Client, user: &WebUser, id: Uuid) -> Result<Response> {
    let learner = user.auth.user_id;
    let idle = state.learning.session_idle();
    let mut tx = tenant::begin_as(&state.db, Some(learner)).await?;
    // Abandoning an idle session is a change of state: audited as the learner's.
    sessions::abandon_idle(&mut tx, Actor::of(&user.auth, client), idle).await?;
    let session = store::session(&mut tx, learner, id).await?;
    let kind = match session.session_type {
        SessionType::Study => "Study",
        SessionType::Review => "Review",
        SessionType::Quiz => "Quiz",
    };
    let all_materials = Configuration::stored(session.configuration.as_ref()).all_materials == Some(true);
    if session.status == SessionStatus::Active {
        tx.commit().await?;
        let back = if all_materials {
            ("/".to_owned(), "Back to the dashboard")
        } else {
            (format!("/materials/{}", session.study_material_id), "Back to the material")
        };
        let page = StudyPage { csrf: user.csrf.clone(), id, kind, back };
        return Ok(render(StatusCode::OK, &page));
    }
    let title = materials::store::title(&mut tx, session.study_material_id).await?;
    // Each item once, though a card in a learning step may be missed again.
    let missed = store::missed(&mut tx, id).await?;
    tx.commit().await?;
    let count = |key: &str| session.session_data.as_ref().and_then(|d| d[key].as_i64()).unwrap_or(0);
    let (done, graded, correct) = (count("done"), count("graded"), count("correct"));
    let page = ResultsPage {
        csrf: user.csrf.clone(),
        kind,
        material: session.study_material_id,
        title: if all_materials { "All your materials".to_owned() } else { title },
        all_materials,
        abandoned: session.status == SessionStatus::Abandoned,
        idle_minutes: idle.as_secs() / 60,
        done,
        graded,
        correct,
        accuracy: super::percent((graded > 0).then(|| correct as f64 / graded as f64)),
        empty: (done == 0).then(|| empty(session.session_type, count("planned"))),
        missed: missed.iter().map(|m| self::missed(m.asset_type, &m.content, &m.interaction_data)).collect(),
    };
    Ok(render(StatusCode::OK, &page))
}

/// Why a session of `session_type` served nothing, and what to do instead.
fn empty(session_type: SessionType, planned: i64) -> &'static str {
    if planned > 0 {
        return "The session ended before any item was answered.";
    }
    match session_type {
        SessionType::Review => {
            "Nothing was due and no new card was left for today (within your new cards per day): come back \
             tomorrow, or generate flashcards for another material."
        }
        SessionType::Study => {
            "There was nothing to study: generate this material's flashcards and summaries first, or, if you \
             have, today's new cards are all introduced (your new cards per day): come back tomorrow."
        }
        SessionType::Quiz => "This material has no quiz items yet: generate them first.",
    }
}

fn missed(asset_type: AssetType, content: &Value, data: &Value) -> Missed {
    let text = |key: &str| content[key].as_str().map(str::to_owned);
    match asset_type {
        AssetType::Quiz => {
            let choice =
                |index: Option<u64>| index.and_then(|i| content["choices"][i as usize].as_str()).map(str::to_owned);
            Missed {
                question: text("question").unwrap_or_default(),
                chosen: choice(data["choice_index"].as_u64()),
                answer: choice(content["answer_index"].as_u64()).unwrap_or_default(),
                explanation: text("explanation"),
            }
        }
        // (A summary is never graded, so never missed.)
        AssetType::Flashcard | AssetType::Summary => Missed {
            question: text("front").unwrap_or_default(),
            chosen: None,
            answer: text("back").unwrap_or_default(),
            explanation: None,
        },
    }
}
