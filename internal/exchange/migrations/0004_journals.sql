-- How far each access journal has been moved in, by the journal's id (the
-- file ID in its directory): several processes on one PostgreSQL database
-- may each journal (--exchange-journal on). ex_journal, the single row of
-- the one journal before ids, is read once when a journal without a row
-- here first opens, and no longer written.
CREATE TABLE ex_journals (
    journal TEXT PRIMARY KEY,
    gen     BIGINT NOT NULL,
    off     BIGINT NOT NULL
);
