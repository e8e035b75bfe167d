-- Page $5 of material $1's assets of kind $2 (any without) and status $3 (any but
-- archived without), $4 a page (generate::store::page): the assets that let through
-- (`items`), the page each falls on (`paged`), and how many pages there are, on every
-- row; past the last page, one row of nothing but that.
WITH items AS (
    SELECT a.id, a.asset_type, a.content, a.status, c.chunk_order, c.metadata -> 'heading_path' AS heading_path,
           a.status = 'draft' AND coalesce((a.metadata ->> 'to_review')::boolean, false) AS to_review,
           coalesce(c.chunk_order, -1) AS ord
      FROM generated_assets a LEFT JOIN content_chunks c ON c.id = a.content_chunk_id
     WHERE a.study_material_id = $1 AND ($2::text IS NULL OR a.asset_type = $2)
       AND (a.status = $3 OR ($3::text IS NULL AND a.status <> 'archived'))),
chunks AS (SELECT ord, coalesce(sum(count(*)) OVER (ORDER BY ord ROWS BETWEEN UNBOUNDED PRECEDING
                                                                   AND 1 PRECEDING), 0)::bigint / $4 AS slot
             FROM items GROUP BY ord),
-- Numbered without gaps: a chunk of more than a page's assets leaves no empty page.
paged AS (SELECT ord, dense_rank() OVER (ORDER BY slot) AS page FROM chunks)
SELECT coalesce((SELECT max(page) FROM paged), 0) AS "pages!", i.id AS "id?", i.asset_type AS "asset_type?: AssetType",
       i.content AS "content?", i.status AS "status?: AssetStatus", i.chunk_order AS "chunk_order?",
       i.heading_path AS "heading_path?", i.to_review AS "to_review?"
  FROM (SELECT 1) one
  LEFT JOIN (items i JOIN paged p ON p.ord = i.ord AND p.page = $5) ON true
 ORDER BY i.ord, i.asset_type, i.id
