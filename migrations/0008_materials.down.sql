DROP TABLE material_sources;
