//! GET /api/v1/search: ranked full-text search over the caller's materials (title,
//! tags, description) and chunks (content), with highlighted snippets.

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::db::tenant;
use crate::error::{Problem, Result};
use crate::http::auth::AuthUser;
use crate::validate::Validator;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

/// The search: $1 the user, $2 the query text, $3 the limit. Materials are matched
/// through the user's rows, by their words or by a title like the query (pg_trgm, so a
/// typo still finds them); chunks through `studyhall_search_chunks` and its GIN index
/// (see migration 0009 for why chunks need it). Snippets, which read the whole text, are
/// made only for the page of results, from the text with its characters $4 replaced by
/// those of $5 (or removed, past its end) and with the options $6 (see [`Snippets`]).
pub const SEARCH_SQL: &str = "\
    WITH mine AS (
        SELECT id, title, metadata->>'language' AS language, description, tags, search_vector
          FROM study_materials WHERE user_id = $1 AND deleted_at IS NULL
    ),
    hits AS (
        (SELECT 'material' AS kind, m.id AS study_material_id, NULL::uuid AS content_chunk_id,
                greatest(ts_rank_cd(m.search_vector, studyhall_search_query($2), 32) * 2,
                         similarity(m.title, $2)) AS rank
           FROM mine m
          WHERE m.search_vector @@ studyhall_search_query($2)
             OR m.title % $2)
        UNION ALL
        (SELECT 'chunk', s.study_material_id, s.content_chunk_id, s.rank
           FROM studyhall_search_chunks($2, $3::integer) s)
        ORDER BY rank DESC, content_chunk_id NULLS FIRST
        LIMIT $3
    )
    SELECT h.kind, h.study_material_id, h.content_chunk_id, m.title, h.rank::real AS rank,
           ts_headline(studyhall_text_config(coalesce(c.language, m.language)),
                       translate(CASE WHEN h.kind = 'chunk' THEN c.content
                                      ELSE concat_ws(' · ', m.title, array_to_string(m.tags, ', '), m.description)
                                 END, $4, $5),
                       studyhall_search_query($2), $6) AS snippet
      FROM hits h
      JOIN mine m ON m.id = h.study_material_id
      LEFT JOIN content_chunks c ON c.id = h.content_chunk_id
     ORDER BY h.rank DESC, h.content_chunk_id NULLS FIRST";

/// Snippets are escaped text whose only markup is `<mark>`: ts_headline works on the
/// text with `<` and `>` replaced by stand-ins (else it would drop whatever looks like a
/// tag, `Vec<String>` included) and puts sentinels around matches; the stand-ins and
/// sentinels are private-use characters, removed from the text beforehand so that it
/// cannot forge a mark. [`marked`] then escapes the headline and turns them into markup.
struct Snippets;

impl Snippets {
    const LT: char = '\u{E000}';
    const GT: char = '\u{E001}';
    const START: char = '\u{E002}';
    const STOP: char = '\u{E003}';

    /// The characters of the text that are replaced (`<`, `>`) or removed (the rest).
    fn replaced() -> String {
        ['<', '>', Self::LT, Self::GT, Self::START, Self::STOP].into_iter().collect()
    }

    /// What `<` and `>` become.
    fn replacements() -> String {
        [Self::LT, Self::GT].into_iter().collect()
    }

    fn options() -> String {
        format!("StartSel={}, StopSel={}, MaxWords=35, MinWords=15, MaxFragments=2", Self::START, Self::STOP)
    }
}

const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

#[derive(Deserialize, IntoParams)]
pub struct SearchQuery {
    /// Words to find; "quoted phrases", `or` and `-excluded` words work as in web search.
    q: String,
    /// Results, 1 to 100 (default 20).
    limit: Option<i64>,
}

/// One search result.
#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct Hit {
    /// `material` (its title, tags or description matched) or `chunk` (its content did).
    kind: String,
    study_material_id: Uuid,
    /// The chunk, for chunk results.
    content_chunk_id: Option<Uuid>,
    /// The material's title.
    title: String,
    /// The matching text as HTML: the text escaped (`&`, `<`, `>`, `"`, `'`), with the
    /// matches wrapped in `<mark>`...`</mark>`, its only markup. Safe to insert as HTML.
    snippet: String,
    /// Higher is better.
    rank: f32,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    items: Vec<Hit>,
}

/// Searches the caller's materials and their chunks, best match first.
#[utoipa::path(get, path = "/api/v1/search", tag = "materials", params(SearchQuery), security(("bearer" = [])),
    responses((status = 200, body = SearchResults), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn search(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<SearchQuery>,
) -> Result<Json<SearchResults>> {
    let q = query.q.trim();
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    Validator::default()
        .check(!q.is_empty() && q.chars().count() <= 500, "q", "must be 1 to 500 characters")
        .check((1..=MAX_LIMIT).contains(&limit), "limit", format!("must be between 1 and {MAX_LIMIT}"))
        .finish()?;

    let mut tx = tenant::begin_as(&state.db, Some(auth.user_id)).await?;
    let mut items: Vec<Hit> = sqlx::query_as(SEARCH_SQL)
        .bind(auth.user_id)
        .bind(q)
        .bind(limit)
        .bind(Snippets::replaced())
        .bind(Snippets::replacements())
        .bind(Snippets::options())
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    for hit in &mut items {
        hit.snippet = marked(&hit.snippet);
    }
    Ok(Json(SearchResults { items }))
}

/// A ts_headline result as HTML: the text escaped, the sentinels turned into `<mark>`
/// and `</mark>`; a material's own text can thus add no markup at all.
fn marked(headline: &str) -> String {
    let mut html = String::with_capacity(headline.len() + 32);
    for c in headline.chars() {
        match c {
            Snippets::START => html.push_str("<mark>"),
            Snippets::STOP => html.push_str("</mark>"),
            '<' | Snippets::LT => html.push_str("&lt;"),
            '>' | Snippets::GT => html.push_str("&gt;"),
            '&' => html.push_str("&amp;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            c => html.push(c),
        }
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_escaped_text_with_marks() {
        assert_eq!(
            marked("\u{E000}b\u{E001}a<i> & \"b\" 'c' \u{E002}own\u{E003}"),
            "&lt;b&gt;a&lt;i&gt; &amp; &quot;b&quot; &#39;c&#39; <mark>own</mark>"
        );
    }
}
