//! The materials area's reads: a material, the list of them, their chunks, and "search
//! my materials" (the one definition the web app's search box and GET /api/v1/search
//! share). Each takes the caller's tenant transaction (row-level security) or a
//! connection acting for them.

use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use super::ingest::Rows;
use super::{ContentChunk, Material};
use crate::error::{Error, Result};
use crate::http::extract::sent;
use crate::http::page::Newest;
use crate::states::MaterialStatus;

/// `sqlx::query_as!` of [`Material`]s: `$head`, the material's columns, then `$tail` (a
/// statement that selects or returns materials; the columns of `live_study_materials`,
/// a view, need their NOT NULL restated).
macro_rules! query_materials {
    ($head:literal, $tail:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Material,
            $head
                + r#"id AS "id!", title AS "title!", description, source_url, source_type AS "source_type!",
                     metadata, status AS "status!: MaterialStatus", created_at AS "created_at!",
                     updated_at AS "updated_at!", content_length, difficulty_level, subject_area, tags"#
                + $tail
            $(, $arg)*
        )
    };
}

/// The caller's live material `id`, or 404.
#[tracing::instrument(skip(conn))]
pub async fn fetch(conn: &mut PgConnection, user: Uuid, id: Uuid) -> Result<Material> {
    query_materials!("SELECT ", " FROM live_study_materials WHERE id = $1 AND user_id = $2", id, user)
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
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtextextended($1 || $2, 0))", user.to_string(), digest)
        .execute(&mut *conn)
        .await?;
    // A statement of its own: it sees what the add it waited for committed.
    Ok(query_materials!(
        "SELECT ",
        " FROM live_study_materials
          WHERE user_id = $1 AND metadata ->> 'add_digest' = $2 AND created_at > now() - make_interval(secs => $3)
          ORDER BY created_at DESC LIMIT 1",
        user,
        digest,
        within_secs,
    )
    .fetch_optional(conn)
    .await?)
}

/// Ok if `id` is a live material of the caller's, else 404; for reads: it takes no lock,
/// so it runs on a read replica too.
#[tracing::instrument(skip(conn))]
pub async fn live(conn: &mut PgConnection, user: Uuid, id: Uuid) -> Result<()> {
    let live = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT FROM live_study_materials WHERE id = $1 AND user_id = $2) AS "live!""#,
        id,
        user
    )
    .fetch_one(conn)
    .await?;
    if live { Ok(()) } else { Err(Error::NotFound) }
}

/// The status of the caller's live material `id` (locked against deletion and
/// reprocessing until the transaction ends), or 404.
#[tracing::instrument(skip(conn))]
pub async fn live_status(conn: &mut PgConnection, user: Uuid, id: Uuid) -> Result<MaterialStatus> {
    sqlx::query_scalar!(
        r#"SELECT status AS "status!: MaterialStatus" FROM live_study_materials
            WHERE id = $1 AND user_id = $2 FOR SHARE"#,
        id,
        user
    )
    .fetch_optional(conn)
    .await?
    .ok_or(Error::NotFound)
}

/// The title of material `id`, deleted or not (a session's results name its material
/// after it is deleted).
#[tracing::instrument(skip(conn))]
pub async fn title(conn: &mut PgConnection, id: Uuid) -> Result<String> {
    Ok(sqlx::query_scalar!("SELECT title FROM study_materials WHERE id = $1", id).fetch_one(conn).await?)
}

/// The titles of the caller's materials among `ids`, deleted or not (the account's
/// activity names the materials it was about).
#[tracing::instrument(skip_all, fields(%user, ids = ids.len()))]
pub async fn titles(conn: &mut PgConnection, user: Uuid, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>> {
    let rows = sqlx::query!("SELECT id, title FROM study_materials WHERE user_id = $1 AND id = ANY($2)", user, ids)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|row| (row.id, row.title)).collect())
}

/// A material to add.
pub struct Added<'a> {
    pub title: &'a str,
    pub description: Option<&'a str>,
    pub source_url: Option<&'a str>,
    pub source_type: &'a str,
    pub subject_area: Option<&'a str>,
    pub difficulty_level: Option<&'a str>,
    pub tags: Option<&'a [String]>,
    /// What tells this add from another ([`same_add`]), kept in `metadata.add_digest`.
    pub add_digest: &'a str,
}

/// Adds the caller's material, `processing`.
#[tracing::instrument(skip_all, fields(%user))]
pub async fn insert(conn: &mut PgConnection, user: Uuid, added: &Added<'_>) -> Result<Material> {
    Ok(query_materials!(
        "INSERT INTO study_materials (user_id, title, description, source_url, source_type, subject_area,
                                      difficulty_level, tags, metadata)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, jsonb_build_object('add_digest', $9::text)) RETURNING ",
        "",
        user,
        added.title,
        added.description,
        added.source_url,
        added.source_type,
        added.subject_area,
        added.difficulty_level,
        added.tags,
        added.add_digest,
    )
    .fetch_one(conn)
    .await?)
}

/// An edit of a material: a title to set, and the fields to set (`Some`), which `null`
/// clears (`Some(None)`).
pub struct Edit<'a> {
    pub title: Option<&'a str>,
    pub description: Option<Option<&'a str>>,
    pub subject_area: Option<Option<&'a str>>,
    pub difficulty_level: Option<Option<&'a str>>,
    pub tags: Option<Option<&'a [String]>>,
}

/// Edits the caller's material `id` (live or not: the caller checked it).
#[tracing::instrument(skip(conn, edit))]
pub async fn update(conn: &mut PgConnection, user: Uuid, id: Uuid, edit: &Edit<'_>) -> Result<Material> {
    let given = sent([
        ("description", edit.description.is_some()),
        ("subject_area", edit.subject_area.is_some()),
        ("difficulty_level", edit.difficulty_level.is_some()),
        ("tags", edit.tags.is_some()),
    ]);
    Ok(query_materials!(
        "UPDATE study_materials SET
             title = coalesce($3, title),
             description = CASE WHEN 'description' = ANY($4) THEN $5 ELSE description END,
             subject_area = CASE WHEN 'subject_area' = ANY($4) THEN $6 ELSE subject_area END,
             difficulty_level = CASE WHEN 'difficulty_level' = ANY($4) THEN $7 ELSE difficulty_level END,
             tags = CASE WHEN 'tags' = ANY($4) THEN $8 ELSE tags END
          WHERE id = $1 AND user_id = $2 RETURNING ",
        "",
        id,
        user,
        edit.title,
        &given as &[&str],
        edit.description.flatten(),
        edit.subject_area.flatten(),
        edit.difficulty_level.flatten(),
        edit.tags.flatten(),
    )
    .fetch_one(conn)
    .await?)
}

/// Deletes the caller's live material `id`: its title, or None if there is none.
#[tracing::instrument(skip(conn))]
pub async fn delete(conn: &mut PgConnection, user: Uuid, id: Uuid) -> Result<Option<String>> {
    Ok(sqlx::query_scalar!(
        r#"UPDATE live_study_materials SET deleted_at = now() WHERE id = $1 AND user_id = $2
           RETURNING title AS "title!""#,
        id,
        user
    )
    .fetch_optional(conn)
    .await?)
}

/// Sets the caller's live material `id` processing again (its error cleared): None if
/// there is none.
#[tracing::instrument(skip(conn))]
pub async fn reprocess(conn: &mut PgConnection, user: Uuid, id: Uuid) -> Result<Option<Material>> {
    Ok(query_materials!(
        "UPDATE live_study_materials SET status = 'processing', metadata = coalesce(metadata, '{}') - 'error'
          WHERE id = $1 AND user_id = $2 RETURNING ",
        "",
        id,
        user,
    )
    .fetch_optional(conn)
    .await?)
}

/// Stores (or replaces) the source of the caller's material.
#[tracing::instrument(skip(conn, bytes), fields(bytes = bytes.len()))]
pub async fn save_source(
    conn: &mut PgConnection,
    user: Uuid,
    material: Uuid,
    media_type: &str,
    file_name: Option<&str>,
    bytes: &[u8],
) -> Result<()> {
    sqlx::query!(
        "INSERT INTO material_sources (study_material_id, user_id, media_type, file_name, content)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (study_material_id) DO UPDATE
            SET media_type = EXCLUDED.media_type, file_name = EXCLUDED.file_name, content = EXCLUDED.content",
        material,
        user,
        media_type,
        file_name.map(|name| name.chars().take(255).collect::<String>()),
        bytes,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// What ingestion starts from: a page to fetch, or a stored source.
pub struct Origin {
    pub source_url: Option<String>,
    pub media_type: Option<String>,
    pub content: Option<Vec<u8>>,
}

/// Where the caller's live material `material` comes from; None if there is none.
#[tracing::instrument(skip(conn))]
pub async fn origin(conn: &mut PgConnection, user: Uuid, material: Uuid) -> Result<Option<Origin>> {
    Ok(sqlx::query_as!(
        Origin,
        r#"SELECT m.source_url, s.media_type AS "media_type?", s.content AS "content?"
             FROM live_study_materials m LEFT JOIN material_sources s ON s.study_material_id = m.id
            WHERE m.id = $1 AND m.user_id = $2"#,
        material,
        user,
    )
    .fetch_optional(conn)
    .await?)
}

/// Marks the caller's material `material` failed, for `reason` (`metadata.error`).
#[tracing::instrument(skip(conn))]
pub async fn fail(conn: &mut PgConnection, user: Uuid, material: Uuid, reason: &str) -> Result<()> {
    sqlx::query!(
        "UPDATE study_materials SET status = 'failed', metadata = coalesce(metadata, '{}') || jsonb_build_object('error', $3::text)
          WHERE id = $1 AND user_id = $2",
        material,
        user,
        reason,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Locks the caller's live material `material` until the transaction ends; false if
/// there is none (deleted).
#[tracing::instrument(skip(conn))]
pub async fn lock_live(conn: &mut PgConnection, user: Uuid, material: Uuid) -> Result<bool> {
    let live = sqlx::query_scalar!(
        "SELECT id FROM live_study_materials WHERE id = $1 AND user_id = $2 FOR UPDATE",
        material,
        user
    )
    .fetch_optional(conn)
    .await?;
    Ok(live.is_some())
}

/// Replaces material `material`'s chunks with those ingestion made and records what it
/// found; the assets made from the old text are archived.
#[tracing::instrument(skip(conn, rows), fields(chunks = rows.orders.len()))]
pub async fn replace_text(conn: &mut PgConnection, material: Uuid, rows: &Rows) -> Result<()> {
    // Their questions may no longer match the text, and learners' history still points
    // at them: archived, and letting go of the old chunks.
    sqlx::query!(
        "UPDATE generated_assets SET status = 'archived', content_chunk_id = NULL,
                metadata = coalesce(metadata, '{}') || jsonb_build_object('archived_by', 'reprocessing')
          WHERE study_material_id = $1 AND status <> 'archived'",
        material
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("DELETE FROM content_chunks WHERE study_material_id = $1", material).execute(&mut *conn).await?;
    // All chunks in one statement, however many there are.
    sqlx::query!(
        "INSERT INTO content_chunks (study_material_id, chunk_order, content, chunk_type, metadata, word_count,
                                     language, summary, relevance_score)
         SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::jsonb[], $6::int[], $7::text[], $8::text[],
                                  $9::float8[])",
        material,
        &rows.orders,
        &rows.contents,
        &rows.kinds,
        &rows.metadata,
        &rows.words,
        &rows.languages as &[Option<String>],
        &rows.summaries as &[Option<String>],
        &rows.relevance,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE study_materials
            SET status = 'ready', content_length = $2,
                difficulty_level = coalesce(difficulty_level, $3),
                tags = CASE WHEN coalesce(cardinality(tags), 0) = 0 THEN $4 ELSE tags END,
                metadata = (coalesce(metadata, '{}') - 'error') || $5
          WHERE id = $1",
        material,
        rows.content_length,
        &rows.difficulty,
        &rows.key_terms,
        &rows.material_metadata,
    )
    .execute(conn)
    .await?;
    Ok(())
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
    Ok(query_materials!(
        "SELECT ",
        " FROM live_study_materials
          WHERE user_id = $1
            AND ($2::text IS NULL OR status = $2)
            AND ($3::text IS NULL OR subject_area = $3)
            AND ($4::text IS NULL OR tags @> ARRAY[$4])
            AND ($5::text IS NULL OR title % $5 OR title ILIKE '%' || $5 || '%')
            AND studyhall_older_than(created_at, id, $6, $7)
            AND ($9::uuid[] IS NULL OR id = ANY($9))
          ORDER BY created_at DESC, id DESC LIMIT $8",
        user,
        filter.status,
        filter.subject_area,
        filter.tag,
        filter.title,
        cursor.map(|c| c.0),
        cursor.map(|c| c.1),
        limit,
        filter.ids,
    )
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
    Ok(sqlx::query_as!(
        ContentChunk,
        "SELECT id, study_material_id, chunk_order, content, chunk_type, metadata, word_count, language, summary,
                relevance_score, created_at
           FROM content_chunks WHERE study_material_id = $1 AND chunk_order > $2
          ORDER BY chunk_order LIMIT $3",
        material,
        after,
        limit,
    )
    .fetch_all(conn)
    .await?)
}

/// How many chunks material `material` has.
#[tracing::instrument(skip(conn))]
pub async fn chunk_count(conn: &mut PgConnection, material: Uuid) -> Result<i64> {
    Ok(sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM content_chunks WHERE study_material_id = $1"#, material)
        .fetch_one(conn)
        .await?)
}

/// One search result.
#[derive(Serialize, ToSchema)]
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
    let mut hits: Vec<Hit> = sqlx::query_file_as!(
        Hit,
        "src/materials/search.sql",
        user,
        q,
        i32::try_from(limit).unwrap_or(i32::MAX),
        Snippets::replaced(),
        Snippets::replacements(),
        Snippets::options(),
    )
    .fetch_all(conn)
    .await?;
    for hit in &mut hits {
        hit.snippet = marked(&hit.snippet);
    }
    Ok(hits)
}

/// One passage (chunk) of a material, as the passage page shows it.
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
    let mut passage = sqlx::query_as!(
        Passage,
        r#"SELECT m.title AS "title!", c.chunk_order,
                  ARRAY(SELECT jsonb_array_elements_text(coalesce(c.metadata -> 'heading_path', '[]')))
                      AS "heading_path!",
                  CASE WHEN $4 = '' THEN translate(c.content, $5, $6)
                       ELSE ts_headline(studyhall_text_config(coalesce(c.language, m.metadata ->> 'language')),
                                        translate(c.content, $5, $6), studyhall_search_query($4), $7) END AS "html!",
                  (SELECT p.id FROM content_chunks p WHERE p.study_material_id = m.id AND p.chunk_order < c.chunk_order
                    ORDER BY p.chunk_order DESC LIMIT 1) AS previous,
                  (SELECT n.id FROM content_chunks n WHERE n.study_material_id = m.id AND n.chunk_order > c.chunk_order
                    ORDER BY n.chunk_order LIMIT 1) AS next,
                  (SELECT count(*) FROM content_chunks a WHERE a.study_material_id = m.id) AS "chunks!"
             FROM live_study_materials m JOIN content_chunks c ON c.study_material_id = m.id
            WHERE m.id = $2 AND m.user_id = $1 AND c.id = $3"#,
        user,
        material,
        chunk,
        q,
        Snippets::replaced(),
        Snippets::replacements(),
        Snippets::whole(),
    )
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
