DROP INDEX idx_study_materials_title_trgm;
DROP TABLE material_sources;
