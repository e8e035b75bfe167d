//! A client for an OpenAI-compatible `/chat/completions` endpoint that asks for JSON: in
//! the strictest response format the server accepts (a JSON schema, else a JSON object,
//! else the prompt alone), with a timeout per request, and retries with backoff when the
//! endpoint fails, is too slow or answers something the caller cannot use.
//!
//! A leaf (it imports only the settings, the error type and the TLS setup), so that the
//! state can hold a client without importing the generators that use it.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use url::Url;

use crate::config::LlmConfig;
use crate::error::{Error, Result};

/// How the answer's JSON is asked for, strictest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Format {
    /// `response_format: {"type": "json_schema", ...}` (OpenAI, vLLM, llama.cpp, Ollama).
    JsonSchema = 0,
    /// `response_format: {"type": "json_object"}`, the schema in the prompt.
    JsonObject = 1,
    /// No `response_format`: the prompt alone asks for JSON.
    Prompt = 2,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::JsonSchema => "json_schema",
            Format::JsonObject => "json_object",
            Format::Prompt => "prompt",
        }
    }

    fn from_u8(value: u8) -> Format {
        match value {
            0 => Format::JsonSchema,
            1 => Format::JsonObject,
            _ => Format::Prompt,
        }
    }
}

/// Tokens one request used, as the endpoint counted them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
}

/// One question: the messages, and the JSON schema its answer must fit.
pub struct Ask<'a> {
    pub system: &'a str,
    pub user: &'a str,
    /// A name for the schema (`[a-zA-Z0-9_-]`), as `json_schema` wants one.
    pub schema_name: &'a str,
    pub schema: &'a Value,
}

/// A usable answer.
pub struct Answer<T> {
    pub value: T,
    /// The model that answered, as the endpoint names it.
    pub model: String,
    pub usage: Usage,
    pub format: Format,
}

/// The configured endpoint. One per process: it remembers which response format the
/// server accepts, so that a refusal costs one request, not one per question.
pub struct Chat {
    http: reqwest::Client,
    endpoint: Url,
    /// `host:port`, for messages: the URL itself may hold credentials.
    host: String,
    model: String,
    api_key: Option<HeaderValue>,
    attempts: u32,
    backoff: Duration,
    timeout: Duration,
    concurrency: usize,
    format: AtomicU8,
}

/// Why one try failed.
enum Failure {
    /// The server refused the response format (a 400 or 422 that names it): try the next
    /// one, without counting a try.
    FormatRefused,
    /// Worth another try: a timeout, a network failure, 429 or 5xx, malformed output.
    Retry(String),
    /// Another try cannot help (a refused key, no such model or endpoint).
    Fatal(String),
}

impl Chat {
    /// The endpoint `config` names; None when no base URL is set.
    pub fn new(config: &LlmConfig) -> Result<Option<Chat>> {
        let Some(base) = &config.base_url else { return Ok(None) };
        let model = config.model.clone().filter(|m| !m.trim().is_empty()).ok_or_else(|| {
            Error::Config("STUDYHALL_LLM_MODEL must name a model when STUDYHALL_LLM_BASE_URL is set".to_owned())
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(Error::Config("STUDYHALL_LLM_BASE_URL must be an http or https URL".to_owned()));
        }
        let mut endpoint = base.clone();
        if endpoint.path() == "/" {
            endpoint.set_path("/v1/");
        } else if !endpoint.path().ends_with('/') {
            endpoint.set_path(&format!("{}/", endpoint.path()));
        }
        let endpoint = endpoint.join("chat/completions").expect("a relative path joins any http URL");
        let host = endpoint.host_str().unwrap_or_default();
        let host = endpoint.port().map_or_else(|| host.to_owned(), |port| format!("{host}:{port}"));
        let api_key = match config.api_key.as_deref().filter(|k| !k.is_empty()) {
            Some(key) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {key}"))
                    .map_err(|_| Error::Config("STUDYHALL_LLM_API_KEY holds characters a header cannot".to_owned()))?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        crate::tls::install_provider();
        let http = reqwest::Client::builder()
            .timeout(config.timeout())
            .connect_timeout(config.timeout().min(Duration::from_secs(10)))
            .build()
            .map_err(Error::failed("cannot make an HTTP client for the LLM endpoint"))?;
        Ok(Some(Chat {
            http,
            endpoint,
            host,
            model,
            api_key,
            attempts: config.attempts.max(1),
            backoff: config.backoff(),
            timeout: config.timeout(),
            concurrency: config.concurrency.max(1) as usize,
            format: AtomicU8::new(Format::JsonSchema as u8),
        }))
    }

    /// The configured model.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Requests one job may have in flight at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Asks, until `check` accepts the answer's JSON (it says why when it does not) or
    /// the tries run out: then an [`Error::Upstream`] that says what went wrong.
    pub async fn ask<T>(&self, ask: &Ask<'_>, check: impl Fn(Value) -> Result<T, String>) -> Result<Answer<T>> {
        let mut tries = 0;
        loop {
            let format = Format::from_u8(self.format.load(Ordering::Relaxed));
            let failure = match self.once(ask, format).await {
                Ok((content, model, usage)) => match json_in(&content).and_then(&check) {
                    Ok(value) => return Ok(Answer { value, model, usage, format }),
                    Err(why) => Failure::Retry(format!("its answer was unusable: {why}")),
                },
                Err(failure) => failure,
            };
            let why = match failure {
                Failure::FormatRefused => {
                    tracing::info!(
                        refused = format.name(),
                        "the LLM endpoint refused a response format; trying the next"
                    );
                    let _ = self.format.compare_exchange(
                        format as u8,
                        format as u8 + 1,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    );
                    continue;
                }
                Failure::Fatal(why) => {
                    return Err(Error::Upstream(format!("The language model at {} {why}", self.host)));
                }
                Failure::Retry(why) => why,
            };
            tries += 1;
            if tries >= self.attempts {
                return Err(Error::Upstream(format!(
                    "The language model at {} failed {tries} time(s); the last time {why}",
                    self.host
                )));
            }
            let wait = self.backoff * 2u32.pow(tries - 1);
            tracing::warn!(try_ = tries, reason = %why, wait_ms = wait.as_millis() as u64, "LLM request failed; retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// One request: the answer's text, the model that wrote it, and the tokens used.
    async fn once(&self, ask: &Ask<'_>, format: Format) -> Result<(String, String, Usage), Failure> {
        let mut body = json!({
            "model": self.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": ask.system},
                {"role": "user", "content": ask.user},
            ],
        });
        match format {
            Format::JsonSchema => {
                body["response_format"] = json!({"type": "json_schema", "json_schema": {
                    "name": ask.schema_name, "strict": true, "schema": ask.schema,
                }});
            }
            Format::JsonObject => body["response_format"] = json!({"type": "json_object"}),
            Format::Prompt => {}
        }
        let mut request = self
            .http
            .post(self.endpoint.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(&body).expect("JSON values serialize"));
        if let Some(key) = &self.api_key {
            request = request.header(AUTHORIZATION, key.clone());
        }
        let response = request.send().await.map_err(|err| self.network(&err))?;
        let status = response.status();
        if !status.is_success() {
            // Read only to recognise a refused response format: bodies are never shown or
            // logged (some echo part of the API key).
            let refused_format = matches!(status, StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY)
                && format != Format::Prompt
                && response.text().await.is_ok_and(|body| {
                    let body = body.to_lowercase();
                    ["response_format", "json_schema", "json_object"].iter().any(|word| body.contains(word))
                });
            return Err(match status {
                _ if refused_format => Failure::FormatRefused,
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    Failure::Fatal(format!("refused the API key ({status}): check STUDYHALL_LLM_API_KEY"))
                }
                StatusCode::NOT_FOUND => Failure::Fatal(format!(
                    "answered {status}: check STUDYHALL_LLM_BASE_URL and STUDYHALL_LLM_MODEL ({})",
                    self.model
                )),
                StatusCode::REQUEST_TIMEOUT | StatusCode::CONFLICT | StatusCode::TOO_MANY_REQUESTS => {
                    Failure::Retry(format!("answered {status}"))
                }
                _ if status.is_server_error() => Failure::Retry(format!("answered {status}")),
                _ => Failure::Fatal(format!("answered {status}")),
            });
        }
        let bytes = response.bytes().await.map_err(|err| self.network(&err))?;
        let completion: Completion = serde_json::from_slice(&bytes)
            .map_err(|err| Failure::Retry(format!("its answer was not a chat completion: {err}")))?;
        let choice = completion.choices.into_iter().next();
        if choice.as_ref().and_then(|c| c.finish_reason.as_deref()) == Some("length") {
            return Err(Failure::Retry("its answer was cut off at the token limit".to_owned()));
        }
        let content = choice
            .and_then(|c| c.message.content)
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| Failure::Retry("its answer was empty".to_owned()))?;
        let model = completion.model.filter(|m| !m.is_empty()).unwrap_or_else(|| self.model.clone());
        Ok((content, model, completion.usage.unwrap_or_default()))
    }

    fn network(&self, err: &reqwest::Error) -> Failure {
        Failure::Retry(if err.is_timeout() {
            format!("did not answer within {} s", self.timeout.as_secs())
        } else if err.is_connect() {
            "could not be reached".to_owned()
        } else {
            "broke off the connection".to_owned()
        })
    }
}

#[derive(Deserialize)]
struct Completion {
    model: Option<String>,
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    content: Option<String>,
}

/// The JSON object in a model's answer: the whole text, or (from models that wrap it in
/// prose or a Markdown fence) the span from the first `{` to the last `}`.
fn json_in(content: &str) -> Result<Value, String> {
    let content = content.trim();
    let span = match (content.find('{'), content.rfind('}')) {
        (Some(start), Some(end)) if start < end => &content[start..=end],
        _ => content,
    };
    match serde_json::from_str::<Value>(span) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err("it is JSON but not an object".to_owned()),
        Err(err) => Err(format!("it is not JSON ({err})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_found_in_fences_and_prose() {
        assert_eq!(json_in("{\"a\": 1}"), Ok(json!({"a": 1})));
        assert_eq!(json_in("Here you go:\n```json\n{\"a\": [1]}\n```"), Ok(json!({"a": [1]})));
        assert!(json_in("[1, 2]").is_err());
        assert!(json_in("Sure! {flashcards: [oops").unwrap_err().contains("not JSON"));
    }

    fn config(base: &str, model: Option<&str>) -> LlmConfig {
        LlmConfig {
            base_url: Some(base.parse().expect("a URL")),
            model: model.map(str::to_owned),
            api_key: None,
            timeout_secs: 1,
            attempts: 1,
            backoff_ms: 1,
            concurrency: 1,
        }
    }

    #[test]
    fn the_endpoint_is_the_base_url_as_openai_clients_take_it() {
        let endpoint = |base: &str| Chat::new(&config(base, Some("m"))).expect("valid").expect("set").endpoint;
        assert_eq!(endpoint("https://api.openai.com/v1").as_str(), "https://api.openai.com/v1/chat/completions");
        assert_eq!(endpoint("http://127.0.0.1:11434/v1/").as_str(), "http://127.0.0.1:11434/v1/chat/completions");
        assert_eq!(endpoint("http://127.0.0.1:8000").as_str(), "http://127.0.0.1:8000/v1/chat/completions");
        assert!(Chat::new(&config("http://127.0.0.1:8000", None)).is_err(), "a model is required");
        assert!(Chat::new(&config("ftp://example.org", Some("m"))).is_err());
    }
}
