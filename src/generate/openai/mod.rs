//! The `openai` generator: asks an OpenAI-compatible model for each substantive chunk's
//! flashcards, quiz items and summary, then for the material's summary, and keeps only
//! what passes the checks. Every item must quote, as its evidence, a sentence of its
//! chunk; answers must be supported by the chunk's words; shapes must hold; near
//! duplicates go. An answer with nothing usable is retried like malformed JSON, and a
//! chunk that never gets one fails the whole job: nothing is stored from it.

use std::collections::HashSet;

use futures_util::{StreamExt, TryStreamExt, stream};
use serde::Deserialize;
use serde_json::{Value, json};

use super::assess::{Fronts, difficulty, length_score};
use super::flaws::{self, Checks, Content, Flaw, NON_PROSE_KINDS};
use super::language::Lang;
use super::{
    ChunkInput, Draft, Flashcard, MaterialInput, Options, Quiz, QuizKind, SUBSTANTIVE_WORDS, Summary, Watch, builtin,
    check_shape, grounded, normalise,
};
use crate::error::Result;
use crate::llm::{Answer, Ask, Chat, Usage};
use crate::materials::pipeline::text;
use crate::states::AssetType;

/// The prompts' version, recorded with every asset; change it when the prompts change.
pub const PROMPT_VERSION: &str = "openai-v2";
/// `generation_model` holds at most this many characters.
const MODEL_NAME_CHARS: usize = 100;
/// Chunk summaries given to the material summary, at most (characters).
const MATERIAL_PROMPT_CHARS: usize = 24_000;
/// An answer is supported when this share of its words stands in the chunk.
const SUPPORTED: f64 = 0.6;

const SYSTEM: &str = "You write study material from a passage a learner is studying. Use only what the passage \
states. Answer with one JSON object and nothing else. In every flashcard and quiz item, \"evidence\" is one \
sentence copied word for word from the passage that supports it. Write in the passage's language.";

/// The assets of a material, chunk by chunk in order, then its summary.
pub async fn generate(
    chat: &Chat,
    material: &MaterialInput<'_>,
    options: &Options,
    watch: Watch<'_>,
) -> Result<Vec<Draft>> {
    // Prose only: code, output and tables make no sentence-based items.
    let substantive: Vec<&ChunkInput> = material
        .chunks
        .iter()
        .filter(|c| text::word_count(c.text) >= SUBSTANTIVE_WORDS && !NON_PROSE_KINDS.contains(&c.kind))
        .collect();
    let words = WordSet::of(&material.chunks.iter().map(|c| c.text).collect::<Vec<_>>().join("\n"));
    // Collected first: a lazy map here trips the compiler's Send checks of the job's future.
    let asks: Vec<_> =
        substantive.iter().map(|chunk| ask_chunk(chat, chunk, chunk.language.or(material.language), options)).collect();
    let asked = std::sync::atomic::AtomicUsize::new(0);
    let answers: Vec<Answer<Checked>> = stream::iter(asks)
        .buffered(chat.concurrency())
        .inspect_ok(|_| watch(asked.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1, substantive.len()))
        .try_collect()
        .await?;

    let checks = Checks::new(substantive.iter().map(|c| c.text), material.language);
    let mut out = Output { fronts: Fronts::default(), drafts: Vec::new(), checks };
    for (chunk, answer) in substantive.iter().zip(&answers) {
        let made = Made::new(chat, answer, chunk);
        for item in &answer.value.items {
            out.push(&made, material, item);
        }
    }
    if options.summaries {
        let summaries: Vec<&str> =
            answers.iter().filter_map(|a| a.value.summary.as_ref().map(|s| s.content.text.as_str())).collect();
        if let (Some(first), false) = (substantive.first(), summaries.is_empty()) {
            let answer = ask_material(chat, &summaries, &words).await?;
            let made = Made { material_summary: true, ..Made::new(chat, &answer, first) };
            out.push(&made, material, &Item::Summary(answer.value));
        }
    }
    Ok(out.drafts)
}

/// A checked item, with what it was checked against.
#[derive(Debug, Clone)]
enum Item {
    Card { card: Flashcard, evidence: String, support: f64 },
    Quiz { quiz: Quiz, evidence: String, support: f64 },
    Summary(CheckedSummary),
}

#[derive(Debug, Clone)]
struct CheckedSummary {
    content: Summary,
    support: f64,
}

/// One chunk's answer, checked: the items that passed, in the order given.
struct Checked {
    items: Vec<Item>,
    summary: Option<CheckedSummary>,
}

/// How a chunk's items were made, for their rows.
struct Made<'a> {
    chunk: &'a ChunkInput<'a>,
    model: String,
    configured: &'a str,
    usage: Usage,
    format: &'static str,
    material_summary: bool,
}

impl<'a> Made<'a> {
    fn new<T>(chat: &'a Chat, answer: &Answer<T>, chunk: &'a ChunkInput<'a>) -> Made<'a> {
        Made {
            chunk,
            model: answer.model.chars().take(MODEL_NAME_CHARS).collect(),
            configured: chat.model(),
            usage: answer.usage,
            format: answer.format.name(),
            material_summary: false,
        }
    }
}

struct Output {
    fronts: Fronts,
    drafts: Vec<Draft>,
    checks: Checks,
}

impl Output {
    /// Adds the item unless it nearly repeats one of its type already made, with the
    /// flaws the checker finds in it (see [`flaws`]) lowering its score.
    fn push(&mut self, made: &Made, material: &MaterialInput, item: &Item) {
        let (asset_type, content, (front, answer), kind, evidence, quality) = match item {
            Item::Card { card, evidence, support } => (
                AssetType::Flashcard,
                json!(card),
                (card.front.clone(), card.back.as_str()),
                if card.cloze == Some(true) { "cloze" } else { "definition" },
                Some(evidence),
                0.5 + 0.3 * support + 0.1 * length_score(&card.front, 3, 30) + 0.1 * length_score(&card.back, 1, 45),
            ),
            Item::Quiz { quiz, evidence, support } => (
                AssetType::Quiz,
                json!(quiz),
                (quiz.question.clone(), quiz.choices.get(quiz.answer_index).map_or("", String::as_str)),
                match quiz.kind {
                    QuizKind::MultipleChoice => "multiple_choice",
                    QuizKind::TrueFalse => "true_false",
                },
                Some(evidence),
                0.5 + 0.2 * support + 0.2 * plausibility(quiz) + 0.1 * length_score(&quiz.question, 5, 45),
            ),
            Item::Summary(summary) => (
                AssetType::Summary,
                json!(summary.content),
                // A chunk has one summary, the material one: that is what identifies them.
                (
                    if made.material_summary {
                        "material_summary".to_owned()
                    } else {
                        format!("summary {}", made.chunk.id)
                    },
                    "",
                ),
                if made.material_summary { "material_summary" } else { "chunk_summary" },
                None,
                0.5 + 0.5 * summary.support,
            ),
        };
        let Some(admitted) = self.fronts.admit(asset_type, &front, answer) else { return };
        let language = made.chunk.language.or(material.language);
        let checked = |content| flaws::Item {
            content,
            source: evidence.map(String::as_str),
            chunk_kind: made.chunk.kind,
            headings: made.chunk.heading_path,
            language,
        };
        let mut found = match item {
            Item::Card { card, .. } => self.checks.check(&checked(Content::Card(card))),
            Item::Quiz { quiz, .. } => self.checks.check(&checked(Content::Quiz(quiz))),
            Item::Summary(_) => Vec::new(),
        };
        if admitted.repeats_other_type {
            found.push(Flaw::NearDuplicate);
        }
        let term = match item {
            Item::Card { card, .. } if card.cloze == Some(true) => Some(card.back.as_str()),
            Item::Quiz { quiz, .. } if quiz.kind == QuizKind::MultipleChoice => {
                Some(quiz.choices[quiz.answer_index].as_str())
            }
            _ => None,
        };
        let spread = |term: &str| material.chunks.iter().filter(|c| grounded(term, c.text)).count();
        self.drafts.push(Draft {
            asset_type,
            content,
            content_chunk_id: (!made.material_summary).then_some(made.chunk.id),
            quality_score: flaws::quality(quality, &found),
            difficulty_level: difficulty(
                material.difficulty,
                evidence.map(String::as_str),
                term.map(|t| (t, spread(t))),
            ),
            generation_params: json!({
                "generator": "openai",
                "model": made.configured,
                "prompt_version": PROMPT_VERSION,
                "response_format": made.format,
                "temperature": 0,
                "kind": kind,
                "chunk_order": made.chunk.order,
                "evidence": evidence,
                "fact": evidence.map(|e| builtin::fact_key(e)),
                "fingerprint": admitted.fingerprint,
            }),
            generation_model: made.model.clone(),
            metadata: json!({
                "model": made.model,
                "prompt_version": PROMPT_VERSION,
                "usage": made.usage,
                "flaws": found.iter().map(|f| f.name()).collect::<Vec<_>>(),
            }),
        });
    }
}

/// The share of a multiple-choice item's distractors that look like its answer (about as
/// many words); 1 for true/false.
fn plausibility(quiz: &Quiz) -> f64 {
    if quiz.kind == QuizKind::TrueFalse {
        return 1.0;
    }
    let words = text::word_count(&quiz.choices[quiz.answer_index]);
    let alike = quiz
        .choices
        .iter()
        .enumerate()
        .filter(|(i, c)| *i != quiz.answer_index && text::word_count(c).abs_diff(words) <= 2)
        .count();
    alike as f64 / 3.0
}

/// The words of a text (normalised), for measuring how much of an answer it supports.
struct WordSet(HashSet<String>);

impl WordSet {
    fn of(text: &str) -> WordSet {
        WordSet(normalise(text).split(' ').map(str::to_owned).collect())
    }

    /// The share of `answer`'s words (of three letters or more, or all of them when it
    /// has none such) that stand in this text.
    fn support(&self, answer: &str) -> f64 {
        let normalised = normalise(answer);
        let all: Vec<&str> = normalised.split(' ').filter(|w| !w.is_empty()).collect();
        let long: Vec<&str> = all.iter().copied().filter(|w| w.chars().count() >= 3).collect();
        let words = if long.is_empty() { all } else { long };
        if words.is_empty() {
            return 0.0;
        }
        words.iter().filter(|w| self.0.contains(**w)).count() as f64 / words.len() as f64
    }
}

async fn ask_chunk(
    chat: &Chat,
    chunk: &ChunkInput<'_>,
    language: Option<&str>,
    options: &Options,
) -> Result<Answer<Checked>> {
    let n = options.max_per_chunk;
    let [yes, no] = Lang::of(language).unwrap_or(Lang::En).true_false();
    let mut wanted = Vec::new();
    let mut properties = serde_json::Map::new();
    if options.flashcards {
        wanted.push(format!(
            "- \"flashcards\": up to {n} cards. Definition cards ask what a term of the passage is or does, with \
             the passage's answer on the back. Cloze cards (\"cloze\": true) are a key sentence of the passage with \
             one key term replaced by _____ on the front, and that term, exactly as the passage writes it, on the \
             back."
        ));
        properties.insert("flashcards".to_owned(), array_of(card_schema()));
    }
    if options.quizzes {
        wanted.push(format!(
            "- \"quizzes\": up to {n} items. A \"multiple_choice\" item has 4 \"choices\": the correct answer, as \
             the passage states it, and three plausible wrong answers of the same kind (other terms, names or \
             numbers of the passage or its subject), none of them also correct; \"answer_index\" is the position of \
             the correct one. A \"true_false\" item states one claim as its \"question\", with \"choices\": \
             [\"{yes}\", \"{no}\"] and \"answer_index\" 0 when it is true, 1 when false; make a false claim \
             only when the passage itself shows it false. \"explanation\" says why, from the passage."
        ));
        properties.insert("quizzes".to_owned(), array_of(quiz_schema()));
    }
    if options.summaries {
        wanted.push(
            "- \"summary\": {\"text\": the passage in two or three sentences, \"key_points\": up to three short \
             points}."
                .to_owned(),
        );
        properties.insert("summary".to_owned(), summary_schema());
    }
    let schema = object_schema(properties);
    let written_in = language
        .map(|code| format!("Write every question, answer, choice and explanation in {}. ", Lang::name(code)))
        .unwrap_or_default();
    let user = format!(
        "Make, from the passage below:\n{}\n{written_in}Ask about the passage's important ideas, each question \
         complete on its own (no \"it\" or \"this\" without saying what), never about code, program output or \
         tables, and never with the answer's words in the question.\nAnswer with a JSON object of this schema:\n\
         {schema}\n\n<passage>\n{}\n</passage>",
        wanted.join("\n"),
        chunk.text
    );
    let ask = Ask { system: SYSTEM, user: &user, schema_name: "studyhall_chunk_assets", schema: &schema };
    let words = WordSet::of(chunk.text);
    chat.ask(&ask, |answer| check_chunk(&answer, chunk, &words, options)).await
}

async fn ask_material(chat: &Chat, summaries: &[&str], words: &WordSet) -> Result<Answer<CheckedSummary>> {
    let mut passage = String::new();
    for summary in summaries {
        if passage.len() + summary.len() > MATERIAL_PROMPT_CHARS {
            break;
        }
        passage.push_str(summary);
        passage.push_str("\n\n");
    }
    let schema = object_schema(serde_json::Map::from_iter([("summary".to_owned(), summary_schema())]));
    let user = format!(
        "Below are the summaries of the parts of one study material, in order. Summarise the whole material: \
         {{\"summary\": {{\"text\": up to six sentences, \"key_points\": up to five short points}}}}.\nAnswer with a \
         JSON object of this schema:\n{schema}\n\n<passage>\n{}\n</passage>",
        passage.trim_end()
    );
    let ask = Ask { system: SYSTEM, user: &user, schema_name: "studyhall_material_summary", schema: &schema };
    chat.ask(&ask, |answer| check_summary(answer.get("summary"), words).map_err(|why| format!("the summary {why}")))
        .await
}

/// The items of a chunk's answer that pass every check; an error when the answer is not
/// the requested object or nothing in it passes (the reasons of the first refusals).
fn check_chunk(answer: &Value, chunk: &ChunkInput, words: &WordSet, options: &Options) -> Result<Checked, String> {
    let list = |key: &str| match answer.get(key) {
        Some(Value::Array(items)) => Ok(items.clone()),
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(_) => Err(format!("\"{key}\" is not a list")),
    };
    let mut items = Vec::new();
    let mut refused = Vec::new();
    if options.flashcards {
        for raw in list("flashcards")?.into_iter().take(options.max_per_chunk * 2) {
            match check_card(raw, chunk, words) {
                Ok(item) => items.push(item),
                Err(why) => refused.push(format!("a flashcard {why}")),
            }
        }
    }
    if options.quizzes {
        for raw in list("quizzes")?.into_iter().take(options.max_per_chunk * 2) {
            match check_quiz(raw, chunk, words) {
                Ok(item) => items.push(item),
                Err(why) => refused.push(format!("a quiz item {why}")),
            }
        }
    }
    let mut summary = None;
    if options.summaries {
        match check_summary(answer.get("summary"), words) {
            Ok(checked) => summary = Some(checked),
            Err(why) => refused.push(format!("the summary {why}")),
        }
    }
    // At most max_per_chunk of each kind, in the order the model gave them.
    let mut cards = 0;
    let mut quizzes = 0;
    items.retain(|item| match item {
        Item::Card { .. } => {
            cards += 1;
            cards <= options.max_per_chunk
        }
        Item::Quiz { .. } => {
            quizzes += 1;
            quizzes <= options.max_per_chunk
        }
        Item::Summary(_) => true,
    });
    if items.is_empty() && summary.is_none() {
        refused.truncate(3);
        return Err(if refused.is_empty() { "it held no items".to_owned() } else { refused.join("; ") });
    }
    if !refused.is_empty() {
        tracing::info!(chunk = chunk.order, refused = refused.len(), first = %refused[0], "LLM items refused");
    }
    items.extend(summary.clone().map(Item::Summary));
    Ok(Checked { items, summary })
}

/// What an LLM writes for a flashcard (unknown fields are ignored: models add some).
#[derive(Deserialize)]
struct CardOut {
    front: String,
    back: String,
    #[serde(default)]
    cloze: bool,
    evidence: String,
}

#[derive(Deserialize)]
struct QuizOut {
    kind: QuizKind,
    question: String,
    choices: Vec<String>,
    answer_index: usize,
    explanation: String,
    evidence: String,
}

#[derive(Deserialize)]
struct SummaryOut {
    text: String,
    #[serde(default)]
    key_points: Vec<String>,
}

/// The evidence stands in the chunk, as a sentence and not a scrap.
fn check_evidence(evidence: &str, chunk: &ChunkInput) -> Result<(), String> {
    if text::word_count(evidence) < 4 || !grounded(evidence, chunk.text) {
        return Err("quotes evidence that is not in the passage".to_owned());
    }
    Ok(())
}

fn check_card(raw: Value, chunk: &ChunkInput, words: &WordSet) -> Result<Item, String> {
    let out: CardOut = serde_json::from_value(raw).map_err(|err| format!("is malformed ({err})"))?;
    let card = Flashcard {
        front: out.front.trim().to_owned(),
        back: out.back.trim().to_owned(),
        cloze: out.cloze.then_some(true),
    };
    check_shape(AssetType::Flashcard, &json!(card))?;
    check_evidence(&out.evidence, chunk)?;
    if normalise(&card.front) == normalise(&card.back) {
        return Err("gives its answer as its question".to_owned());
    }
    let support = if out.cloze {
        // The blanked term, as the chunk writes it, and the blank in the front.
        if !card.front.contains("___") || !grounded(&card.back, chunk.text) || text::word_count(&card.back) > 6 {
            return Err("is a cloze card without a blank or with an answer not in the passage".to_owned());
        }
        1.0
    } else {
        words.support(&card.back)
    };
    if support < SUPPORTED {
        return Err("has an answer the passage does not support".to_owned());
    }
    Ok(Item::Card { card, evidence: out.evidence, support })
}

fn check_quiz(raw: Value, chunk: &ChunkInput, words: &WordSet) -> Result<Item, String> {
    let out: QuizOut = serde_json::from_value(raw).map_err(|err| format!("is malformed ({err})"))?;
    let quiz = Quiz {
        kind: out.kind,
        question: out.question.trim().to_owned(),
        choices: out.choices.iter().map(|c| c.trim().to_owned()).collect(),
        answer_index: out.answer_index,
        explanation: out.explanation.trim().to_owned(),
    };
    check_shape(AssetType::Quiz, &json!(quiz))?;
    check_evidence(&out.evidence, chunk)?;
    let support = match quiz.kind {
        QuizKind::MultipleChoice => words.support(&quiz.choices[quiz.answer_index]),
        QuizKind::TrueFalse => words.support(&quiz.explanation).max(words.support(&out.evidence)),
    };
    if support < SUPPORTED {
        return Err("has an answer the passage does not support".to_owned());
    }
    Ok(Item::Quiz { quiz, evidence: out.evidence, support })
}

fn check_summary(raw: Option<&Value>, words: &WordSet) -> Result<CheckedSummary, String> {
    let raw = raw.cloned().ok_or("is missing")?;
    let out: SummaryOut = serde_json::from_value(raw).map_err(|err| format!("is malformed ({err})"))?;
    let support = words.support(&out.text);
    if support < SUPPORTED {
        return Err("says what the passage does not".to_owned());
    }
    let key_points: Vec<String> = out
        .key_points
        .iter()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty() && words.support(p) >= SUPPORTED)
        .collect();
    let content = Summary { text: out.text.trim().to_owned(), key_points };
    check_shape(AssetType::Summary, &json!(content))?;
    Ok(CheckedSummary { content, support })
}

fn object_schema(properties: serde_json::Map<String, Value>) -> Value {
    let required: Vec<&String> = properties.keys().collect();
    json!({"type": "object", "additionalProperties": false, "required": required, "properties": properties})
}

fn array_of(items: Value) -> Value {
    json!({"type": "array", "items": items})
}

fn card_schema() -> Value {
    object_schema(serde_json::Map::from_iter([
        ("front".to_owned(), json!({"type": "string"})),
        ("back".to_owned(), json!({"type": "string"})),
        ("cloze".to_owned(), json!({"type": "boolean"})),
        ("evidence".to_owned(), json!({"type": "string"})),
    ]))
}

fn quiz_schema() -> Value {
    object_schema(serde_json::Map::from_iter([
        ("kind".to_owned(), json!({"type": "string", "enum": ["multiple_choice", "true_false"]})),
        ("question".to_owned(), json!({"type": "string"})),
        ("choices".to_owned(), json!({"type": "array", "items": {"type": "string"}})),
        ("answer_index".to_owned(), json!({"type": "integer"})),
        ("explanation".to_owned(), json!({"type": "string"})),
        ("evidence".to_owned(), json!({"type": "string"})),
    ]))
}

fn summary_schema() -> Value {
    object_schema(serde_json::Map::from_iter([
        ("text".to_owned(), json!({"type": "string"})),
        ("key_points".to_owned(), json!({"type": "array", "items": {"type": "string"}})),
    ]))
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    const PASSAGE: &str = "The cell is the basic unit of all known forms of life. Robert Hooke first saw cells in \
        1665, looking at cork through a microscope. Mitochondria make most of the energy a cell uses.";

    fn chunk() -> ChunkInput<'static> {
        ChunkInput {
            id: Uuid::nil(),
            order: 0,
            kind: "paragraph",
            text: PASSAGE,
            summary: "",
            relevance: 1.0,
            language: Some("en"),
            heading_path: &[],
        }
    }

    fn quiz(choices: [&str; 4], answer_index: usize, evidence: &str) -> Value {
        json!({"kind": "multiple_choice", "question": "Who first saw cells?", "choices": choices,
               "answer_index": answer_index, "explanation": "Hooke saw them in cork.", "evidence": evidence})
    }

    #[test]
    fn items_need_evidence_from_the_passage_and_a_supported_answer() {
        let words = WordSet::of(PASSAGE);
        let evidence = "Robert Hooke first saw cells in 1665, looking at cork through a microscope.";
        let good = quiz(["Robert Hooke", "Louis Pasteur", "Carl Linnaeus", "Gregor Mendel"], 0, evidence);
        assert!(check_quiz(good, &chunk(), &words).is_ok());
        let invented =
            quiz(["Robert Hooke", "Louis Pasteur", "Carl Linnaeus", "Gregor Mendel"], 0, "Hooke was a baker.");
        assert!(check_quiz(invented, &chunk(), &words).unwrap_err().contains("evidence"));
        let unsupported = quiz(["Robert Hooke", "Louis Pasteur", "Carl Linnaeus", "Gregor Mendel"], 1, evidence);
        assert!(check_quiz(unsupported, &chunk(), &words).unwrap_err().contains("does not support"));
        let repeated = quiz(["Robert Hooke", "robert hooke!", "Carl Linnaeus", "Gregor Mendel"], 0, evidence);
        assert!(check_quiz(repeated, &chunk(), &words).is_err(), "the answer stands among the distractors");

        let cloze = |front: &str, back: &str| {
            json!({"front": front, "back": back, "cloze": true,
                   "evidence": "Mitochondria make most of the energy a cell uses."})
        };
        assert!(
            check_card(cloze("_____ make most of the energy a cell uses.", "Mitochondria"), &chunk(), &words).is_ok()
        );
        assert!(check_card(cloze("What makes energy?", "Mitochondria"), &chunk(), &words).is_err(), "no blank");
        assert!(check_card(cloze("_____ make most of the energy.", "Chloroplasts"), &chunk(), &words).is_err());
    }

    #[test]
    fn an_answer_with_nothing_usable_is_refused_whole() {
        let options = Options { flashcards: true, quizzes: true, summaries: false, max_per_chunk: 3 };
        let words = WordSet::of(PASSAGE);
        let junk = json!({"flashcards": [{"front": "What is Mars?", "back": "A planet.", "evidence": "Mars is red."}]});
        let why = check_chunk(&junk, &chunk(), &words, &options).err().expect("refused");
        assert!(why.contains("evidence"), "{why}");
        assert!(check_chunk(&json!({"flashcards": "none"}), &chunk(), &words, &options).is_err());
        assert_eq!(words.support("the basic unit of life"), 1.0);
        assert_eq!(words.support("purple giraffes"), 0.0);
    }
}
