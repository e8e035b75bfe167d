-- Read-your-writes across serve nodes and a read replica (docs/scaling.md).
--
-- Each learner's write mark counts the changes committed for them. Every successful
-- audited change bumps it in the change's own transaction (the trigger on audit_logs),
-- as does a finished job of theirs (jobs::complete). Resolving a sign-in token on the
-- primary also returns the mark; a read may run on a replica only once the replica's copy
-- of the mark has reached it, which it has exactly when the replica shows those changes.
CREATE TABLE user_write_marks (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    mark bigint NOT NULL
) WITH (fillfactor = 50); -- room on the page for HOT updates: the row changes with every write

ALTER TABLE user_write_marks ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_write_marks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON user_write_marks
    USING (user_id = (SELECT studyhall_current_user()) OR (SELECT studyhall_privileged()));
GRANT SELECT, INSERT, UPDATE ON user_write_marks TO studyhall_app;

-- Bumps a user's mark; the row lock it takes orders a learner's changes, so a replica
-- showing mark N shows every change that committed before the one that wrote N.
CREATE FUNCTION studyhall_mark_write(uid uuid) RETURNS void
LANGUAGE sql VOLATILE AS $$
    INSERT INTO user_write_marks AS m (user_id, mark) VALUES (uid, 1)
    ON CONFLICT (user_id) DO UPDATE SET mark = m.mark + 1
$$;

CREATE FUNCTION studyhall_mark_audited_write() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM studyhall_mark_write(NEW.user_id);
    RETURN NULL;
END
$$;

-- A failed request's row is written in a transaction of its own that changes nothing.
CREATE TRIGGER audit_logs_mark_write AFTER INSERT ON audit_logs
    FOR EACH ROW WHEN (NEW.is_success AND NEW.user_id IS NOT NULL)
    EXECUTE FUNCTION studyhall_mark_audited_write();

-- The signed-in user behind a token's hash, now with their write mark (0 before any).
DROP FUNCTION studyhall_token_user(bytea);
CREATE FUNCTION studyhall_token_user(hash bytea)
RETURNS TABLE (token_id uuid, user_id uuid, is_admin boolean, write_mark bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT t.id, u.id, u.is_admin, coalesce(w.mark, 0)
      FROM auth_tokens t JOIN users u ON u.id = t.user_id
      LEFT JOIN user_write_marks w ON w.user_id = u.id
     WHERE t.token_hash = hash AND t.revoked_at IS NULL AND t.expires_at > now()
       AND u.is_active AND u.deleted_at IS NULL
$$;
REVOKE EXECUTE ON FUNCTION studyhall_token_user(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION studyhall_token_user(bytea) TO studyhall_app;
