-- What vouches for each observation: its prober's Ed25519 signature, and for an imported one
-- the import that took it in (`probe import`, by its import id). An imported line is signed
-- unless `--allow-unsigned` took it without a signature. The signature of an imported line
-- covers the counts as its prober sent them, which the line's GPU rows keep as their raw
-- values when this database had to clamp them. An observation without a row here was recorded
-- in this database by a prober that has no key.
CREATE TABLE probe_signatures (
    prober TEXT NOT NULL,
    provider TEXT NOT NULL,
    time_ms BIGINT NOT NULL,
    signature TEXT,
    import_id TEXT,
    PRIMARY KEY (prober, provider, time_ms),
    FOREIGN KEY (prober, provider, time_ms)
        REFERENCES probe_observations (prober, provider, time_ms),
    CHECK (signature IS NOT NULL OR import_id IS NOT NULL)
);
