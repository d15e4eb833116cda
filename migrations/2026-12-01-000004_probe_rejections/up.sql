-- Lines `probe import` did not store, each under the import that read it: nothing an import
-- reads is dropped without a record. `raw` is the line as read (invalid UTF-8 and NUL shown as
-- U+FFFD; empty for a line over the length limit, whose size `detail` gives).
CREATE TABLE probe_rejections (
    import_id TEXT NOT NULL,
    line BIGINT NOT NULL,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    raw TEXT NOT NULL,
    recorded_at_ms BIGINT NOT NULL,
    PRIMARY KEY (import_id, line)
);
CREATE INDEX probe_rejections_by_reason ON probe_rejections (reason, import_id, line);
