-- PostgreSQL: nothing to change; a table there is a heap with its primary
-- key in a separate index either way (see the SQLite version).
SELECT 1;
