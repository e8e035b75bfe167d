DROP FUNCTION studyhall_study_counts(uuid, uuid);
DROP FUNCTION studyhall_card_stages(uuid);
DROP FUNCTION studyhall_predicted_recall(float8, timestamptz, float8);
DROP FUNCTION studyhall_elapsed_days(jsonb, timestamptz);
DROP FUNCTION studyhall_session_candidates(uuid, uuid, uuid, text, jsonb);
