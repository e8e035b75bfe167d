DROP TABLE upkeep_runs;
