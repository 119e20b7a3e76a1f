-- When a process claimed an epoch to anchor it on the ledger (ledger_index
-- -2): a claim older than a few seconds is a stopped process's and is
-- given up, so the epoch is anchored by another pump.
ALTER TABLE ex_epochs ADD COLUMN claimed_at BIGINT NOT NULL DEFAULT 0;
