//! The materials area's reads: a material, the list of them, their chunks, and "search
//! my materials" (the one definition the web app's search box and GET /api/v1/search
//! share). Each takes the caller's tenant transaction (row-level security) or a
//! connection acting for them.

use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{ContentChunk, Material, material_columns};
use crate::error::{Error, Result};
use crate::http::page::Newest;
use crate::states::MaterialStatus;

/// The caller's live material `id`, or 404.
#[tracing::instrument(skip(conn))]
pub async fn fetch(conn: &mut PgConnection, user: Uuid, id: Uuid) -> Result<Material> {
    sqlx::query_as(concat!("SELECT ", material_columns!(), " FROM live_study_materials WHERE id = $1 AND user_id = $2"))
        .bind(id)
        .bind(user)
        .fetch_optional(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// The caller's live material added in the last `within_secs` seconds by an add whose
/// digest is `digest` (`metadata.add_digest`), if any; first waiting for any add of the
/// same digest still running to finish (a lock held to the end of the transaction), so
/// that of two identical adds at once, the second finds the first.
#[tracing::instrument(skip(conn))]
pub async fn same_add(conn: &mut PgConnection, user: Uuid, digest: &str, within_secs: f64) -> Result<Option<Material>> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1 || $2, 0))")
        .bind(user.to_string())
        .bind(digest)
        .execute(&mut *conn)
        .await?;
    // A statement of its own: it sees what the add it waited for committed.
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        material_columns!(),
        " FROM live_study_materials
          WHERE user_id = $1 AND metadata ->> 'add_digest' = $2 AND created_at > now() - make_interval(secs => $3)
          ORDER BY created_at DESC LIMIT 1"
    ))
    .bind(user)
    .bind(digest)
    .bind(within_secs)
    .fetch_optional(conn)
    .await?)
}

/// Ok if `id` is a live material of the caller's, else 404; for reads: it takes no lock,
/// so it runs on a read replica too.
#[tracing::instrument(skip(conn))]
pub async fn live(conn: &mut PgConnection, user: Uuid, id: Uuid) -> Result<()> {
    let live: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT FROM live_study_materials WHERE id = $1 AND user_id = $2)")
            .bind(id)
            .bind(user)
            .fetch_one(conn)
            .await?;
    if live { Ok(()) } else { Err(Error::NotFound) }
}

/// The status of the caller's live material `id` (locked against deletion and
/// reprocessing until the transaction ends), or 404.
#[tracing::instrument(skip(conn))]
pub async fn live_status(conn: &mut PgConnection, user: Uuid, id: Uuid) -> Result<MaterialStatus> {
    sqlx::query_scalar("SELECT status FROM live_study_materials WHERE id = $1 AND user_id = $2 FOR SHARE")
        .bind(id)
        .bind(user)
        .fetch_optional(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// The title of material `id`, deleted or not (a session's results name its material
/// after it is deleted).
#[tracing::instrument(skip(conn))]
pub async fn title(conn: &mut PgConnection, id: Uuid) -> Result<String> {
    Ok(sqlx::query_scalar("SELECT title FROM study_materials WHERE id = $1").bind(id).fetch_one(conn).await?)
}

/// The titles of the caller's materials among `ids`, deleted or not (the account's
/// activity names the materials it was about).
#[tracing::instrument(skip_all, fields(%user, ids = ids.len()))]
pub async fn titles(conn: &mut PgConnection, user: Uuid, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>> {
    Ok(sqlx::query_as("SELECT id, title FROM study_materials WHERE user_id = $1 AND id = ANY($2)")
        .bind(user)
        .bind(ids)
        .fetch_all(conn)
        .await?)
}

/// What GET /api/v1/materials filters on (each optional).
#[derive(Debug, Default)]
pub struct Filter<'a> {
    pub status: Option<&'a str>,
    pub subject_area: Option<&'a str>,
    pub tag: Option<&'a str>,
    /// Titles like this (trigram similarity, or containing it).
    pub title: Option<&'a str>,
    /// Only these materials.
    pub ids: Option<&'a [Uuid]>,
}

/// The caller's live materials matching `filter`, newest first, after `cursor`, at most
/// `limit` (the API's pages, the materials page, the dashboard's recent materials).
#[tracing::instrument(skip_all, fields(%user))]
pub async fn list(
    conn: &mut PgConnection,
    user: Uuid,
    filter: &Filter<'_>,
    cursor: Option<Newest>,
    limit: i64,
) -> Result<Vec<Material>> {
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        material_columns!(),
        " FROM live_study_materials
          WHERE user_id = $1
            AND ($2::text IS NULL OR status = $2)
            AND ($3::text IS NULL OR subject_area = $3)
            AND ($4::text IS NULL OR tags @> ARRAY[$4])
            AND ($5::text IS NULL OR title % $5 OR title ILIKE '%' || $5 || '%')
            AND ($6::timestamptz IS NULL OR (created_at, id) < ($6, $7))
            AND ($9::uuid[] IS NULL OR id = ANY($9))
          ORDER BY created_at DESC, id DESC LIMIT $8"
    ))
    .bind(user)
    .bind(filter.status)
    .bind(filter.subject_area)
    .bind(filter.tag)
    .bind(filter.title)
    .bind(cursor.map(|c| c.0))
    .bind(cursor.map(|c| c.1))
    .bind(limit)
    .bind(filter.ids)
    .fetch_all(conn)
    .await?)
}

/// Material `material`'s chunks in order, after `after` (a `chunk_order`), at most
/// `limit` (all without one).
#[tracing::instrument(skip(conn))]
pub async fn chunks(
    conn: &mut PgConnection,
    material: Uuid,
    after: i32,
    limit: Option<i64>,
) -> Result<Vec<ContentChunk>> {
    Ok(sqlx::query_as(
        "SELECT id, study_material_id, chunk_order, content, chunk_type, metadata, word_count, language, summary,
                relevance_score, created_at
           FROM content_chunks WHERE study_material_id = $1 AND chunk_order > $2
          ORDER BY chunk_order LIMIT $3",
    )
    .bind(material)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// How many chunks material `material` has.
#[tracing::instrument(skip(conn))]
pub async fn chunk_count(conn: &mut PgConnection, material: Uuid) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM content_chunks WHERE study_material_id = $1")
        .bind(material)
        .fetch_one(conn)
        .await?)
}

/// One search result.
#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct Hit {
    /// `material` (its title, tags or description matched) or `chunk` (its content did).
    pub kind: String,
    pub study_material_id: Uuid,
    /// The chunk, for chunk results.
    pub content_chunk_id: Option<Uuid>,
    /// The material's title.
    pub title: String,
    /// The matching text as HTML: the text escaped (`&`, `<`, `>`, `"`, `'`), with the
    /// matches wrapped in `<mark>`...`</mark>`, its only markup. Safe to insert as HTML.
    pub snippet: String,
    /// Higher is better.
    pub rank: f32,
}

/// "Search my materials": the caller's live materials and their chunks matching `q`
/// (web-search syntax), best first, at most `limit` hits, each with a snippet.
///
/// Materials are matched through the user's rows, by their words (title, tags,
/// description) or by a title like the query (pg_trgm, so a typo still finds them);
/// chunks through `studyhall_search_chunks` and its GIN index (see migration 0009 for
/// why chunks need it). Snippets, which read the whole text, are made only for the page
/// of results, from the text with its characters $4 replaced by those of $5 (or
/// removed, past its end) and with the options $6 (see [`Snippets`]).
#[tracing::instrument(skip_all, fields(%user))]
pub async fn search(conn: &mut PgConnection, user: Uuid, q: &str, limit: i64) -> Result<Vec<Hit>> {
    let mut hits: Vec<Hit> = sqlx::query_as(
        "WITH mine AS (
             SELECT id, title, metadata->>'language' AS language, description, tags, search_vector
               FROM live_study_materials WHERE user_id = $1
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
          ORDER BY h.rank DESC, h.content_chunk_id NULLS FIRST",
    )
    .bind(user)
    .bind(q)
    .bind(limit)
    .bind(Snippets::replaced())
    .bind(Snippets::replacements())
    .bind(Snippets::options())
    .fetch_all(conn)
    .await?;
    for hit in &mut hits {
        hit.snippet = marked(&hit.snippet);
    }
    Ok(hits)
}

/// One passage (chunk) of a material, as the passage page shows it.
#[derive(sqlx::FromRow)]
pub struct Passage {
    pub title: String,
    pub chunk_order: i32,
    /// The headings above it, outermost first.
    pub heading_path: Vec<String>,
    /// Its text as HTML: escaped, with the matches of the search it was found by marked
    /// (`<mark>`, its only markup).
    pub html: String,
    /// The passages before and after it, and how many the material has.
    pub previous: Option<Uuid>,
    pub next: Option<Uuid>,
    pub chunks: i64,
}

/// Chunk `chunk` of the caller's live material `material` as a [`Passage`], with the
/// words of `q` (a search, or empty) marked throughout; 404 for anything else.
#[tracing::instrument(skip(conn))]
pub async fn passage(conn: &mut PgConnection, user: Uuid, material: Uuid, chunk: Uuid, q: &str) -> Result<Passage> {
    let mut passage: Passage = sqlx::query_as(
        "SELECT m.title, c.chunk_order,
                ARRAY(SELECT jsonb_array_elements_text(coalesce(c.metadata -> 'heading_path', '[]'))) AS heading_path,
                CASE WHEN $4 = '' THEN translate(c.content, $5, $6)
                     ELSE ts_headline(studyhall_text_config(coalesce(c.language, m.metadata ->> 'language')),
                                      translate(c.content, $5, $6), studyhall_search_query($4), $7) END AS html,
                (SELECT p.id FROM content_chunks p WHERE p.study_material_id = m.id AND p.chunk_order < c.chunk_order
                  ORDER BY p.chunk_order DESC LIMIT 1) AS previous,
                (SELECT n.id FROM content_chunks n WHERE n.study_material_id = m.id AND n.chunk_order > c.chunk_order
                  ORDER BY n.chunk_order LIMIT 1) AS next,
                (SELECT count(*) FROM content_chunks a WHERE a.study_material_id = m.id) AS chunks
           FROM live_study_materials m JOIN content_chunks c ON c.study_material_id = m.id
          WHERE m.id = $2 AND m.user_id = $1 AND c.id = $3",
    )
    .bind(user)
    .bind(material)
    .bind(chunk)
    .bind(q)
    .bind(Snippets::replaced())
    .bind(Snippets::replacements())
    .bind(Snippets::whole())
    .fetch_optional(conn)
    .await?
    .ok_or(Error::NotFound)?;
    passage.html = marked(&passage.html);
    Ok(passage)
}

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

    /// A whole text with every match marked.
    fn whole() -> String {
        format!("StartSel={}, StopSel={}, HighlightAll=true", Self::START, Self::STOP)
    }
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
