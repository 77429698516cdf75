-- +goose Up
-- Failed logins per account and the lock they lead to (SPEC S5): kept in
-- the database so every process sees the same lock.
CREATE TABLE login_failures (
    account_id      INTEGER PRIMARY KEY REFERENCES accounts (id),
    failures        INTEGER NOT NULL,
    last_failure_at TEXT NOT NULL,
    locked_until    TEXT
);

-- +goose Down
DROP TABLE login_failures;
