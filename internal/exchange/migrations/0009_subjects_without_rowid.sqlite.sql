-- SQLite: the data tracker's index as a WITHOUT ROWID table, stored in its
-- primary key's b-tree alone. As a rowid table every row went into two
-- b-trees (the rows by rowid, and the primary-key index that every insert
-- and every lookup by subject uses), each insert dirtying a page of both.
-- Built beside the old table and renamed, so an existing database keeps
-- its rows (the table then moves to the side file as it did before).
CREATE TABLE ex_access_subjects_v2 (
    subject   TEXT NOT NULL,
    access_id TEXT NOT NULL,
    at        BIGINT NOT NULL,
    PRIMARY KEY (subject, access_id)
) WITHOUT ROWID;
INSERT INTO ex_access_subjects_v2 (subject, access_id, at) SELECT subject, access_id, at FROM ex_access_subjects;
DROP TABLE ex_access_subjects;
ALTER TABLE ex_access_subjects_v2 RENAME TO ex_access_subjects;
