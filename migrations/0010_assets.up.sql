-- Generating again never duplicates an asset: generators give each asset a
-- fingerprint (its type and normalised question), unique within its material among
-- the assets not archived (reprocessing archives the old ones).
CREATE UNIQUE INDEX idx_generated_assets_fingerprint
    ON generated_assets (study_material_id, (generation_params->>'fingerprint'))
    WHERE generation_params ? 'fingerprint' AND status <> 'archived';
