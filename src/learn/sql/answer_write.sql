-- What recording an interaction writes (learn::answer), in one statement: the
-- Idempotency-Key, the interaction, the learner's memory of the item, the session's
-- counters and the request's audit row. No row when a retry with the same key took the
-- key first (then nothing is written). Its parameters are named once, in `p`.
WITH p AS (SELECT $1::uuid AS session, $2::uuid AS learner, $3::uuid AS asset, $4::uuid AS asset_material,
                  -- the interaction
                  $5::uuid AS interaction, $6::timestamptz AS at, $7::text AS interaction_type,
                  $8::jsonb AS interaction_data, $9::boolean AS is_correct, $10::integer AS response_time_ms,
                  $11::float8 AS confidence_level, $12::jsonb AS feedback_data,
                  -- what it adds to the session's counters (0 or 1 each)
                  $13::integer AS done, $14::integer AS graded, $15::integer AS correct, $16::integer AS repeats,
                  -- the Idempotency-Key (null without one) and the request's hash
                  $17::text AS key, $18::bytea AS request_hash,
                  -- the item's memory after it (all null when it does not review the item)
                  $19::float8 AS stability, $20::float8 AS difficulty, $21::timestamptz AS due, $22::integer AS reps,
                  $23::integer AS lapses, $24::smallint AS rating, $25::text AS state, $26::smallint AS step,
                  -- the audit row
                  $27::jsonb AS audit_values, $28::text AS ip_address, $29::text AS user_agent,
                  $30::text AS token_id),
     k AS (INSERT INTO idempotency_keys (user_id, key, request_hash, interaction_id, interaction_created_at)
           SELECT p.learner, p.key, p.request_hash, p.interaction, p.at FROM p WHERE p.key IS NOT NULL
           ON CONFLICT DO NOTHING RETURNING 1),
     go AS (SELECT 1 FROM p WHERE p.key IS NULL UNION ALL SELECT 1 FROM k),
     i AS (INSERT INTO interactions (id, learning_session_id, generated_asset_id, user_id, interaction_type,
                                     interaction_data, created_at, is_correct, response_time_ms, confidence_level,
                                     feedback_data)
           SELECT p.interaction, p.session, p.asset, p.learner, p.interaction_type, p.interaction_data, p.at,
                  p.is_correct, p.response_time_ms, p.confidence_level, p.feedback_data
             FROM p, go
           RETURNING id, learning_session_id, generated_asset_id, interaction_type, interaction_data, created_at,
                     is_correct, response_time_ms, confidence_level, feedback_data),
     r AS (INSERT INTO review_states (user_id, generated_asset_id, study_material_id, stability, difficulty, due, reps,
                                      lapses, last_rating, last_review, state, step)
           SELECT p.learner, p.asset, p.asset_material, p.stability, p.difficulty, p.due, p.reps, p.lapses, p.rating,
                  p.at, p.state, p.step
             FROM p, i
            WHERE p.stability IS NOT NULL
           ON CONFLICT (user_id, generated_asset_id) DO UPDATE
              SET stability = EXCLUDED.stability, difficulty = EXCLUDED.difficulty, due = EXCLUDED.due,
                  reps = EXCLUDED.reps, lapses = EXCLUDED.lapses, last_rating = EXCLUDED.last_rating,
                  last_review = EXCLUDED.last_review, state = EXCLUDED.state, step = EXCLUDED.step),
     s AS (UPDATE learning_sessions ls
              SET total_interactions = coalesce(ls.total_interactions, 0) + 1,
                  completion_percentage = least(100, 100.0
                      * (coalesce((ls.session_data->>'done')::int, 0) + p.done)
                      / greatest(coalesce((ls.session_data->>'planned')::int, 0), 1)),
                  session_data = coalesce(ls.session_data, '{}') || jsonb_build_object(
                      'done', coalesce((ls.session_data->>'done')::int, 0) + p.done,
                      'graded', coalesce((ls.session_data->>'graded')::int, 0) + p.graded,
                      'correct', coalesce((ls.session_data->>'correct')::int, 0) + p.correct,
                      'repeats', coalesce((ls.session_data->>'repeats')::int, 0) + p.repeats,
                      'last_activity_at', p.at)
             FROM p, i WHERE ls.id = p.session
           RETURNING ls.id, ls.study_material_id, ls.session_type, ls.status, ls.started_at, ls.ended_at,
                     ls.total_interactions, ls.completion_percentage, ls.configuration, ls.session_data),
     l AS (INSERT INTO audit_logs (user_id, action, entity_type, entity_id, new_values, ip_address, user_agent,
                                   session_id, is_success)
           SELECT p.learner, 'interaction.create', 'interaction', i.id, p.audit_values, p.ip_address::inet,
                  p.user_agent, p.token_id, true
             FROM p, i)
SELECT i.id, i.learning_session_id, i.generated_asset_id, i.interaction_type AS "interaction_type: InteractionType",
       i.interaction_data, i.created_at, i.is_correct, i.response_time_ms, i.confidence_level, i.feedback_data,
       s.id AS s_id, s.study_material_id AS s_study_material_id, s.session_type AS "s_session_type: SessionType",
       s.status AS "s_status: SessionStatus", s.started_at AS s_started_at, s.ended_at AS s_ended_at,
       s.total_interactions AS s_total_interactions, s.completion_percentage AS s_completion_percentage,
       s.configuration AS s_configuration, s.session_data AS s_session_data
  FROM i, s
