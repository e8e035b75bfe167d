-- What learning needs beyond the spec's tables.
--
-- review_states: each learner's FSRS memory state of each asset they have answered
-- (stability, difficulty, when it is due), updated in place on every answer, so that
-- scheduling never replays history. study_material_id is copied from the asset (it never
-- changes) so that "due in this material" is one index range.
CREATE TABLE review_states (
    user_id uuid NOT NULL REFERENCES users (id),
    generated_asset_id uuid NOT NULL REFERENCES generated_assets (id),
    study_material_id uuid NOT NULL REFERENCES study_materials (id),
    stability double precision NOT NULL CHECK (stability > 0),
    difficulty double precision NOT NULL CHECK (difficulty BETWEEN 1 AND 10),
    due timestamptz NOT NULL,
    reps integer NOT NULL DEFAULT 0 CHECK (reps >= 0),
    lapses integer NOT NULL DEFAULT 0 CHECK (lapses >= 0),
    last_rating smallint NOT NULL CHECK (last_rating BETWEEN 1 AND 4),
    last_review timestamptz NOT NULL,
    PRIMARY KEY (user_id, generated_asset_id)
);
CREATE INDEX idx_review_states_user_due ON review_states (user_id, due);
CREATE INDEX idx_review_states_material_due ON review_states (study_material_id, due);
CREATE INDEX idx_review_states_asset ON review_states (generated_asset_id);

-- idempotency_keys: an Idempotency-Key a learner sent with an answer, and the
-- interaction it recorded, so that a retried POST counts once.
CREATE TABLE idempotency_keys (
    user_id uuid NOT NULL REFERENCES users (id),
    key varchar(200) NOT NULL,
    -- SHA-256 of the request (session, body): the same key with another request is refused.
    request_hash bytea NOT NULL,
    interaction_id uuid NOT NULL,
    interaction_created_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idx_idempotency_keys_created_at ON idempotency_keys (created_at);

-- Finding a session's interactions, and a learner's recent answers.
CREATE INDEX idx_interactions_session_asset ON interactions (learning_session_id, generated_asset_id);
CREATE INDEX idx_interactions_user_created ON interactions (user_id, created_at);
-- A learner's active sessions, and the idle ones to abandon.
CREATE INDEX idx_learning_sessions_active ON learning_sessions (user_id, started_at) WHERE status = 'active';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['review_states', 'idempotency_keys']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant ON %I USING (user_id = (SELECT studyhall_current_user()) '
                       'OR (SELECT studyhall_privileged()))', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO studyhall_app', t);
    END LOOP;
END
$$;
