-- +goose Up
-- The audit trail (internal/audit): one row per change that matters, never
-- changed or removed. A trigger refuses UPDATE, DELETE and TRUNCATE, so not
-- even a bug in piao can rewrite the trail (an owner who drops the trigger
-- can; production should run piao as a role that does not own the table).
-- The indexes serve GET /api/v1/audit's filters, each newest first by ID;
-- action is in the C collation so a prefix is a plain range of the index.
CREATE TABLE audit_entries (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             TIMESTAMPTZ NOT NULL,
    actor_id       BIGINT NOT NULL DEFAULT 0,
    actor_username TEXT   NOT NULL DEFAULT '',
    actor_role     TEXT   NOT NULL DEFAULT '',
    action         TEXT   COLLATE "C" NOT NULL,
    subject        TEXT   NOT NULL,
    before_json    TEXT,
    after_json     TEXT,
    reason         TEXT   NOT NULL DEFAULT '',
    request_id     TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX audit_entries_actor ON audit_entries (actor_id, id);
CREATE INDEX audit_entries_action ON audit_entries (action, id);
CREATE INDEX audit_entries_subject ON audit_entries (subject, id);
CREATE INDEX audit_entries_at ON audit_entries (at);

-- +goose StatementBegin
CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_entries_no_change BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only();
CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only();

-- +goose Down
DROP TABLE audit_entries;
DROP FUNCTION audit_entries_append_only();
