-- Bus consumers record processed event ids here (idempotent consumers).
CREATE TABLE bus_processed (
    consumer     TEXT   NOT NULL,
    event_id     TEXT   NOT NULL,
    processed_at BIGINT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
