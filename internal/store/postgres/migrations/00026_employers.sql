-- +goose Up
-- Employee benefits (SPEC B3, internal/employer). Each row keeps its value
-- as JSON in body; the columns are what queries select, join and check on.
-- An employee's phone is personal data: phone_index is its blind index
-- (unique per roster), phone_sealed the number sealed; body holds neither.
CREATE TABLE employees (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    employer_id  BIGINT NOT NULL REFERENCES merchants (id),
    number       TEXT    NOT NULL,
    phone_index  TEXT    NOT NULL,
    phone_sealed TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('active', 'offboarded')),
    account_id   BIGINT REFERENCES accounts (id),
    body         TEXT    NOT NULL
);
CREATE UNIQUE INDEX employees_number ON employees (employer_id, number);
CREATE UNIQUE INDEX employees_phone ON employees (employer_id, phone_index);
CREATE UNIQUE INDEX employees_account ON employees (employer_id, account_id) WHERE account_id IS NOT NULL;
CREATE INDEX employees_status ON employees (employer_id, status, id);

-- One-time invitations linking an employee to the passenger who accepts:
-- only the SHA-256 of the token is kept.
CREATE TABLE employee_invitations (
    hash        BYTEA   PRIMARY KEY,
    employee_id BIGINT NOT NULL REFERENCES employees (id),
    employer_id BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    accepted_at TIMESTAMPTZ,
    account_id  BIGINT
);

-- One allowance rule per employer.
CREATE TABLE allowance_rules (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    employer_id BIGINT NOT NULL UNIQUE REFERENCES merchants (id),
    campaign_id BIGINT NOT NULL,
    body        TEXT    NOT NULL
);

CREATE TABLE employer_topups (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    employer_id BIGINT NOT NULL REFERENCES merchants (id),
    status      TEXT    NOT NULL CHECK (status IN ('pending', 'paid', 'closed')),
    amount_fen  BIGINT NOT NULL CHECK (amount_fen > 0),
    expires_at  TIMESTAMPTZ NOT NULL,
    body        TEXT    NOT NULL
);
CREATE INDEX employer_topups_employer ON employer_topups (employer_id, id);
CREATE INDEX employer_topups_due ON employer_topups (expires_at) WHERE status = 'pending';

-- One bill per employer and month (YYYY-MM).
CREATE TABLE employer_bills (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    employer_id BIGINT NOT NULL REFERENCES merchants (id),
    month       TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('issued', 'paid')),
    amount_fen  BIGINT NOT NULL CHECK (amount_fen >= 0),
    body        TEXT    NOT NULL,
    UNIQUE (employer_id, month)
);

-- +goose Down
DROP TABLE employer_bills;
DROP TABLE employer_topups;
DROP TABLE allowance_rules;
DROP TABLE employee_invitations;
DROP TABLE employees;
