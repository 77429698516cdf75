-- +goose Up
-- Governance (package governance, SPEC G1–G3).

-- What a subject ("account:ID" or "doc:TYPE:NUMBER") did on one service day
-- (YYYY-MM-DD): manual cancels before payment and holds that ran out.
-- Booking transactions add to a row with one upsert, so concurrent adds
-- from several processes all count.
CREATE TABLE governance_counts (
    subject TEXT NOT NULL,
    day     TEXT NOT NULL,
    manual  INTEGER NOT NULL DEFAULT 0,
    expired INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (subject, day)
);

-- Memberships of the restricted, priority and suspected-malicious lists.
-- Times are fixed-width UTC text (see time.go), so text order is time order.
CREATE TABLE list_members (
    id          INTEGER PRIMARY KEY,
    list        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    source      TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    started_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    lifted_at   TEXT, -- NULL unless an operator lifted the membership early
    lifted_by   TEXT NOT NULL DEFAULT '',
    lift_reason TEXT NOT NULL DEFAULT ''
);
-- A subject's memberships (on one list or all), as bookings look them up.
CREATE INDEX list_members_subject ON list_members (subject, list);
-- One list's memberships, newest first, for review.
CREATE INDEX list_members_list ON list_members (list, id);
-- Memberships in force, by expiry, for the rules' sweeps.
CREATE INDEX list_members_active ON list_members (expires_at) WHERE lifted_at IS NULL;

-- The audit trail of each membership.
CREATE TABLE list_member_events (
    id        INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES list_members (id),
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX list_member_events_member ON list_member_events (member_id, id);

-- Booking transactions by time of placement, for the rules and reports.
-- The rowid (orders.id) is part of every SQLite index, so this index also
-- yields orders placed at the same instant in ID order.
CREATE INDEX orders_created ON orders (created_at);

-- +goose Down
DROP INDEX orders_created;
DROP TABLE list_member_events;
DROP TABLE list_members;
DROP TABLE governance_counts;
