-- The archive: audit_logs months past retention are detached and moved here by
-- `studyhall maintain`, read-only (write privileges revoked, requests have no access).
CREATE SCHEMA archive;
REVOKE ALL ON SCHEMA archive FROM PUBLIC;
