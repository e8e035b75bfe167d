//! The `openai` generator against a fake OpenAI-compatible server on 127.0.0.1 that
//! answers well (with one junk card per answer, which must be refused), answers
//! malformed JSON, answers too slowly, or refuses JSON-schema response formats.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use studyhall::generate::{check_shape, grounded};
use uuid::Uuid;

use crate::assets::{assets, generate};
use crate::harness::{Session, TestApp, http_config, settings};
use crate::materials::{ARTICLE, create, settled};

const API_KEY: &str = "sk-test-0123456789abcdef";
const MODEL: &str = "fake-model-2026-01";

#[derive(Clone, Copy)]
enum Mode {
    Good,
    /// Good for this many requests, then text that is not JSON.
    MalformedAfter(usize),
    /// Waits this long before a good answer.
    Slow(Duration),
    /// 400 to `json_schema` response formats, as servers that lack them answer.
    NoJsonSchema,
}

/// What the fake saw: each request's Authorization header and body.
#[derive(Default)]
struct Seen(Mutex<Vec<(Option<String>, Value)>>);

impl Seen {
    fn requests(&self) -> Vec<(Option<String>, Value)> {
        self.0.lock().expect("lock").clone()
    }
}

struct Fake {
    url: String,
    seen: Arc<Seen>,
}

async fn fake(mode: Mode) -> Fake {
    let seen = Arc::new(Seen::default());
    let router = axum::Router::new().route("/v1/chat/completions", post(completions)).with_state((mode, seen.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    Fake { url: format!("http://{address}/v1"), seen }
}

async fn completions(
    State((mode, seen)): State<(Mode, Arc<Seen>)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let count = {
        let mut requests = seen.0.lock().expect("lock");
        requests.push((authorization, body.clone()));
        requests.len()
    };
    let prompt = body["messages"][1]["content"].as_str().unwrap_or_default();
    let content = match mode {
        Mode::MalformedAfter(good) if count > good => "Sure! Here are your cards: {flashcards: [oops".to_owned(),
        Mode::NoJsonSchema if body["response_format"]["type"] == "json_schema" => {
            let error = json!({"error": {"message": "response_format json_schema is not supported"}});
            return (AxumStatus::BAD_REQUEST, Json(error)).into_response();
        }
        Mode::Slow(wait) => {
            tokio::time::sleep(wait).await;
            answer(prompt).to_string()
        }
        _ => answer(prompt).to_string(),
    };
    Json(json!({
        "id": format!("chatcmpl-{count}"),
        "object": "chat.completion",
        "model": MODEL,
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": prompt.len() / 4, "completion_tokens": 120, "total_tokens": prompt.len() / 4 + 120},
    }))
    .into_response()
}

/// What a diligent but fallible model makes of the passage in `prompt`: items built
/// from its own sentences, one invented card that the checks must refuse, and three
/// items with writing flaws (the answer in the question, choices whose length gives the
/// answer away, a cloze made from a heading) that must be stored as drafts.
fn answer(prompt: &str) -> Value {
    let passage =
        prompt.split_once("<passage>\n").and_then(|(_, rest)| rest.split_once("\n</passage>")).expect("a passage").0;
    let sentences: Vec<String> = passage
        .split(". ")
        .map(|s| s.trim().trim_end_matches('.').to_owned() + ".")
        .filter(|s| s.split_whitespace().count() >= 6 && !s.contains('\n'))
        .collect();
    let first = sentences.first().cloned().unwrap_or_else(|| passage.trim().to_owned());
    let second = sentences.get(1).cloned().unwrap_or_else(|| first.clone());
    let summary = json!({"text": format!("{first} {second}"), "key_points": [first]});
    if prompt.contains("Summarise the whole material") {
        return json!({"summary": summary});
    }
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphabetic()).filter(|w| w.chars().count() >= 5).map(str::to_owned).collect()
    };
    let longest = |s: &str| words(s).into_iter().max_by_key(|w| (w.len(), w.clone())).expect("a long word");
    let term = longest(&second);
    let blanked = second.replacen(&term, "_____", 1);
    let mut quizzes = vec![
        json!({"kind": "true_false", "question": first, "choices": ["True", "False"], "answer_index": 0,
               "explanation": "The passage says so.", "evidence": first}),
        json!({"kind": "multiple_choice", "question": format!("Which word completes the sentence? {blanked}"),
               "choices": [term, "the whole of the passage above", "none of the words given here",
                           "every other part of the cell"],
               "answer_index": 0, "explanation": second, "evidence": second}),
    ];
    // A fair multiple-choice item, from a third sentence when there is one.
    if let Some(third) = sentences.get(2) {
        let answer = longest(third);
        let mut distractors: Vec<String> = words(passage);
        distractors.sort_by_key(|w| (w.len().abs_diff(answer.len()), w.to_lowercase()));
        distractors.dedup_by_key(|w| w.to_lowercase());
        distractors.retain(|w| !w.eq_ignore_ascii_case(&answer) && !third.contains(w.as_str()));
        quizzes.push(json!({"kind": "multiple_choice",
            "question": format!("Which word completes the sentence? {}", third.replacen(&answer, "_____", 1)),
            "choices": [distractors[0], answer, distractors[1], distractors[2]], "answer_index": 1,
            "explanation": third, "evidence": third}));
    }
    let opening: Vec<&str> = first.split_whitespace().take(4).collect();
    let mut flashcards = vec![
        json!({"front": format!("What does the passage say about {}?", opening.join(" ")), "back": first,
               "cloze": false, "evidence": first}),
        json!({"front": blanked, "back": term, "cloze": true, "evidence": second}),
        json!({"front": "What is the capital of Mars?", "back": "Olympus City, on the red plains",
               "cloze": false, "evidence": "Olympus City is the capital of Mars."}),
        json!({"front": format!("The passage mentions {term}: what is it?"), "back": term, "cloze": false,
               "evidence": second}),
    ];
    // A section's heading opens its first chunk's passage.
    if let Some(heading) = passage.lines().next().filter(|l| !l.ends_with('.') && l.split_whitespace().count() >= 4) {
        let word = longest(heading);
        flashcards.push(json!({"front": heading.replacen(&word, "_____", 1), "back": word, "cloze": true,
                               "evidence": heading}));
    }
    json!({"flashcards": flashcards, "quizzes": quizzes, "summary": summary})
}

/// A server whose `openai` generator is the fake, on the article, ingested and ready.
async fn app_with(fake: &Fake, tune: impl FnOnce(&mut studyhall::config::Settings)) -> (TestApp, Session, Uuid) {
    let mut settings = settings();
    settings.llm.base_url = Some(fake.url.parse().expect("a URL"));
    settings.llm.model = Some("fake-model".to_owned());
    settings.llm.api_key = Some(API_KEY.to_owned());
    tune(&mut settings);
    let app = TestApp::spawn_configured(crate::harness::TestDb::migrated().await, http_config(), settings).await;
    let ada = app.register("ada").await;
    let material = create(&app, &ada, "The Cell", ARTICLE, json!({})).await;
    settled(&app, &ada, material).await;
    (app, ada, material)
}

const OPENAI: fn() -> Value = || json!({"provider": "openai", "max_per_chunk": 5});

/// No trace of the API key in anything a user or operator can read.
async fn key_appears_nowhere(app: &TestApp) {
    let found: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM audit_logs WHERE strpos(audit_logs::text, $1) > 0)
              + (SELECT count(*) FROM jobs WHERE strpos(jobs::text, $1) > 0)
              + (SELECT count(*) FROM generated_assets WHERE strpos(generated_assets::text, $1) > 0)",
    )
    .bind(API_KEY)
    .fetch_one(&app.db.pool)
    .await
    .expect("count");
    assert_eq!(found, 0, "the API key leaked into a row");
}

#[tokio::test]
async fn a_model_writes_grounded_assets_and_its_junk_is_refused() {
    let fake = fake(Mode::Good).await;
    let (app, ada, material) = app_with(&fake, |_| {}).await;
    let job = generate(&app, &ada, material, OPENAI()).await;
    assert_eq!(job["status"], "done", "{job}");
    let all = assets(&app, &ada, material, "").await;
    let drafts = assets(&app, &ada, material, "&status=draft").await;
    assert_eq!(job["result"]["added"].as_u64(), Some((all.len() + drafts.len()) as u64), "{job}");

    let (_, page) =
        app.call(Method::GET, &format!("/api/v1/materials/{material}/chunks?limit=200"), Some(&ada.token), None).await;
    let chunks = page["items"].as_array().cloned().expect("chunks");
    let substantive: Vec<&Value> =
        chunks.iter().filter(|c| c["word_count"].as_i64().is_some_and(|w| w >= 40)).collect();
    assert!(substantive.len() >= 3, "the article has several substantive chunks");
    for chunk in &substantive {
        let of = |t: &str| all.iter().filter(|a| a["content_chunk_id"] == chunk["id"] && a["asset_type"] == t).count();
        assert!(of("flashcard") + of("quiz") >= 1, "chunk {} has items", chunk["chunk_order"]);
        assert_eq!(of("summary"), 1, "chunk {} has one summary", chunk["chunk_order"]);
    }
    assert_eq!(all.iter().filter(|a| a["content_chunk_id"].is_null()).count(), 1, "one material summary");
    for kind in ["flashcard", "quiz"] {
        assert!(all.iter().filter(|a| a["asset_type"] == kind).count() >= substantive.len(), "{kind}s");
    }
    for asset in &all {
        let kind = asset["asset_type"].as_str().expect("a type");
        check_shape(kind.parse().expect("an asset type"), &asset["content"]).unwrap_or_else(|e| panic!("{e}: {asset}"));
        assert!(!asset["content"].to_string().contains("Mars"), "an invented card was stored: {asset}");
        assert_eq!(asset["generation_model"], MODEL, "the model that answered");
        assert_eq!(asset["metadata"]["prompt_version"], "openai-v2");
        assert_eq!(asset["status"], "ready");
        assert!(asset["metadata"]["usage"]["total_tokens"].as_u64().is_some_and(|t| t > 120), "{asset}");
        assert_eq!(asset["generation_params"]["response_format"], "json_schema");
        assert!(asset["quality_score"].as_f64().is_some_and(|q| (0.0..=1.0).contains(&q)));
        assert!(asset["difficulty_level"].as_i64().is_some_and(|d| (1..=10).contains(&d)));
        if let Some(chunk) = chunks.iter().find(|c| c["id"] == asset["content_chunk_id"])
            && kind != "summary"
        {
            let evidence = asset["generation_params"]["evidence"].as_str().expect("evidence");
            assert!(grounded(evidence, chunk["content"].as_str().expect("content")), "{asset}");
        }
    }

    // Items with writing flaws are stored as drafts, their flaws named.
    let flaws: Vec<&str> = drafts
        .iter()
        .flat_map(|d| d["metadata"]["flaws"].as_array().expect("flaws").iter().filter_map(Value::as_str))
        .collect();
    for flaw in ["answer_in_stem", "grammatical_cue", "non_prose"] {
        assert!(flaws.contains(&flaw), "{flaw} in {flaws:?}");
    }
    assert!(drafts.iter().all(|d| d["quality_score"].as_f64().is_some_and(|q| q < 0.5)), "{drafts:?}");
    assert!(all.iter().all(|a| a["metadata"]["flaws"].as_array().is_none_or(Vec::is_empty)), "ready items are clean");

    let requests = fake.seen.requests();
    assert_eq!(requests.len(), substantive.len() + 1, "one request per substantive chunk, one for the material");
    assert!(requests[0].1["messages"][1]["content"].as_str().is_some_and(|p| p.contains("in English")));
    for (authorization, body) in &requests {
        assert_eq!(authorization.as_deref(), Some(format!("Bearer {API_KEY}").as_str()));
        assert_eq!(body["model"], "fake-model");
        assert_eq!(body["response_format"]["type"], "json_schema");
        assert_eq!(body["response_format"]["json_schema"]["strict"], true);
    }

    let again = generate(&app, &ada, material, OPENAI()).await;
    assert_eq!((again["status"].as_str(), again["result"]["added"].as_u64()), (Some("done"), Some(0)), "{again}");
    assert_eq!(assets(&app, &ada, material, "").await.len(), all.len(), "generating again adds nothing");
    key_appears_nowhere(&app).await;
}

#[tokio::test]
async fn a_server_without_json_schema_is_asked_for_a_json_object() {
    let fake = fake(Mode::NoJsonSchema).await;
    let (app, ada, material) = app_with(&fake, |s| s.llm.concurrency = 1).await;
    let job = generate(&app, &ada, material, json!({"provider": "openai", "asset_types": ["flashcard"]})).await;
    assert_eq!(job["status"], "done", "{job}");
    let all = assets(&app, &ada, material, "").await;
    assert!(!all.is_empty() && all.iter().all(|a| a["asset_type"] == "flashcard"));
    assert!(all.iter().all(|a| a["generation_params"]["response_format"] == "json_object"));
    let formats: Vec<String> =
        fake.seen.requests().iter().map(|(_, body)| body["response_format"]["type"].to_string()).collect();
    assert_eq!(formats.iter().filter(|f| f.contains("json_schema")).count(), 1, "refused once, then remembered");
}

#[tokio::test]
async fn malformed_output_is_retried_then_fails_the_job_with_a_reason_and_stores_nothing() {
    let fake = fake(Mode::MalformedAfter(1)).await;
    let (app, ada, material) = app_with(&fake, |s| {
        s.llm.concurrency = 1;
        s.workers.max_attempts = 1;
    })
    .await;
    let job = generate(&app, &ada, material, OPENAI()).await;
    assert_eq!(job["status"], "failed", "{job}");
    let reason = job["reason"].as_str().expect("a reason");
    assert!(reason.contains("failed 2 time(s)") && reason.contains("not JSON"), "{reason}");
    assert!(job["result"].is_null());
    // The first chunk's answer was good, yet nothing of it is kept: the job stores all or nothing.
    assert_eq!(fake.seen.requests().len(), 3, "one good answer, then the second chunk twice");
    assert!(assets(&app, &ada, material, "&status=ready").await.is_empty(), "no partial junk");
    let failed: Option<bool> =
        sqlx::query_scalar("SELECT is_success FROM audit_logs WHERE action = 'material.generate'")
            .fetch_optional(&app.db.pool)
            .await
            .expect("audit");
    assert_eq!(failed, Some(true), "the request was accepted; the job's failure is on the job");
    key_appears_nowhere(&app).await;
}

#[tokio::test]
async fn a_model_too_slow_to_answer_times_out_and_fails_the_job() {
    let fake = fake(Mode::Slow(Duration::from_secs(30))).await;
    let (app, ada, material) = app_with(&fake, |s| {
        s.llm.timeout_secs = 1;
        s.workers.max_attempts = 1;
    })
    .await;
    let job = generate(&app, &ada, material, OPENAI()).await;
    assert_eq!(job["status"], "failed", "{job}");
    let reason = job["reason"].as_str().expect("a reason");
    assert!(reason.contains("did not answer within 1 s"), "{reason}");
    assert!(assets(&app, &ada, material, "").await.is_empty(), "nothing stored");
}

#[tokio::test]
async fn another_users_job_is_not_found() {
    let fake = fake(Mode::Good).await;
    let (app, ada, material) = app_with(&fake, |_| {}).await;
    let job = generate(&app, &ada, material, json!({})).await;
    let bob = app.register("bob").await;
    let id: Uuid = job["id"].as_str().and_then(|id| id.parse().ok()).expect("an id");
    let (status, _) = app.call(Method::GET, &format!("/api/v1/jobs/{id}"), Some(&bob.token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(job["kind"], "generate_assets");
    assert!(fake.seen.requests().is_empty(), "the builtin generator asks no model");
}
