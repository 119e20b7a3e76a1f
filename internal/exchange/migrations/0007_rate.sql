-- Grants' rate limits for every process on a PostgreSQL database
-- (replicas): each grant's current one-second window and the queries
-- processes have leased in it. (SQLite has one process; it keeps the
-- limit in memory.)
CREATE TABLE ex_rate_use (
    grant_id TEXT PRIMARY KEY,
    window_s BIGINT NOT NULL,                  -- unix second
    leased   BIGINT NOT NULL
);
