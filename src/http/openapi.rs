//! The OpenAPI document, finished: the error statuses every operation can answer by
//! construction (from its extractors and the middleware), each with its problem+json
//! body, and what valid OpenAPI needs that the handlers' attributes leave out.

use std::collections::HashMap;

use axum::http::StatusCode;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::Response;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Content, Header, OpenApi, Ref, RefOr, Type};
use utoipa::{Modify, ToSchema};

use crate::error::{PROBLEM_JSON, Problem};

/// Finishes the document once every route's operations are in it: adds to each
/// operation the error statuses that follow from what it takes (keeping those a handler
/// declared itself, and their descriptions), and makes it valid OpenAPI where the
/// handlers' attributes leave it short (descriptions, unique operation ids).
pub struct FinishDocument;

impl Modify for FinishDocument {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut schemas = vec![(Problem::name().into_owned(), <Problem as utoipa::PartialSchema>::schema())];
        Problem::schemas(&mut schemas);
        for (name, schema) in schemas {
            components.schemas.entry(name).or_insert(schema);
        }
        let mut ids = HashMap::<String, usize>::new();
        for (_, operation) in operations(openapi) {
            *ids.entry(operation.operation_id.clone().unwrap_or_default()).or_default() += 1;
        }
        let bearer = SecurityRequirement::new("bearer", Vec::<String>::new());
        for (by_id, operation) in operations(openapi) {
            // Handlers in different modules share names (`get`, `list`): the tag tells them apart.
            if let (Some(id), Some(tag)) = (&operation.operation_id, operation.tags.iter().flatten().next())
                && ids[id] > 1
            {
                operation.operation_id = Some(format!("{tag}_{id}"));
            }
            let secured = operation.security.as_ref().is_some_and(|s| s.contains(&bearer));
            declare(operation, by_id, secured);
        }
    }
}

/// Every operation, and whether its path names an object by id.
fn operations(openapi: &mut OpenApi) -> impl Iterator<Item = (bool, &mut Operation)> {
    openapi.paths.paths.iter_mut().flat_map(|(path, item)| {
        let by_id = path.contains('{');
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
            &mut item.query,
        ]
        .into_iter()
        .flatten()
        .chain(item.additional_operations.values_mut())
        .map(move |operation| (by_id, operation))
    })
}

fn declare(operation: &mut Operation, by_id: bool, secured: bool) {
    let has_query = operation.parameters.iter().flatten().any(|parameter| match parameter {
        RefOr::T(parameter) => parameter.parameter_in == ParameterIn::Query,
        RefOr::Ref(_) => false,
    });
    let has_body = operation.request_body.is_some();
    let applies = [
        (
            400,
            has_query || has_body || by_id,
            "The request could not be read: malformed JSON, or a query string or path parameter of the wrong form",
        ),
        (401, secured, "Missing, invalid, expired or revoked credentials"),
        (404, by_id, "No such object, or it belongs to someone else"),
        (413, has_body, "The body is larger than this server accepts"),
        (415, has_body, "The body is not JSON (send Content-Type: application/json)"),
        (422, has_query || has_body, "Invalid fields: `errors` names each field and why"),
        (500, true, "A server error: the details are logged, not sent"),
        (503, true, "The database is unavailable or the request took too long; retry after Retry-After seconds"),
    ];
    let responses = &mut operation.responses.responses;
    for (status, _, description) in applies.into_iter().filter(|(_, applies, _)| *applies) {
        responses.entry(status.to_string()).or_insert_with(|| RefOr::T(Response::new(description)));
    }
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else { continue };
        // OpenAPI requires a description; a handler's `(status = 200, body = T)` has none.
        if response.description.is_empty() {
            let reason = status.parse().ok().and_then(|s| StatusCode::from_u16(s).ok()?.canonical_reason());
            response.description = reason.unwrap_or("The answer").to_owned();
        }
        if status.starts_with(['4', '5']) {
            problem_body(status, response);
        }
    }
}

/// Every error is answered as problem+json (whatever content type a handler's
/// declaration defaulted to); 429 and 503 say when to retry.
fn problem_body(status: &str, response: &mut Response) {
    response.content.clear();
    response.content.insert(PROBLEM_JSON.to_owned(), Content::new(Some(Ref::from_schema_name(Problem::name()))).into());
    let header = |kind: Type, description: &str| {
        let mut header = Header::new(utoipa::openapi::ObjectBuilder::new().schema_type(kind));
        header.description = Some(description.to_owned());
        RefOr::T(header)
    };
    if matches!(status, "429" | "503") {
        response
            .headers
            .entry("Retry-After".to_owned())
            .or_insert_with(|| header(Type::Integer, "Seconds to wait before retrying"));
    }
    if status == "401" {
        response.headers.entry("WWW-Authenticate".to_owned()).or_insert_with(|| header(Type::String, "Bearer"));
    }
}
