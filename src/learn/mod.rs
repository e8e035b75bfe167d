//! Learning: study, review and quiz sessions, the items they serve, graded interactions,
//! FSRS scheduling and the reviews due.
//!
//! - `study` walks a material chunk by chunk: each chunk's summary, then its new
//!   flashcards (the material's own summary first).
//! - `review` serves flashcards that are due, most overdue first, then new ones; within
//!   one material or (`configuration.all_materials`) across all of the learner's.
//! - `quiz` serves quiz items near the difficulty the learner is expected to answer
//!   correctly four times in five (see [`next`]).
//!
//! An item is served once per session: answering or skipping it (or viewing a summary)
//! moves the session on.

pub mod answer;
pub mod due;
pub mod next;
pub mod optimise;
pub mod parameters;
pub mod preferences;
pub mod schedule;
pub mod sessions;
pub mod store;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::states::{self, AssetType, SessionStatus, SessionType};
use crate::validate::Validator;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sessions::create, sessions::list))
        .routes(routes!(sessions::get))
        .routes(routes!(next::next))
        .routes(routes!(answer::record))
        .routes(routes!(due::due))
        .routes(routes!(parameters::get))
        .routes(routes!(parameters::optimise))
}

/// A learning session.
#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    pub id: Uuid,
    pub study_material_id: Uuid,
    /// `study`, `review` or `quiz`.
    pub session_type: SessionType,
    /// `active`, `completed` or `abandoned` (idle past STUDYHALL_SESSION_IDLE_MINUTES).
    pub status: SessionStatus,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub total_interactions: Option<i32>,
    /// Items done of those planned, 0 to 100.
    pub completion_percentage: Option<f64>,
    /// The settings it runs with: `max_items`, `asset_types`, `time_limit_secs`,
    /// `all_materials`.
    pub configuration: Option<Value>,
    /// Its state: `planned`, `done`, `graded` and `correct` items, `last_activity_at`.
    pub session_data: Option<Value>,
}

/// How a session runs, as the learner asked (each field optional) and as it is stored
/// (each field filled in).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Configuration {
    /// Items the session serves at most: 1 to 200 (default 20).
    pub max_items: Option<u32>,
    /// The asset types it serves. study: `summary`, `flashcard` (default both);
    /// review: `flashcard`, `quiz` (default `flashcard`); quiz: `quiz`.
    #[serde(default, deserialize_with = "states::some_of")]
    pub asset_types: Option<Vec<AssetType>>,
    /// Seconds after which no new item is served: 60 to 14400 (default none).
    pub time_limit_secs: Option<u32>,
    /// Review only: serve due items of all the learner's materials, not just this one.
    pub all_materials: Option<bool>,
}

const DEFAULT_MAX_ITEMS: u32 = 20;

impl Configuration {
    /// The configuration with every default filled in; field errors go to `v`.
    pub fn complete(self, session_type: SessionType, v: &mut Validator) -> Configuration {
        use AssetType::{Flashcard, Quiz, Summary};
        let (allowed, default): (&[AssetType], &[AssetType]) = match session_type {
            SessionType::Study => (&[Summary, Flashcard], &[Summary, Flashcard]),
            SessionType::Review => (&[Flashcard, Quiz], &[Flashcard]),
            SessionType::Quiz => (&[Quiz], &[Quiz]),
        };
        let max_items = self.max_items.unwrap_or(DEFAULT_MAX_ITEMS);
        v.check((1..=200).contains(&max_items), "configuration.max_items", "must be between 1 and 200");
        let asset_types = self.asset_types.unwrap_or_else(|| default.to_vec());
        v.check(
            !asset_types.is_empty() && asset_types.iter().all(|t| allowed.contains(t)),
            "configuration.asset_types",
            format!(
                "must list some of {} for a {session_type} session",
                allowed.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
            ),
        );
        v.check(
            self.time_limit_secs.is_none_or(|t| (60..=14_400).contains(&t)),
            "configuration.time_limit_secs",
            "must be between 60 and 14400",
        );
        let all_materials = self.all_materials.unwrap_or(false);
        v.check(
            !all_materials || session_type == SessionType::Review,
            "configuration.all_materials",
            "is for review sessions only",
        );
        Configuration {
            max_items: Some(max_items),
            asset_types: Some(asset_types),
            time_limit_secs: self.time_limit_secs,
            all_materials: Some(all_materials),
        }
    }

    /// A stored configuration (every field filled in).
    pub fn stored(value: Option<&Value>) -> Configuration {
        value.and_then(|v| serde_json::from_value(v.clone()).ok()).unwrap_or_default()
    }

    pub fn max_items(&self) -> i64 {
        i64::from(self.max_items.unwrap_or(DEFAULT_MAX_ITEMS))
    }

    pub fn asset_types(&self) -> Vec<AssetType> {
        self.asset_types.clone().unwrap_or_default()
    }
}

/// The content of an asset as a learner sees it before answering: a flashcard without
/// its back, a quiz without its answer and explanation.
pub fn withhold(asset_type: AssetType, content: &Value) -> Value {
    let mut shown = content.clone();
    if let Some(object) = shown.as_object_mut() {
        let hidden: &[&str] = match asset_type {
            AssetType::Flashcard => &["back"],
            AssetType::Quiz => &["answer_index", "explanation"],
            AssetType::Summary => &[],
        };
        for key in hidden {
            object.remove(*key);
        }
    }
    shown
}

/// An item a session serves, its answer withheld.
#[derive(Debug, Serialize, ToSchema)]
pub struct Item {
    pub id: Uuid,
    pub study_material_id: Uuid,
    pub content_chunk_id: Option<Uuid>,
    /// `flashcard`, `quiz` or `summary`.
    pub asset_type: AssetType,
    /// The asset's content without its answer (`back`, `answer_index`, `explanation`).
    pub content: Value,
    pub difficulty_level: Option<i32>,
    /// For a chunk's summary: the chunk itself, to read after the summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passage: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn answers_are_withheld() {
        let card = json!({"front": "What is a cell?", "back": "The unit of life."});
        assert_eq!(withhold(AssetType::Flashcard, &card), json!({"front": "What is a cell?"}));
        let quiz = json!({"kind": "true_false", "question": "Cells divide.", "choices": ["True", "False"],
                          "answer_index": 0, "explanation": "They do."});
        let shown = withhold(AssetType::Quiz, &quiz);
        assert!(shown.get("answer_index").is_none() && shown.get("explanation").is_none());
        assert_eq!(shown["choices"], json!(["True", "False"]));
    }

    #[test]
    fn configurations_are_completed_and_checked() {
        let mut v = Validator::default();
        let config = Configuration::default().complete(SessionType::Review, &mut v);
        assert!(v.finish().is_ok());
        assert_eq!((config.max_items(), config.asset_types()), (20, vec![AssetType::Flashcard]));
        let mut v = Validator::default();
        let wrong = Configuration {
            max_items: Some(0),
            asset_types: Some(vec![AssetType::Summary]),
            time_limit_secs: Some(5),
            all_materials: Some(true),
        };
        wrong.complete(SessionType::Quiz, &mut v);
        let Err(crate::error::Error::Validation(errors)) = v.finish() else { panic!("refused") };
        assert_eq!(errors.len(), 4, "{errors:?}");
    }
}
