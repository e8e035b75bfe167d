DROP TABLE progress_metrics;
DROP TABLE user_feedback;
DROP TABLE interactions;
DROP TABLE learning_sessions;
