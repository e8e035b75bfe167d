-- Learning steps, the learner's day, daily limits and buried siblings (issue 16).
--
-- review_states.state and step: where an item is in its schedule, as the reference FSRS
-- scheduler keeps it: `learning` (a new item going through the learning steps), `review`
-- (scheduled by FSRS in whole days) or `relearning` (a lapse going through the
-- relearning steps), with the index of the step for the two step states. Rows written
-- before steps existed are in review.
ALTER TABLE review_states
    ADD COLUMN state text NOT NULL DEFAULT 'review' CHECK (state IN ('learning', 'review', 'relearning')),
    ADD COLUMN step smallint CHECK (step >= 0),
    ADD CONSTRAINT review_states_step_in_steps CHECK ((state = 'review') = (step IS NULL));

-- A whole-number study setting of a learner's preferences: the stored value when it is a
-- whole number from lo to hi, the default otherwise (as learn::preferences reads it).
CREATE FUNCTION studyhall_whole_setting(prefs jsonb, key text, fallback integer, lo integer, hi integer)
RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(prefs -> key) = 'number' AND (prefs ->> key)::numeric BETWEEN lo AND hi
                     AND (prefs ->> key)::numeric = trunc((prefs ->> key)::numeric)
                THEN (prefs ->> key)::integer ELSE fallback END
$$;

-- The learner's today at `at`: when it started and when the next day starts (at their
-- day_starts_at_hour, default 4, in their time_zone, default UTC: PostgreSQL's tz
-- database), and their daily limits (new_cards_per_day 20, reviews_per_day 200). The
-- defaults are learn::preferences's; a time zone PostgreSQL does not know reads as UTC.
CREATE FUNCTION studyhall_learner_today(prefs jsonb, at timestamptz,
                                        OUT day_start timestamptz, OUT next_day_start timestamptz,
                                        OUT new_cards_per_day integer, OUT reviews_per_day integer)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_zone text := CASE WHEN jsonb_typeof(prefs -> 'time_zone') = 'string' THEN prefs ->> 'time_zone' ELSE 'UTC' END;
    v_hour integer := studyhall_whole_setting(prefs, 'day_starts_at_hour', 4, 0, 23);
    v_day date;
BEGIN
    new_cards_per_day := studyhall_whole_setting(prefs, 'new_cards_per_day', 20, 0, 9999);
    reviews_per_day := studyhall_whole_setting(prefs, 'reviews_per_day', 200, 0, 99999);
    BEGIN
        v_day := (timezone(v_zone, at) - make_interval(hours => v_hour))::date;
    EXCEPTION WHEN invalid_parameter_value THEN
        v_zone := 'UTC';
        v_day := (timezone(v_zone, at) - make_interval(hours => v_hour))::date;
    END;
    day_start := timezone(v_zone, v_day + make_interval(hours => v_hour));
    next_day_start := timezone(v_zone, (v_day + 1) + make_interval(hours => v_hour));
END
$$;

-- What a learner can study now, in one material (or all of theirs, p_material null),
-- of the asset types p_types: the one definition that review and study sessions serve
-- from and that every due and new count counts.
--
-- queue: `new` (never answered), `learning` (in a learning or relearning step) or
-- `review`. A review item is due by day (due before the learner's next day starts); an
-- item in a step is listed when due before the next day starts too, and is served by
-- the minute (sessions serve it early only when nothing else is left). New items are
-- capped by new_cards_per_day less the first answers given today, review items by
-- reviews_per_day less today's answers to review items (answers in quiz sessions do not
-- count). Siblings (items of one material with the same generation_params->>'fact')
-- are buried: once one is answered today the others wait for the next day, unless in a
-- step already.
CREATE FUNCTION studyhall_study_queue(p_user uuid, p_material uuid, p_types text[])
RETURNS TABLE (generated_asset_id uuid, study_material_id uuid, queue text, due timestamptz)
LANGUAGE sql STABLE AS $$
    WITH t AS (SELECT d.* FROM users u, studyhall_learner_today(u.preferences, now()) d WHERE u.id = p_user),
    answered AS (SELECT i.generated_asset_id, i.feedback_data -> 'schedule' ->> 'queue' AS queue,
                        ls.session_type
                   FROM t, interactions i JOIN learning_sessions ls ON ls.id = i.learning_session_id
                  WHERE i.user_id = p_user AND i.created_at >= t.day_start AND i.is_correct IS NOT NULL),
    -- Today's new cards and reviews; materialized: computed once, not once per item.
    used AS MATERIALIZED (SELECT count(*) FILTER (WHERE a.queue = 'new') AS new,
                                 count(*) FILTER (WHERE a.queue = 'review') AS reviews
                            FROM answered a WHERE a.session_type <> 'quiz'),
    -- The facts answered today, with the items answered: a hash join, not a subquery per item.
    facts AS (SELECT g.study_material_id, g.generation_params ->> 'fact' AS fact, array_agg(DISTINCT g.id) AS answered
                FROM answered x JOIN generated_assets g ON g.id = x.generated_asset_id
               WHERE g.generation_params ->> 'fact' IS NOT NULL
               GROUP BY 1, 2),
    items AS (
        SELECT a.id, a.study_material_id,
               CASE WHEN r.state IS NULL THEN 'new' WHEN r.state = 'review' THEN 'review' ELSE 'learning' END AS queue,
               r.due, coalesce(ch.chunk_order, -1) AS chunk_order
          FROM t
          JOIN study_materials m ON m.user_id = p_user AND m.deleted_at IS NULL
                                AND (p_material IS NULL OR m.id = p_material)
          JOIN generated_assets a ON a.study_material_id = m.id AND a.status = 'ready' AND a.asset_type = ANY (p_types)
          LEFT JOIN content_chunks ch ON ch.id = a.content_chunk_id
          LEFT JOIN review_states r ON r.user_id = p_user AND r.generated_asset_id = a.id
          LEFT JOIN facts f ON f.study_material_id = a.study_material_id AND f.fact = a.generation_params ->> 'fact'
         WHERE (r.due IS NULL OR r.due < t.next_day_start)
           AND (f.fact IS NULL OR f.answered = ARRAY[a.id] OR r.state IN ('learning', 'relearning'))
    ),
    ranked AS (SELECT items.*, row_number() OVER (PARTITION BY items.queue
                                                  ORDER BY items.due, items.chunk_order, items.id) AS n
                 FROM items)
    SELECT r.id, r.study_material_id, r.queue, r.due
      FROM ranked r, t, used
     WHERE r.queue = 'learning'
        OR (r.queue = 'new' AND r.n <= t.new_cards_per_day - used.new)
        OR (r.queue = 'review' AND r.n <= t.reviews_per_day - used.reviews)
$$;
