-- Responsibility grids (责任网格): the area a grid worker or a team is
-- responsible for, made of whole unit grids of one community. Codes have 15
-- digits: community (12) + 9 + a 2-digit sequence (unit grids use the
-- sequences 001-899 of the same community). The boundary is the
-- MultiPolygon of the member grids' polygons.
CREATE TABLE resp_grids (
    code           TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    community_code TEXT NOT NULL,
    scope_key      TEXT NOT NULL,
    boundary       TEXT NOT NULL,
    min_lon        DOUBLE PRECISION NOT NULL,
    min_lat        DOUBLE PRECISION NOT NULL,
    max_lon        DOUBLE PRECISION NOT NULL,
    max_lat        DOUBLE PRECISION NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX resp_grids_scope ON resp_grids (scope_key);

ALTER TABLE grids ADD COLUMN resp_code TEXT REFERENCES resp_grids (code);
CREATE INDEX grids_resp ON grids (resp_code);
