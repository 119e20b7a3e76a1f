-- Administrative divisions (GB/T 2260 + statistical codes), one tree.
-- code is the 12-digit statistical code; short is its significant prefix
-- (2/4/6/9/12 digits by level) so a region scope is a prefix match.
CREATE TABLE divisions (
    code          TEXT PRIMARY KEY,
    short         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    level         TEXT NOT NULL,
    parent_code   TEXT REFERENCES divisions (code),
    centroid_lon  DOUBLE PRECISION,
    centroid_lat  DOUBLE PRECISION,
    boundary      TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX divisions_parent ON divisions (parent_code);

-- Departments and their units, street offices, community committees,
-- enterprises: each bound to a division.
CREATE TABLE orgs (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    code          TEXT UNIQUE,
    kind          TEXT NOT NULL,
    dept_type     TEXT NOT NULL DEFAULT '',
    parent_id     TEXT REFERENCES orgs (id),
    division_code TEXT NOT NULL REFERENCES divisions (code),
    scope_key     TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX orgs_scope ON orgs (scope_key);
CREATE INDEX orgs_division ON orgs (division_code);

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    username            TEXT NOT NULL UNIQUE,
    display_name        TEXT NOT NULL,
    password_hash       TEXT NOT NULL,
    org_id              TEXT REFERENCES orgs (id),
    division_code       TEXT NOT NULL REFERENCES divisions (code),
    scope_key           TEXT NOT NULL,
    phone_enc           TEXT NOT NULL DEFAULT '',
    phone_last4         TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL,
    failed_logins       INTEGER NOT NULL DEFAULT 0,
    locked_until        BIGINT NOT NULL DEFAULT 0,
    password_changed_at BIGINT NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX users_scope ON users (scope_key);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id),
    role    TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- Browser sessions; the cookie holds the token, the table its SHA-256.
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    csrf         TEXT NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- API tokens of department systems, hashed at rest.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    hash         TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT NOT NULL DEFAULT 0,
    last_used_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX api_tokens_org ON api_tokens (org_id);

-- Administrative audit trail (also written to the ledger once it exists).
CREATE TABLE audit_log (
    id           TEXT PRIMARY KEY,
    at           BIGINT NOT NULL,
    actor_kind   TEXT NOT NULL,
    actor_id     TEXT NOT NULL,
    actor_name   TEXT NOT NULL,
    action       TEXT NOT NULL,
    subject      TEXT NOT NULL,
    detail       TEXT NOT NULL,
    ip           TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    scope_key    TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_scope ON audit_log (scope_key);
