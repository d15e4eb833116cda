-- What vouches for each observation: its prober's Ed25519 signature, or the import that let it
-- in unsigned (`probe import --allow-unsigned`, by its import id). An observation without a
-- row here was recorded in this database by a prober that has no key.
CREATE TABLE probe_signatures (
    prober TEXT NOT NULL,
    provider TEXT NOT NULL,
    time_ms BIGINT NOT NULL,
    signature TEXT,
    unsigned_import TEXT,
    PRIMARY KEY (prober, provider, time_ms),
    FOREIGN KEY (prober, provider, time_ms)
        REFERENCES probe_observations (prober, provider, time_ms),
    CHECK ((signature IS NULL) <> (unsigned_import IS NULL))
);
