-- Observations are read for a window in time order, a page at a time:
-- `WHERE time_ms >= ? AND time_ms < ? ORDER BY time_ms, prober, provider` and, for each page, its
-- GPUs by `time_ms` range. Neither primary key starts with time_ms, so without these indexes
-- every page scans the whole table (a 120-day programme holds millions of rows). Runs unchanged on
-- SQLite and PostgreSQL.
CREATE INDEX probe_observations_in_time_order ON probe_observations (time_ms, prober, provider);
CREATE INDEX probe_gpus_in_time_order ON probe_gpus (time_ms, prober, provider, node);
