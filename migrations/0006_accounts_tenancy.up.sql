-- Accounts and tenancy: admin flag, case-insensitive uniqueness, sign-in tokens,
-- sign-in throttling, and row-level security on every user-owned table.
--
-- Request handling runs as studyhall_app, a role that owns nothing and cannot bypass
-- RLS. Each request transaction names its user with
--     SELECT set_config('app.user_id', '<uuid>', true)
-- and every policy compares rows with that setting, so a query that forgot its
-- `WHERE user_id = ...` still sees only the caller's rows. See docs/security.md.

ALTER TABLE users ADD COLUMN is_admin boolean NOT NULL DEFAULT false;
-- Email and username are unique whatever their case.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));

-- Sign-in tokens: the client holds an opaque random token; only its SHA-256 is stored.
CREATE TABLE auth_tokens (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
    user_id uuid NOT NULL REFERENCES users (id),
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX idx_auth_tokens_user_id ON auth_tokens (user_id);

-- Failed sign-ins per account and per client address, for throttling. Not user data.
CREATE TABLE auth_throttle (
    key text PRIMARY KEY,
    failures integer NOT NULL,
    window_started_at timestamptz NOT NULL,
    blocked_until timestamptz,
    lockouts integer NOT NULL DEFAULT 0
);

-- The user the current transaction acts for, or NULL.
CREATE FUNCTION studyhall_current_user() RETURNS uuid
LANGUAGE sql STABLE
AS $$ SELECT nullif(current_setting('app.user_id', true), '')::uuid $$;

-- True for the privileged connection (the schema owner, or a superuser), which
-- migrations, maintenance and audited admin paths use; never for studyhall_app.
CREATE FUNCTION studyhall_privileged() RETURNS boolean
LANGUAGE sql STABLE
AS $$ SELECT pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = 'users'::regclass), 'USAGE') $$;

-- The request role. Created unless an operator made it already; the migrating role
-- becomes a member so that it can serve requests as it (SET ROLE) when studyhall is
-- given only the owner's DATABASE_URL.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'studyhall_app') THEN
        CREATE ROLE studyhall_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
    IF NOT pg_has_role(current_user, 'studyhall_app', 'MEMBER') THEN
        GRANT studyhall_app TO current_user;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO studyhall_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON study_materials, content_chunks, generated_assets,
    learning_sessions, interactions, user_feedback, progress_metrics, auth_tokens, auth_throttle
    TO studyhall_app;
-- Accounts: requests may register one and change what its owner may change, never
-- is_admin (only `studyhall user promote`, on the privileged connection), and never
-- delete one (deletion is a soft delete that anonymises the row).
GRANT SELECT ON users TO studyhall_app;
GRANT INSERT (id, email, username, password_hash, first_name, last_name) ON users TO studyhall_app;
GRANT UPDATE (email, username, password_hash, first_name, last_name, profile_picture_url, preferences,
              updated_at, deleted_at, is_active, last_login_at) ON users TO studyhall_app;
-- The audit trail is append-only for requests.
GRANT SELECT, INSERT ON audit_logs TO studyhall_app;

-- Functions are executable by PUBLIC by default; the partition functions are not for
-- requests.
REVOKE EXECUTE ON FUNCTION studyhall_create_month_partition(regclass, date) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION studyhall_ensure_month_partitions(regclass, integer) FROM PUBLIC;

-- Row-level security, enabled and forced (so it binds the owner too, who passes only
-- through the explicit studyhall_privileged() clause). The functions are wrapped in
-- scalar subqueries so that each is evaluated once per query, not once per row.
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON users
    USING (id = (SELECT studyhall_current_user()) OR (SELECT studyhall_privileged()));

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['study_materials', 'learning_sessions', 'interactions', 'user_feedback',
                             'progress_metrics', 'auth_tokens']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant ON %I USING (user_id = (SELECT studyhall_current_user()) '
                       'OR (SELECT studyhall_privileged()))', t);
    END LOOP;
    -- Chunks and assets belong to the owner of their material; the IN subquery runs
    -- once per query (a hashed subplan), itself under the materials' policy.
    FOREACH t IN ARRAY ARRAY['content_chunks', 'generated_assets']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant ON %I USING (study_material_id IN '
                       '(SELECT id FROM study_materials WHERE user_id = (SELECT studyhall_current_user())) '
                       'OR (SELECT studyhall_privileged()))', t);
    END LOOP;
END
$$;

-- The audit trail: a user reads their own rows; rows are written for the current user,
-- or with no user at all (a failed sign-in to an account that does not exist).
ALTER TABLE audit_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_logs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_read ON audit_logs FOR SELECT
    USING (user_id = (SELECT studyhall_current_user()) OR (SELECT studyhall_privileged()));
CREATE POLICY tenant_write ON audit_logs FOR INSERT
    WITH CHECK (user_id IS NOT DISTINCT FROM (SELECT studyhall_current_user()) OR (SELECT studyhall_privileged()));

-- Sign-in needs two look-ups before anyone is signed in, which RLS would hide. They
-- run as the owner (SECURITY DEFINER), return only what sign-in needs, and pin
-- search_path so that no caller's objects can stand in for the tables.

-- The account a login (email or username, any case) names.
CREATE FUNCTION studyhall_login_account(login text)
RETURNS TABLE (user_id uuid, password_hash text, is_active boolean, is_deleted boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT id, password_hash, is_active, deleted_at IS NOT NULL
      FROM users
     WHERE lower(email) = lower(login) OR lower(username) = lower(login)
$$;

-- The signed-in user behind a token's hash: only for a live token of an active account.
CREATE FUNCTION studyhall_token_user(hash bytea)
RETURNS TABLE (token_id uuid, user_id uuid, is_admin boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT t.id, u.id, u.is_admin
      FROM auth_tokens t JOIN users u ON u.id = t.user_id
     WHERE t.token_hash = hash AND t.revoked_at IS NULL AND t.expires_at > now()
       AND u.is_active AND u.deleted_at IS NULL
$$;

REVOKE EXECUTE ON FUNCTION studyhall_login_account(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION studyhall_token_user(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION studyhall_login_account(text), studyhall_token_user(bytea) TO studyhall_app;
