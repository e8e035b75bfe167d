-- Sign-up policy and password resets (issue 18): invitations, password-reset links, and
-- the look-ups sign-up and resets need before anyone is signed in.

-- Invitations: one-time sign-up links. The link holds a random token; only its SHA-256
-- is stored. created_by is NULL for `studyhall user invite` (an operator, no account).
-- Requests are granted nothing: administrators' requests read and write them on the
-- privileged connection, and sign-up through the functions below.
CREATE TABLE invitations (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
    token_hash bytea NOT NULL UNIQUE,
    email varchar(255),
    created_by uuid REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL DEFAULT now() + interval '7 days',
    used_at timestamptz,
    used_by uuid REFERENCES users (id),
    revoked_at timestamptz,
    CONSTRAINT invitations_used_check CHECK ((used_at IS NULL) = (used_by IS NULL))
);
CREATE INDEX idx_invitations_created_at ON invitations (created_at, id);

-- Where an invitation stands: the first of used, revoked and expired that applies, else
-- pending (states.rs: InvitationStatus).
CREATE FUNCTION studyhall_invitation_status(used_at timestamptz, revoked_at timestamptz, expires_at timestamptz)
RETURNS text LANGUAGE sql STABLE
AS $$
    SELECT CASE WHEN used_at IS NOT NULL THEN 'used' WHEN revoked_at IS NOT NULL THEN 'revoked'
                WHEN expires_at <= now() THEN 'expired' ELSE 'pending' END
$$;

-- Password-reset links: one-time, short-lived; only the token's SHA-256 is stored.
-- A user's own rows, under row-level security like every user-owned table.
CREATE TABLE password_resets (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
    user_id uuid NOT NULL REFERENCES users (id),
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX idx_password_resets_user_id ON password_resets (user_id);
GRANT SELECT, INSERT, UPDATE ON password_resets TO studyhall_app;
ALTER TABLE password_resets ENABLE ROW LEVEL SECURITY;
ALTER TABLE password_resets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON password_resets
    USING (user_id = (SELECT studyhall_current_user()) OR (SELECT studyhall_privileged()));

-- As the sign-in functions of 0006: owned by the schema owner (SECURITY DEFINER),
-- returning only what the caller needs, with a pinned search_path.

-- The invitation a token's hash names, and where it stands (the sign-up page says why
-- one cannot be used).
CREATE FUNCTION studyhall_invitation(hash bytea)
RETURNS TABLE (id uuid, email varchar, status text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT id, email, studyhall_invitation_status(used_at, revoked_at, expires_at)
      FROM invitations WHERE token_hash = hash
$$;

-- Uses the invitation for `account`, the account made in the same transaction: once,
-- before it expires, unless revoked. Returns it, or no row.
CREATE FUNCTION studyhall_use_invitation(hash bytea, account uuid)
RETURNS TABLE (id uuid, email varchar)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    UPDATE invitations SET used_at = now(), used_by = account
     WHERE token_hash = hash AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
    RETURNING id, email
$$;

-- Makes `account` (made in the same transaction) the administrator if it is the only
-- account; true if it did. Callers are taken one at a time (the lock is held until
-- their commit), and each statement here sees what committed before it, so two first
-- sign-ups at once make one administrator.
CREATE FUNCTION studyhall_first_account(account uuid) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('studyhall_first_account'));
    IF EXISTS (SELECT FROM users WHERE users.id <> account) THEN
        RETURN false;
    END IF;
    UPDATE users SET is_admin = true WHERE users.id = account;
    RETURN true;
END
$$;

-- The account a password-reset token's hash names (active and not deleted), and the
-- link's state.
CREATE FUNCTION studyhall_password_reset(hash bytea)
RETURNS TABLE (user_id uuid, expires_at timestamptz, used_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT r.user_id, r.expires_at, r.used_at
      FROM password_resets r JOIN users u ON u.id = r.user_id
     WHERE r.token_hash = hash AND u.is_active AND u.deleted_at IS NULL
$$;

REVOKE EXECUTE ON FUNCTION studyhall_invitation(bytea), studyhall_use_invitation(bytea, uuid),
    studyhall_first_account(uuid), studyhall_password_reset(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION studyhall_invitation(bytea), studyhall_use_invitation(bytea, uuid),
    studyhall_first_account(uuid), studyhall_password_reset(bytea) TO studyhall_app;
