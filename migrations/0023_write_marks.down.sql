DROP FUNCTION studyhall_token_user(bytea);
CREATE FUNCTION studyhall_token_user(hash bytea)
RETURNS TABLE (token_id uuid, user_id uuid, is_admin boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT t.id, u.id, u.is_admin
      FROM auth_tokens t JOIN users u ON u.id = t.user_id
     WHERE t.token_hash = hash AND t.revoked_at IS NULL AND t.expires_at > now()
       AND u.is_active AND u.deleted_at IS NULL
$$;
REVOKE EXECUTE ON FUNCTION studyhall_token_user(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION studyhall_token_user(bytea) TO studyhall_app;

DROP TRIGGER audit_logs_mark_write ON audit_logs;
DROP FUNCTION studyhall_mark_audited_write();
DROP FUNCTION studyhall_mark_write(uuid);
DROP TABLE user_write_marks;
