//! Keyset pagination: `?limit=` (default 50, at most 200) and an opaque `?cursor=`;
//! responses are `{"items": [...], "next_cursor": null | "..."}`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use crate::error::{Error, Result};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// Where a row stands in a newest-first list: (created_at, id), the sort key of every
/// such list.
pub type Newest = (chrono::DateTime<chrono::Utc>, uuid::Uuid);

/// A page of a list, newest first.
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The sort key of a list, as a cursor holds it. A cursor comes back from the client, who
/// can write anything in it: a key out of range is refused like any made-up cursor.
pub trait Key: DeserializeOwned {
    fn in_range(&self) -> bool;
}

impl Key for i32 {
    fn in_range(&self) -> bool {
        true
    }
}

impl Key for Newest {
    fn in_range(&self) -> bool {
        crate::validate::instant_in_range(&self.0)
    }
}

/// Validated `limit` and `cursor` query parameters. A cursor is the sort key of the last
/// row of the previous page (such as `(created_at, id)`), as base64url JSON.
pub fn params<K: Key>(limit: Option<u32>, cursor: Option<&str>) -> Result<(u32, Option<K>)> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::invalid("limit", format!("must be between 1 and {MAX_LIMIT}")));
    }
    let cursor = match cursor {
        Some(text) => Some(decode(text).ok_or_else(|| Error::invalid("cursor", "is not a cursor this server gave"))?),
        None => None,
    };
    Ok((limit, cursor))
}

fn encode<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).expect("a sort key serializes"))
}

fn decode<K: Key>(text: &str) -> Option<K> {
    serde_json::from_slice::<K>(&URL_SAFE_NO_PAD.decode(text).ok()?).ok().filter(Key::in_range)
}

impl<T> Page<T> {
    /// A page from rows fetched with `LIMIT limit + 1`: the extra row only tells that
    /// there is a next page.
    pub fn from_rows<K: Serialize>(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> K) -> Page<T> {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = if more { rows.last().map(|row| encode(&key(row))) } else { None };
        Page { items: rows, next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use uuid::Uuid;

    use super::*;

    #[test]
    fn cursors_round_trip_and_bad_ones_are_refused() {
        let key: Newest = (Utc::now(), Uuid::new_v4());
        assert_eq!(params::<Newest>(None, Some(&encode(&key))).expect("valid").1, Some(key));
        assert!(params::<Newest>(None, Some("not-a-cursor")).is_err());
        assert!(params::<Newest>(Some(0), None).is_err());
        assert!(params::<Newest>(Some(201), None).is_err());
        assert_eq!(params::<Newest>(None, None).expect("valid").0, DEFAULT_LIMIT);
        // Before PostgreSQL's first timestamp: refused here, not by the database.
        let ancient: DateTime<Utc> = "-262143-01-01T00:00:00Z".parse().expect("chrono's first year");
        assert!(params::<Newest>(None, Some(&encode(&(ancient, Uuid::nil())))).is_err());
    }

    #[test]
    fn a_page_has_a_cursor_only_when_rows_remain() {
        let page = Page::from_rows(vec![3, 2, 1], 2, |n| *n);
        assert_eq!(page.items, vec![3, 2]);
        assert_eq!(decode::<i32>(page.next_cursor.as_deref().expect("a cursor")), Some(2));
        assert_eq!(Page::from_rows(vec![3, 2], 2, |n| *n).next_cursor, None);
    }
}
