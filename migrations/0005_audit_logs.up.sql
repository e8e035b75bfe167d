-- The spec's audit trail, partitioned by month on created_at (primary key (id, created_at),
-- as for every partitioned table; see docs/schema.md).
CREATE TABLE audit_logs (
    id uuid NOT NULL DEFAULT uuid_generate_v4(),
    user_id uuid REFERENCES users (id),
    action varchar(100) NOT NULL,
    entity_type varchar(50) NOT NULL,
    entity_id uuid,
    old_values jsonb,
    new_values jsonb,
    ip_address inet,
    user_agent text,
    created_at timestamptz NOT NULL DEFAULT now(),
    session_id varchar(255),
    is_success boolean NOT NULL DEFAULT true,
    error_message text,
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE TABLE audit_logs_default PARTITION OF audit_logs DEFAULT;
CREATE INDEX idx_audit_logs_user_id ON audit_logs (user_id);
CREATE INDEX idx_audit_logs_action ON audit_logs (action);
CREATE INDEX idx_audit_logs_entity_type ON audit_logs (entity_type);
CREATE INDEX idx_audit_logs_entity_id ON audit_logs (entity_id);
CREATE INDEX idx_audit_logs_created_at ON audit_logs (created_at);
CREATE INDEX idx_audit_logs_is_success ON audit_logs (is_success);
CREATE INDEX idx_audit_logs_session_id ON audit_logs (session_id);
SELECT studyhall_ensure_month_partitions('audit_logs', 3);
