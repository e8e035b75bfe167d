-- "Search my materials" (materials::store::search): $1 the user, $2 the words, $3 hits at
-- most; snippets from the text with the characters $4 replaced by those of $5 (or
-- removed), with the ts_headline options $6.
WITH mine AS (
    SELECT id, title, metadata->>'language' AS language, description, tags, search_vector
      FROM live_study_materials WHERE user_id = $1
),
hits AS (
    (SELECT 'material' AS kind, m.id AS study_material_id, NULL::uuid AS content_chunk_id,
            greatest(ts_rank_cd(m.search_vector, studyhall_search_query($2), 32) * 2,
                     similarity(m.title, $2)) AS rank
       FROM mine m
      WHERE m.search_vector @@ studyhall_search_query($2)
         OR m.title % $2)
    UNION ALL
    (SELECT 'chunk', s.study_material_id, s.content_chunk_id, s.rank
       FROM studyhall_search_chunks($2, $3::integer) s)
    ORDER BY rank DESC, content_chunk_id NULLS FIRST
    LIMIT $3
)
SELECT h.kind AS "kind!", h.study_material_id AS "study_material_id!", h.content_chunk_id, m.title AS "title!",
       h.rank::real AS "rank!",
       ts_headline(studyhall_text_config(coalesce(c.language, m.language)),
                   translate(CASE WHEN h.kind = 'chunk' THEN c.content
                                  ELSE concat_ws(' · ', m.title, array_to_string(m.tags, ', '), m.description)
                             END, $4, $5),
                   studyhall_search_query($2), $6) AS "snippet!"
  FROM hits h
  JOIN mine m ON m.id = h.study_material_id
  LEFT JOIN content_chunks c ON c.id = h.content_chunk_id
 ORDER BY h.rank DESC, h.content_chunk_id NULLS FIRST
