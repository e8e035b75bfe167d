DROP TABLE generated_assets;
DROP TABLE content_chunks;
DROP TABLE study_materials;
DROP TABLE users;
DROP FUNCTION studyhall_touch_updated_at();
