-- Evidence waiting for the ledger: written in the same transaction as the
-- step it attests, appended to the ledger in batches by the evidence pump,
-- then deleted. A batch claimed (claimed_at) by a process that died is
-- claimed again after a minute: evidence reaches the ledger at least once.
CREATE TABLE case_evidence (
    id         TEXT PRIMARY KEY,             -- the step's id (the ledger record's ref)
    body       TEXT NOT NULL,                -- Evidence, JSON
    claimed_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX case_evidence_claim ON case_evidence (claimed_at, created_at);
