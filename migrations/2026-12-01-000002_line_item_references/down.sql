ALTER TABLE allocations DROP COLUMN clawback_of_entry;
ALTER TABLE allocations DROP COLUMN clawback_of_epoch;
