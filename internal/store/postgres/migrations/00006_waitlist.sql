-- +goose Up
-- The waitlist (候补, SPEC R9). An entry is kept as JSON in body (its
-- options and passengers); the columns beside it are what queries select on.
CREATE TABLE waitlist_entries (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    status     TEXT NOT NULL,
    pay_by     TIMESTAMPTZ NOT NULL,
    deadline   TIMESTAMPTZ NOT NULL,
    refund_due BOOLEAN NOT NULL DEFAULT FALSE, -- while money is owed back and not yet sent
    body       TEXT NOT NULL
);
CREATE INDEX waitlist_account ON waitlist_entries (account_id, id);
CREATE INDEX waitlist_unpaid_due ON waitlist_entries (pay_by) WHERE status = 'unpaid';
CREATE INDEX waitlist_waiting_due ON waitlist_entries (deadline) WHERE status = 'waiting';
CREATE INDEX waitlist_refund_due ON waitlist_entries (id) WHERE refund_due;

-- The train dates an entry's options are on, for finding the entries a
-- freed seat may go to.
CREATE TABLE waitlist_trains (
    service_id   TEXT NOT NULL,
    service_date TEXT NOT NULL,
    entry_id     BIGINT NOT NULL REFERENCES waitlist_entries (id),
    PRIMARY KEY (service_id, service_date, entry_id)
);

CREATE TABLE waitlist_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry_id    BIGINT NOT NULL REFERENCES waitlist_entries (id),
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    from_status TEXT NOT NULL DEFAULT '',
    to_status   TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX waitlist_events_entry ON waitlist_events (entry_id, id);

-- Cancelled middle and upper berths by document, for the paper's
-- proposal 1 (a passenger who cancelled for the berth is served first).
CREATE INDEX tickets_berth_cancels ON tickets (doc_type, doc_number, service_id, service_date)
    WHERE status = 'cancelled' AND berth IN ('middle', 'upper');

-- +goose Down
DROP INDEX tickets_berth_cancels;
DROP TABLE waitlist_events;
DROP TABLE waitlist_trains;
DROP TABLE waitlist_entries;
