-- +goose Up
-- Document ownership (issue 22): which accounts use a travel document, who
-- verified holding it, and each account's cancels of it, so that only the
-- holder's accounts can make a document's cancels count against it.

-- The passenger list of each account. A document is linked when the account
-- books or waitlists it. approved_at is set on the verified holder's own
-- link and on the links of accounts the holder approved; NULL otherwise.
CREATE TABLE account_documents (
    account_id  BIGINT NOT NULL REFERENCES accounts (id),
    doc_type    TEXT NOT NULL,
    doc_number  TEXT NOT NULL,
    added_at    TIMESTAMPTZ NOT NULL,
    approved_at TIMESTAMPTZ,
    PRIMARY KEY (account_id, doc_type, doc_number)
);
-- The accounts a document's holder approved, as bookings look them up.
CREATE INDEX account_documents_doc ON account_documents (doc_type, doc_number);

-- Claims of holding a document, reviewed by an operator. One document has
-- at most one verified holder; an account has at most one open claim per
-- document.
CREATE TABLE document_claims (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    doc_type   TEXT NOT NULL,
    doc_number TEXT NOT NULL,
    name       TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'rejected', 'revoked')),
    created_at TIMESTAMPTZ NOT NULL,
    decided_at TIMESTAMPTZ,
    decided_by TEXT NOT NULL DEFAULT '',
    reason     TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX document_claims_holder ON document_claims (doc_type, doc_number) WHERE status = 'verified';
CREATE UNIQUE INDEX document_claims_open ON document_claims (account_id, doc_type, doc_number) WHERE status = 'pending';
CREATE INDEX document_claims_status ON document_claims (status, id);
CREATE INDEX document_claims_account ON document_claims (account_id, id);

-- A document's manual cancels and expiries on a service day, per booking
-- account: the document's count is the sum over the accounts that count
-- (all of them until a holder is verified; then the holder's and those it
-- approved), so a verification applies to the day's earlier cancels too.
CREATE TABLE document_counts (
    doc_type   TEXT NOT NULL,
    doc_number TEXT NOT NULL,
    day        TEXT NOT NULL,
    account_id BIGINT NOT NULL,
    manual     INTEGER NOT NULL DEFAULT 0,
    expired    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (doc_type, doc_number, day, account_id)
);

-- +goose Down
DROP TABLE document_counts;
DROP TABLE document_claims;
DROP TABLE account_documents;
