-- The first tables every part of akash-incentives shares.
-- Conventions (kept identical in migrations/sqlite):
--   * heights, unix-millisecond times and counts are BIGINT / INTEGER;
--   * money and chain decimals are TEXT holding an exact decimal string (never REAL);
--   * booleans are INTEGER 0/1 so that one diesel schema serves both backends;
--   * block times are kept as the RFC 3339 text of the block header plus unix milliseconds.

-- Chain: blocks indexed and where the indexer stands.
CREATE TABLE blocks (
    height   BIGINT  NOT NULL PRIMARY KEY,
    time     TEXT    NOT NULL,
    time_ms  BIGINT  NOT NULL,
    hash     TEXT    NOT NULL,
    tx_count INTEGER NOT NULL
);

CREATE TABLE indexer_cursor (
    chain_id      TEXT   NOT NULL PRIMARY KEY,
    height        BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

-- Providers and the full history of what they advertised.
CREATE TABLE providers (
    owner          TEXT   NOT NULL PRIMARY KEY,
    host_uri       TEXT   NOT NULL,
    email          TEXT,
    website        TEXT,
    created_height BIGINT NOT NULL,
    updated_height BIGINT,
    deleted_height BIGINT
);

CREATE TABLE provider_attributes (
    owner        TEXT   NOT NULL REFERENCES providers (owner),
    key          TEXT   NOT NULL,
    value        TEXT   NOT NULL,
    set_height   BIGINT NOT NULL,
    unset_height BIGINT,
    PRIMARY KEY (owner, key, set_height)
);
CREATE INDEX provider_attributes_by_height ON provider_attributes (owner, set_height);

-- Deployments, their groups and the resource units each group asks for.
CREATE TABLE deployments (
    owner          TEXT   NOT NULL,
    dseq           BIGINT NOT NULL,
    state          TEXT   NOT NULL,
    created_height BIGINT NOT NULL,
    closed_height  BIGINT,
    PRIMARY KEY (owner, dseq)
);

CREATE TABLE deployment_groups (
    owner          TEXT    NOT NULL,
    dseq           BIGINT  NOT NULL,
    gseq           INTEGER NOT NULL,
    name           TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    created_height BIGINT  NOT NULL,
    closed_height  BIGINT,
    PRIMARY KEY (owner, dseq, gseq),
    FOREIGN KEY (owner, dseq) REFERENCES deployments (owner, dseq)
);

CREATE TABLE group_resources (
    owner          TEXT    NOT NULL,
    dseq           BIGINT  NOT NULL,
    gseq           INTEGER NOT NULL,
    resource_index INTEGER NOT NULL,
    resource_id    BIGINT  NOT NULL,
    count          BIGINT  NOT NULL,
    cpu_millis     TEXT    NOT NULL,
    memory_bytes   TEXT    NOT NULL,
    storage_bytes  TEXT    NOT NULL,
    gpu_units      TEXT    NOT NULL,
    -- JSON array of the GPU attribute keys the unit accepts, e.g. ["vendor/nvidia/model/a100/ram/80Gi"]
    gpu_attributes TEXT    NOT NULL,
    price_denom    TEXT,
    price_amount   TEXT,
    PRIMARY KEY (owner, dseq, gseq, resource_index),
    FOREIGN KEY (owner, dseq, gseq) REFERENCES deployment_groups (owner, dseq, gseq)
);

-- Market: bids and leases.
CREATE TABLE bids (
    owner           TEXT    NOT NULL,
    dseq            BIGINT  NOT NULL,
    gseq            INTEGER NOT NULL,
    oseq            INTEGER NOT NULL,
    provider        TEXT    NOT NULL,
    bseq            INTEGER NOT NULL,
    price_denom     TEXT    NOT NULL,
    price_amount    TEXT    NOT NULL,
    -- JSON array of {resources, count} offers (market v1beta4 and later); '[]' before.
    resources_offer TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    created_height  BIGINT  NOT NULL,
    closed_height   BIGINT,
    PRIMARY KEY (owner, dseq, gseq, oseq, provider, bseq)
);

CREATE TABLE leases (
    owner           TEXT    NOT NULL,
    dseq            BIGINT  NOT NULL,
    gseq            INTEGER NOT NULL,
    oseq            INTEGER NOT NULL,
    provider        TEXT    NOT NULL,
    bseq            INTEGER NOT NULL,
    gpu_units       BIGINT  NOT NULL,
    gpu_model       TEXT,
    gpu_ram         TEXT,
    price_denom     TEXT    NOT NULL,
    price_amount    TEXT    NOT NULL,
    created_height  BIGINT  NOT NULL,
    created_time    TEXT    NOT NULL,
    created_time_ms BIGINT  NOT NULL,
    closed_height   BIGINT,
    closed_time     TEXT,
    closed_time_ms  BIGINT,
    close_cause     TEXT,
    close_reason    TEXT,
    PRIMARY KEY (owner, dseq, gseq, oseq, provider, bseq)
);
CREATE INDEX leases_by_provider ON leases (provider, created_time_ms);

-- Bank transfers from and to the programme's watched wallets.
CREATE TABLE transfers (
    height    BIGINT  NOT NULL,
    tx_index  INTEGER NOT NULL,
    msg_index INTEGER NOT NULL,
    leg       INTEGER NOT NULL,
    tx_hash   TEXT    NOT NULL,
    sender    TEXT    NOT NULL,
    recipient TEXT    NOT NULL,
    denom     TEXT    NOT NULL,
    amount    TEXT    NOT NULL,
    PRIMARY KEY (height, tx_index, msg_index, leg)
);
CREATE INDEX transfers_by_recipient ON transfers (recipient, height);

-- Everything the indexer could not use, with a reason code, so nothing is lost silently.
CREATE TABLE indexer_rejections (
    height   BIGINT  NOT NULL,
    tx_index INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    tx_hash  TEXT,
    reason   TEXT    NOT NULL,
    type_url TEXT,
    detail   TEXT    NOT NULL,
    PRIMARY KEY (height, tx_index, seq)
);

-- Uptime prober observations and the GPU inventory each one saw.
CREATE TABLE probe_observations (
    prober      TEXT    NOT NULL,
    provider    TEXT    NOT NULL,
    time        TEXT    NOT NULL,
    time_ms     BIGINT  NOT NULL,
    online      INTEGER NOT NULL CHECK (online IN (0, 1)),
    latency_ms  BIGINT,
    error_kind  TEXT,
    error       TEXT,
    version     TEXT,
    cert_sha256 TEXT,
    PRIMARY KEY (prober, provider, time_ms)
);
CREATE INDEX probe_observations_by_time ON probe_observations (provider, time_ms);

CREATE TABLE probe_gpus (
    prober          TEXT    NOT NULL,
    provider        TEXT    NOT NULL,
    time_ms         BIGINT  NOT NULL,
    node            TEXT    NOT NULL,
    vendor          TEXT,
    model           TEXT,
    ram             TEXT,
    interface       TEXT,
    allocatable     BIGINT  NOT NULL,
    allocated       BIGINT  NOT NULL,
    raw_allocatable TEXT    NOT NULL,
    raw_allocated   TEXT    NOT NULL,
    clamp_reason    TEXT,
    PRIMARY KEY (prober, provider, time_ms, node),
    FOREIGN KEY (prober, provider, time_ms) REFERENCES probe_observations (prober, provider, time_ms)
);

-- Settlement: epochs, what each one allocated, pool ledgers and vesting.
CREATE TABLE epochs (
    programme    TEXT    NOT NULL,
    epoch        INTEGER NOT NULL,
    start_ms     BIGINT  NOT NULL,
    end_ms       BIGINT  NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('open', 'sealed')),
    sealed_at_ms BIGINT,
    inputs_hash  TEXT,
    PRIMARY KEY (programme, epoch)
);

CREATE TABLE allocations (
    programme TEXT    NOT NULL,
    epoch     INTEGER NOT NULL,
    pool      TEXT    NOT NULL,
    bucket    TEXT    NOT NULL,
    provider  TEXT    NOT NULL,
    weight    TEXT    NOT NULL,
    amount    TEXT    NOT NULL,
    reason    TEXT    NOT NULL,
    vesting   TEXT    NOT NULL,
    PRIMARY KEY (programme, epoch, pool, bucket, provider),
    FOREIGN KEY (programme, epoch) REFERENCES epochs (programme, epoch)
);

CREATE TABLE pool_ledgers (
    programme   TEXT    NOT NULL,
    epoch       INTEGER NOT NULL,
    pool        TEXT    NOT NULL,
    opening     TEXT    NOT NULL,
    emitted     TEXT    NOT NULL,
    allocated   TEXT    NOT NULL,
    forfeited   TEXT    NOT NULL,
    clawed_back TEXT    NOT NULL,
    returned    TEXT    NOT NULL,
    carried     TEXT    NOT NULL,
    closing     TEXT    NOT NULL,
    PRIMARY KEY (programme, epoch, pool),
    FOREIGN KEY (programme, epoch) REFERENCES epochs (programme, epoch)
);

CREATE TABLE vesting_entries (
    programme         TEXT    NOT NULL,
    epoch             INTEGER NOT NULL,
    pool              TEXT    NOT NULL,
    bucket            TEXT    NOT NULL,
    provider          TEXT    NOT NULL,
    piece             INTEGER NOT NULL,
    schedule          TEXT    NOT NULL,
    vests_at_ms       BIGINT  NOT NULL,
    amount            TEXT    NOT NULL,
    clawed_back_at_ms BIGINT,
    PRIMARY KEY (programme, epoch, pool, bucket, provider, piece),
    FOREIGN KEY (programme, epoch) REFERENCES epochs (programme, epoch)
);
