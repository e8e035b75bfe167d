//! Rows for tests, written through the privileged pool.

use sqlx::PgPool;
use uuid::Uuid;

/// A learner with a row in every user-owned table.
#[derive(Debug, Clone, Copy)]
pub struct Learner {
    pub user_id: Uuid,
    pub material_id: Uuid,
    pub asset_id: Uuid,
    pub interaction_id: Uuid,
    pub job_id: Uuid,
    pub session_id: Uuid,
}

/// Creates `name`'s account (email `<name>@example.org`) and one row in each table.
pub async fn learner(pool: &PgPool, name: &str) -> Learner {
    let (user_id, material_id, asset_id, interaction_id, job_id, session_id): (Uuid, Uuid, Uuid, Uuid, Uuid, Uuid) =
        sqlx::query_as(
        "WITH u AS (INSERT INTO users (email, username, password_hash)
                    VALUES ($1 || '@example.org', $1, 'x') RETURNING id),
              m AS (INSERT INTO study_materials (user_id, title, source_type)
                    SELECT id, $1 || '''s notes', 'text' FROM u RETURNING id, user_id),
              c AS (INSERT INTO content_chunks (study_material_id, chunk_order, content, chunk_type)
                    SELECT id, 0, 'Cells are the units of life.', 'paragraph' FROM m RETURNING id, study_material_id),
              a AS (INSERT INTO generated_assets (study_material_id, content_chunk_id, asset_type, content, generation_model)
                    SELECT study_material_id, id, 'flashcard', '{\"front\": \"?\", \"back\": \"cells\"}', 'builtin-v1'
                      FROM c RETURNING id),
              s AS (INSERT INTO learning_sessions (user_id, study_material_id, session_type)
                    SELECT user_id, id, 'review' FROM m RETURNING id, user_id),
              i AS (INSERT INTO interactions (learning_session_id, generated_asset_id, user_id, interaction_type,
                                              interaction_data, created_at)
                    SELECT s.id, a.id, s.user_id, 'answer', '{\"rating\": 3}', '2026-01-15T10:00:00Z'
                      FROM s, a RETURNING id, created_at, user_id, generated_asset_id),
              f AS (INSERT INTO user_feedback (user_id, generated_asset_id, interaction_id, interaction_created_at,
                                               feedback_type, rating)
                    SELECT user_id, generated_asset_id, id, created_at, 'rating', 4 FROM i RETURNING id),
              p AS (INSERT INTO progress_metrics (user_id, learning_session_id, metric_type, metric_value)
                    SELECT user_id, id, 'accuracy', 0.75 FROM s RETURNING id),
              l AS (INSERT INTO audit_logs (user_id, action, entity_type, entity_id)
                    SELECT id, 'user.register', 'user', id FROM u RETURNING id),
              t AS (INSERT INTO auth_tokens (user_id, token_hash, expires_at)
                    SELECT id, sha256(convert_to($1, 'UTF8')), now() + interval '1 day' FROM u RETURNING id),
              ms AS (INSERT INTO material_sources (study_material_id, user_id, media_type, content)
                     SELECT id, user_id, 'text/markdown', convert_to('Cells are the units of life.', 'UTF8') FROM m
                     RETURNING study_material_id),
              j AS (INSERT INTO jobs (kind, user_id, payload, max_attempts, status)
                    SELECT 'ingest_material', user_id, jsonb_build_object('material_id', id), 1, 'done' FROM m
                    RETURNING id),
              r AS (INSERT INTO review_states (user_id, generated_asset_id, study_material_id, stability, difficulty,
                                               due, reps, last_rating, last_review)
                    SELECT u.id, a.id, m.id, 2.3, 5, now(), 1, 3, now() FROM u, m, a RETURNING 1),
              k AS (INSERT INTO idempotency_keys (user_id, key, request_hash, interaction_id, interaction_created_at)
                    SELECT user_id, 'key-' || $1, '\\x00', id, created_at FROM i RETURNING 1),
              lp AS (INSERT INTO learner_parameters (user_id, reviews, training_reviews, outcome)
                     SELECT id, 1, 0, 'Too few reviews to fit.' FROM u RETURNING 1),
              pr AS (INSERT INTO password_resets (user_id, token_hash, expires_at)
                     SELECT id, sha256(convert_to('reset-' || $1, 'UTF8')), now() + interval '1 hour' FROM u
                     RETURNING 1)
         SELECT u.id, m.id, a.id, i.id, j.id, s.id FROM u, m, c, a, s, i, f, p, l, t, ms, j, r, k, lp, pr",
    )
    .bind(name)
    .fetch_one(pool)
    .await
    .expect("create a learner");
    Learner { user_id, material_id, asset_id, interaction_id, job_id, session_id }
}
