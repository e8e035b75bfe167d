-- The spec's learning tables: learning_sessions, interactions (partitioned by month on
-- created_at), user_feedback and progress_metrics (partitioned by month on recorded_at).
-- A partitioned table's primary key must contain its partition key, hence (id, created_at)
-- and (id, recorded_at); user_feedback carries interaction_created_at so that its foreign
-- key to interactions is a real one. See docs/schema.md.

CREATE TABLE learning_sessions (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
    user_id uuid NOT NULL REFERENCES users (id),
    study_material_id uuid NOT NULL REFERENCES study_materials (id),
    started_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz,
    session_type varchar(50) NOT NULL,
    session_data jsonb,
    total_interactions integer DEFAULT 0,
    completion_percentage float DEFAULT 0,
    status varchar(20) NOT NULL DEFAULT 'active',
    configuration jsonb
);
CREATE INDEX idx_learning_sessions_user_id ON learning_sessions (user_id);
CREATE INDEX idx_learning_sessions_study_material_id ON learning_sessions (study_material_id);
CREATE INDEX idx_learning_sessions_started_at ON learning_sessions (started_at);
CREATE INDEX idx_learning_sessions_status ON learning_sessions (status);
CREATE INDEX idx_learning_sessions_session_type ON learning_sessions (session_type);
CREATE INDEX idx_learning_sessions_completion_percentage ON learning_sessions (completion_percentage);

CREATE TABLE interactions (
    id uuid NOT NULL DEFAULT uuid_generate_v4(),
    learning_session_id uuid NOT NULL REFERENCES learning_sessions (id),
    generated_asset_id uuid REFERENCES generated_assets (id),
    user_id uuid NOT NULL REFERENCES users (id),
    interaction_type varchar(50) NOT NULL,
    interaction_data jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    is_correct boolean,
    response_time_ms integer,
    confidence_level float,
    feedback_data jsonb,
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE TABLE interactions_default PARTITION OF interactions DEFAULT;
CREATE INDEX idx_interactions_learning_session_id ON interactions (learning_session_id);
CREATE INDEX idx_interactions_generated_asset_id ON interactions (generated_asset_id);
CREATE INDEX idx_interactions_user_id ON interactions (user_id);
CREATE INDEX idx_interactions_created_at ON interactions (created_at);
CREATE INDEX idx_interactions_interaction_type ON interactions (interaction_type);
CREATE INDEX idx_interactions_is_correct ON interactions (is_correct);
SELECT studyhall_ensure_month_partitions('interactions', 3);

CREATE TABLE user_feedback (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
    user_id uuid NOT NULL REFERENCES users (id),
    generated_asset_id uuid REFERENCES generated_assets (id),
    interaction_id uuid,
    interaction_created_at timestamptz,
    feedback_type varchar(50) NOT NULL,
    rating integer CHECK (rating >= 1 AND rating <= 5),
    comment text,
    metadata jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    status varchar(20) NOT NULL DEFAULT 'active',
    -- MATCH FULL: both columns set (and the interaction exists) or both NULL.
    CONSTRAINT user_feedback_interaction_id_fkey
        FOREIGN KEY (interaction_id, interaction_created_at)
        REFERENCES interactions (id, created_at) MATCH FULL
);
CREATE INDEX idx_user_feedback_user_id ON user_feedback (user_id);
CREATE INDEX idx_user_feedback_generated_asset_id ON user_feedback (generated_asset_id);
CREATE INDEX idx_user_feedback_interaction_id ON user_feedback (interaction_id);
CREATE INDEX idx_user_feedback_feedback_type ON user_feedback (feedback_type);
CREATE INDEX idx_user_feedback_rating ON user_feedback (rating);
CREATE INDEX idx_user_feedback_created_at ON user_feedback (created_at);
CREATE TRIGGER user_feedback_touch_updated_at BEFORE UPDATE ON user_feedback
    FOR EACH ROW EXECUTE FUNCTION studyhall_touch_updated_at();

CREATE TABLE progress_metrics (
    id uuid NOT NULL DEFAULT uuid_generate_v4(),
    user_id uuid NOT NULL REFERENCES users (id),
    learning_session_id uuid REFERENCES learning_sessions (id),
    metric_type varchar(50) NOT NULL,
    metric_value float NOT NULL,
    metric_data jsonb,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    time_period varchar(20),
    subject_area varchar(100),
    aggregation_type varchar(20),
    PRIMARY KEY (id, recorded_at)
) PARTITION BY RANGE (recorded_at);
CREATE TABLE progress_metrics_default PARTITION OF progress_metrics DEFAULT;
CREATE INDEX idx_progress_metrics_user_id ON progress_metrics (user_id);
CREATE INDEX idx_progress_metrics_learning_session_id ON progress_metrics (learning_session_id);
CREATE INDEX idx_progress_metrics_metric_type ON progress_metrics (metric_type);
CREATE INDEX idx_progress_metrics_recorded_at ON progress_metrics (recorded_at);
CREATE INDEX idx_progress_metrics_time_period ON progress_metrics (time_period);
CREATE INDEX idx_progress_metrics_subject_area ON progress_metrics (subject_area);
SELECT studyhall_ensure_month_partitions('progress_metrics', 3);
