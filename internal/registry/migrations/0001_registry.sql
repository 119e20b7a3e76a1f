-- Base data (数据底座): people, households, buildings and addresses, city
-- components, enterprises and social organisations, with the source of
-- every field, the history of every change and the changes routed to the
-- authoritative department (一数一源).
--
-- scope_key is the 15-digit unit-grid code of the record, so that a
-- division's subtree is the key range of its short code (see authz).
-- Personal fields are encrypted (base64 of the field cipher's output) with
-- a masked copy for reads and, where records are looked up by them, a
-- blind index (hex HMAC).
-- sources is a JSON object: field -> {"d": department code, "t": unix ms}.

CREATE TABLE reg_addresses (
    id          TEXT PRIMARY KEY,
    building_id TEXT,
    room        TEXT NOT NULL DEFAULT '',
    full_text   TEXT NOT NULL UNIQUE,
    grid_code   TEXT NOT NULL,
    scope_key   TEXT NOT NULL,
    lon         DOUBLE PRECISION NOT NULL,
    lat         DOUBLE PRECISION NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX reg_addresses_scope ON reg_addresses (scope_key);
CREATE INDEX reg_addresses_building ON reg_addresses (building_id) WHERE building_id IS NOT NULL;

CREATE TABLE reg_buildings (
    id         TEXT PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    road       TEXT NOT NULL,
    house_no   TEXT NOT NULL,
    address    TEXT NOT NULL UNIQUE,
    use_type   TEXT NOT NULL,
    floors     INTEGER NOT NULL,
    grid_code  TEXT NOT NULL,
    scope_key  TEXT NOT NULL,
    lon        DOUBLE PRECISION NOT NULL,
    lat        DOUBLE PRECISION NOT NULL,
    sources    TEXT NOT NULL,
    version    INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX reg_buildings_scope ON reg_buildings (scope_key);

CREATE TABLE reg_households (
    id         TEXT PRIMARY KEY,
    number     TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    address_id TEXT REFERENCES reg_addresses (id),
    grid_code  TEXT NOT NULL,
    scope_key  TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX reg_households_scope ON reg_households (scope_key);

CREATE TABLE reg_people (
    id             TEXT PRIMARY KEY,
    id_blind       TEXT NOT NULL UNIQUE,
    id_enc         TEXT NOT NULL,
    id_mask        TEXT NOT NULL,
    name_enc       TEXT NOT NULL,
    name_mask      TEXT NOT NULL,
    sex            TEXT NOT NULL,
    birth_year     INTEGER NOT NULL,
    hukou_division TEXT NOT NULL,
    registered     INTEGER NOT NULL,
    resident       INTEGER NOT NULL,
    household_id   TEXT REFERENCES reg_households (id),
    relation       TEXT NOT NULL DEFAULT '',
    address_id     TEXT REFERENCES reg_addresses (id),
    phone_enc      TEXT NOT NULL DEFAULT '',
    phone_mask     TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL,
    grid_code      TEXT NOT NULL,
    scope_key      TEXT NOT NULL,
    sources        TEXT NOT NULL,
    version        INTEGER NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX reg_people_scope ON reg_people (scope_key, id);
CREATE INDEX reg_people_household ON reg_people (household_id) WHERE household_id IS NOT NULL;

CREATE TABLE reg_person_tags (
    person_id   TEXT NOT NULL REFERENCES reg_people (id),
    tag         TEXT NOT NULL,
    source_dept TEXT NOT NULL,
    since       BIGINT NOT NULL,
    scope_key   TEXT NOT NULL,
    PRIMARY KEY (person_id, tag)
);
CREATE INDEX reg_person_tags_tag ON reg_person_tags (tag, scope_key);

CREATE TABLE reg_component_classes (
    major        TEXT NOT NULL,
    minor        TEXT NOT NULL,
    name_zh      TEXT NOT NULL,
    name_en      TEXT NOT NULL,
    major_zh     TEXT NOT NULL,
    major_en     TEXT NOT NULL,
    owner_dept   TEXT NOT NULL,
    PRIMARY KEY (major, minor)
);

CREATE TABLE reg_components (
    code         TEXT PRIMARY KEY,
    major        TEXT NOT NULL,
    minor        TEXT NOT NULL,
    name         TEXT NOT NULL,
    state        TEXT NOT NULL,
    owner_dept   TEXT NOT NULL,
    owner_org_id TEXT,
    address      TEXT NOT NULL DEFAULT '',
    grid_code    TEXT NOT NULL,
    scope_key    TEXT NOT NULL,
    lon          DOUBLE PRECISION NOT NULL,
    lat          DOUBLE PRECISION NOT NULL,
    sources      TEXT NOT NULL,
    version      INTEGER NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    FOREIGN KEY (major, minor) REFERENCES reg_component_classes (major, minor)
);
CREATE INDEX reg_components_scope ON reg_components (scope_key);
CREATE INDEX reg_components_class ON reg_components (major, minor);
CREATE INDEX reg_components_lon ON reg_components (lon, lat);

CREATE TABLE reg_entities (
    credit_code    TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    legal_rep_enc  TEXT NOT NULL,
    legal_rep_mask TEXT NOT NULL,
    industry       TEXT NOT NULL,
    address        TEXT NOT NULL,
    status         TEXT NOT NULL,
    established    TEXT NOT NULL,
    grid_code      TEXT NOT NULL,
    scope_key      TEXT NOT NULL,
    lon            DOUBLE PRECISION NOT NULL,
    lat            DOUBLE PRECISION NOT NULL,
    sources        TEXT NOT NULL,
    version        INTEGER NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX reg_entities_scope ON reg_entities (scope_key);
CREATE INDEX reg_entities_name ON reg_entities (name);

-- The authoritative department of each field (一数一源); field '*' is
-- the default of a kind.
CREATE TABLE reg_authorities (
    kind  TEXT NOT NULL,
    field TEXT NOT NULL,
    dept  TEXT NOT NULL,
    PRIMARY KEY (kind, field)
);

-- Old values. Values of personal fields are stored encrypted.
CREATE TABLE reg_history (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    field       TEXT NOT NULL,
    old_value   TEXT NOT NULL,
    new_value   TEXT NOT NULL,
    sensitive   INTEGER NOT NULL,
    source_dept TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    change_id   TEXT NOT NULL DEFAULT '',
    at          BIGINT NOT NULL,
    scope_key   TEXT NOT NULL
);
CREATE INDEX reg_history_record ON reg_history (kind, record_id, at);

-- Changes routed to the authoritative department: conflicts between
-- sources, grid workers' corrections and additions.
CREATE TABLE reg_changes (
    id             TEXT PRIMARY KEY,
    reason         TEXT NOT NULL,
    kind           TEXT NOT NULL,
    record_id      TEXT NOT NULL DEFAULT '',
    field          TEXT NOT NULL DEFAULT '',
    proposed       TEXT NOT NULL,
    sensitive      INTEGER NOT NULL,
    current_mask   TEXT NOT NULL DEFAULT '',
    proposed_mask  TEXT NOT NULL DEFAULT '',
    note           TEXT NOT NULL DEFAULT '',
    proposer_dept  TEXT NOT NULL,
    proposer_id    TEXT NOT NULL,
    proposer_name  TEXT NOT NULL,
    authority_dept TEXT NOT NULL,
    status         TEXT NOT NULL,
    due_at         BIGINT NOT NULL,
    decided_by     TEXT NOT NULL DEFAULT '',
    decided_at     BIGINT NOT NULL DEFAULT 0,
    decision_note  TEXT NOT NULL DEFAULT '',
    grid_code      TEXT NOT NULL,
    scope_key      TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX reg_changes_scope ON reg_changes (status, scope_key);
CREATE INDEX reg_changes_record ON reg_changes (kind, record_id);

-- Grid and account names are copied at assignment (the registry does not
-- read the geo and identity modules' tables).
CREATE TABLE reg_grid_workers (
    grid_code    TEXT NOT NULL,
    grid_name    TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id),
    username     TEXT NOT NULL,
    display_name TEXT NOT NULL,
    assigned_by TEXT NOT NULL,
    assigned_at BIGINT NOT NULL,
    scope_key   TEXT NOT NULL,
    PRIMARY KEY (grid_code, user_id)
);
CREATE INDEX reg_grid_workers_user ON reg_grid_workers (user_id);

CREATE TABLE reg_imports (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    filename    TEXT NOT NULL,
    mode        TEXT NOT NULL,
    status      TEXT NOT NULL,
    total_rows  INTEGER NOT NULL DEFAULT 0,
    good_rows   INTEGER NOT NULL DEFAULT 0,
    bad_rows    INTEGER NOT NULL DEFAULT 0,
    written     INTEGER NOT NULL DEFAULT 0,
    errors      TEXT NOT NULL DEFAULT '[]',
    message     TEXT NOT NULL DEFAULT '',
    file_hash   TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    source_dept TEXT NOT NULL,
    scope_key   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX reg_imports_scope ON reg_imports (scope_key, created_at);

-- Purposes that allow clear values of personal fields, and who may state
-- them.
CREATE TABLE reg_purposes (
    code    TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    basis   TEXT NOT NULL,
    fields  TEXT NOT NULL,
    roles   TEXT NOT NULL
);
