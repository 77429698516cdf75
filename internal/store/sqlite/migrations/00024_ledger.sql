-- +goose Up
-- The double-entry journal (internal/ledger). An entry records one business
-- event (key, unique) and is never changed: corrections are reversing
-- entries (reverses, at most one per entry). Postings are its lines, one
-- side each; ledger_balances keeps every (account, party)'s totals, changed
-- only in the transaction that adds postings to them. Triggers refuse
-- UPDATE and DELETE of entries and postings.
CREATE TABLE journal_entries (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    key       TEXT    NOT NULL UNIQUE,
    kind      TEXT    NOT NULL,
    ref       TEXT    NOT NULL,
    at        TEXT    NOT NULL,
    posted_at TEXT    NOT NULL,
    external  TEXT    NOT NULL DEFAULT '',
    memo      TEXT    NOT NULL DEFAULT '',
    reverses  INTEGER REFERENCES journal_entries (id)
);
CREATE UNIQUE INDEX journal_entries_reverses ON journal_entries (reverses) WHERE reverses IS NOT NULL;
CREATE INDEX journal_entries_ref ON journal_entries (ref, id);
CREATE INDEX journal_entries_external ON journal_entries (external) WHERE external <> '';
CREATE INDEX journal_entries_kind ON journal_entries (kind, id);
CREATE INDEX journal_entries_at ON journal_entries (at);

CREATE TABLE journal_postings (
    entry_id INTEGER NOT NULL REFERENCES journal_entries (id),
    line     INTEGER NOT NULL,
    account  TEXT    NOT NULL,
    party    TEXT    NOT NULL DEFAULT '',
    debit    INTEGER NOT NULL DEFAULT 0 CHECK (debit >= 0),
    credit   INTEGER NOT NULL DEFAULT 0 CHECK (credit >= 0),
    PRIMARY KEY (entry_id, line),
    CHECK ((debit > 0) <> (credit > 0))
) WITHOUT ROWID;
CREATE INDEX journal_postings_account ON journal_postings (account, party, entry_id);
CREATE INDEX journal_postings_party ON journal_postings (party, entry_id);

CREATE TABLE ledger_balances (
    account TEXT    NOT NULL,
    party   TEXT    NOT NULL DEFAULT '',
    debit   INTEGER NOT NULL DEFAULT 0,
    credit  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account, party)
) WITHOUT ROWID;

-- +goose StatementBegin
CREATE TRIGGER journal_entries_no_update BEFORE UPDATE ON journal_entries
BEGIN
    SELECT RAISE(ABORT, 'journal entries are append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER journal_entries_no_delete BEFORE DELETE ON journal_entries
BEGIN
    SELECT RAISE(ABORT, 'journal entries are append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER journal_postings_no_update BEFORE UPDATE ON journal_postings
BEGIN
    SELECT RAISE(ABORT, 'journal postings are append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER journal_postings_no_delete BEFORE DELETE ON journal_postings
BEGIN
    SELECT RAISE(ABORT, 'journal postings are append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE ledger_balances;
DROP TABLE journal_postings;
DROP TABLE journal_entries;
