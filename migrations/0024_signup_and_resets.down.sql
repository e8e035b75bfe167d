DROP FUNCTION studyhall_password_reset(bytea);
DROP FUNCTION studyhall_first_account(uuid);
DROP FUNCTION studyhall_use_invitation(bytea, uuid);
DROP FUNCTION studyhall_invitation(bytea);
DROP TABLE password_resets;
DROP TABLE invitations;
DROP FUNCTION studyhall_invitation_status(timestamptz, timestamptz, timestamptz);
