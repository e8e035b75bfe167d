-- Monthly range partitions for the time-partitioned tables (audit_logs, interactions,
-- progress_metrics). A month is a calendar month in UTC and its partition is named
-- <table>_yYYYYmMM. Every partitioned table also has a DEFAULT partition, so an insert
-- dated outside every month partition still lands (and is found) instead of failing.

-- Creates the partition of `parent` holding the month that contains `month`. Rows the
-- DEFAULT partition already holds for that month are moved into the new partition, so
-- a month can be added at any time without losing or duplicating a row. Returns false,
-- changing nothing, when the partition exists already.
CREATE FUNCTION studyhall_create_month_partition(parent regclass, month date)
RETURNS boolean
LANGUAGE plpgsql
AS $$
DECLARE
    month_start constant date := date_trunc('month', month)::date;
    lower_bound constant timestamptz := month_start::timestamp AT TIME ZONE 'UTC';
    upper_bound constant timestamptz := (month_start + interval '1 month')::timestamp AT TIME ZONE 'UTC';
    parent_schema name;
    parent_name name;
    partition_name text;
    key_column name;
    default_partition regclass;
    has_strays boolean := false;
    fk record;
    fk_tables regclass[] := '{}';
    fk_names name[] := '{}';
    fk_defs text[] := '{}';
    moved bigint;
BEGIN
    SELECT n.nspname, c.relname INTO STRICT parent_schema, parent_name
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = parent;
    partition_name := format('%s_y%sm%s', parent_name, to_char(month_start, 'YYYY'), to_char(month_start, 'MM'));
    IF to_regclass(format('%I.%I', parent_schema, partition_name)) IS NOT NULL THEN
        RETURN false;
    END IF;

    SELECT a.attname, nullif(p.partdefid, 0)::regclass INTO STRICT key_column, default_partition
      FROM pg_partitioned_table p
      JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
     WHERE p.partrelid = parent;
    IF default_partition IS NOT NULL THEN
        EXECUTE format('SELECT EXISTS (SELECT FROM %s WHERE %I >= $1 AND %I < $2)',
                       default_partition, key_column, key_column)
           INTO has_strays USING lower_bound, upper_bound;
    END IF;

    IF NOT has_strays THEN
        EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                       parent_schema, partition_name, parent, lower_bound, upper_bound);
        RETURN true;
    END IF;

    -- The DEFAULT partition holds rows of this month, and PostgreSQL refuses a partition
    -- whose range they fall in: park them, create the partition, put them back. Foreign
    -- keys pointing at the table are checked per partition and would refuse the move, so
    -- they are dropped first and re-created (and so re-validated) afterwards.
    FOR fk IN SELECT conrelid::regclass AS tbl, conname, pg_get_constraintdef(oid) AS def
                FROM pg_constraint
               WHERE contype = 'f' AND confrelid = parent AND conparentid = 0
               ORDER BY conname
    LOOP
        fk_tables := fk_tables || fk.tbl;
        fk_names := fk_names || fk.conname;
        fk_defs := fk_defs || fk.def;
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.tbl, fk.conname);
    END LOOP;

    EXECUTE format(
        'CREATE TEMPORARY TABLE studyhall_parked ON COMMIT DROP AS
           WITH parked AS (DELETE FROM %s WHERE %I >= $1 AND %I < $2 RETURNING *)
         SELECT * FROM parked',
        default_partition, key_column, key_column)
      USING lower_bound, upper_bound;
    GET DIAGNOSTICS moved = ROW_COUNT;
    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                   parent_schema, partition_name, parent, lower_bound, upper_bound);
    EXECUTE format('INSERT INTO %I.%I SELECT * FROM studyhall_parked', parent_schema, partition_name);
    DROP TABLE studyhall_parked;

    FOR i IN 1 .. coalesce(array_length(fk_names, 1), 0) LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', fk_tables[i], fk_names[i], fk_defs[i]);
    END LOOP;
    RAISE NOTICE 'moved % row(s) from % into %', moved, default_partition, partition_name;
    RETURN true;
END
$$;

-- Makes sure `parent` has a partition for the current month and `months_ahead` months
-- after it. Returns how many partitions it created.
CREATE FUNCTION studyhall_ensure_month_partitions(parent regclass, months_ahead integer)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    this_month constant date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
    created integer := 0;
BEGIN
    FOR offset_months IN 0 .. months_ahead LOOP
        IF studyhall_create_month_partition(parent, (this_month + make_interval(months => offset_months))::date) THEN
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END
$$;
