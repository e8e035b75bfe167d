-- What a job's owner may see of how it ended: a finished job's result (for generation:
-- how many assets it made and how many were new), and the reason its last attempt
-- failed, in words safe to show (`last_error` keeps the operator's full text).
ALTER TABLE jobs ADD COLUMN result jsonb;
ALTER TABLE jobs ADD COLUMN reason text;
