-- A record of every upkeep run (issue 18: the administrator page's status): scheduled
-- housekeeping and maintenance of each node, `studyhall maintain` and `studyhall backup
-- create` from the command line (a cron backup too), and the backups `serve` takes on
-- its own (STUDYHALL_BACKUP_HOURS). Not tenant data: requests are granted nothing, as
-- on `invitations`; the upkeep and the admin status read and write it on the privileged
-- connection. `studyhall maintain` keeps it bounded (housekeeping rows 7 days, the
-- others 90).
CREATE TABLE upkeep_runs (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
    kind text NOT NULL CONSTRAINT upkeep_runs_kind_check CHECK (kind IN ('maintenance', 'housekeeping', 'backup')),
    -- Which process ran it: `host-pid` of a serve or worker node, `host (command line)`.
    node text NOT NULL,
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    outcome text NOT NULL CONSTRAINT upkeep_runs_outcome_check CHECK (outcome IN ('done', 'skipped', 'failed')),
    -- What it did (or why it was skipped, or what failed), in words.
    summary text NOT NULL,
    -- When this node runs it next (finished + its interval); NULL when nothing schedules it.
    next_at timestamptz
);
CREATE INDEX idx_upkeep_runs_kind_finished_at ON upkeep_runs (kind, finished_at DESC);
