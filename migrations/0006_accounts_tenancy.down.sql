DROP FUNCTION studyhall_token_user(bytea);
DROP FUNCTION studyhall_login_account(text);

DROP POLICY tenant_write ON audit_logs;
DROP POLICY tenant_read ON audit_logs;
ALTER TABLE audit_logs NO FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_logs DISABLE ROW LEVEL SECURITY;
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['users', 'study_materials', 'learning_sessions', 'interactions', 'user_feedback',
                             'progress_metrics', 'content_chunks', 'generated_assets']
    LOOP
        EXECUTE format('DROP POLICY tenant ON %I', t);
        EXECUTE format('ALTER TABLE %I NO FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I DISABLE ROW LEVEL SECURITY', t);
    END LOOP;
END
$$;

GRANT EXECUTE ON FUNCTION studyhall_create_month_partition(regclass, date) TO PUBLIC;
GRANT EXECUTE ON FUNCTION studyhall_ensure_month_partitions(regclass, integer) TO PUBLIC;
REVOKE ALL ON users, study_materials, content_chunks, generated_assets, learning_sessions, interactions,
    user_feedback, progress_metrics, audit_logs FROM studyhall_app;
REVOKE USAGE ON SCHEMA public FROM studyhall_app;

DROP TABLE auth_throttle;
DROP TABLE auth_tokens;
DROP FUNCTION studyhall_privileged();
DROP FUNCTION studyhall_current_user();
DROP INDEX users_username_lower_key;
DROP INDEX users_email_lower_key;
ALTER TABLE users DROP COLUMN is_admin;

-- The role is shared by every database of the cluster: drop it only when no other
-- database still grants it anything.
DO $$
BEGIN
    DROP ROLE studyhall_app;
EXCEPTION WHEN dependent_objects_still_exist THEN
    RAISE NOTICE 'role studyhall_app kept: other databases of this cluster use it';
END
$$;
