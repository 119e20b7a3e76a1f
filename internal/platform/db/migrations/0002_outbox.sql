-- Transactional outbox: modules write events here in the same transaction as
-- the change; the relay publishes them to the bus and deletes them.
CREATE TABLE outbox (
    id         TEXT   PRIMARY KEY,
    type       TEXT   NOT NULL,
    subject    TEXT   NOT NULL,
    data       TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
