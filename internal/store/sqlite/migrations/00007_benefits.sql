-- +goose Up
-- Value-added tickets (SPEC V1–V6). A product's definition is kept as JSON
-- in body; it never changes once stored.
CREATE TABLE benefit_products (
    id         INTEGER PRIMARY KEY,
    owner      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    body       TEXT NOT NULL
);
CREATE INDEX benefit_products_owner ON benefit_products (owner, id);

-- A campaign: its definition in body, its status and counters in columns,
-- changed by the same transactions that issue and redeem.
CREATE TABLE campaigns (
    id         INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES benefit_products (id),
    owner      TEXT NOT NULL,
    status     TEXT NOT NULL,
    issued     INTEGER NOT NULL DEFAULT 0,
    uses       INTEGER NOT NULL DEFAULT 0,
    spent      INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    body       TEXT NOT NULL,
    CHECK (issued >= 0 AND uses >= 0 AND spent >= 0)
);
CREATE INDEX campaigns_owner ON campaigns (owner, id);
CREATE INDEX campaigns_status ON campaigns (status, id);

CREATE TABLE campaign_events (
    id          INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    from_status TEXT NOT NULL DEFAULT '',
    to_status   TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX campaign_events_campaign ON campaign_events (campaign_id, id);

-- How many tickets each account got from a campaign, for per-user limits.
CREATE TABLE campaign_holders (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    tickets     INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, account_id)
);

CREATE TABLE benefit_tickets (
    id          INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    product_id  INTEGER NOT NULL REFERENCES benefit_products (id),
    holder      INTEGER NOT NULL REFERENCES accounts (id),
    channel     TEXT NOT NULL,
    state       TEXT NOT NULL,
    rides_total INTEGER NOT NULL,
    rides_left  INTEGER NOT NULL CHECK (rides_left >= 0),
    valid_from  TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    issued_at   TEXT NOT NULL,
    code        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX benefit_tickets_holder ON benefit_tickets (holder, id);
CREATE INDEX benefit_tickets_campaign ON benefit_tickets (campaign_id, issued_at);

CREATE TABLE redeem_code_batches (
    id          INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    count       INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX redeem_code_batches_campaign ON redeem_code_batches (campaign_id, id);

-- Single use: ticket_id is set once, by the transaction issuing the ticket.
CREATE TABLE redeem_codes (
    code        TEXT PRIMARY KEY,
    batch_id    INTEGER NOT NULL REFERENCES redeem_code_batches (id),
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    seq         INTEGER NOT NULL,
    ticket_id   INTEGER REFERENCES benefit_tickets (id),
    redeemed_by INTEGER,
    redeemed_at TEXT
) WITHOUT ROWID;
CREATE INDEX redeem_codes_batch ON redeem_codes (batch_id, seq);

CREATE TABLE gifts (
    id         INTEGER PRIMARY KEY,
    token      TEXT NOT NULL UNIQUE,
    ticket_id  INTEGER NOT NULL REFERENCES benefit_tickets (id),
    giver      INTEGER NOT NULL REFERENCES accounts (id),
    receiver   INTEGER NOT NULL DEFAULT 0,
    state      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires    TEXT NOT NULL,
    settled_at TEXT NOT NULL DEFAULT '',
    body       TEXT NOT NULL -- cover and message
);
CREATE INDEX gifts_giver ON gifts (giver, id);
CREATE INDEX gifts_receiver ON gifts (receiver, id) WHERE receiver <> 0;
CREATE INDEX gifts_pending ON gifts (expires) WHERE state = 'pending';

-- One redemption per ride ID: the settlement of its fare, written once.
CREATE TABLE ride_redemptions (
    ride_id    TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL,
    fare       INTEGER NOT NULL,
    net        INTEGER NOT NULL,
    at         TEXT NOT NULL,
    body       TEXT NOT NULL -- the ride and the benefits applied
) WITHOUT ROWID;

-- One line per ticket use, for statistics by hour.
CREATE TABLE ticket_uses (
    id          INTEGER PRIMARY KEY,
    ride_id     TEXT NOT NULL,
    ticket_id   INTEGER NOT NULL,
    campaign_id INTEGER NOT NULL,
    saving      INTEGER NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX ticket_uses_campaign ON ticket_uses (campaign_id, at);

-- +goose Down
DROP TABLE ticket_uses;
DROP TABLE ride_redemptions;
DROP TABLE gifts;
DROP TABLE redeem_codes;
DROP TABLE redeem_code_batches;
DROP TABLE benefit_tickets;
DROP TABLE campaign_holders;
DROP TABLE campaign_events;
DROP TABLE campaigns;
DROP TABLE benefit_products;
