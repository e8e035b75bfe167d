-- Parts that several statements shared as Rust text (spliced in when the statement was
-- built), each now one SQL function: every statement is then one literal text, which
-- sqlx checks against the schema when the crate compiles (docs/architecture.md).

-- The items a learning session can serve now, each with its place `pos`, its `fact`
-- (items made from one fact are siblings: the next item is never a sibling of the last
-- one, when anything else is left) and `seen` (answered in this session already: an
-- item in a learning step, served again). p_session is null for a session not yet
-- started (counting what it plans to serve).
--
-- Study and review sessions serve from studyhall_study_queue (0016: the learner's day,
-- daily limits, buried siblings), first the items in a step that are due now, then their
-- own order, and last the items in a step due later today (served early, so that the
-- session can finish). An item answered in the session comes back only while in a step;
-- one skipped does not. Study sessions serve each chunk's summary, then its new
-- flashcards (the material's own summary first). Quiz sessions serve quiz items nearest
-- the difficulty the learner answers correctly four times in five (learn::next).
CREATE FUNCTION studyhall_session_candidates(p_session uuid, p_user uuid, p_material uuid, p_type text,
                                             p_configuration jsonb)
RETURNS TABLE (id uuid, study_material_id uuid, content_chunk_id uuid, asset_type text, content jsonb,
               difficulty_level integer, fact text, pos bigint, seen boolean)
LANGUAGE sql STABLE AS $$
    WITH s AS (SELECT p_session AS id, p_user AS user_id, p_material AS study_material_id, p_type AS session_type,
                      p_configuration AS configuration),
    handled AS (SELECT i.generated_asset_id, bool_or(i.interaction_type = 'answer') AS seen,
                       bool_or(i.interaction_type = 'skip') AS skipped
                  FROM s JOIN interactions i ON i.learning_session_id = s.id
                 WHERE i.interaction_type <> 'view'
                 GROUP BY i.generated_asset_id),
    queued AS (SELECT q.*, CASE WHEN q.queue <> 'learning' THEN 1 WHEN q.due <= now() THEN 0 ELSE 3 END AS band,
                      coalesce(h.seen, false) AS seen
                 FROM s, studyhall_study_queue(
                          s.user_id,
                          CASE WHEN s.session_type = 'review'
                                    AND coalesce((s.configuration->>'all_materials')::boolean, false)
                               THEN NULL ELSE s.study_material_id END,
                          CASE WHEN s.session_type = 'study' THEN ARRAY['flashcard']
                               ELSE ARRAY(SELECT jsonb_array_elements_text(s.configuration->'asset_types')) END) q
                 LEFT JOIN handled h ON h.generated_asset_id = q.generated_asset_id
                WHERE s.session_type IN ('study', 'review')
                  AND (s.session_type = 'review' OR q.queue <> 'review'
                       AND s.configuration->'asset_types' ? 'flashcard')
                  AND NOT coalesce(h.skipped, false) AND (q.queue = 'learning' OR NOT coalesce(h.seen, false)))
    SELECT a.id, a.study_material_id, a.content_chunk_id, a.asset_type, a.content, a.difficulty_level,
           a.generation_params->>'fact' AS fact,
           row_number() OVER (ORDER BY x.band, coalesce(ch.chunk_order, -1), a.asset_type <> 'summary',
                                       x.due, a.id) AS pos,
           x.seen
      FROM s
      CROSS JOIN LATERAL (
           SELECT q.generated_asset_id AS id, q.band, q.due, q.seen FROM queued q
           UNION ALL
           SELECT a.id, 1, NULL::timestamptz, false FROM generated_assets a
            WHERE a.study_material_id = s.study_material_id AND a.asset_type = 'summary'
              AND a.status = 'ready' AND s.configuration->'asset_types' ? 'summary'
              AND NOT EXISTS (SELECT 1 FROM interactions i
                               WHERE i.learning_session_id = s.id AND i.generated_asset_id = a.id)) x
      JOIN generated_assets a ON a.id = x.id
      LEFT JOIN content_chunks ch ON ch.id = a.content_chunk_id
     WHERE s.session_type = 'study'
    UNION ALL
    SELECT a.id, a.study_material_id, a.content_chunk_id, a.asset_type, a.content, a.difficulty_level,
           a.generation_params->>'fact' AS fact,
           row_number() OVER (ORDER BY q.band, q.queue = 'new', q.due, coalesce(ch.chunk_order, -1), a.id),
           q.seen
      FROM s
      JOIN queued q ON true
      JOIN generated_assets a ON a.id = q.generated_asset_id
      LEFT JOIN content_chunks ch ON ch.id = a.content_chunk_id
     WHERE s.session_type = 'review'
    UNION ALL
    SELECT a.id, a.study_material_id, a.content_chunk_id, a.asset_type, a.content, a.difficulty_level,
           a.generation_params->>'fact' AS fact,
           row_number() OVER (ORDER BY abs(coalesce(a.difficulty_level, 5) - t.target), a.id),
           false
      FROM s
      CROSS JOIN LATERAL (
           SELECT coalesce(avg(h.level), 5.5)
                  + 1.5 * ln((count(*) FILTER (WHERE h.is_correct) + 1.0)
                             / (4.0 * (count(*) FILTER (WHERE NOT h.is_correct) + 1.0))) AS target
             FROM (SELECT i.is_correct, coalesce(q.difficulty_level, 5) AS level
                     FROM (SELECT is_correct, generated_asset_id FROM interactions
                            WHERE user_id = s.user_id AND is_correct IS NOT NULL
                              AND interaction_data ? 'choice_index'
                            ORDER BY created_at DESC LIMIT 50) i
                     JOIN generated_assets q ON q.id = i.generated_asset_id) h) t
      JOIN generated_assets a ON a.study_material_id = s.study_material_id
     WHERE s.session_type = 'quiz' AND a.status = 'ready' AND a.asset_type = 'quiz'
       AND NOT EXISTS (SELECT 1 FROM interactions i
                        WHERE i.learning_session_id = s.id AND i.generated_asset_id = a.id
                          AND i.interaction_type <> 'view')
$$;

-- Days elapsed since last_review in the learner's days (how many of their day starts
-- passed, as Anki counts them: learn::schedule::Memory::elapsed_days).
CREATE FUNCTION studyhall_elapsed_days(prefs jsonb, last_review timestamptz)
RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT round(extract(epoch FROM t.day_start - l.day_start) / 86400)::int
      FROM studyhall_learner_today(prefs, now()) t, studyhall_learner_today(prefs, last_review) l
$$;

-- The predicted chance of recall now of an item last reviewed at last_review with this
-- stability, under the forgetting curve with this decay (learn::schedule, FSRS-6). One
-- expression: the planner inlines it (pass the decay as a column, not a subquery).
CREATE FUNCTION studyhall_predicted_recall(stability float8, last_review timestamptz, decay float8)
RETURNS float8 LANGUAGE sql STABLE AS $$
    SELECT power(1 + (power(0.9, -1.0 / decay) - 1) * extract(epoch FROM now() - last_review) / 86400.0 / stability,
                 -decay)
$$;

-- The learner's ready flashcards in each of their live materials by stage: new (never
-- answered), learning (in a learning or relearning step), young (in review with an
-- interval under 21 days) and mature (21 days or more, as Anki counts them).
CREATE FUNCTION studyhall_card_stages(p_user uuid)
RETURNS TABLE (study_material_id uuid, new bigint, learning bigint, young bigint, mature bigint)
LANGUAGE sql STABLE AS $$
    SELECT a.study_material_id,
           count(*) FILTER (WHERE r.state IS NULL),
           count(*) FILTER (WHERE r.state IN ('learning', 'relearning')),
           count(*) FILTER (WHERE r.state = 'review' AND r.due - r.last_review < interval '21 days'),
           count(*) FILTER (WHERE r.state = 'review' AND r.due - r.last_review >= interval '21 days')
      FROM generated_assets a
      JOIN live_study_materials m ON m.id = a.study_material_id AND m.user_id = p_user
      LEFT JOIN review_states r ON r.user_id = p_user AND r.generated_asset_id = a.id
     WHERE a.status = 'ready' AND a.asset_type = 'flashcard'
     GROUP BY a.study_material_id
$$;

-- What the learner can study now in one material (or all of theirs, p_material null):
-- flashcards new (within today's new-card limit), in a learning step, and in review due
-- today (learn::due::Counts).
CREATE FUNCTION studyhall_study_counts(p_user uuid, p_material uuid)
RETURNS TABLE (new bigint, learning bigint, review bigint)
LANGUAGE sql STABLE AS $$
    SELECT count(*) FILTER (WHERE q.queue = 'new'),
           count(*) FILTER (WHERE q.queue = 'learning'),
           count(*) FILTER (WHERE q.queue = 'review')
      FROM studyhall_study_queue(p_user, p_material, ARRAY['flashcard']) q
$$;
