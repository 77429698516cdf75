-- +goose Up
-- Failed logins per account and the lock they lead to (SPEC S5): kept in
-- the database so every process sees the same lock.
CREATE TABLE login_failures (
    account_id      BIGINT PRIMARY KEY REFERENCES accounts (id),
    failures        INTEGER NOT NULL,
    last_failure_at TIMESTAMPTZ NOT NULL,
    locked_until    TIMESTAMPTZ
);

-- +goose Down
DROP TABLE login_failures;
