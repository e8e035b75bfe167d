//! The one error type of studyhall, and its rendering as RFC 9457 problem details.
//!
//! Client errors carry a message meant for the client. Server errors are logged in full
//! and answered with a generic body: SQL, paths and internals never reach a response.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request could not be read (malformed JSON, a bad query string).
    #[error("{0}")]
    BadRequest(String),

    /// The request was read but some fields are invalid.
    #[error("invalid input: {}", describe(.0))]
    Validation(Vec<FieldError>),

    /// No such object, or it belongs to someone else: the two are indistinguishable.
    /// Only a handler says so (`fetch_optional(..)?.ok_or(Error::NotFound)`): a
    /// `fetch_one` that finds no row is a bug, answered 500.
    #[error("not found")]
    NotFound,

    /// Missing, invalid, expired or revoked credentials.
    #[error("{0}")]
    Unauthorized(&'static str),

    /// The server's policy refuses this to everyone (sign-up while it is closed); the
    /// message says why and what to do instead.
    #[error("{0}")]
    Forbidden(&'static str),

    /// The request conflicts with existing data (a taken email or username).
    #[error("{} {}", .0.field, .0.message)]
    Conflict(FieldError),

    /// The body is larger than the configured limit.
    #[error("the request body is too large")]
    PayloadTooLarge,

    /// The body is not JSON (or another accepted type).
    #[error("{0}")]
    UnsupportedMediaType(String),

    /// Too many attempts; the client may try again after this many seconds.
    #[error("too many attempts; retry after {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },

    /// A dependency cannot serve right now (database down, migrations pending).
    #[error("unavailable: {0}")]
    Unavailable(String),

    /// A service outside studyhall (a language model's endpoint) failed, or answered
    /// with something unusable; the message says which and why, and is safe to show.
    #[error("{0}")]
    Upstream(String),

    #[error("database: {0}")]
    Database(#[from] sqlx::Error),

    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),

    /// A setting is wrong or the environment does not fit it; says what to change.
    #[error("{0}")]
    Config(String),

    /// Starting, running or stopping the embedded PostgreSQL cluster failed.
    #[error("{0}")]
    Embedded(String),

    /// A bug or an impossible state: logged, answered 500.
    #[error("{0}")]
    Internal(String),

    /// Something failed that should not have: what was being done, and the error that
    /// made it fail, kept as the source. Logged, answered 500.
    #[error("{context}: {source}")]
    Failed {
        context: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// 422 naming one invalid field and why: `Error::invalid("title", "must not be empty")`.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::Validation(vec![FieldError::new(field, reason)])
    }

    /// 409 naming the field that conflicts with existing data, and how.
    pub fn conflict(field: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::Conflict(FieldError::new(field, reason))
    }

    /// The fields a validation or a conflict names (none for other errors): a
    /// problem's `errors`, a form's messages.
    pub fn into_fields(self) -> Vec<FieldError> {
        match self {
            Error::Validation(errors) => errors,
            Error::Conflict(error) => vec![error],
            _ => Vec::new(),
        }
    }

    /// Wraps an I/O error with what was being done, for a message an operator can act on.
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }

    /// Wraps any error with what was being done (a 500 that keeps its source):
    /// `.map_err(Error::failed("reading a job's payload"))`.
    pub fn failed<E: Into<Box<dyn std::error::Error + Send + Sync>>>(
        context: impl Into<String>,
    ) -> impl FnOnce(E) -> Error {
        let context = context.into();
        move |source| Error::Failed { context, source: source.into() }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Error::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Upstream(_) => StatusCode::BAD_GATEWAY,
            Error::Unavailable(_)
            | Error::Database(
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_),
            ) => StatusCode::SERVICE_UNAVAILABLE,
            // The server is shutting down, starting up or restarting (class 57), or the
            // connection broke (class 08): worth a retry shortly.
            Error::Database(sqlx::Error::Database(db))
                if db.code().is_some_and(|code| code.starts_with("57P") || code.starts_with("08")) =>
            {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Error::Database(error) if refused_input(error) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Database(_)
            | Error::Migrate(_)
            | Error::Config(_)
            | Error::Embedded(_)
            | Error::Internal(_)
            | Error::Failed { .. }
            | Error::Io { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Data exceptions (SQLSTATE class 22) that only a request's values cause: a NUL in text
/// (22021) or jsonb (22P05), a string too long (22001), a number out of range (22003),
/// text that is no number or date (22P02, 22007, 22008). Validation should have refused
/// them first; if it missed one, the client hears so, not a 500.
fn refused_input(error: &sqlx::Error) -> bool {
    let code = error.as_database_error().and_then(|e| e.code());
    code.is_some_and(|code| matches!(&*code, "22021" | "22P05" | "22001" | "22003" | "22P02" | "22007" | "22008"))
}

/// The client's message for values the database refused.
const UNSTORABLE: &str = "The request contains characters or values that cannot be stored.";

/// "email is not a valid email address; username must be 3 to 50 characters"
fn describe(errors: &[FieldError]) -> String {
    errors.iter().map(|e| format!("{} {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's name as the client sent it (dotted for nested fields).
    pub field: String,
    /// Why it was refused.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into() }
    }
}

/// Field errors for the database's constraints, named at the call site (as
/// realworld-axum-sqlx's `on_constraint`): the statement that can violate a constraint
/// says what the violation means to the client.
pub trait OnConstraint<T> {
    /// A violation of any of the constraints (or unique indexes) `names` becomes
    /// `error()`; any other result passes.
    fn on_constraint(self, names: &[&str], error: impl FnOnce() -> Error) -> Result<T>;
}

impl<T, E: Into<Error>> OnConstraint<T> for std::result::Result<T, E> {
    fn on_constraint(self, names: &[&str], error: impl FnOnce() -> Error) -> Result<T> {
        self.map_err(|e| match e.into() {
            Error::Database(db)
                if db.as_database_error().and_then(|d| d.constraint()).is_some_and(|name| names.contains(&name)) =>
            {
                error()
            }
            other => other,
        })
    }
}

/// An RFC 9457 problem details body (`application/problem+json`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; `about:blank` when the status says it all.
    #[serde(rename = "type")]
    pub kind: String,
    /// The status code's reason phrase.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The invalid fields, for validation problems; empty otherwise.
    pub errors: Vec<FieldError>,
}

pub const PROBLEM_JSON: &str = "application/problem+json";

impl Problem {
    pub fn new(status: StatusCode, detail: Option<String>) -> Self {
        Problem {
            kind: "about:blank".to_owned(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            errors: Vec::new(),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).expect("a problem always serializes");
        let mut response = (status, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

impl Error {
    /// What the client is told went wrong: the message of a client error; for a server
    /// error only that the database is unavailable, or nothing (details go to the log
    /// only). Audit rows record this too.
    pub fn client_message(&self) -> Option<String> {
        match self {
            Error::BadRequest(message)
            | Error::Unavailable(message)
            | Error::UnsupportedMediaType(message)
            | Error::Upstream(message) => Some(message.clone()),
            Error::Validation(errors) => {
                Some(format!("Invalid {}.", errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>().join(", ")))
            }
            Error::Conflict(error) => Some(format!("{} {}", error.field, error.message)),
            Error::Unauthorized(message) | Error::Forbidden(message) => Some((*message).to_owned()),
            Error::TooManyRequests { retry_after_secs } => {
                Some(format!("Too many attempts; try again in {retry_after_secs} seconds."))
            }
            Error::PayloadTooLarge => Some("The request body is larger than this server accepts.".to_owned()),
            Error::NotFound => None,
            Error::Database(error) if refused_input(error) => Some(UNSTORABLE.to_owned()),
            _ if self.status() == StatusCode::SERVICE_UNAVAILABLE => {
                Some("The database is unavailable; try again shortly.".to_owned())
            }
            _ => None,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if matches!(self, Error::Database(sqlx::Error::PoolTimedOut)) {
            // Requests that waited for a connection in vain: the pool is too small or stuck.
            metrics::counter!("studyhall_db_pool_timeouts_total").increment(1);
        }
        if status == StatusCode::SERVICE_UNAVAILABLE && !matches!(self, Error::Unavailable(_)) {
            tracing::warn!(error = %self, "dependency unavailable");
        } else if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else if matches!(&self, Error::Database(error) if refused_input(error)) {
            // A value validation let through: worth fixing there.
            tracing::warn!(error = %self, "the database refused a request's value");
        }
        let mut problem = Problem::new(status, self.client_message());
        let retry_after = match &self {
            Error::TooManyRequests { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        problem.errors = self.into_fields();
        let mut response = problem.into_response();
        if let Some(secs) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
