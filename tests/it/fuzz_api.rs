//! The whole API against generated and hostile input, walked from its own OpenAPI
//! document (what a schemathesis run checks, deterministic and in Rust): each operation
//! gets plausible requests made from its schema, then hostile values one parameter or
//! field at a time, broken bodies, wrong content types and bad tokens. No answer may be
//! a 5xx, or a status (or a content type) the document does not declare for it.

use std::collections::HashSet;
use std::fmt::Write as _;

use futures_util::{StreamExt, stream};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::access::app_with;
use crate::assets::{assets, generate};
use crate::harness::{PASSWORD, Session, TestApp};
use crate::materials::{ARTICLE, create, settled};
use crate::smtp::SmtpSink;

/// The caller's objects, so that plausible ids name something that exists.
struct Ids {
    user: Uuid,
    material: Uuid,
    asset: Uuid,
    interaction: Uuid,
    job: Uuid,
    session: Uuid,
    invitation: Uuid,
    /// Another account, for the admin actions on accounts.
    account: Uuid,
    /// A failed job (of a kind no worker knows: retried, it fails again).
    failed_job: Uuid,
    /// A password-reset link's token, of an account of its own (using it ends its sessions).
    reset: String,
}

#[derive(Clone)]
enum Auth {
    Caller,
    Absent,
    Header(Vec<u8>),
}

/// One request, all but the host; strings already percent-encoded.
#[derive(Clone)]
struct Case {
    label: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, Vec<u8>)>,
    body: Option<(&'static str, Vec<u8>)>,
    auth: Auth,
}

/// An operation of the document, with its parameters and JSON body schema resolved.
struct Operation<'a> {
    method: Method,
    path: &'a str,
    spec: &'a Value,
    params: Vec<&'a Value>,
    body: Option<&'a Value>,
}

const LONG: usize = 10_000;

#[tokio::test]
async fn no_input_is_answered_with_a_server_error_or_an_undeclared_status() {
    // Mail is sent (to no one: the fuzzed addresses have no account), so resets are offered.
    let sink = SmtpSink::start().await;
    let app = app_with(None, Some(sink.url(None))).await;
    let caller = app.register("fuzz").await;
    let ids = objects(&app, &caller).await;
    let (status, doc) = app.call(Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);

    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (verb, spec) in item.as_object().expect("operations") {
            let params = spec["parameters"].as_array().into_iter().flatten().map(|p| resolve(&doc, p)).collect();
            let schema = &spec["requestBody"]["content"]["application/json"]["schema"];
            let body = schema.is_object().then(|| resolve(&doc, schema));
            let method = verb.to_uppercase().parse().expect("an HTTP method");
            operations.push(Operation { method, path, spec, params, body });
        }
    }
    // Operations that end an object, the token or the account go last, in that order.
    operations.sort_by_key(|op| (rank(&op.method, op.path), op.path, op.method.to_string()));

    let mut fuzz = Fuzz { doc: &doc, ids: &ids, counter: 0 };
    let (mut sent, mut violations, mut answered) = (0, Vec::new(), HashSet::new());
    for op in &operations {
        let mut cases = Vec::new();
        for case in fuzz.cases(op) {
            let token = match rank(&op.method, op.path) {
                // Signing out or deleting the account spends the token: each case has its own.
                3.. if matches!(case.auth, Auth::Caller) => {
                    fuzz.counter += 1;
                    app.register(&format!("spare{}", fuzz.counter)).await.token
                }
                _ => caller.token.clone(),
            };
            cases.push((case, token));
        }
        sent += cases.len();
        // A few at a time (the answers, and so the report, stay in order).
        let checked: Vec<_> =
            stream::iter(&cases).map(|(case, token)| check(&app, op, case, token)).buffered(4).collect().await;
        for (status, violation) in checked {
            violations.extend(violation);
            if status.is_success() {
                answered.insert(format!("{} {}", op.method, op.path));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "{} of {sent} requests were answered with a server error or a status the document does not declare:\n{}",
        violations.len(),
        violations.join("\n")
    );
    // Plausible requests got through: the hostile ones were judged by the handlers, not
    // only by the extractors in front of them.
    let unreached: Vec<_> =
        operations.iter().map(|op| format!("{} {}", op.method, op.path)).filter(|op| !answered.contains(op)).collect();
    assert!(unreached.is_empty(), "no request to these operations succeeded: {unreached:?}");
    assert!(sent > 300, "a few hundred requests, not {sent}");
}

#[tokio::test]
async fn the_openapi_document_is_well_formed_and_every_error_is_a_problem() {
    let app = TestApp::spawn().await;
    let (_, doc) = app.call(Method::GET, "/api/v1/openapi.json", None, None).await;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1.")), "{}", doc["openapi"]);
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    for reference in refs {
        assert!(doc.pointer(reference.trim_start_matches('#')).is_some(), "{reference} resolves");
    }

    let problem = json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}});
    let mut ids = HashSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (verb, operation) in item.as_object().expect("operations") {
            let id = operation["operationId"].as_str().unwrap_or_default();
            assert!(ids.insert(id.to_owned()), "{verb} {path}: operationId {id:?} is unique");
            let named: Vec<_> =
                path.split('{').skip(1).filter_map(|rest| rest.split_once('}')).map(|(n, _)| n).collect();
            for name in named {
                let declared = operation["parameters"].as_array().into_iter().flatten();
                assert!(
                    declared.clone().any(|p| p["name"] == name && p["in"] == "path" && p["required"] == true),
                    "{verb} {path}: {{{name}}} is a required path parameter"
                );
            }
            let responses = operation["responses"].as_object().expect("responses");
            for (status, response) in responses {
                assert!(response["description"].as_str().is_some_and(|d| !d.is_empty()), "{verb} {path} {status}");
                if status.starts_with(['4', '5']) {
                    assert_eq!(response["content"], problem, "{verb} {path} {status} is a problem");
                }
            }
            // What every operation can answer, whatever its handler declared.
            let secured = operation["security"].as_array().is_some_and(|s| !s.is_empty());
            let has_body = operation["requestBody"].is_object();
            for (status, applies) in [
                ("500", true),
                ("503", true),
                ("401", secured),
                ("404", path.contains('{')),
                ("413", has_body),
                ("415", has_body),
                ("422", has_body),
            ] {
                assert!(!applies || responses.contains_key(status), "{verb} {path} declares {status}");
            }
        }
    }
}

fn collect_refs(value: &Value, refs: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            refs.extend(map.get("$ref").and_then(Value::as_str).map(str::to_owned));
            map.values().for_each(|v| collect_refs(v, refs));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, refs)),
        _ => {}
    }
}

/// Makes the caller an administrator (so that admin operations are fuzzed past the
/// gate) with a material (ingested), its assets, an interaction, a session and an
/// invitation to fuzz; another account with a reset link, one to administer, and a failed job.
async fn objects(app: &TestApp, caller: &Session) -> Ids {
    sqlx::query("UPDATE users SET is_admin = true WHERE id = $1")
        .bind(caller.user_id)
        .execute(&app.db.pool)
        .await
        .expect("promote the caller");
    let material = create(app, caller, "The Cell", ARTICLE, json!({})).await;
    assert_eq!(settled(app, caller, material).await["status"], "ready");
    let job = generate(app, caller, material, json!({})).await;
    assert_eq!(job["status"], "done", "{job}");
    let flashcards = assets(app, caller, material, "&asset_type=flashcard").await;
    let asset = flashcards[0]["id"].as_str().and_then(|id| id.parse().ok()).expect("a flashcard");
    let id = |value: &Value| value["id"].as_str().and_then(|id| id.parse().ok()).expect("an id");
    let mut sessions = Vec::new();
    for _ in 0..2 {
        let body = json!({"study_material_id": material, "session_type": "review"});
        let (status, session) = app.call(Method::POST, "/api/v1/sessions", Some(&caller.token), Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{session}");
        sessions.push(id(&session));
    }
    // An answer in another session than the fuzzed one, for feedback to refer to.
    let answer = json!({"generated_asset_id": asset, "interaction_type": "answer", "interaction_data": {"rating": 3}});
    let path = format!("/api/v1/sessions/{}/interactions", sessions[1]);
    let (status, recorded) = app.call(Method::POST, &path, Some(&caller.token), Some(answer)).await;
    assert_eq!(status, StatusCode::CREATED, "{recorded}");
    let (status, invited) =
        app.call(Method::POST, "/api/v1/admin/invitations", Some(&caller.token), Some(json!({}))).await;
    assert_eq!(status, StatusCode::CREATED, "{invited}");
    let forgetful = app.register("forgetful").await;
    let reset = "sh_fuzzed-reset-link".to_owned();
    sqlx::query(
        "INSERT INTO password_resets (user_id, token_hash, expires_at)
         VALUES ($1, sha256(convert_to($2, 'UTF8')), now() + interval '1 hour')",
    )
    .bind(forgetful.user_id)
    .bind(&reset)
    .execute(&app.db.pool)
    .await
    .expect("a reset link");
    let failed_job = sqlx::query_scalar(
        "INSERT INTO jobs (kind, user_id, payload, max_attempts, attempts, status)
         VALUES ('fuzzed', $1, '{}', 1, 1, 'failed') RETURNING id",
    )
    .bind(caller.user_id)
    .fetch_one(&app.db.pool)
    .await
    .expect("a failed job");
    Ids {
        user: caller.user_id,
        material,
        asset,
        interaction: id(&recorded["interaction"]),
        job: id(&job),
        session: sessions[0],
        invitation: id(&invited["invitation"]),
        account: app.register("managed").await.user_id,
        failed_job,
        reset,
    }
}

/// 0: most operations; 1: those that end or change an object for the rest of the run;
/// 2: deleting objects; 3: signing out; 4: deleting the account.
fn rank(method: &Method, path: &str) -> u8 {
    match (method, path) {
        (&Method::DELETE, "/api/v1/me") => 4,
        (&Method::POST, "/api/v1/auth/logout") => 3,
        (&Method::DELETE, _) => 2,
        (&Method::POST, _) if ["/end", "/reprocess", "/deactivate"].iter().any(|end| path.ends_with(end)) => 1,
        _ => 0,
    }
}

/// Sends `case`; says what is wrong with the answer, if anything.
async fn check(app: &TestApp, op: &Operation<'_>, case: &Case, token: &str) -> (StatusCode, Option<String>) {
    let mut url = app.url(&case.path);
    for (i, (name, value)) in case.query.iter().enumerate() {
        let _ = write!(url, "{}{name}={value}", if i == 0 { '?' } else { '&' });
    }
    let mut request = app.client.request(op.method.clone(), &url);
    match &case.auth {
        Auth::Caller => request = request.bearer_auth(token),
        Auth::Absent => {}
        Auth::Header(bytes) => {
            request = request.header(AUTHORIZATION, HeaderValue::from_bytes(bytes).expect("a header value"))
        }
    }
    for (name, value) in &case.headers {
        let name: HeaderName = name.parse().expect("a header name");
        request = request.header(name, HeaderValue::from_bytes(value).expect("a header value"));
    }
    if let Some((content_type, bytes)) = &case.body {
        if !content_type.is_empty() {
            request = request.header(CONTENT_TYPE, *content_type);
        }
        request = request.body(bytes.clone());
    }
    let (status, content_type, answer) = match request.send().await {
        Ok(response) => {
            let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
            (response.status(), content_type, response.text().await.unwrap_or_default())
        }
        // A handler that panics drops the connection.
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, None, format!("no answer: {error}")),
    };

    let declared = &op.spec["responses"][status.as_str()];
    let wrong = if status.is_server_error() {
        "a server error".to_owned()
    } else if !declared.is_object() {
        "a status the document does not declare".to_owned()
    } else {
        let types = declared["content"].as_object().map(|c| c.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
        let essence = content_type.as_deref().and_then(|c| c.split(';').next()).unwrap_or_default().trim();
        match types.is_empty() || types.iter().any(|t| t == essence) {
            true => return (status, None),
            false => format!("{essence:?}, not the declared {types:?}"),
        }
    };
    let sent_body = case.body.as_ref().map(|(t, b)| format!(" {t:?} {}", clip(&String::from_utf8_lossy(b))));
    let violation = format!(
        "- {} {} [{}]: {status}, {wrong}\n    sent {}{}\n    got {}",
        op.method,
        op.path,
        case.label,
        clip(url.trim_start_matches(&app.url(""))),
        sent_body.unwrap_or_default(),
        clip(&answer)
    );
    (status, Some(violation))
}

fn clip(text: &str) -> String {
    match text.char_indices().nth(160) {
        Some((end, _)) => format!("{}… ({} bytes)", &text[..end], text.len()),
        None => text.to_owned(),
    }
}

/// Follows a `$ref`, and takes the non-null branch of a nullable `oneOf`.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    if let Some(reference) = schema["$ref"].as_str() {
        return resolve(doc, doc.pointer(reference.trim_start_matches('#')).expect("a resolvable $ref"));
    }
    let branches = schema["oneOf"].as_array().or(schema["anyOf"].as_array());
    match branches.and_then(|b| b.iter().find(|b| b["type"] != "null")) {
        Some(branch) => resolve(doc, branch),
        None => schema,
    }
}

/// The schema's type, leaving out `null` (OpenAPI 3.1 writes `["string", "null"]`).
fn kind(schema: &Value) -> &str {
    match &schema["type"] {
        Value::String(kind) => kind,
        Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).find(|k| *k != "null").unwrap_or("null"),
        _ => "any",
    }
}

fn encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Values for query strings, path segments and headers (as bytes, encoded when sent).
fn hostile_text() -> Vec<(&'static str, Vec<u8>)> {
    let text = |label, value: &str| (label, value.as_bytes().to_vec());
    vec![
        text("empty", ""),
        ("10,000 characters", "a".repeat(LONG).into_bytes()),
        text("NUL", "a\0b"),
        text("control characters", "\u{1}\u{8}\t\n\r\u{1b}\u{7f}"),
        ("invalid UTF-8", vec![0xff, 0xfe, b'a']),
        ("surrogate as CESU-8", vec![0xed, 0xa0, 0x80]),
        text("unicode", "Ωμέγα 😀 \u{202e}ﬁ \u{fffe}"),
        text("i64::MAX", "9223372036854775807"),
        text("i64::MIN", "-9223372036854775808"),
        text("beyond u64", "18446744073709551616"),
        text("beyond i32", "2147483648"),
        text("negative", "-1"),
        text("zero", "0"),
        text("huge float", "1e309"),
        text("NaN", "NaN"),
        text("fraction", "0.5"),
        text("boolean", "true"),
        text("wrong word", "neither"),
        text("impossible date", "2026-13-45T99:99:99Z"),
        text("year 10000", "+10000-01-01T00:00:00Z"),
        text("year 0", "0000-01-01T00:00:00Z"),
        text("chrono's first year", "-262143-01-01T00:00:00Z"),
        text("chrono's last year", "+262142-12-31T23:59:59Z"),
        text("before PostgreSQL's first year", "-4714-01-01T00:00:00Z"),
        text("year 9999", "9999-12-31T23:59:59.999999999+14:00"),
        text("SQL", "' OR 1=1; --"),
        // Cursors are base64url JSON: one at chrono's first instant, one at i32::MIN.
        text(
            "forged cursor",
            "WyItMjYyMTQzLTAxLTAxVDAwOjAwOjAwWiIsIjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMCJd",
        ),
        text("forged cursor at i32::MIN", "LTIxNDc0ODM2NDg"),
        text("a UUID", "6f1c9a2e-0000-4000-8000-000000000000"),
    ]
}

/// JSON texts for one field of a body (text, so that escapes JSON values cannot hold fit).
fn hostile_json() -> Vec<(&'static str, String)> {
    let many_strings = format!("[{}]", vec!["\"x\""; 1000].join(","));
    let many_numbers = format!("[{}]", (0..1000).map(|i| i.to_string()).collect::<Vec<_>>().join(","));
    vec![
        ("empty string", r#""""#.to_owned()),
        ("10,000 characters", format!("\"{}\"", "a".repeat(LONG))),
        ("NUL", r#""a\u0000b""#.to_owned()),
        ("control characters", r#""\u0001\b\t\n\r\u001b\u007f""#.to_owned()),
        ("lone surrogate escape", r#""\ud800x""#.to_owned()),
        ("reversed surrogates", r#""\udc00\ud800""#.to_owned()),
        ("unicode", "\"Ωμέγα 😀 \u{202e}ﬁ \u{fffe}\"".to_owned()),
        ("i64::MAX", "9223372036854775807".to_owned()),
        ("i64::MIN", "-9223372036854775808".to_owned()),
        ("beyond u64", "18446744073709551616".to_owned()),
        ("beyond i32", "2147483648".to_owned()),
        ("negative", "-1".to_owned()),
        ("zero", "0".to_owned()),
        ("f64::MAX", "1.7976931348623157e308".to_owned()),
        ("-f64::MAX", "-1.7976931348623157e308".to_owned()),
        ("denormal", "5e-324".to_owned()),
        ("beyond f64", "1e400".to_owned()),
        ("fraction", "0.5".to_owned()),
        ("boolean", "true".to_owned()),
        ("null", "null".to_owned()),
        ("object", r#"{"nested": {"deeper": [1, "two", null, "\u0000"]}}"#.to_owned()),
        ("empty array", "[]".to_owned()),
        ("1,000 strings", many_strings),
        ("1,000 numbers", many_numbers),
        ("random UUID", "\"6f1c9a2e-0000-4000-8000-000000000000\"".to_owned()),
    ]
}

struct Fuzz<'a> {
    doc: &'a Value,
    ids: &'a Ids,
    /// Makes each generated email, username and idempotency key new.
    counter: u64,
}

impl Fuzz<'_> {
    fn cases(&mut self, op: &Operation<'_>) -> Vec<Case> {
        let secured = op.spec["security"].as_array().is_some_and(|s| !s.is_empty());
        let id = self.id_for(op.path);
        let path_with = |segment: &str| match op.path.split_once('{') {
            Some((head, rest)) => {
                format!("{head}{segment}{}", rest.split_once('}').map(|(_, t)| t).unwrap_or_default())
            }
            None => op.path.to_owned(),
        };
        let query: Vec<_> = op.params.iter().filter(|p| p["in"] == "query").copied().collect();
        let headers: Vec<_> = op.params.iter().filter(|p| p["in"] == "header").copied().collect();
        let plain = Case {
            label: "plausible, required parameters only".to_owned(),
            path: path_with(&id.to_string()),
            query: self.query(&query, true),
            headers: self.headers(&headers),
            body: op.body.map(|schema| ("application/json", self.object(schema, true, None).into_bytes())),
            auth: Auth::Caller,
        };
        let mut cases = Vec::new();
        let mut vary = |label: String, change: &dyn Fn(&mut Case)| {
            let mut case = Case { label, ..plain.clone() };
            change(&mut case);
            cases.push(case);
        };

        let full_query = self.query(&query, false);
        vary("plausible, every parameter".to_owned(), &|c| c.query = full_query.clone());
        if secured {
            vary("no token".to_owned(), &|c| c.auth = Auth::Absent);
            vary("a made-up token".to_owned(), &|c| c.auth = Auth::Header(b"Bearer sh_madeup".to_vec()));
            vary("10,000-character token".to_owned(), &|c| {
                c.auth = Auth::Header(format!("Bearer {}", "a".repeat(LONG)).into_bytes())
            });
            vary("non-UTF-8 token".to_owned(), &|c| {
                c.auth = Auth::Header(vec![b'B', b'e', b'a', b'r', b'e', b'r', b' ', 0xff])
            });
            vary("another scheme".to_owned(), &|c| c.auth = Auth::Header(b"Basic Zm9vOmJhcg==".to_vec()));
        }
        if op.path.contains('{') {
            let mut segments: Vec<(&str, String)> = hostile_text().into_iter().map(|(l, v)| (l, encode(&v))).collect();
            segments.push(("nil UUID", Uuid::nil().to_string()));
            segments.push(("upper-case id", id.to_string().to_uppercase()));
            segments.push(("id as a URN", format!("urn:uuid:{id}")));
            segments.push(("id in braces", encode(format!("{{{id}}}").as_bytes())));
            segments.push(("encoded slash", "a%2Fb".to_owned()));
            for (label, segment) in segments {
                vary(format!("path id: {label}"), &|c| c.path = path_with(&segment));
            }
        }
        for param in query.iter().chain(&headers) {
            let name = param["name"].as_str().expect("a name");
            let in_query = param["in"] == "query";
            for (label, value) in hostile_text() {
                if !in_query && value.iter().any(|&b| b < 0x20 || b == 0x7f) {
                    continue; // not a header value at all: no client can send it
                }
                vary(format!("{name}: {label}"), &|c| {
                    if in_query {
                        c.query.retain(|(n, _)| n != name);
                        c.query.push((name.to_owned(), encode(&value)));
                    } else {
                        c.headers = vec![(name.to_owned(), value.clone())];
                    }
                });
            }
        }
        if !query.is_empty() {
            vary("query: the same parameter twice".to_owned(), &|c| {
                let name = query[0]["name"].as_str().expect("a name").to_owned();
                c.query.push((name.clone(), "1".to_owned()));
                c.query.push((name, "2".to_owned()));
            });
            vary("query: unknown parameter and bare keys".to_owned(), &|c| {
                c.query.push(("unknown".to_owned(), "1".to_owned()));
                c.query.push(("%FF".to_owned(), String::new()));
            });
        }
        if let Some(schema) = op.body {
            let properties = schema["properties"].as_object().cloned().unwrap_or_default();
            for name in properties.keys() {
                for (label, value) in hostile_json() {
                    let body = self.object(schema, false, Some((name, Some(&value))));
                    vary(format!("{name}: {label}"), &|c| {
                        c.body = Some(("application/json", body.clone().into_bytes()))
                    });
                }
            }
            for name in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                let body = self.object(schema, false, Some((name, None)));
                vary(format!("{name} missing"), &|c| c.body = Some(("application/json", body.clone().into_bytes())));
            }
            let full = self.object(schema, false, None);
            let extra = format!("{{\"unexpected\": 1, {}", &full[1..]);
            let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
            let many = format!("[{}]", vec![full.as_str(); 1000].join(","));
            let bodies: Vec<(&str, &'static str, Vec<u8>)> = vec![
                ("every field", "application/json", full.clone().into_bytes()),
                ("an extra field", "application/json", extra.into_bytes()),
                ("an empty object", "application/json", b"{}".to_vec()),
                ("an array", "application/json", b"[]".to_vec()),
                ("1,000 objects", "application/json", many.into_bytes()),
                ("null", "application/json", b"null".to_vec()),
                ("a string", "application/json", b"\"text\"".to_vec()),
                ("truncated JSON", "application/json", full.as_bytes()[..full.len() / 2].to_vec()),
                ("trailing garbage", "application/json", format!("{full} }}").into_bytes()),
                ("invalid UTF-8", "application/json", [b"{\"a\": \"".as_slice(), &[0xff, 0xfe], b"\"}"].concat()),
                ("5,000 levels deep", "application/json", deep.into_bytes()),
                ("empty", "application/json", Vec::new()),
                ("no content type", "", full.clone().into_bytes()),
                ("text/plain", "text/plain", full.clone().into_bytes()),
                ("a form", "application/x-www-form-urlencoded", b"title=a&source_type=text".to_vec()),
                ("broken multipart", "multipart/form-data; boundary=x", b"--x\r\nnonsense".to_vec()),
                ("JSON in another charset", "application/json; charset=utf-16", full.clone().into_bytes()),
                ("nearly JSON", "application/jsonx", full.into_bytes()),
            ];
            for (label, content_type, bytes) in bodies {
                vary(format!("body: {label}"), &|c| c.body = Some((content_type, bytes.clone())));
            }
        }
        // A new idempotency key each time, unless the key is what is being varied.
        for case in cases.iter_mut().filter(|case| !headers.is_empty() && case.headers == plain.headers) {
            case.headers = self.headers(&headers);
        }
        cases.insert(0, plain);
        cases
    }

    /// The caller's object a path's `{id}` names, by the collection it is in.
    fn id_for(&self, path: &str) -> Uuid {
        let ids = self.ids;
        [
            ("/materials/", ids.material),
            ("/assets/", ids.asset),
            ("/sessions/", ids.session),
            ("/admin/jobs/", ids.failed_job),
            ("/jobs/", ids.job),
            ("/invitations/", ids.invitation),
            ("/admin/users/", ids.account),
        ]
        .into_iter()
        .find(|(collection, _)| path.contains(collection))
        .map_or(Uuid::nil(), |(_, id)| id)
    }

    fn query(&mut self, params: &[&Value], required_only: bool) -> Vec<(String, String)> {
        let mut query = Vec::new();
        for param in params.iter().filter(|p| !required_only || p["required"] == true) {
            let name = param["name"].as_str().expect("a name");
            let value = match self.plausible(name, &param["schema"], &param["description"]) {
                Value::String(text) => text,
                other => other.to_string(),
            };
            query.push((name.to_owned(), encode(value.as_bytes())));
        }
        query
    }

    fn headers(&mut self, params: &[&Value]) -> Vec<(String, Vec<u8>)> {
        params
            .iter()
            .map(|p| {
                self.counter += 1;
                (p["name"].as_str().expect("a name").to_owned(), format!("key-{}", self.counter).into_bytes())
            })
            .collect()
    }

    /// A JSON object for `schema` (required fields, or all), as text; `field`, if given,
    /// is set to a JSON text or left out.
    fn object(&mut self, schema: &Value, required_only: bool, field: Option<(&str, Option<&String>)>) -> String {
        let required: Vec<_> = schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let mut members = Vec::new();
        for (name, property) in schema["properties"].as_object().into_iter().flatten() {
            let value = match field {
                Some((target, replacement)) if target == name => match replacement {
                    Some(text) => text.clone(),
                    None => continue,
                },
                _ if required_only && !required.contains(&name.as_str()) => continue,
                _ => self.plausible(name, property, &property["description"]).to_string(),
            };
            members.push(format!("{}: {value}", Value::from(name.as_str())));
        }
        format!("{{{}}}", members.join(", "))
    }

    /// A value a careful client might send for field `name`.
    fn plausible(&mut self, name: &str, schema: &Value, description: &Value) -> Value {
        let schema = resolve(self.doc, schema);
        let ids = self.ids;
        if let Some(first) = schema["enum"].get(0) {
            return first.clone();
        }
        // Descriptions list the accepted words as `code`: the first one will do.
        let listed = description.as_str().and_then(|d| d.split('`').nth(1)).filter(|w| !w.contains(['{', ' ']));
        match kind(schema) {
            // An answer to a flashcard (the fuzzed asset is one).
            "object" if name == "interaction_data" => json!({"rating": 3}),
            "object" if schema["properties"].is_object() => {
                serde_json::from_str(&self.object(schema, false, None)).expect("a JSON object")
            }
            "object" | "any" => json!({}),
            "array" => json!([self.plausible(name, &schema["items"], description)]),
            "integer" => json!(schema["minimum"].as_i64().unwrap_or(1).max(1)),
            "number" => json!(0.5),
            "boolean" => json!(true),
            _ => {
                self.counter += 1;
                let n = self.counter;
                Value::String(match (name, schema["format"].as_str()) {
                    (_, Some("uuid")) => {
                        let id = [
                            ("material", ids.material),
                            ("asset", ids.asset),
                            ("session", ids.session),
                            ("user", ids.user),
                            ("interaction", ids.interaction),
                        ]
                        .into_iter()
                        .find(|(word, _)| name.contains(word))
                        .map_or(Uuid::from_u128(u128::from(n)), |(_, id)| id);
                        id.to_string()
                    }
                    (_, Some("date-time")) => "2026-01-01T00:00:00Z".to_owned(),
                    ("email", _) => format!("fuzz{n}@example.org"),
                    ("username", _) => format!("fuzz{n}"),
                    ("login", _) => "fuzz".to_owned(),
                    ("password" | "new_password", _) => PASSWORD.to_owned(),
                    ("token", _) => ids.reset.clone(),
                    // Only materials of source_type url have one.
                    ("source_url", _) => return Value::Null,
                    // Never the real one: a password change would sign the caller out.
                    ("current_password", _) => "not the password at all".to_owned(),
                    (_, _) if name.ends_with("url") => "https://example.org/picture.png".to_owned(),
                    _ => listed.unwrap_or("cells").to_owned(),
                })
            }
        }
    }
}
