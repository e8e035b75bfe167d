-- What recording an interaction reads (learn::answer), in one statement: the session $1
-- of learner $2 (locked; idle after $5 seconds), the asset $3 (if it is the learner's),
-- $6 characters of its chunk, the learner's memory of it, their preferences and FSRS
-- parameters, whether the session counted the item already, and the Idempotency-Key
-- $4 if it was used. (No line comments below: the load harness runs it as one line.)
SELECT now() AS "now!", s.status AS "status: SessionStatus", s.study_material_id AS session_material,
       s.configuration, studyhall_session_idle(s.session_data, s.started_at, $5) AS "idle!",
       a.study_material_id AS "asset_material?", a.asset_type AS "asset_type?: AssetType", a.content AS "content?",
       a.status AS "asset_status?: AssetStatus", a.content_chunk_id, left(ch.content, $6) AS excerpt,
       r.stability AS "stability?", r.difficulty AS "difficulty?", r.reps AS "reps?", r.lapses AS "lapses?",
       r.last_review AS "last_review?", r.state AS "state?: ReviewState", r.step,
       studyhall_elapsed_days(u.preferences, r.last_review) AS elapsed_days, u.preferences, lp.parameters AS "parameters?",
       EXISTS (SELECT 1 FROM interactions i
                WHERE i.learning_session_id = s.id AND i.generated_asset_id = $3
                  AND (i.interaction_type <> 'view' OR a.asset_type = 'summary')) AS "done!",
       s.session_type <> 'quiz' AND coalesce(r.state <> 'review', false) AS "again!",
       k.request_hash AS "key_hash?", k.interaction_id AS "key_interaction?",
       k.interaction_created_at AS "key_created_at?"
  FROM learning_sessions s
  JOIN users u ON u.id = s.user_id
  LEFT JOIN (generated_assets a JOIN live_study_materials m ON m.id = a.study_material_id
                                                         AND m.user_id = $2)
         ON a.id = $3
  LEFT JOIN content_chunks ch ON ch.id = a.content_chunk_id
  LEFT JOIN review_states r ON r.user_id = $2 AND r.generated_asset_id = $3
  LEFT JOIN idempotency_keys k ON k.user_id = $2 AND k.key = $4
  LEFT JOIN learner_parameters lp ON lp.user_id = $2
 WHERE s.id = $1 AND s.user_id = $2
   FOR UPDATE OF s
