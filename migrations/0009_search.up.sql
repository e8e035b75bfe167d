-- Full-text search over materials (title, tags, description) and chunks (content).
-- The text search configuration follows the language ingestion found: 'english' for
-- English (stemming, stop words), 'simple' for everything else. Queries are matched
-- against both, so either kind of document is found.

-- The configuration for an ISO 639-1 language code.
CREATE FUNCTION studyhall_text_config(language text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN language = 'en' THEN 'english'::regconfig ELSE 'simple'::regconfig END $$;

-- A query from what a user typed ("quoted phrases", or, -excluded), for both
-- configurations.
CREATE FUNCTION studyhall_search_query(typed text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT websearch_to_tsquery('english', typed) || websearch_to_tsquery('simple', typed) $$;

-- Materials: few per user, found through the user_id index, so the vector can live on
-- the row. Title weighs most (A), then tags (B), then the description (C).
ALTER TABLE study_materials ADD COLUMN search_vector tsvector;
CREATE FUNCTION studyhall_material_search_vector() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    config constant regconfig := studyhall_text_config(NEW.metadata->>'language');
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector(config, coalesce(NEW.title, '')), 'A') ||
        setweight(to_tsvector(config, coalesce(array_to_string(NEW.tags, ' '), '')), 'B') ||
        setweight(to_tsvector(config, coalesce(NEW.description, '')), 'C');
    RETURN NEW;
END
$$;
CREATE TRIGGER study_materials_search_vector BEFORE INSERT OR UPDATE OF title, tags, description, metadata
    ON study_materials FOR EACH ROW EXECUTE FUNCTION studyhall_material_search_vector();
ALTER TABLE study_materials DISABLE TRIGGER study_materials_touch_updated_at;
UPDATE study_materials SET title = title;
ALTER TABLE study_materials ENABLE TRIGGER study_materials_touch_updated_at;

-- Chunks: many per user, so they need a GIN index, and row-level security keeps a GIN
-- index from serving a table's queries (a policy is a security barrier, and @@ is not
-- leakproof, so it cannot run before the policy as an index condition). The chunks'
-- vectors therefore live in an index table outside row-level security, which requests
-- cannot read at all: a trigger keeps it, and studyhall_search_chunks() reads it, only
-- ever for the current user's live materials.
CREATE TABLE content_chunk_search (
    content_chunk_id uuid PRIMARY KEY REFERENCES content_chunks (id) ON DELETE CASCADE,
    study_material_id uuid NOT NULL REFERENCES study_materials (id),
    user_id uuid NOT NULL REFERENCES users (id),
    search_vector tsvector NOT NULL
);
CREATE INDEX idx_content_chunk_search_vector ON content_chunk_search USING gin (search_vector);
CREATE INDEX idx_content_chunk_search_material ON content_chunk_search (study_material_id);
REVOKE ALL ON content_chunk_search FROM PUBLIC;

CREATE FUNCTION studyhall_index_chunk() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
BEGIN
    INSERT INTO content_chunk_search (content_chunk_id, study_material_id, user_id, search_vector)
    SELECT NEW.id, NEW.study_material_id, m.user_id, to_tsvector(studyhall_text_config(NEW.language), NEW.content)
      FROM study_materials m WHERE m.id = NEW.study_material_id
    ON CONFLICT (content_chunk_id) DO UPDATE SET search_vector = EXCLUDED.search_vector;
    RETURN NULL;
END
$$;
CREATE TRIGGER content_chunks_index AFTER INSERT OR UPDATE OF content, language ON content_chunks
    FOR EACH ROW EXECUTE FUNCTION studyhall_index_chunk();
INSERT INTO content_chunk_search (content_chunk_id, study_material_id, user_id, search_vector)
SELECT c.id, c.study_material_id, m.user_id, to_tsvector(studyhall_text_config(c.language), c.content)
  FROM content_chunks c JOIN study_materials m ON m.id = c.study_material_id;

-- The current user's chunks matching `typed`, best first, from live materials only.
CREATE FUNCTION studyhall_search_chunks(typed text, max_rows integer)
RETURNS TABLE (content_chunk_id uuid, study_material_id uuid, rank real)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT s.content_chunk_id, s.study_material_id, ts_rank_cd(s.search_vector, studyhall_search_query(typed), 32)
      FROM content_chunk_search s
     WHERE s.user_id = studyhall_current_user()
       AND s.search_vector @@ studyhall_search_query(typed)
       AND s.study_material_id IN (SELECT id FROM study_materials
                                    WHERE user_id = studyhall_current_user() AND deleted_at IS NULL)
     ORDER BY 3 DESC
     LIMIT max_rows
$$;
REVOKE EXECUTE ON FUNCTION studyhall_search_chunks(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION studyhall_search_chunks(text, integer) TO studyhall_app;
REVOKE EXECUTE ON FUNCTION studyhall_index_chunk() FROM PUBLIC;

CREATE INDEX idx_study_materials_search ON study_materials USING gin (search_vector);
