DROP INDEX idx_learning_sessions_active;
DROP INDEX idx_interactions_user_created;
DROP INDEX idx_interactions_session_asset;
DROP TABLE idempotency_keys;
DROP TABLE review_states;
