DROP FUNCTION studyhall_study_queue(uuid, uuid, text[]);
DROP FUNCTION studyhall_learner_today(jsonb, timestamptz);
DROP FUNCTION studyhall_whole_setting(jsonb, text, integer, integer, integer);
ALTER TABLE review_states DROP CONSTRAINT review_states_step_in_steps, DROP COLUMN step, DROP COLUMN state;
