-- The extensions the spec's database creation script enables: uuid-ossp supplies the
-- uuid_generate_v4() defaults of every primary key, pg_trgm the fuzzy title search.
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
CREATE EXTENSION IF NOT EXISTS "pg_trgm";
