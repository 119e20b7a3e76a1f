-- Counts that every process on the database shares.
--
-- Grants' daily quotas: a process leases part of a day's quota (leased)
-- before it answers with those records, and reports what it answered
-- (used) when it leases again or stops; leased - used is held by processes.
CREATE TABLE ex_quota_use (
    grant_id TEXT NOT NULL,
    day      TEXT NOT NULL,                    -- YYYY-MM-DD, China Standard Time
    leased   BIGINT NOT NULL,
    used     BIGINT NOT NULL,
    PRIMARY KEY (grant_id, day)
);

-- Batch sequence numbers for processes writing batches at once (replicas,
-- each with several writers): each batch's insert takes nextval, never
-- twice, in the order batches begin, after the batches already written.
-- (SQLite has one writing process; it counts in memory.)
CREATE SEQUENCE ex_batches_seq;
SELECT setval('ex_batches_seq', COALESCE((SELECT MAX(seq) FROM ex_batches), 0) + 1, false);
