-- Records, for the material's subject area of session $1 of learner $2, its accuracy,
-- speed and retention (progress::session::record; learn::store::complete marked it
-- completed); $3 is the default decay of the forgetting curve (the learner's own is the
-- last of their parameters).
WITH s AS (SELECT study_material_id, configuration FROM learning_sessions WHERE id = $1 AND user_id = $2),
     m AS (SELECT m.subject_area FROM study_materials m JOIN s ON m.id = s.study_material_id),
     stats AS (SELECT count(*) FILTER (WHERE is_correct IS NOT NULL) AS graded,
                      count(*) FILTER (WHERE is_correct) AS correct,
                      percentile_cont(0.5) WITHIN GROUP (ORDER BY response_time_ms)
                          FILTER (WHERE interaction_type = 'answer') AS speed,
                      count(response_time_ms) FILTER (WHERE interaction_type = 'answer') AS timed
                 FROM interactions WHERE learning_session_id = $1),
     d AS (SELECT coalesce((SELECT parameters[21] FROM learner_parameters WHERE user_id = $2), $3::float8) AS decay),
     ret AS (SELECT avg(studyhall_predicted_recall(r.stability, r.last_review, d.decay)) AS retention,
                    count(*) AS items
               FROM review_states r, s, d
              WHERE r.user_id = $2
                AND (r.study_material_id = s.study_material_id
                     OR coalesce((s.configuration->>'all_materials')::boolean, false)))
INSERT INTO progress_metrics (user_id, learning_session_id, metric_type, metric_value, metric_data, subject_area,
                              aggregation_type)
SELECT $2, $1, t.metric_type, t.value, t.data, m.subject_area, 'session'
  FROM stats, ret, m
 CROSS JOIN LATERAL (VALUES
     ('accuracy', stats.correct::float8 / nullif(stats.graded, 0),
      jsonb_build_object('graded', stats.graded, 'correct', stats.correct)),
     ('speed', stats.speed, jsonb_build_object('answers', stats.timed)),
     ('retention', ret.retention, jsonb_build_object('items', ret.items))
 ) AS t(metric_type, value, data)
 WHERE t.value IS NOT NULL
