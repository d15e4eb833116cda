-- What a line item refers to: on a CLAWED_BACK line, the vesting entry it takes back, named by
-- the epoch its amount was earned in and its entry number (vesting_entries.entry), so a clawback
-- line is matched to its entry directly rather than by its order among the epoch's clawbacks.
-- NULL on every other line, and on lines sealed before this migration. Both are set or neither.
-- Runs unchanged on SQLite and PostgreSQL.
ALTER TABLE allocations ADD COLUMN clawback_of_epoch INTEGER;
ALTER TABLE allocations ADD COLUMN clawback_of_entry INTEGER;
