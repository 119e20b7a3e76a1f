-- How far the access journal (SQLite deployments: records appended to a
-- local file and then moved into ex_access) has been moved in: the file's
-- generation and the offset after the last record moved in, written in
-- the same transaction as those records.
CREATE TABLE ex_journal (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    gen BIGINT NOT NULL,
    off BIGINT NOT NULL
);
