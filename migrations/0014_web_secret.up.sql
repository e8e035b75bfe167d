-- The key that signs the web app's sign-in and sign-up form tokens (its CSRF defence
-- before there is a session): made here once, from the server's strong randomness
-- (gen_random_uuid, 244 random bits, hashed to 32 bytes), so every node shares it and it
-- outlives restarts. Only the schema owner reads it: requests are granted nothing.
CREATE TABLE web_secret (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    form_key bytea NOT NULL CHECK (octet_length(form_key) = 32)
);

INSERT INTO web_secret (form_key)
VALUES (sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')));
