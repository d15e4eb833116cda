-- Every span during which an address was a registered provider, one row per life: from its
-- MsgCreateProvider to its MsgDeleteProvider. `providers` keeps only the latest life, so a
-- provider deleted and created again would otherwise rewrite the past that sealed epochs were
-- measured on. `life` counts an owner's registrations from 0. A provider first seen through an
-- update (an index started mid-chain) was registered before the first indexed block: its
-- created columns are NULL. Times are the block header's, as text and in unix milliseconds.
CREATE TABLE provider_registrations (
    owner TEXT NOT NULL,
    life INTEGER NOT NULL,
    created_height BIGINT,
    created_time TEXT,
    created_time_ms BIGINT,
    deleted_height BIGINT,
    deleted_time TEXT,
    deleted_time_ms BIGINT,
    PRIMARY KEY (owner, life)
);

-- The lives already indexed, as far as `providers` remembers them.
INSERT INTO provider_registrations (
    owner, life, created_height, created_time, created_time_ms,
    deleted_height, deleted_time, deleted_time_ms
)
SELECT p.owner, 0, p.created_height, c.time, c.time_ms, p.deleted_height, d.time, d.time_ms
FROM providers p
LEFT JOIN blocks c ON c.height = p.created_height
LEFT JOIN blocks d ON d.height = p.deleted_height;

-- A provider that bid or was leased from without any message of its own indexed was registered
-- before the first indexed block: the chain takes bids and leases from registered providers only.
INSERT INTO provider_registrations (owner, life)
SELECT provider, 0 FROM (SELECT provider FROM bids UNION SELECT provider FROM leases) AS active
WHERE provider NOT IN (SELECT owner FROM provider_registrations);
