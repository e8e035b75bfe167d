-- Recalibrates the assets $1 from their graded answers (once $2 of them) and ratings;
-- each one's new quality score (feedback::quality).
WITH answers AS (
    SELECT i.generated_asset_id AS id, i.is_correct::int AS correct,
           (SELECT avg(o.is_correct::int) FROM interactions o
             WHERE o.learning_session_id = i.learning_session_id AND o.is_correct IS NOT NULL
               AND o.generated_asset_id <> i.generated_asset_id) AS rest
      FROM interactions i
     WHERE i.generated_asset_id = ANY($1) AND i.interaction_type = 'answer' AND i.is_correct IS NOT NULL),
stats AS (SELECT id, count(*) AS n, avg(correct)::float8 AS facility, corr(correct, rest) AS discrimination
            FROM answers GROUP BY id),
ratings AS (SELECT generated_asset_id AS id, avg(rating)::float8 AS mean, count(*) AS n
              FROM user_feedback
             WHERE generated_asset_id = ANY($1) AND feedback_type = 'rating' AND status = 'active'
             GROUP BY generated_asset_id),
figures AS (
    SELECT a.id,
           coalesce((a.metadata->'quality'->>'initial')::float8, a.quality_score, 0.5) AS initial,
           coalesce((a.metadata->'quality'->>'initial_difficulty')::int, a.difficulty_level, 5) AS initial_level,
           coalesce(s.n, 0) AS answers, s.facility, s.discrimination,
           coalesce(r.n, 0) AS ratings, r.mean AS mean_rating,
           least(coalesce(r.n, 0), 5) / 5.0 AS rating_weight,
           CASE WHEN coalesce(s.n, 0) >= $2 THEN least(s.n, 30) / 30.0 ELSE 0 END AS stats_weight
      FROM generated_assets a
      LEFT JOIN stats s ON s.id = a.id
      LEFT JOIN ratings r ON r.id = a.id
     WHERE a.id = ANY($1))
UPDATE generated_assets a
   SET quality_score = greatest(0, least(1,
           (f.initial
            + f.rating_weight * coalesce((f.mean_rating - 1) / 4, 0)
            + f.stats_weight * (0.5 * (1 - abs(coalesce(f.facility, 0.75) - 0.75) / 0.75)
                                + 0.5 * greatest(0, coalesce(f.discrimination, 0))))
           / (1 + f.rating_weight + f.stats_weight))),
       difficulty_level = CASE WHEN f.answers >= $2
           THEN greatest(1, least(10, round(0.3 * f.initial_level + 0.7 * (1 + 9 * (1 - f.facility)))))::int
           ELSE f.initial_level END,
       metadata = coalesce(a.metadata, '{}') || jsonb_build_object('quality', jsonb_build_object(
           'initial', f.initial, 'initial_difficulty', f.initial_level, 'answers', f.answers,
           'facility', f.facility, 'discrimination', f.discrimination, 'ratings', f.ratings,
           'mean_rating', f.mean_rating))
  FROM figures f
 WHERE a.id = f.id
RETURNING a.id, a.quality_score AS "quality_score!"
