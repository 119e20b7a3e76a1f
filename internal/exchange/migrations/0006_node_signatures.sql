-- Signatures of accepted node requests (by hash), remembered until their
-- dates leave the 5-minute window, so that every process of this node —
-- replicas behind one load balancer too — accepts a signed request once.
CREATE TABLE ex_node_signatures (
    sig_hash TEXT PRIMARY KEY,                 -- hex SHA-256 of the signature
    date     BIGINT NOT NULL                   -- the request's date (unix ms)
);
CREATE INDEX ex_node_signatures_date ON ex_node_signatures (date);
