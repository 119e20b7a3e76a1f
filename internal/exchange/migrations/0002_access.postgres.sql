-- Every access, granted or refused. seq = batch seq * 4096 + leaf index,
-- so the table is written in order (append-only pages) and a batch is a
-- key range.
CREATE TABLE ex_access (
    seq          BIGINT PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    at           BIGINT NOT NULL,
    batch_id     TEXT NOT NULL,
    leaf         INTEGER NOT NULL,             -- index in the batch
    leaf_hash    TEXT NOT NULL,
    body         TEXT NOT NULL,                -- canonical JSON (the leaf data)
    resource_id  TEXT NOT NULL,
    grant_id     TEXT NOT NULL DEFAULT '',
    consumer_org TEXT NOT NULL,
    outcome      TEXT NOT NULL,                -- ok | refused
    records      INTEGER NOT NULL
);
CREATE INDEX ex_access_consumer ON ex_access (consumer_org, seq);
