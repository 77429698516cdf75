-- +goose Up
-- Merchants' batch purchases (SPEC B2) and the refunds of what their
-- campaigns left unused. Each keeps its whole value as JSON in body; the
-- columns are what queries select and check on. version is the number of
-- stored changes, the optimistic check of every update.

CREATE TABLE purchases (
    id          INTEGER PRIMARY KEY,
    merchant_id INTEGER NOT NULL CHECK (merchant_id > 0),
    campaign_id INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'closed')),
    expires_at  TEXT NOT NULL,
    version     INTEGER NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX purchases_merchant ON purchases (merchant_id, id);
CREATE INDEX purchases_campaign ON purchases (campaign_id, status, id);
CREATE INDEX purchases_due ON purchases (expires_at) WHERE status = 'pending';

-- One refund of unused value per campaign.
CREATE TABLE purchase_refunds (
    id          INTEGER PRIMARY KEY,
    merchant_id INTEGER NOT NULL CHECK (merchant_id > 0),
    campaign_id INTEGER NOT NULL UNIQUE,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'refunded')),
    version     INTEGER NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX purchase_refunds_pending ON purchase_refunds (id) WHERE status = 'pending';

-- +goose Down
DROP TABLE purchase_refunds;
DROP TABLE purchases;
