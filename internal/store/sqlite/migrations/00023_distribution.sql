-- +goose Up
-- Distribution of a merchant's tickets (SPEC V3, B2): lists of recipients
-- issued to at once, and codes voided before anyone redeemed them.

-- A code voided by its batch's revocation: never redeemable again.
ALTER TABLE redeem_codes ADD COLUMN revoked_at TEXT;

-- One uploaded list: whose (merchant_id, 0 for the operator's campaigns),
-- for which campaign, who uploaded it, and its counters.
CREATE TABLE distribution_lists (
    id          INTEGER PRIMARY KEY,
    merchant_id INTEGER NOT NULL,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    kind        TEXT NOT NULL CHECK (kind IN ('phone', 'account')),
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    entries     INTEGER NOT NULL,
    issued      INTEGER NOT NULL DEFAULT 0,
    refused     INTEGER NOT NULL DEFAULT 0,
    revoked     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX distribution_lists_merchant ON distribution_lists (merchant_id, campaign_id, id);

-- One line of a list: the account it named (a phone line keeps the phone
-- sealed, only to show it masked), and its outcome: the ticket issued or
-- why not (reason, message), and when the ticket was revoked.
CREATE TABLE distribution_entries (
    list_id      INTEGER NOT NULL REFERENCES distribution_lists (id),
    line         INTEGER NOT NULL,
    account_id   INTEGER NOT NULL REFERENCES accounts (id),
    phone_sealed TEXT NOT NULL DEFAULT '',
    note         TEXT NOT NULL DEFAULT '',
    ticket_id    INTEGER REFERENCES benefit_tickets (id),
    reason       TEXT NOT NULL DEFAULT '',
    message      TEXT NOT NULL DEFAULT '',
    revoked_at   TEXT,
    PRIMARY KEY (list_id, line)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE distribution_entries;
DROP TABLE distribution_lists;
ALTER TABLE redeem_codes DROP COLUMN revoked_at;
