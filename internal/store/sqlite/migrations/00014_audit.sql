-- +goose Up
-- The audit trail (internal/audit): one row per change that matters, never
-- changed or removed. The triggers refuse UPDATE and DELETE, so not even a
-- bug in piao can rewrite the trail; the indexes serve GET /api/v1/audit's
-- filters, each newest first by ID.
CREATE TABLE audit_entries (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             TEXT    NOT NULL,
    actor_id       INTEGER NOT NULL DEFAULT 0,
    actor_username TEXT    NOT NULL DEFAULT '',
    actor_role     TEXT    NOT NULL DEFAULT '',
    action         TEXT    NOT NULL,
    subject        TEXT    NOT NULL,
    before_json    TEXT,
    after_json     TEXT,
    reason         TEXT    NOT NULL DEFAULT '',
    request_id     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_entries_actor ON audit_entries (actor_id, id);
CREATE INDEX audit_entries_action ON audit_entries (action, id);
CREATE INDEX audit_entries_subject ON audit_entries (subject, id);
CREATE INDEX audit_entries_at ON audit_entries (at);

-- +goose StatementBegin
CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER audit_entries_no_delete;
DROP TRIGGER audit_entries_no_update;
DROP TABLE audit_entries;
