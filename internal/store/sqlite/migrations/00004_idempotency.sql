-- +goose Up
-- Idempotency keys of mutating API calls (package idempotency): a retry
-- with the same key gets the stored response of the first call.
CREATE TABLE idempotency_keys (
    scope         TEXT NOT NULL, -- who may use the key, e.g. account:42
    idem_key      TEXT NOT NULL, -- the client's Idempotency-Key
    method        TEXT NOT NULL,
    path          TEXT NOT NULL,
    body_hash     TEXT NOT NULL, -- hex SHA-256 of the request body
    status        TEXT NOT NULL CHECK (status IN ('in_progress', 'completed')),
    created_at    TEXT NOT NULL,
    resp_status   INTEGER NOT NULL DEFAULT 0,
    content_type  TEXT NOT NULL DEFAULT '',
    location      TEXT NOT NULL DEFAULT '',
    resp_body     BLOB,
    PRIMARY KEY (scope, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
