-- Replaces learner $1's rollups of period $2 (`daily`, `weekly`, `monthly`: date_trunc
-- unit $3) that overlap $4..$5 with those computed from their answers
-- (progress::rollup).
WITH bounds AS (SELECT date_trunc($3, $4::timestamptz, 'UTC') AS lo,
                       date_trunc($3, $5::timestamptz - interval '1 microsecond', 'UTC')
                           + ('1 ' || $3)::interval AS hi),
     gone AS (DELETE FROM progress_metrics p USING bounds
               WHERE p.user_id = $1 AND p.time_period = $2 AND p.learning_session_id IS NULL
                 AND p.recorded_at >= bounds.lo AND p.recorded_at < bounds.hi),
     src AS (SELECT date_trunc($3, i.created_at, 'UTC') AS start, m.subject_area, i.is_correct,
                    i.response_time_ms, (i.feedback_data->'schedule'->>'first_review')::boolean AS first
               FROM bounds, interactions i
               JOIN generated_assets a ON a.id = i.generated_asset_id
               JOIN study_materials m ON m.id = a.study_material_id
              WHERE i.user_id = $1 AND i.interaction_type = 'answer'
                AND i.created_at >= bounds.lo AND i.created_at < bounds.hi),
     agg AS (SELECT start, subject_area, GROUPING(subject_area) = 1 AS overall,
                    avg(is_correct::int) FILTER (WHERE is_correct IS NOT NULL) AS accuracy,
                    count(is_correct) AS graded,
                    percentile_cont(0.5) WITHIN GROUP (ORDER BY response_time_ms) AS speed,
                    count(response_time_ms) AS timed,
                    avg(is_correct::int) FILTER (WHERE NOT first) AS retention,
                    count(*) FILTER (WHERE NOT first) AS reviews
               FROM src GROUP BY GROUPING SETS ((start, subject_area), (start)))
INSERT INTO progress_metrics (user_id, metric_type, metric_value, metric_data, recorded_at, time_period,
                              subject_area, aggregation_type)
SELECT $1, t.metric_type, t.value,
       jsonb_build_object('count', t.n, 'scope', CASE WHEN agg.overall THEN 'overall' ELSE 'subject' END),
       agg.start, $2, CASE WHEN agg.overall THEN NULL ELSE agg.subject_area END, t.aggregation
  FROM agg
 CROSS JOIN LATERAL (VALUES ('accuracy', agg.accuracy, agg.graded, 'mean'),
                            ('speed', agg.speed, agg.timed, 'median'),
                            ('retention', agg.retention, agg.reviews, 'mean'))
            AS t(metric_type, value, n, aggregation)
 WHERE t.value IS NOT NULL AND (agg.overall OR agg.subject_area IS NOT NULL)
