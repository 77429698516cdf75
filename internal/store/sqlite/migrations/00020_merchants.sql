-- +goose Up
-- Merchant onboarding (SPEC B1): applications, their status events, their
-- papers (the files themselves) and the merchant admins' staff invitations.
-- The contact's phone is sealed (pii1:…); tokens are kept as SHA-256 hashes.
CREATE TABLE merchants (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    legal_name TEXT NOT NULL,
    credit_code TEXT NOT NULL,
    contact_name TEXT NOT NULL,
    contact_phone_sealed TEXT NOT NULL,
    admin_username TEXT NOT NULL,
    admin_account INTEGER NOT NULL DEFAULT 0,
    admin_password_hash TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    applicant_token BLOB NOT NULL UNIQUE,
    suspended_accounts TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- One live merchant of a kind per credit code: a rejected one may apply again.
CREATE UNIQUE INDEX merchants_credit_code ON merchants (kind, credit_code) WHERE status <> 'rejected';
CREATE UNIQUE INDEX merchants_admin_username ON merchants (admin_username) WHERE status <> 'rejected';
CREATE INDEX merchants_status ON merchants (status, id);

CREATE TABLE merchant_events (
    id INTEGER PRIMARY KEY,
    merchant_id INTEGER NOT NULL REFERENCES merchants (id),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX merchant_events_merchant ON merchant_events (merchant_id, id);

CREATE TABLE merchant_papers (
    id INTEGER PRIMARY KEY,
    merchant_id INTEGER NOT NULL REFERENCES merchants (id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX merchant_papers_merchant ON merchant_papers (merchant_id, id);

CREATE TABLE merchant_invitations (
    hash BLOB PRIMARY KEY,
    merchant_id INTEGER NOT NULL REFERENCES merchants (id),
    username TEXT NOT NULL,
    display_name TEXT NOT NULL,
    grants TEXT NOT NULL,
    invited_by INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    accepted_at TEXT,
    account_id INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX merchant_invitations_merchant ON merchant_invitations (merchant_id, created_at);

-- +goose Down
DROP TABLE merchant_invitations;
DROP TABLE merchant_papers;
DROP TABLE merchant_events;
DROP TABLE merchants;
