-- The statuses and kinds only the code names (src/states.rs types each as an enum), held
-- to their values: a row the code could not read back is refused when it is written.
-- The spec's columns stay as they are (varchar, NOT NULL, defaults); the values are the
-- spec's where it lists them.
ALTER TABLE study_materials ADD CONSTRAINT study_materials_status_check
    CHECK (status IN ('processing', 'ready', 'failed'));
ALTER TABLE generated_assets ADD CONSTRAINT generated_assets_asset_type_check
    CHECK (asset_type IN ('flashcard', 'quiz', 'summary'));
ALTER TABLE generated_assets ADD CONSTRAINT generated_assets_status_check
    CHECK (status IN ('ready', 'draft', 'flagged', 'archived', 'suspended'));
ALTER TABLE learning_sessions ADD CONSTRAINT learning_sessions_session_type_check
    CHECK (session_type IN ('study', 'review', 'quiz'));
ALTER TABLE learning_sessions ADD CONSTRAINT learning_sessions_status_check
    CHECK (status IN ('active', 'completed', 'abandoned'));
ALTER TABLE interactions ADD CONSTRAINT interactions_interaction_type_check
    CHECK (interaction_type IN ('answer', 'view', 'skip'));
ALTER TABLE user_feedback ADD CONSTRAINT user_feedback_feedback_type_check
    CHECK (feedback_type IN ('rating', 'comment', 'report'));
