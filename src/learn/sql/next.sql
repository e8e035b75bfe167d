-- The next item of session $1 of learner $2 (idle after $3 seconds), with the session
-- and what answering the item needs: one row, without item columns when nothing is
-- left; no row when the session is not the learner's (learn::next).
WITH s AS (SELECT id, user_id, study_material_id, session_type, status, started_at, configuration, session_data,
                  studyhall_session_idle(session_data, started_at, $3) AS idle
             FROM learning_sessions WHERE id = $1 AND user_id = $2),
     c AS (SELECT x.*
             FROM s, studyhall_session_candidates(s.id, s.user_id, s.study_material_id, s.session_type,
                                                  s.configuration) x),
     last AS (SELECT g.id, g.generation_params->>'fact' AS fact
                FROM interactions i JOIN generated_assets g ON g.id = i.generated_asset_id
               WHERE i.learning_session_id = $1 ORDER BY i.created_at DESC LIMIT 1),
     -- Once max_items items were served, only those served again (in a step) are left.
     pick AS (SELECT c.*, count(*) FILTER (WHERE NOT c.seen) OVER () AS fresh,
                     count(*) FILTER (WHERE c.seen) OVER () AS repeats
                FROM c, s
               WHERE c.seen OR coalesce((s.session_data->>'done')::int, 0) < (s.configuration->>'max_items')::int
               ORDER BY coalesce(c.id = (SELECT id FROM last) OR c.fact = (SELECT fact FROM last), false), pos
               LIMIT 1)
SELECT now() AS "now!", s.status AS "status!: SessionStatus", s.started_at AS "started_at!", s.configuration,
       s.session_data, s.idle AS "idle!", pick.id AS "id?", pick.study_material_id AS "study_material_id?",
       pick.content_chunk_id, pick.asset_type AS "asset_type?: AssetType", pick.content AS "content?",
       pick.difficulty_level, pick.seen AS "seen?", pick.fresh AS "fresh?", pick.repeats AS "repeats?",
       passage.content AS "passage?", r.stability AS "stability?", r.difficulty AS "difficulty?", r.reps AS "reps?",
       r.lapses AS "lapses?", r.last_review AS "last_review?", r.state AS "state?: ReviewState", r.step,
       studyhall_elapsed_days((SELECT preferences FROM users WHERE id = $2), r.last_review) AS elapsed_days,
       (SELECT preferences FROM users WHERE id = $2) AS preferences,
       (SELECT parameters FROM learner_parameters WHERE user_id = $2) AS parameters
  FROM s LEFT JOIN pick ON true
  LEFT JOIN content_chunks passage ON passage.id = pick.content_chunk_id AND pick.asset_type = 'summary'
  LEFT JOIN review_states r ON r.user_id = $2 AND r.generated_asset_id = pick.id AND pick.asset_type = 'flashcard'
