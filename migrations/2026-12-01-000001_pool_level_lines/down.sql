-- Back to the foundation's allocations CHECK (class, contract, grant only), rebuilding
-- allocations and vesting_entries as the up migration does. While pool-level lines exist the
-- copy fails on that CHECK and nothing changes: they are settlement records, not to be dropped
-- silently.

CREATE TABLE allocations_before AS SELECT * FROM allocations;
CREATE TABLE vesting_entries_before AS SELECT * FROM vesting_entries;
DROP TABLE vesting_entries;
DROP TABLE allocations;

CREATE TABLE allocations (
    programme           TEXT    NOT NULL,
    epoch               INTEGER NOT NULL,
    line                INTEGER NOT NULL CHECK (line >= 0),
    pool                TEXT    NOT NULL CHECK (pool IN ('committed', 'liquidity_mining', 'rnd')),
    bucket_kind         TEXT    NOT NULL CHECK (bucket_kind IN ('class', 'contract', 'grant')),
    bucket              TEXT    NOT NULL,
    provider            TEXT,
    basis_kind          TEXT    NOT NULL CHECK (basis_kind IN ('weight', 'delivered_gpu_ms', 'amount')),
    basis               TEXT    NOT NULL,
    amount              TEXT    NOT NULL,
    reason              TEXT    NOT NULL,
    vesting             TEXT,
    price_usd_per_token TEXT,
    price_from_ms       BIGINT,
    price_source        TEXT,
    PRIMARY KEY (programme, epoch, line),
    FOREIGN KEY (programme, epoch) REFERENCES epochs (programme, epoch)
);
CREATE INDEX allocations_by_provider ON allocations (programme, provider);
INSERT INTO allocations (programme, epoch, line, pool, bucket_kind, bucket, provider, basis_kind,
        basis, amount, reason, vesting, price_usd_per_token, price_from_ms, price_source)
    SELECT programme, epoch, line, pool, bucket_kind, bucket, provider, basis_kind,
        basis, amount, reason, vesting, price_usd_per_token, price_from_ms, price_source
    FROM allocations_before;

CREATE TABLE vesting_entries (
    programme           TEXT    NOT NULL,
    entry               INTEGER NOT NULL CHECK (entry >= 0),
    epoch               INTEGER NOT NULL,
    line                INTEGER NOT NULL,
    pool                TEXT    NOT NULL CHECK (pool IN ('committed', 'liquidity_mining', 'rnd')),
    bucket_kind         TEXT    NOT NULL CHECK (bucket_kind IN ('class', 'contract', 'grant')),
    bucket              TEXT    NOT NULL,
    provider            TEXT    NOT NULL,
    schedule_id         TEXT    NOT NULL,
    schedule            TEXT    NOT NULL,
    anchor_ms           BIGINT  NOT NULL,
    amount              TEXT    NOT NULL,
    clawback_epoch      INTEGER,
    clawback_at_ms      BIGINT,
    clawed_back         TEXT,
    PRIMARY KEY (programme, entry),
    FOREIGN KEY (programme, epoch, line) REFERENCES allocations (programme, epoch, line),
    FOREIGN KEY (programme, clawback_epoch) REFERENCES epochs (programme, epoch),
    CHECK ((clawback_epoch IS NULL AND clawback_at_ms IS NULL AND clawed_back IS NULL)
        OR (clawback_epoch IS NOT NULL AND clawback_at_ms IS NOT NULL AND clawed_back IS NOT NULL))
);
CREATE INDEX vesting_entries_by_provider ON vesting_entries (programme, provider);
INSERT INTO vesting_entries (programme, entry, epoch, line, pool, bucket_kind, bucket, provider,
        schedule_id, schedule, anchor_ms, amount, clawback_epoch, clawback_at_ms, clawed_back)
    SELECT programme, entry, epoch, line, pool, bucket_kind, bucket, provider,
        schedule_id, schedule, anchor_ms, amount, clawback_epoch, clawback_at_ms, clawed_back
    FROM vesting_entries_before;

DROP TABLE vesting_entries_before;
DROP TABLE allocations_before;
