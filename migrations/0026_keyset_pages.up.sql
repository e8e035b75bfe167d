-- The keyset page's condition the newest-first lists repeated (issue 15): a row comes
-- after the cursor (at, id), the last row of the previous page, when it is older; every
-- row does without a cursor (the first page). A one-expression SQL function: the planner
-- inlines it, so a list's (created_at, id) index serves it as it served the expression.
CREATE FUNCTION studyhall_older_than(at timestamptz, id uuid, cursor_at timestamptz, cursor_id uuid)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT cursor_at IS NULL OR (at, id) < (cursor_at, cursor_id)
$$;
