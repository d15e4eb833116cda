-- The first tables every part of akash-incentives shares.
-- The same SQL runs on SQLite and PostgreSQL, so it keeps to what both accept. Conventions:
--   * heights, unix-millisecond times and counts are BIGINT / INTEGER;
--   * money and chain decimals are TEXT holding an exact decimal string (never REAL);
--   * booleans are INTEGER 0/1 so that one diesel schema serves both backends;
--   * block times are kept as the RFC 3339 text of the block header plus unix milliseconds.

-- Chain: blocks indexed and where the indexer stands.
CREATE TABLE blocks (
    height          BIGINT  NOT NULL PRIMARY KEY,
    time            TEXT    NOT NULL,
    time_ms         BIGINT  NOT NULL,
    hash            TEXT    NOT NULL,
    tx_count        INTEGER NOT NULL,
    -- transactions with a non-zero result code: they changed nothing on chain.
    failed_tx_count INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE indexer_cursor (
    chain_id      TEXT   NOT NULL PRIMARY KEY,
    height        BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

-- Providers and the full history of what they advertised.
-- created_height is NULL for a provider first seen through an update (created before indexing began).
CREATE TABLE providers (
    owner          TEXT   NOT NULL PRIMARY KEY,
    host_uri       TEXT   NOT NULL,
    email          TEXT,
    website        TEXT,
    created_height BIGINT,
    updated_height BIGINT,
    deleted_height BIGINT
);

-- One row per attribute value and the heights it was advertised: set at set_height, withdrawn at
-- unset_height (NULL while advertised). A provider advertised at height H the rows with
-- set_height <= H AND (unset_height IS NULL OR unset_height > H).
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
    state          TEXT   NOT NULL CHECK (state IN ('active', 'closed')),
    created_height BIGINT NOT NULL,
    closed_height  BIGINT,
    PRIMARY KEY (owner, dseq)
);

CREATE TABLE deployment_groups (
    owner          TEXT    NOT NULL,
    dseq           BIGINT  NOT NULL,
    gseq           INTEGER NOT NULL,
    name           TEXT    NOT NULL,
    state          TEXT    NOT NULL CHECK (state IN ('open', 'paused', 'closed')),
    created_height BIGINT  NOT NULL,
    closed_height  BIGINT,
    PRIMARY KEY (owner, dseq, gseq),
    FOREIGN KEY (owner, dseq) REFERENCES deployments (owner, dseq)
);

-- Quantities are per replica, as decimal text (millicpu, bytes); gpu_units is whole GPUs per replica.
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
    gpu_units      BIGINT  NOT NULL,
    -- JSON array of the unit's GPU attributes, e.g. [{"key":"vendor/nvidia/model/a100/ram/80Gi","value":"true"}]
    gpu_attributes TEXT    NOT NULL,
    price_denom    TEXT,
    price_amount   TEXT,
    PRIMARY KEY (owner, dseq, gseq, resource_index),
    FOREIGN KEY (owner, dseq, gseq) REFERENCES deployment_groups (owner, dseq, gseq)
);

-- Market: bids (what each provider offered, at what price) and leases.
CREATE TABLE bids (
    owner           TEXT    NOT NULL,
    dseq            BIGINT  NOT NULL,
    gseq            INTEGER NOT NULL,
    oseq            INTEGER NOT NULL,
    provider        TEXT    NOT NULL,
    bseq            INTEGER NOT NULL,
    price_denom     TEXT    NOT NULL,
    price_amount    TEXT    NOT NULL,
    -- JSON array of offered resource units (market v1beta4 and later); '[]' before.
    resources_offer TEXT    NOT NULL,
    created_height  BIGINT  NOT NULL,
    PRIMARY KEY (owner, dseq, gseq, oseq, provider, bseq)
);

-- gpu_units (the group's GPUs per replica times replicas) is NULL when the group was never seen
-- (created before indexing began); gpu_model and gpu_ram are NULL when the rules cannot name
-- exactly one model. Unknown is never guessed. The price comes from the lease-created event, or
-- else from the winning bid.
CREATE TABLE leases (
    owner           TEXT    NOT NULL,
    dseq            BIGINT  NOT NULL,
    gseq            INTEGER NOT NULL,
    oseq            INTEGER NOT NULL,
    provider        TEXT    NOT NULL,
    bseq            INTEGER NOT NULL,
    gpu_units       BIGINT,
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
    close_cause     TEXT CHECK (close_cause IN ('owner', 'provider', 'deployment_closed', 'insufficient_funds')),
    close_reason    TEXT,
    -- 1 when the MsgCreateLease came wrapped in /cosmos.authz.v1beta1.MsgExec.
    via_authz       INTEGER NOT NULL DEFAULT 0 CHECK (via_authz IN (0, 1)),
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
CREATE INDEX transfers_by_sender ON transfers (sender, height);

-- Everything the indexer could not use, with a reason code, so nothing is lost silently.
-- tx_index is -1 for the block itself and its block-level events.
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
-- One row per probe of one provider by one prober; `time` is RFC 3339 UTC with at most millisecond
-- precision and `time_ms` the same instant in unix milliseconds (the key). `error_kind` is one of
-- dns, connect, tls, timeout, http_status, malformed_body, invalid_host_uri (or NULL when online).
CREATE TABLE probe_observations (
    prober      TEXT    NOT NULL,
    provider    TEXT    NOT NULL,
    time        TEXT    NOT NULL,
    time_ms     BIGINT  NOT NULL,
    online      INTEGER NOT NULL CHECK (online IN (0, 1)),
    latency_ms  BIGINT  CHECK (latency_ms >= 0),
    error_kind  TEXT,
    error       TEXT,
    version     TEXT,
    cert_sha256 TEXT,
    status_api  TEXT    CHECK (status_api IN ('grpc', 'rest')),
    PRIMARY KEY (prober, provider, time_ms)
);
CREATE INDEX probe_observations_by_time ON probe_observations (provider, time_ms);

-- One row per node with GPUs in an online observation. `allocatable`/`allocated` are the sanitised
-- counts (0 <= allocated <= allocatable <= max per node); `raw_*` are the values as the provider
-- sent them; `clamps` lists every change made, as comma-separated `field:reason` codes; `flags`
-- lists contradictions between the node's GPU info and its counts. A NULL model means the class
-- could not be determined (no, mixed or invalid GPU info).
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
    clamps          TEXT,
    flags           TEXT,
    PRIMARY KEY (prober, provider, time_ms, node),
    FOREIGN KEY (prober, provider, time_ms) REFERENCES probe_observations (prober, provider, time_ms),
    CHECK (allocated >= 0 AND allocated <= allocatable)
);

-- Settlement: sealed epochs, every line item they allocated, pool ledgers and vesting entries.
-- Rows are keyed by the programme's configured name. A sealed epoch is never changed again; the
-- only later write is a clawback filling the clawback columns of an earlier vesting entry.
CREATE TABLE epochs (
    programme      TEXT    NOT NULL,
    epoch          INTEGER NOT NULL CHECK (epoch >= 0),
    start_ms       BIGINT  NOT NULL,
    end_ms         BIGINT  NOT NULL,
    state          TEXT    NOT NULL CHECK (state IN ('open', 'sealed')),
    sealed_at_ms   BIGINT,
    -- Hex SHA-256 of `inputs`: the canonical JSON of everything measured for the epoch.
    inputs_hash    TEXT,
    inputs         TEXT,
    -- Hex SHA-256 of the canonical JSON of the programme definition the epoch was settled under.
    programme_hash TEXT,
    -- JSON of the engine's state after this epoch (pool balances and totals, contract states),
    -- with its vesting list left empty: the entries are the vesting_entries rows.
    carried_state  TEXT,
    PRIMARY KEY (programme, epoch),
    CHECK (end_ms > start_ms),
    CHECK (state <> 'sealed' OR (sealed_at_ms IS NOT NULL AND inputs_hash IS NOT NULL
        AND inputs IS NOT NULL AND programme_hash IS NOT NULL AND carried_state IS NOT NULL))
);

-- One row per line item, numbered in the engine's order (pool, bucket, provider). Several lines
-- may share a pool, bucket and provider (PAID and POOL_EXHAUSTED, one CLAWED_BACK per entry).
-- provider is NULL on class-level lines (an undistributed slice). Amounts and bases are exact
-- base-unit text; the price columns are set when the amount came from a USD figure.
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

-- One row per pool per sealed epoch, with the identities
-- closing = opening - allocated - returned + clawed_back and
-- emitted = allocated + forfeited + carried + returned (checked before anything is written).
CREATE TABLE pool_ledgers (
    programme           TEXT    NOT NULL,
    epoch               INTEGER NOT NULL,
    pool                TEXT    NOT NULL CHECK (pool IN ('committed', 'liquidity_mining', 'rnd')),
    opening             TEXT    NOT NULL,
    funded              TEXT    NOT NULL,
    emitted             TEXT    NOT NULL,
    allocated           TEXT    NOT NULL,
    forfeited           TEXT    NOT NULL,
    clawed_back         TEXT    NOT NULL,
    returned            TEXT    NOT NULL,
    carried             TEXT    NOT NULL,
    shortfall           TEXT    NOT NULL,
    closing             TEXT    NOT NULL,
    price_usd_per_token TEXT,
    price_from_ms       BIGINT,
    price_source        TEXT,
    PRIMARY KEY (programme, epoch, pool),
    FOREIGN KEY (programme, epoch) REFERENCES epochs (programme, epoch)
);

-- Every allocated amount on its way to a provider, numbered in creation order across the
-- programme (`entry`), with the allocation line that created it. The schedule is copied as JSON
-- so an entry can be evaluated on its own. The clawback columns are set (all together) by the
-- later epoch whose settlement clawed the unvested part back.
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
