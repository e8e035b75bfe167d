DROP FUNCTION studyhall_older_than(timestamptz, uuid, timestamptz, uuid);
