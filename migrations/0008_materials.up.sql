-- What ingestion reads: each material's source as it arrived (pasted text, an uploaded
-- file, a fetched page), kept so that a material can be processed again.
CREATE TABLE material_sources (
    study_material_id uuid PRIMARY KEY REFERENCES study_materials (id),
    user_id uuid NOT NULL REFERENCES users (id),
    media_type varchar(100) NOT NULL,
    file_name varchar(255),
    content bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_material_sources_user_id ON material_sources (user_id);
ALTER TABLE material_sources ENABLE ROW LEVEL SECURITY;
ALTER TABLE material_sources FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON material_sources
    USING (user_id = (SELECT studyhall_current_user()) OR (SELECT studyhall_privileged()));
GRANT SELECT, INSERT, UPDATE, DELETE ON material_sources TO studyhall_app;
