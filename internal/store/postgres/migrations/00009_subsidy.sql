-- +goose Up
-- Subsidies for special groups (SPEC M5): the schemes the operator runs
-- and the accounts' enrolments in them. Each keeps its whole value as JSON
-- in body; the columns are what queries select on.

-- A scheme: its definition in body. Its campaign carries the benefit.
CREATE TABLE subsidy_schemes (
    id          TEXT PRIMARY KEY,
    grp         TEXT NOT NULL,
    campaign_id BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    body        TEXT NOT NULL
);

-- An enrolment: state and history in body. awaiting is true while the
-- operator has to decide (an application, a pending renewal); events is
-- the length of the history, the optimistic check of every update.
CREATE TABLE subsidy_enrolments (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  BIGINT NOT NULL,
    scheme_id   TEXT NOT NULL REFERENCES subsidy_schemes (id),
    state       TEXT NOT NULL CHECK (state IN ('applied', 'active', 'rejected', 'expired', 'revoked')),
    awaiting    BOOLEAN NOT NULL,
    valid_until TIMESTAMPTZ,
    events      INTEGER NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX subsidy_enrolments_account ON subsidy_enrolments (account_id, id);
CREATE INDEX subsidy_enrolments_awaiting ON subsidy_enrolments (id) WHERE awaiting;
CREATE INDEX subsidy_enrolments_state ON subsidy_enrolments (state, valid_until);
-- One application of an account to a scheme waits at a time.
CREATE UNIQUE INDEX subsidy_enrolments_one_applied ON subsidy_enrolments (account_id, scheme_id) WHERE state = 'applied';

-- +goose Down
DROP TABLE subsidy_enrolments;
DROP TABLE subsidy_schemes;
