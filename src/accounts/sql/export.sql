-- Everything studyhall holds about user $1, table by table, as one JSON object (secrets,
-- such as the password hash and token hashes, left out): each table filtered by owner
-- explicitly, and by row-level security besides (accounts::me::export).
WITH materials AS (SELECT id FROM study_materials WHERE user_id = $1)
SELECT jsonb_build_object(
  'user', (SELECT to_jsonb(u) - 'password_hash' FROM users u WHERE id = $1),
  'auth_tokens', (SELECT coalesce(jsonb_agg(to_jsonb(t) - 'token_hash' ORDER BY created_at), '[]')
                    FROM auth_tokens t WHERE user_id = $1),
  'study_materials', (SELECT coalesce(jsonb_agg(t ORDER BY created_at), '[]')
                        FROM study_materials t WHERE user_id = $1),
  'content_chunks', (SELECT coalesce(jsonb_agg(t ORDER BY study_material_id, chunk_order), '[]')
                       FROM content_chunks t WHERE study_material_id IN (SELECT id FROM materials)),
  'generated_assets', (SELECT coalesce(jsonb_agg(t ORDER BY created_at), '[]')
                         FROM generated_assets t WHERE study_material_id IN (SELECT id FROM materials)),
  'learning_sessions', (SELECT coalesce(jsonb_agg(t ORDER BY started_at), '[]')
                          FROM learning_sessions t WHERE user_id = $1),
  'interactions', (SELECT coalesce(jsonb_agg(t ORDER BY created_at), '[]')
                     FROM interactions t WHERE user_id = $1),
  'user_feedback', (SELECT coalesce(jsonb_agg(t ORDER BY created_at), '[]')
                      FROM user_feedback t WHERE user_id = $1),
  'progress_metrics', (SELECT coalesce(jsonb_agg(t ORDER BY recorded_at), '[]')
                         FROM progress_metrics t WHERE user_id = $1),
  'audit_logs', (SELECT coalesce(jsonb_agg(t ORDER BY created_at), '[]')
                   FROM audit_logs t WHERE user_id = $1),
  'material_sources', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                           'study_material_id', study_material_id, 'media_type', media_type,
                           'file_name', file_name, 'created_at', created_at,
                           'content_base64', encode(content, 'base64')) ORDER BY created_at), '[]')
                         FROM material_sources WHERE user_id = $1),
  'jobs', (SELECT coalesce(jsonb_agg(t ORDER BY created_at), '[]') FROM jobs t WHERE user_id = $1),
  'review_states', (SELECT coalesce(jsonb_agg(t ORDER BY generated_asset_id), '[]')
                      FROM review_states t WHERE user_id = $1),
  'learner_parameters', (SELECT coalesce(jsonb_agg(t), '[]') FROM learner_parameters t WHERE user_id = $1),
  'user_write_marks', (SELECT coalesce(jsonb_agg(t), '[]') FROM user_write_marks t WHERE user_id = $1),
  'password_resets', (SELECT coalesce(jsonb_agg(to_jsonb(t) - 'token_hash' ORDER BY created_at), '[]')
                        FROM password_resets t WHERE user_id = $1)
) AS "document!"
