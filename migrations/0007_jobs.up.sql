-- Durable background jobs (ingestion, generation): enqueued in the same transaction as
-- the row they work on, claimed with FOR UPDATE SKIP LOCKED, leased so that a job whose
-- worker died is claimed again when its lease runs out, retried with backoff.
CREATE TABLE jobs (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
    kind varchar(50) NOT NULL,
    -- Whose work this is: the worker acts as this user (row-level security applies).
    user_id uuid NOT NULL REFERENCES users (id),
    payload jsonb NOT NULL,
    status varchar(20) NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL CHECK (max_attempts > 0),
    run_at timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz,
    locked_by text,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
-- What a worker looks for: queued jobs that are due, and running ones whose lease ran out.
CREATE INDEX idx_jobs_claimable ON jobs (run_at) WHERE status IN ('queued', 'running');
CREATE INDEX idx_jobs_user_id ON jobs (user_id);
CREATE TRIGGER jobs_touch_updated_at BEFORE UPDATE ON jobs
    FOR EACH ROW EXECUTE FUNCTION studyhall_touch_updated_at();

-- Requests enqueue and read their own user's jobs; workers claim on the privileged
-- connection.
ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON jobs
    USING (user_id = (SELECT studyhall_current_user()) OR (SELECT studyhall_privileged()));
GRANT SELECT, INSERT ON jobs TO studyhall_app;
