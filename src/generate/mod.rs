//! Generated learning assets: their shapes (API.md's `generated_assets.content`), the
//! checks every asset passes before it is stored, and the generators.

pub mod assess;
pub mod builtin;
pub mod flaws;
pub mod http;
pub mod job;
pub mod language;
pub mod openai;
pub mod quotes;
mod sections;
pub mod store;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::materials::pipeline::Ingested;
use crate::states::AssetType;

/// Told how far a generator is: `done` of `total` passages read (builtin) or asked
/// about (openai), for the job's progress report.
pub type Watch<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// `flashcard`: `{"front", "back", "cloze"?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flashcard {
    pub front: String,
    pub back: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloze: Option<bool>,
}

/// `quiz`: multiple choice (4 choices) or true/false (`["True", "False"]`, or the same
/// in the item's language: [`language::TRUE_FALSE`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quiz {
    pub kind: QuizKind,
    pub question: String,
    pub choices: Vec<String>,
    pub answer_index: usize,
    pub explanation: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuizKind {
    MultipleChoice,
    TrueFalse,
}

/// `summary`: `{"text", "key_points"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub text: String,
    pub key_points: Vec<String>,
}

/// An asset ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub asset_type: AssetType,
    pub content: Value,
    /// None for the material's own summary.
    pub content_chunk_id: Option<Uuid>,
    /// In [0, 1], from the checks at creation.
    pub quality_score: f64,
    /// 1 to 10.
    pub difficulty_level: i32,
    /// What reproduces the asset (generator, kind, sentence, term, fingerprint).
    pub generation_params: Value,
    /// The generator and its version, or the model that wrote the asset.
    pub generation_model: String,
    /// How it was made (the model's token usage, the prompt's version); the job's id is
    /// added when it is stored.
    pub metadata: Value,
}

/// Chunks with fewer words are not substantive: nothing is made from them.
pub const SUBSTANTIVE_WORDS: usize = 40;

/// A chunk to generate from.
pub struct ChunkInput<'a> {
    pub id: Uuid,
    pub order: i32,
    /// Its `chunk_type`: items come from prose only (see [`flaws::NON_PROSE_KINDS`]).
    pub kind: &'a str,
    pub text: &'a str,
    pub summary: &'a str,
    pub relevance: f64,
    /// Its own language, when told (it may differ from the material's).
    pub language: Option<&'a str>,
    /// The headings above it, outermost first.
    pub heading_path: &'a [String],
}

/// A material to generate from: its chunks in order, its language and difficulty.
pub struct MaterialInput<'a> {
    pub language: Option<&'a str>,
    /// `beginner`, `intermediate` or `advanced`.
    pub difficulty: Option<&'a str>,
    pub chunks: Vec<ChunkInput<'a>>,
}

impl<'a> MaterialInput<'a> {
    /// The input an ingested material gives before it is stored, its chunks numbered
    /// from 1 as their ids (for benchmarks and tests).
    pub fn of_ingested(ingested: &'a Ingested) -> MaterialInput<'a> {
        MaterialInput {
            language: ingested.language.as_deref(),
            difficulty: Some(ingested.difficulty),
            chunks: ingested
                .chunks
                .iter()
                .enumerate()
                .map(|(n, c)| ChunkInput {
                    id: Uuid::from_u128(n as u128 + 1),
                    order: i32::try_from(n).unwrap_or(i32::MAX),
                    kind: c.chunk.kind,
                    text: &c.chunk.text,
                    summary: &c.summary,
                    relevance: c.relevance,
                    language: c.language.as_deref(),
                    heading_path: &c.chunk.heading_path,
                })
                .collect(),
        }
    }
}

/// What to make.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub flashcards: bool,
    pub quizzes: bool,
    pub summaries: bool,
    /// Flashcards, and quiz items, made from one chunk at most.
    pub max_per_chunk: usize,
}

/// Why content does not fit its type's shape: the part at fault (`front`, `choices`...;
/// None when the JSON is not of the shape at all) and the reason in words, so that an
/// edit form can say it under the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misfit {
    pub field: Option<&'static str>,
    pub reason: String,
}

impl Misfit {
    fn at(field: &'static str, reason: impl Into<String>) -> Misfit {
        Misfit { field: Some(field), reason: reason.into() }
    }
}

impl std::fmt::Display for Misfit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.field {
            Some(field) => write!(f, "{field} {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

impl From<Misfit> for String {
    fn from(misfit: Misfit) -> String {
        misfit.to_string()
    }
}

/// Whether the learner whose stored preferences are `stored` has newly generated items
/// wait for their review (drafts "to review", served once accepted) rather than be ready
/// at once: their `review_new_items`, false without one. Generation's own setting, which
/// `learn::preferences::Preferences` shows and validates with the others.
pub fn review_new_items(stored: Option<&Value>) -> bool {
    stored.and_then(|stored| stored.get("review_new_items")).and_then(Value::as_bool).unwrap_or(false)
}

/// Checks `content` against the shape of `asset_type`; what does not fit, when something
/// does not.
pub fn check_shape(asset_type: AssetType, content: &Value) -> Result<(), Misfit> {
    const TEXT: &str = "must be 1 to 2000 characters";
    let text_ok = |s: &str| !s.trim().is_empty() && s.chars().count() <= 2000;
    let check = |ok: bool, field: &'static str, reason: &str| if ok { Ok(()) } else { Err(Misfit::at(field, reason)) };
    fn parse<T: serde::de::DeserializeOwned>(content: &Value) -> Result<T, Misfit> {
        serde_json::from_value(content.clone()).map_err(|e| Misfit { field: None, reason: e.to_string() })
    }
    match asset_type {
        AssetType::Flashcard => {
            let card: Flashcard = parse(content)?;
            check(text_ok(&card.front), "front", TEXT)?;
            check(text_ok(&card.back), "back", TEXT)
        }
        AssetType::Quiz => {
            let quiz: Quiz = parse(content)?;
            check(text_ok(&quiz.question), "question", TEXT)?;
            let expected = match quiz.kind {
                QuizKind::MultipleChoice => 4,
                QuizKind::TrueFalse => 2,
            };
            if quiz.choices.len() != expected {
                return Err(Misfit::at("choices", format!("must be {expected} for a {:?} quiz", quiz.kind)));
            }
            check(
                quiz.kind == QuizKind::MultipleChoice || language::TRUE_FALSE.iter().any(|pair| quiz.choices == *pair),
                "choices",
                "of a true/false quiz are True and False (or the same in its language)",
            )?;
            check(quiz.answer_index < quiz.choices.len(), "answer_index", "must point at a choice")?;
            let mut seen: Vec<String> = quiz.choices.iter().map(|c| normalise(c)).collect();
            seen.sort();
            seen.dedup();
            let distinct = seen.len() == quiz.choices.len() && quiz.choices.iter().all(|c| text_ok(c));
            check(distinct, "choices", "must be distinct, each 1 to 2000 characters")?;
            check(text_ok(&quiz.explanation), "explanation", TEXT)
        }
        AssetType::Summary => {
            let summary: Summary = parse(content)?;
            check(!summary.text.trim().is_empty(), "text", "must not be empty")?;
            check(summary.key_points.iter().all(|p| !p.trim().is_empty()), "key_points", "must not be empty")
        }
    }
}

/// Lower-cased, with runs of non-alphanumeric characters folded to one space: for
/// comparing answers with their source and cards with each other.
pub fn normalise(text: &str) -> String {
    text.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Whether `answer` stands in `source` (case and punctuation aside).
pub fn grounded(answer: &str, source: &str) -> bool {
    let answer = normalise(answer);
    !answer.is_empty() && format!(" {} ", normalise(source)).contains(&format!(" {answer} "))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn shapes_are_checked() {
        assert!(
            check_shape(AssetType::Flashcard, &json!({"front": "What is a cell?", "back": "The unit of life."}))
                .is_ok()
        );
        let empty = check_shape(AssetType::Flashcard, &json!({"front": "", "back": "x"})).expect_err("empty");
        assert_eq!(empty.to_string(), "front must be 1 to 2000 characters");
        assert!(check_shape(AssetType::Flashcard, &json!({"front": "f", "back": "b", "extra": 1})).is_err());
        let quiz = json!({"kind": "multiple_choice", "question": "Q?", "choices": ["a", "b", "c", "d"],
                          "answer_index": 2, "explanation": "Because."});
        assert!(check_shape(AssetType::Quiz, &quiz).is_ok());
        let mut duplicate = quiz.clone();
        duplicate["choices"] = json!(["a", "A", "c", "d"]);
        assert!(check_shape(AssetType::Quiz, &duplicate).is_err(), "distinct choices");
        let mut out_of_range = quiz.clone();
        out_of_range["answer_index"] = json!(4);
        assert_eq!(check_shape(AssetType::Quiz, &out_of_range).map_err(|m| m.field), Err(Some("answer_index")));
        let tf = json!({"kind": "true_false", "question": "Cells divide.", "choices": ["True", "False"],
                        "answer_index": 0, "explanation": "They do."});
        assert!(check_shape(AssetType::Quiz, &tf).is_ok());
        assert!(check_shape(AssetType::Summary, &json!({"text": "T", "key_points": ["a"]})).is_ok());
    }

    #[test]
    fn grounding_ignores_case_and_punctuation_but_not_words() {
        assert!(grounded("Cell biology", "The study of cells is called cell biology."));
        assert!(!grounded("cell bio", "The study of cells is called cell biology."), "whole words only");
        assert!(!grounded("", "anything"));
    }
}
