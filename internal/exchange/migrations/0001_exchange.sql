-- 共享交换: the catalog of government data resources, hosted data, sharing
-- requests and grants, the access log (batched onto the ledger), the data
-- tracker's links, objections and corrections, subscriptions, quality
-- results and federation nodes. Times are unix milliseconds.

-- One row per resource (政务数据资源目录 entry), its current version.
CREATE TABLE ex_resources (
    id              TEXT PRIMARY KEY,
    code            TEXT NOT NULL,             -- resource code (资源代码), unique per holding node
    node            TEXT NOT NULL DEFAULT '',  -- holding node ('' = this node)
    name            TEXT NOT NULL,
    class           TEXT NOT NULL,             -- base | subject | department (基础/主题/部门)
    category        TEXT NOT NULL DEFAULT '',  -- item/category/detail path, e.g. 人口/户籍/户籍人口
    provider_org    TEXT NOT NULL,             -- organisation id (on the holding node)
    provider_name   TEXT NOT NULL,
    provider_code   TEXT NOT NULL,             -- provider's code (deptType or credit code)
    provider_dept   TEXT NOT NULL DEFAULT '',  -- provider's department family (deptType)
    summary         TEXT NOT NULL DEFAULT '',
    format          TEXT NOT NULL,             -- table | file | api
    sharing         TEXT NOT NULL,             -- unconditional | conditional | none
    conditions      TEXT NOT NULL DEFAULT '',  -- sharing conditions
    legal_basis     TEXT NOT NULL DEFAULT '',  -- why not shared / basis of conditions
    method          TEXT NOT NULL DEFAULT 'api', -- api | bulk | subscription (comma list)
    opening         TEXT NOT NULL DEFAULT 'closed', -- open | conditional | closed (开放属性)
    update_cycle    TEXT NOT NULL,             -- realtime | daily | weekly | monthly | quarterly | yearly | irregular
    release_date    TEXT NOT NULL DEFAULT '',  -- YYYY-MM-DD
    related         TEXT NOT NULL DEFAULT '',  -- comma-separated resource codes
    grading         TEXT NOT NULL,             -- core | important | general (GB/T 43697)
    backend         TEXT NOT NULL,             -- hosted | http | registry
    backend_ref     TEXT NOT NULL DEFAULT '',  -- http: URL template; registry: dataset
    items           TEXT NOT NULL,             -- JSON array of items (current version)
    status          TEXT NOT NULL,             -- draft | published | retired
    version         INTEGER NOT NULL,
    quality         DOUBLE PRECISION NOT NULL DEFAULT -1, -- latest score, -1 = never run
    quality_at      BIGINT NOT NULL DEFAULT 0,
    last_load       BIGINT NOT NULL DEFAULT 0,
    rules           TEXT NOT NULL DEFAULT '',  -- JSON quality rules ('' = defaults)
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX ex_resources_code ON ex_resources (code, node);
CREATE INDEX ex_resources_provider ON ex_resources (provider_dept);

-- Every version of every resource (JSON of the whole entry).
CREATE TABLE ex_resource_versions (
    resource_id TEXT NOT NULL,
    version     INTEGER NOT NULL,
    body        TEXT NOT NULL,
    changed_by  TEXT NOT NULL,
    changed_at  BIGINT NOT NULL,
    PRIMARY KEY (resource_id, version)
);

-- Data hosted by the platform for a provider: one row per record, all
-- values encrypted together (AEAD bound to resource and key).
CREATE TABLE ex_rows (
    resource_id TEXT NOT NULL,
    rkey        TEXT NOT NULL,                 -- key value, or its blind index when personal
    subject     TEXT NOT NULL DEFAULT '',      -- salted subject reference (person:…, entity:…)
    data        TEXT NOT NULL,                 -- base64 of the AEAD ciphertext
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (resource_id, rkey)
);

-- Requests to use a resource, and their decisions.
CREATE TABLE ex_requests (
    id            TEXT PRIMARY KEY,
    resource_id   TEXT NOT NULL,
    consumer_node TEXT NOT NULL DEFAULT '',
    consumer_org  TEXT NOT NULL,
    consumer_name TEXT NOT NULL,
    requested_by  TEXT NOT NULL,
    requester     TEXT NOT NULL,
    fields        TEXT NOT NULL,               -- comma list asked for
    clear_fields  TEXT NOT NULL DEFAULT '',    -- personal fields asked for in clear
    purpose       TEXT NOT NULL,
    basis         TEXT NOT NULL,
    daily_quota   INTEGER NOT NULL,
    rate_limit    INTEGER NOT NULL,            -- per second
    expires_at    BIGINT NOT NULL,
    status        TEXT NOT NULL,               -- pending | approved | rejected | refused
    due_at        BIGINT NOT NULL DEFAULT 0,   -- decision deadline (10 working days)
    reminded_at   BIGINT NOT NULL DEFAULT 0,
    escalated_at  BIGINT NOT NULL DEFAULT 0,
    decided_by    TEXT NOT NULL DEFAULT '',
    decided_at    BIGINT NOT NULL DEFAULT 0,
    reason        TEXT NOT NULL DEFAULT '',
    grant_id      TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL
);
CREATE INDEX ex_requests_status ON ex_requests (status, due_at);
CREATE INDEX ex_requests_consumer ON ex_requests (consumer_org, created_at);

CREATE TABLE ex_grants (
    id            TEXT PRIMARY KEY,
    request_id    TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    consumer_node TEXT NOT NULL DEFAULT '',
    consumer_org  TEXT NOT NULL,
    consumer_name TEXT NOT NULL,
    fields        TEXT NOT NULL,
    clear_fields  TEXT NOT NULL DEFAULT '',
    purpose       TEXT NOT NULL,
    basis         TEXT NOT NULL,
    daily_quota   INTEGER NOT NULL,
    rate_limit    INTEGER NOT NULL,
    expires_at    BIGINT NOT NULL,
    status        TEXT NOT NULL,               -- active | revoked
    granted_by    TEXT NOT NULL,
    granted_at    BIGINT NOT NULL,
    revoked_by    TEXT NOT NULL DEFAULT '',
    revoked_at    BIGINT NOT NULL DEFAULT 0,
    revoke_reason TEXT NOT NULL DEFAULT '',
    version       INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX ex_grants_consumer ON ex_grants (consumer_org);
CREATE INDEX ex_grants_resource ON ex_grants (resource_id);

-- Batches of access records: what one commit of the recorder wrote.
CREATE TABLE ex_batches (
    id           TEXT PRIMARY KEY,
    seq          BIGINT NOT NULL UNIQUE,
    size         INTEGER NOT NULL,
    root         TEXT NOT NULL,                -- hex Merkle root of the batch's leaves
    created_at   BIGINT NOT NULL,
    epoch        BIGINT NOT NULL DEFAULT -1,   -- the epoch anchoring it on the ledger (-1: not yet)
    indexed      INTEGER NOT NULL DEFAULT 0    -- subjects written to ex_access_subjects
);
CREATE INDEX ex_batches_epoch ON ex_batches (epoch, seq);
CREATE INDEX ex_batches_unindexed ON ex_batches (indexed, created_at);

-- Epochs: the batches committed in a quarter of a second or so, anchored by
-- one ledger entry whose payload hash is the Merkle root over all their
-- access leaves (in access order).
CREATE TABLE ex_epochs (
    seq          BIGINT PRIMARY KEY,
    size         INTEGER NOT NULL,             -- leaves
    root         TEXT NOT NULL,                -- hex
    created_at   BIGINT NOT NULL,
    ledger_index BIGINT NOT NULL DEFAULT -1,   -- -1: not yet on the ledger
    ledger_leaf  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ex_epochs_pending ON ex_epochs (ledger_index, seq);

-- The subjects (persons, enterprises) an access concerned: the data
-- tracker's index, written after the access rows, a batch at a time.
CREATE TABLE ex_access_subjects (
    subject   TEXT NOT NULL,
    access_id TEXT NOT NULL,
    at        BIGINT NOT NULL,
    PRIMARY KEY (subject, access_id)
);

-- Accounts linked to the subject they are (实名: a citizen to their ID
-- number, an enterprise user to their credit code).
CREATE TABLE ex_subject_links (
    user_id   TEXT NOT NULL,
    subject   TEXT NOT NULL,
    kind      TEXT NOT NULL,                   -- person | entity
    label     TEXT NOT NULL,                   -- masked identifier shown to the user
    linked_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, subject)
);

-- Objections to an access and correction requests (数据纠错).
CREATE TABLE ex_disputes (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,                -- objection | correction
    subject      TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    access_id    TEXT NOT NULL DEFAULT '',
    resource_id  TEXT NOT NULL,
    provider_org TEXT NOT NULL,
    field        TEXT NOT NULL DEFAULT '',
    claimed      TEXT NOT NULL DEFAULT '',     -- claimed value, encrypted (base64)
    text         TEXT NOT NULL,
    status       TEXT NOT NULL,                -- open | accepted | rejected
    due_at       BIGINT NOT NULL,
    answer       TEXT NOT NULL DEFAULT '',
    answered_by  TEXT NOT NULL DEFAULT '',
    answered_at  BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL
);
CREATE INDEX ex_disputes_provider ON ex_disputes (provider_org, status);
CREATE INDEX ex_disputes_user ON ex_disputes (user_id, created_at);

-- Subscriptions to changes of a resource (under a grant).
CREATE TABLE ex_subscriptions (
    id          TEXT PRIMARY KEY,
    grant_id    TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    consumer_org TEXT NOT NULL,
    kind        TEXT NOT NULL,                 -- bus | webhook
    url         TEXT NOT NULL DEFAULT '',
    secret      TEXT NOT NULL DEFAULT '',      -- webhook HMAC key, encrypted (base64)
    status      TEXT NOT NULL,                 -- active | cancelled
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Change notifications waiting for delivery, with retries.
CREATE TABLE ex_deliveries (
    id              TEXT PRIMARY KEY,
    subscription_id TEXT NOT NULL,
    body            TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_at         BIGINT NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL,             -- pending | delivered | failed
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX ex_deliveries_next ON ex_deliveries (status, next_at);

-- Quality runs: the score and the failing records of each run.
CREATE TABLE ex_quality_runs (
    id          TEXT PRIMARY KEY,
    resource_id TEXT NOT NULL,
    provider_org TEXT NOT NULL,
    score       DOUBLE PRECISION NOT NULL,
    records     INTEGER NOT NULL,
    failed      INTEGER NOT NULL,
    result      TEXT NOT NULL,                 -- JSON (rules and up to 1000 failures)
    trigger     TEXT NOT NULL,                 -- publish | schedule | manual
    at          BIGINT NOT NULL
);
CREATE INDEX ex_quality_runs_resource ON ex_quality_runs (resource_id, at);

-- Federation: this node's parent and children (四级共享交换).
CREATE TABLE ex_nodes (
    id          TEXT PRIMARY KEY,              -- node id, e.g. 320508 or 320508018
    name        TEXT NOT NULL,
    level       TEXT NOT NULL,                 -- province | city | county | township
    url         TEXT NOT NULL,
    public_key  TEXT NOT NULL,                 -- note verifier key (Ed25519)
    relation    TEXT NOT NULL,                 -- parent | child | known (deeper in the tree)
    via         TEXT NOT NULL DEFAULT '',      -- next hop toward it
    status      TEXT NOT NULL,                 -- active | invited
    invite_hash TEXT NOT NULL DEFAULT '',
    updated_at  BIGINT NOT NULL
);
