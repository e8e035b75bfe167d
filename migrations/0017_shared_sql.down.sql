DROP FUNCTION studyhall_session_idle(jsonb, timestamptz, float8);
DROP FUNCTION studyhall_session_last_activity(jsonb, timestamptz);
DROP VIEW live_study_materials;
