-- SQL fragments the code repeated, each defined once (issue 15).

-- The materials that are not deleted. security_invoker: the view reads study_materials
-- with the caller's rights, so its row-level security applies as to the table itself
-- (a view owned by the migrating role would otherwise read every learner's rows).
CREATE VIEW live_study_materials WITH (security_invoker = true) AS
    SELECT * FROM study_materials WHERE deleted_at IS NULL;
-- UPDATE as well: locking reads (SELECT ... FOR SHARE) need it.
GRANT SELECT, UPDATE ON live_study_materials TO studyhall_app;

-- When a learning session was last active: its last answer or view
-- (session_data.last_activity_at), else its start.
CREATE FUNCTION studyhall_session_last_activity(session_data jsonb, started_at timestamptz)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT coalesce((session_data ->> 'last_activity_at')::timestamptz, started_at)
$$;

-- Whether a learning session has been idle for longer than idle_secs (an active one
-- idle that long is abandoned). A one-expression SQL function: the planner inlines it.
CREATE FUNCTION studyhall_session_idle(session_data jsonb, started_at timestamptz, idle_secs float8)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT studyhall_session_last_activity(session_data, started_at) < now() - make_interval(secs => idle_secs)
$$;
