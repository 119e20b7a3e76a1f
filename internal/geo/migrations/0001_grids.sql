-- Unit grids (万米单元网格): 15-digit codes = district(6) + street(3) +
-- community(3) + sequence(3), polygons as GeoJSON geometry text (WGS84).
CREATE TABLE grids (
    code           TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    community_code TEXT NOT NULL REFERENCES divisions (code),
    scope_key      TEXT NOT NULL,
    boundary       TEXT NOT NULL,
    centroid_lon   DOUBLE PRECISION NOT NULL,
    centroid_lat   DOUBLE PRECISION NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX grids_scope ON grids (scope_key);
CREATE INDEX grids_community ON grids (community_code);
