-- +goose Up
-- The double-entry journal (internal/ledger). An entry records one business
-- event (key, unique) and is never changed: corrections are reversing
-- entries (reverses, at most one per entry). Postings are its lines, one
-- side each; ledger_balances keeps every (account, party)'s totals, changed
-- only in the transaction that adds postings to them. A trigger refuses
-- UPDATE, DELETE and TRUNCATE of entries and postings.
CREATE TABLE journal_entries (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key       TEXT        COLLATE "C" NOT NULL UNIQUE,
    kind      TEXT        NOT NULL,
    ref       TEXT        COLLATE "C" NOT NULL,
    at        TIMESTAMPTZ NOT NULL,
    posted_at TIMESTAMPTZ NOT NULL,
    external  TEXT        NOT NULL DEFAULT '',
    memo      TEXT        NOT NULL DEFAULT '',
    reverses  BIGINT REFERENCES journal_entries (id)
);
CREATE UNIQUE INDEX journal_entries_reverses ON journal_entries (reverses) WHERE reverses IS NOT NULL;
CREATE INDEX journal_entries_ref ON journal_entries (ref, id);
CREATE INDEX journal_entries_external ON journal_entries (external) WHERE external <> '';
CREATE INDEX journal_entries_kind ON journal_entries (kind, id);
CREATE INDEX journal_entries_at ON journal_entries (at);

CREATE TABLE journal_postings (
    entry_id BIGINT NOT NULL REFERENCES journal_entries (id),
    line     INT    NOT NULL,
    account  TEXT   COLLATE "C" NOT NULL,
    party    TEXT   COLLATE "C" NOT NULL DEFAULT '',
    debit    BIGINT NOT NULL DEFAULT 0 CHECK (debit >= 0),
    credit   BIGINT NOT NULL DEFAULT 0 CHECK (credit >= 0),
    PRIMARY KEY (entry_id, line),
    CHECK ((debit > 0) <> (credit > 0))
);
CREATE INDEX journal_postings_account ON journal_postings (account, party, entry_id);
CREATE INDEX journal_postings_party ON journal_postings (party, entry_id);

CREATE TABLE ledger_balances (
    account TEXT   COLLATE "C" NOT NULL,
    party   TEXT   COLLATE "C" NOT NULL DEFAULT '',
    debit   BIGINT NOT NULL DEFAULT 0,
    credit  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account, party)
);

-- +goose StatementBegin
CREATE FUNCTION journal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the journal is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER journal_entries_no_change BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION journal_append_only();
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
    FOR EACH STATEMENT EXECUTE FUNCTION journal_append_only();
CREATE TRIGGER journal_postings_no_change BEFORE UPDATE OR DELETE ON journal_postings
    FOR EACH ROW EXECUTE FUNCTION journal_append_only();
CREATE TRIGGER journal_postings_no_truncate BEFORE TRUNCATE ON journal_postings
    FOR EACH STATEMENT EXECUTE FUNCTION journal_append_only();

-- +goose Down
DROP TABLE ledger_balances;
DROP TABLE journal_postings;
DROP TABLE journal_entries;
DROP FUNCTION journal_append_only();
