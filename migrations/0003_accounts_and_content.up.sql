-- The spec's accounts and content tables: users, study_materials, content_chunks and
-- generated_assets, column for column. Deviations (timestamptz, uuid defaults, the
-- updated_at trigger) are explained in docs/schema.md.

-- Keeps updated_at current on every UPDATE that does not set it itself.
CREATE FUNCTION studyhall_touch_updated_at()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;

CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
    email varchar(255) UNIQUE NOT NULL,
    username varchar(50) UNIQUE NOT NULL,
    password_hash varchar(255) NOT NULL,
    first_name varchar(100),
    last_name varchar(100),
    profile_picture_url varchar(500),
    preferences jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    is_active boolean NOT NULL DEFAULT true,
    last_login_at timestamptz
);
CREATE INDEX idx_users_email ON users (email);
CREATE INDEX idx_users_username ON users (username);
CREATE INDEX idx_users_created_at ON users (created_at);
CREATE INDEX idx_users_is_active_deleted_at ON users (is_active, deleted_at);
CREATE TRIGGER users_touch_updated_at BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION studyhall_touch_updated_at();

CREATE TABLE study_materials (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
    user_id uuid NOT NULL REFERENCES users (id),
    title varchar(255) NOT NULL,
    description text,
    source_url varchar(1000),
    source_type varchar(50) NOT NULL,
    metadata jsonb,
    status varchar(20) NOT NULL DEFAULT 'processing',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    content_length integer,
    difficulty_level varchar(20),
    subject_area varchar(100),
    tags text[]
);
CREATE INDEX idx_study_materials_user_id ON study_materials (user_id);
CREATE INDEX idx_study_materials_status ON study_materials (status);
CREATE INDEX idx_study_materials_created_at ON study_materials (created_at);
CREATE INDEX idx_study_materials_subject_area ON study_materials (subject_area);
CREATE INDEX idx_study_materials_tags ON study_materials USING gin (tags);
CREATE INDEX idx_study_materials_deleted_at ON study_materials (deleted_at);
CREATE TRIGGER study_materials_touch_updated_at BEFORE UPDATE ON study_materials
    FOR EACH ROW EXECUTE FUNCTION studyhall_touch_updated_at();

CREATE TABLE content_chunks (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
    study_material_id uuid NOT NULL REFERENCES study_materials (id),
    chunk_order integer NOT NULL,
    content text NOT NULL,
    chunk_type varchar(50) NOT NULL,
    metadata jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    word_count integer,
    language varchar(10),
    summary text,
    relevance_score float
);
CREATE INDEX idx_content_chunks_study_material_id ON content_chunks (study_material_id);
CREATE INDEX idx_content_chunks_chunk_order ON content_chunks (study_material_id, chunk_order);
CREATE INDEX idx_content_chunks_chunk_type ON content_chunks (chunk_type);
CREATE INDEX idx_content_chunks_relevance_score ON content_chunks (relevance_score);
CREATE INDEX idx_content_chunks_language ON content_chunks (language);
CREATE TRIGGER content_chunks_touch_updated_at BEFORE UPDATE ON content_chunks
    FOR EACH ROW EXECUTE FUNCTION studyhall_touch_updated_at();

CREATE TABLE generated_assets (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
    study_material_id uuid NOT NULL REFERENCES study_materials (id),
    content_chunk_id uuid REFERENCES content_chunks (id),
    asset_type varchar(50) NOT NULL,
    content jsonb NOT NULL,
    metadata jsonb,
    generation_model varchar(100) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    status varchar(20) NOT NULL DEFAULT 'ready',
    quality_score float,
    difficulty_level integer,
    generation_params jsonb
);
CREATE INDEX idx_generated_assets_study_material_id ON generated_assets (study_material_id);
CREATE INDEX idx_generated_assets_content_chunk_id ON generated_assets (content_chunk_id);
CREATE INDEX idx_generated_assets_asset_type ON generated_assets (asset_type);
CREATE INDEX idx_generated_assets_status ON generated_assets (status);
CREATE INDEX idx_generated_assets_quality_score ON generated_assets (quality_score);
CREATE INDEX idx_generated_assets_difficulty_level ON generated_assets (difficulty_level);
CREATE INDEX idx_generated_assets_created_at ON generated_assets (created_at);
CREATE TRIGGER generated_assets_touch_updated_at BEFORE UPDATE ON generated_assets
    FOR EACH ROW EXECUTE FUNCTION studyhall_touch_updated_at();
