//! Keyset pagination: `?limit=` (default 50, at most 200) and an opaque `?cursor=`;
//! responses are `{"items": [...], "next_cursor": null | "..."}`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{Error, FieldError, Result};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// A page of a list, newest first.
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The position after the last row of a page ordered by (timestamp, id) descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

impl Cursor {
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.at.to_rfc3339(), self.id))
    }

    fn decode(text: &str) -> Option<Cursor> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (at, id) = text.split_once('|')?;
        Some(Cursor { at: DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc), id: id.parse().ok()? })
    }
}

/// Validated `limit` and `cursor` query parameters.
pub fn params(limit: Option<u32>, cursor: Option<&str>) -> Result<(u32, Option<Cursor>)> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(invalid("limit", format!("must be between 1 and {MAX_LIMIT}")));
    }
    let cursor = match cursor {
        Some(text) => Some(Cursor::decode(text).ok_or_else(|| invalid("cursor", "is not a cursor this server gave"))?),
        None => None,
    };
    Ok((limit, cursor))
}

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::Validation(vec![FieldError { field: field.to_owned(), message: message.into() }])
}

impl<T> Page<T> {
    /// A page from rows fetched with `LIMIT limit + 1`: the extra row only tells that
    /// there is a next page.
    pub fn from_rows(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> Cursor) -> Page<T> {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = if more { rows.last().map(|row| key(row).encode()) } else { None };
        Page { items: rows, next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_bad_ones_are_refused() {
        let cursor = Cursor { at: Utc::now(), id: Uuid::new_v4() };
        assert_eq!(params(None, Some(&cursor.encode())).expect("valid").1, Some(cursor));
        assert!(params(None, Some("not-a-cursor")).is_err());
        assert!(params(Some(0), None).is_err());
        assert!(params(Some(201), None).is_err());
        assert_eq!(params(None, None).expect("valid").0, DEFAULT_LIMIT);
    }

    #[test]
    fn a_page_has_a_cursor_only_when_rows_remain() {
        let key = |n: &u32| Cursor { at: DateTime::from_timestamp(i64::from(*n), 0).expect("a time"), id: Uuid::nil() };
        let page = Page::from_rows(vec![3, 2, 1], 2, key);
        assert_eq!(page.items, vec![3, 2]);
        assert_eq!(Cursor::decode(page.next_cursor.as_deref().expect("a cursor")), Some(key(&2)));
        assert_eq!(Page::from_rows(vec![3, 2], 2, key).next_cursor, None);
    }
}
