//! Full-text search: ranking, stemming, snippets, isolation, deletion, and index use at
//! 100,000 chunks.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Session, TestApp};
use crate::materials::{ARTICLE, create, settled};

async fn search(app: &TestApp, session: &Session, q: &str) -> Vec<Value> {
    let url = format!("/api/v1/search?q={}", url_encode(q));
    let (status, body) = app.call(Method::GET, &url, Some(&session.token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().cloned().expect("items")
}

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn search_ranks_titles_first_stems_english_and_marks_matches() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let cells = create(&app, &ada, "Mitochondria and the cell", ARTICLE, json!({"tags": ["biology"]})).await;
    let water =
        create(&app, &ada, "Water", "Water is a polar molecule. It dissolves many salts and sugars.", json!({})).await;
    settled(&app, &ada, cells).await;
    settled(&app, &ada, water).await;

    let hits = search(&app, &ada, "mitochondria").await;
    assert!(hits.len() >= 2, "{hits:?}");
    assert_eq!(
        (hits[0]["kind"].as_str(), hits[0]["study_material_id"].as_str()),
        (Some("material"), Some(cells.to_string().as_str()))
    );
    assert!(hits.iter().all(|h| h["study_material_id"] == cells.to_string()), "nothing about water");
    let chunk = hits.iter().find(|h| h["kind"] == "chunk").expect("a chunk hit");
    assert!(chunk["snippet"].as_str().is_some_and(|s| s.contains("<mark>Mitochondria</mark>")), "{chunk}");
    let ranks: Vec<f64> = hits.iter().filter_map(|h| h["rank"].as_f64()).collect();
    assert!(ranks.windows(2).all(|w| w[0] >= w[1]), "best first: {ranks:?}");

    let stemmed = search(&app, &ada, "organelle").await;
    assert!(
        stemmed.iter().any(|h| h["snippet"].as_str().is_some_and(|s| s.contains("<mark>organelles</mark>"))),
        "English stems: {stemmed:?}"
    );
    assert!(search(&app, &ada, "\"polar molecule\"").await.iter().all(|h| h["study_material_id"] == water.to_string()));
    assert_eq!(search(&app, &ada, "biology").await[0]["kind"], "material", "tags are searched");
    let typo = search(&app, &ada, "Mitocondria and the cel").await;
    assert_eq!(
        typo.first().map(|h| h["study_material_id"].clone()),
        Some(json!(cells.to_string())),
        "a title with typos"
    );
}

#[tokio::test]
async fn search_sees_only_the_caller_s_live_materials() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let id = create(&app, &ada, "Cells", ARTICLE, json!({})).await;
    settled(&app, &ada, id).await;
    assert!(!search(&app, &ada, "ribosomes").await.is_empty());
    assert!(search(&app, &bob, "ribosomes").await.is_empty(), "another user finds nothing");

    let (status, _) = app.call(Method::DELETE, &format!("/api/v1/materials/{id}"), Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(search(&app, &ada, "ribosomes").await.is_empty(), "a deleted material's chunks leave search");

    for query in ["q=", "q=%20", "q=x&limit=500"] {
        let (status, _) = app.call(Method::GET, &format!("/api/v1/search?{query}"), Some(&ada.token), None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
    }
}

#[tokio::test]
async fn snippets_are_escaped_text_whose_only_markup_is_the_marks() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let hostile = "Beware <script>alert('x')</script> borrowing <img src=x onerror=alert(1)> ownership";
    // Markdown drops raw HTML, but code spans (and a page's text, and a description) keep it.
    // The private-use characters below are those the server uses to mark matches.
    let id = create(
        &app,
        &ada,
        "Rust notes",
        "Beware `<script>alert('x')</script>` borrowing `<img src=x onerror=alert(1)>` ownership",
        json!({"description": hostile}),
    )
    .await;
    settled(&app, &ada, id).await;
    let id = create(
        &app,
        &ada,
        "More notes",
        "\u{E002}forged\u{E003} `<mark>fake</mark>` lifetimes \u{E000}b\u{E001} and \u{E003}",
        json!({"description": "<mark>fake</mark> \u{E002}forged\u{E003} lifetimes \u{E000}b\u{E001}"}),
    )
    .await;
    settled(&app, &ada, id).await;

    let hits = search(&app, &ada, "ownership").await;
    assert_eq!(hits.iter().map(|h| h["kind"].as_str()).collect::<Vec<_>>(), [Some("material"), Some("chunk")]);
    for hit in hits {
        let snippet = hit["snippet"].as_str().expect("a snippet");
        assert!(snippet.contains("<mark>ownership</mark>"), "{snippet}");
        assert!(snippet.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), "{snippet}");
        assert!(!snippet.contains("<script") && !snippet.contains("<img"), "{snippet}");
    }

    let hits = search(&app, &ada, "lifetimes").await;
    assert_eq!(hits.len(), 2, "{hits:?}");
    for hit in hits {
        let snippet = hit["snippet"].as_str().expect("a snippet");
        assert!(snippet.contains("<mark>lifetimes</mark>") && snippet.contains("&lt;mark&gt;fake"), "{snippet}");
        let real = snippet.matches("<mark>lifetimes</mark>").count();
        assert_eq!(
            (snippet.matches("<mark>").count(), snippet.matches("</mark>").count()),
            (real, real),
            "only real hits are marked: {snippet}"
        );
    }
}

#[tokio::test]
async fn at_100000_chunks_search_uses_its_indexes() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    sqlx::query(
        "WITH m AS (INSERT INTO study_materials (user_id, title, source_type, status, metadata)
                    SELECT $1, 'Material ' || n, 'text', 'ready', '{\"language\": \"en\"}' FROM generate_series(1, 100) n
                    RETURNING id)
         INSERT INTO content_chunks (study_material_id, chunk_order, content, chunk_type, language)
         SELECT m.id, g, 'Chunk ' || g || ' is about ' || (ARRAY['cells', 'water', 'energy', 'rocks'])[g % 4 + 1]
                         || ' and the rare word term' || (g * 7919 % 100000), 'paragraph', 'en'
           FROM m, generate_series(0, 999) g",
    )
    .bind(ada.user_id)
    .execute(&app.db.pool)
    .await
    .expect("100,000 chunks");
    sqlx::query("ANALYZE content_chunks, study_materials").execute(&app.db.pool).await.expect("analyze");

    // The chunk search, as the function runs it (EXPLAIN of a function call would not show
    // its body): its GIN index serves the match.
    sqlx::query("ANALYZE content_chunk_search").execute(&app.db.pool).await.expect("analyze");
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN SELECT s.content_chunk_id FROM content_chunk_search s
          WHERE s.user_id = $1 AND s.search_vector @@ studyhall_search_query($2)
          ORDER BY ts_rank_cd(s.search_vector, studyhall_search_query($2), 32) DESC LIMIT 20",
    )
    .bind(ada.user_id)
    .bind("term7919")
    .fetch_all(&app.db.pool)
    .await
    .expect("explain");
    let plan = plan.join("\n");
    assert!(plan.contains("idx_content_chunk_search_vector"), "the chunk index is used:\n{plan}");

    let hits = search(&app, &ada, "term7919").await;
    assert!(
        !hits.is_empty()
            && hits.iter().all(|h| h["snippet"].as_str().is_some_and(|s| s.contains("<mark>term7919</mark>")))
    );
}
