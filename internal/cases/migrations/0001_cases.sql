-- 一网统管: the closed loop for city events (GB/T 30428.8): cases from every
-- channel, their timeline, photos, reporters and notices, with the
-- categories, area rules, sensor and video rules and classifier examples
-- kept as data.
--
-- scope_key is the 15-digit unit-grid code of the case, so that a
-- division's subtree is the key range of its short code (see authz).
-- Times are unix milliseconds.

CREATE TABLE case_categories (
    code          TEXT PRIMARY KEY,            -- B0101, E0402, ...
    kind          TEXT NOT NULL,               -- component | event
    major_zh      TEXT NOT NULL,
    name_zh       TEXT NOT NULL,
    name_en       TEXT NOT NULL,
    dept          TEXT NOT NULL,               -- default responsible department (deptType)
    deadline      INTEGER NOT NULL,            -- handling deadline ...
    unit          TEXT NOT NULL,               -- ... in hours | work_hours | work_days
    filing        TEXT NOT NULL,               -- filing criteria (立案标准)
    verify_rule   TEXT NOT NULL,               -- verification rule (结案标准)
    active        INTEGER NOT NULL DEFAULT 1,
    version       INTEGER NOT NULL,
    updated_by    TEXT NOT NULL,
    updated_at    BIGINT NOT NULL
);

-- Every version of every category, as it was (JSON).
CREATE TABLE case_category_versions (
    code       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    body       TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at BIGINT NOT NULL,
    PRIMARY KEY (code, version)
);

-- Department by area: cases of a category inside a division (short code
-- prefix) go to another department than the category's default.
CREATE TABLE case_area_rules (
    id        TEXT PRIMARY KEY,
    category  TEXT NOT NULL,                   -- a code, or a prefix ending in '*': E04*
    division  TEXT NOT NULL,                   -- short division code prefix
    dept      TEXT NOT NULL,
    note      TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE cases (
    id            TEXT PRIMARY KEY,
    no            TEXT NOT NULL UNIQUE,        -- human case number
    channel       TEXT NOT NULL,               -- grid | portal | open311 | hotline | sensor | video | referral
    state         TEXT NOT NULL,
    category      TEXT NOT NULL DEFAULT '',
    confidence    DOUBLE PRECISION NOT NULL DEFAULT 0,
    classified_by TEXT NOT NULL DEFAULT '',    -- reporter | model | operator
    description   TEXT NOT NULL,
    address       TEXT NOT NULL DEFAULT '',
    lon           DOUBLE PRECISION NOT NULL,
    lat           DOUBLE PRECISION NOT NULL,
    grid_code     TEXT NOT NULL,
    scope_key     TEXT NOT NULL,
    resp_grid     TEXT NOT NULL DEFAULT '',
    community     TEXT NOT NULL DEFAULT '',
    street        TEXT NOT NULL DEFAULT '',
    district      TEXT NOT NULL DEFAULT '',
    component     TEXT NOT NULL DEFAULT '',    -- component code when about one
    dedup_key     TEXT NOT NULL DEFAULT '',    -- sensor/video: device + alarm type
    dept          TEXT NOT NULL DEFAULT '',    -- department (deptType) dispatched to
    org_id        TEXT NOT NULL DEFAULT '',    -- unit dispatched to
    org_name      TEXT NOT NULL DEFAULT '',
    reporter_kind TEXT NOT NULL,               -- user | public | system
    reporter_id   TEXT NOT NULL DEFAULT '',    -- user id, or token id for systems
    reporter_name TEXT NOT NULL DEFAULT '',    -- encrypted
    reporter_phone TEXT NOT NULL DEFAULT '',   -- encrypted
    reporter_mask TEXT NOT NULL DEFAULT '',    -- masked name and phone for display
    external_id   TEXT NOT NULL DEFAULT '',    -- Open311 service_request_id given by a client, hotline ticket, ...
    token         TEXT NOT NULL DEFAULT '',    -- Open311 token
    supervised    INTEGER NOT NULL DEFAULT 0,  -- 督办 level: 0 none, 1 unit head, 2 operations centre
    warning       INTEGER NOT NULL DEFAULT 0,  -- 0 none, 1 yellow, 2 red (overdue)
    reworks       INTEGER NOT NULL DEFAULT 0,
    returns       INTEGER NOT NULL DEFAULT 0,
    repeats       INTEGER NOT NULL DEFAULT 0,  -- repeated alarms / merged reports
    duplicate_of  TEXT NOT NULL DEFAULT '',
    postpone_req  BIGINT NOT NULL DEFAULT 0,   -- requested new deadline, pending approval
    filed_at      BIGINT NOT NULL DEFAULT 0,
    dispatched_at BIGINT NOT NULL DEFAULT 0,
    first_dispatched_at BIGINT NOT NULL DEFAULT 0,
    yellow_at     BIGINT NOT NULL DEFAULT 0,
    deadline_at   BIGINT NOT NULL DEFAULT 0,
    suspended_at  BIGINT NOT NULL DEFAULT 0,
    handled_at    BIGINT NOT NULL DEFAULT 0,
    closed_at     BIGINT NOT NULL DEFAULT 0,
    handler_id    TEXT NOT NULL DEFAULT '',
    verifier_id   TEXT NOT NULL DEFAULT '',
    rating        TEXT NOT NULL DEFAULT '',    -- satisfied | basically | dissatisfied
    rating_comment TEXT NOT NULL DEFAULT '',
    rated_at      BIGINT NOT NULL DEFAULT 0,
    version       INTEGER NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX cases_scope ON cases (scope_key, created_at);
CREATE INDEX cases_state ON cases (state, updated_at);
CREATE INDEX cases_org ON cases (org_id, state);
CREATE INDEX cases_reporter ON cases (reporter_id, created_at) WHERE reporter_id <> '';
CREATE INDEX cases_dedup ON cases (dedup_key) WHERE dedup_key <> '';
CREATE INDEX cases_component ON cases (component) WHERE component <> '';
CREATE INDEX cases_grid_open ON cases (grid_code, created_at) WHERE state IN ('reported', 'filed', 'dispatched', 'handled', 'suspended');
CREATE INDEX cases_clock ON cases (deadline_at) WHERE state = 'dispatched';
CREATE INDEX cases_token ON cases (token) WHERE token <> '';

-- The timeline: every transition and note, attributed and time-stamped
-- (each also goes to the ledger).
CREATE TABLE case_events (
    id         TEXT PRIMARY KEY,
    case_id    TEXT NOT NULL REFERENCES cases (id),
    seq        INTEGER NOT NULL,
    action     TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id   TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    org_id     TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    data       TEXT NOT NULL DEFAULT '',       -- JSON details
    at         BIGINT NOT NULL,
    UNIQUE (case_id, seq)
);

CREATE TABLE case_photos (
    id         TEXT PRIMARY KEY,
    case_id    TEXT NOT NULL REFERENCES cases (id),
    stage      TEXT NOT NULL,                  -- report | handle | verify
    mime       TEXT NOT NULL,
    size       INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    data       BYTEA NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX case_photos_case ON case_photos (case_id);

-- Everyone who reported a case (also the reporters of duplicates merged
-- into it), so that updates reach them all.
CREATE TABLE case_reporters (
    case_id     TEXT NOT NULL,
    reporter_id TEXT NOT NULL,                 -- user id, Open311 token, or '' for anonymous
    kind        TEXT NOT NULL,
    via_case    TEXT NOT NULL,                 -- the case they reported (itself, or a merged duplicate)
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (case_id, via_case)
);
CREATE INDEX case_reporters_user ON case_reporters (reporter_id) WHERE reporter_id <> '';

-- Notices to units (org_id) or people (user_id): dispatches, warnings,
-- escalations, progress of one's own reports.
CREATE TABLE case_notices (
    id       TEXT PRIMARY KEY,
    org_id   TEXT NOT NULL DEFAULT '',
    user_id  TEXT NOT NULL DEFAULT '',
    case_id  TEXT NOT NULL,
    kind     TEXT NOT NULL,
    message  TEXT NOT NULL,
    at       BIGINT NOT NULL,
    read_at  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX case_notices_org ON case_notices (org_id, at) WHERE org_id <> '';
CREATE INDEX case_notices_user ON case_notices (user_id, at) WHERE user_id <> '';

-- Classifier training data: the categories' examples and operators'
-- corrections.
CREATE TABLE case_examples (
    id         TEXT PRIMARY KEY,
    category   TEXT NOT NULL,
    text       TEXT NOT NULL,
    source     TEXT NOT NULL,                  -- seed | correction
    case_id    TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

-- Sensor (MQTT) and video-analytics rules: which alarms create a case of
-- which category.
CREATE TABLE case_alarm_rules (
    id         TEXT PRIMARY KEY,
    source     TEXT NOT NULL,                  -- sensor | video
    alarm      TEXT NOT NULL,                  -- alarm type, e.g. manhole-tilt, water-level, illegal-parking
    category   TEXT NOT NULL,
    min_value  DOUBLE PRECISION,               -- sensors: alarm when value >= min_value (NULL: any)
    min_conf   DOUBLE PRECISION,               -- video: alarm when confidence >= min_conf (NULL: any)
    note       TEXT NOT NULL DEFAULT '',
    UNIQUE (source, alarm)
);

-- Case numbers: a counter per day.
CREATE TABLE case_counters (
    day TEXT PRIMARY KEY,
    n   BIGINT NOT NULL
);
