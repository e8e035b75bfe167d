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
    #[error("invalid input: {0:?}")]
    Validation(Vec<FieldError>),

    /// No such object, or it belongs to someone else: the two are indistinguishable.
    #[error("not found")]
    NotFound,

    /// A dependency cannot serve right now (database down, migrations pending).
    #[error("unavailable: {0}")]
    Unavailable(String),

    #[error("database: {0}")]
    Database(#[from] sqlx::Error),

    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),

    /// Starting, running or stopping the embedded PostgreSQL cluster failed.
    #[error("{0}")]
    Embedded(String),

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Wraps an I/O error with what was being done, for a message an operator can act on.
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::NotFound | Error::Database(sqlx::Error::RowNotFound) => StatusCode::NOT_FOUND,
            Error::Unavailable(_)
            | Error::Database(
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_),
            ) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Database(_) | Error::Migrate(_) | Error::Embedded(_) | Error::Io { .. } => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's name as the client sent it (dotted for nested fields).
    pub field: String,
    /// Why it was refused.
    pub message: String,
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
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let detail = match &self {
            Error::BadRequest(message) => Some(message.clone()),
            Error::Validation(_) => Some("The request has invalid fields.".to_owned()),
            Error::NotFound => None,
            Error::Unavailable(reason) => Some(reason.clone()),
            _ if status == StatusCode::SERVICE_UNAVAILABLE => {
                tracing::warn!(error = %self, "dependency unavailable");
                Some("The database is unavailable; try again shortly.".to_owned())
            }
            _ => {
                tracing::error!(error = %self, "request failed");
                None
            }
        };
        let mut problem = Problem::new(status, detail);
        if let Error::Validation(errors) = self {
            problem.errors = errors;
        }
        problem.into_response()
    }
}
