-- jobs.progress: what a running job has done so far, as the job reports it (generation:
-- {"stage": "reading" | "asking" | "saving", "done": n, "total": n}), for its owner to
-- watch through GET /api/v1/jobs/{id}.
ALTER TABLE jobs ADD COLUMN progress jsonb;
