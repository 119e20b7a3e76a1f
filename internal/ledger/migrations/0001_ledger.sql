-- BYTEA: binary in PostgreSQL (and its distributed kin); SQLite keeps the
-- bytes as a BLOB whatever the declared type.
-- Tamper-evident log, stored as what it serves: C2SP entry bundles of up to
-- 256 entries, and hash tiles of 256 hashes at tree levels 0, 8, 16, ...
-- Every other hash is recomputed from these.
CREATE TABLE ledger_state (
    id         INTEGER PRIMARY KEY,
    size       BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE ledger_bundles (
    n     BIGINT  PRIMARY KEY,
    width INTEGER NOT NULL,
    data  BYTEA    NOT NULL
);
-- data: the W hashes of tree level 8*level served as the tile; interior:
-- the tile's hashes at the 7 levels above, level by level, so any stored
-- hash is one tile read away.
CREATE TABLE ledger_tiles (
    level    INTEGER NOT NULL,
    n        BIGINT  NOT NULL,
    width    INTEGER NOT NULL,
    data     BYTEA    NOT NULL,
    interior BYTEA    NOT NULL,
    PRIMARY KEY (level, n)
);
CREATE TABLE ledger_checkpoints (
    size       BIGINT PRIMARY KEY,
    root       TEXT   NOT NULL,
    note       TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE ledger_witnesses (
    name     TEXT PRIMARY KEY,
    vkey     TEXT NOT NULL,
    added_at BIGINT NOT NULL
);
CREATE TABLE ledger_cosignatures (
    witness    TEXT   NOT NULL REFERENCES ledger_witnesses (name),
    size       BIGINT NOT NULL,
    line       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (witness, size)
);
-- Signing keys of acting organisations (private keys encrypted with the
-- field key).
CREATE TABLE ledger_org_keys (
    org_id      TEXT PRIMARY KEY,
    alg         TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    private_enc TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
