-- Bounding box of each grid's polygon (bbox queries test it exactly in SQL)
-- and a revision that grows with every change of the row, so that every
-- replica can tell when its in-memory spatial index is stale. Rows from
-- before this step get their bounds when the index is first built.
ALTER TABLE grids ADD COLUMN min_lon DOUBLE PRECISION;
ALTER TABLE grids ADD COLUMN min_lat DOUBLE PRECISION;
ALTER TABLE grids ADD COLUMN max_lon DOUBLE PRECISION;
ALTER TABLE grids ADD COLUMN max_lat DOUBLE PRECISION;
ALTER TABLE grids ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
CREATE INDEX grids_revision ON grids (revision);
CREATE INDEX grids_min_lon ON grids (min_lon);
