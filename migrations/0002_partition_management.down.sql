DROP FUNCTION studyhall_ensure_month_partitions(regclass, integer);
DROP FUNCTION studyhall_create_month_partition(regclass, date);
