-- +goose Up
-- Passengers' purchases of count tickets and ride packs (issue 24, B4): the
-- offers the operator sells (one per campaign, channel "purchase"), the
-- purchases and the refunds of bought tickets. Each keeps its whole value
-- as JSON in body; the columns are what queries select and check on, and
-- version is the optimistic check of every update.

CREATE TABLE sale_offers (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id BIGINT NOT NULL UNIQUE,
    on_sale     BOOLEAN NOT NULL,
    version     INTEGER NOT NULL,
    body        TEXT NOT NULL
);

CREATE TABLE sale_purchases (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    offer_id     BIGINT NOT NULL REFERENCES sale_offers (id),
    buyer        BIGINT NOT NULL CHECK (buyer > 0),
    status       TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'closed')),
    count        INTEGER NOT NULL CHECK (count > 0),
    issued       BOOLEAN NOT NULL DEFAULT FALSE,
    returned_fen BIGINT NOT NULL DEFAULT 0,
    expires_at   TIMESTAMPTZ NOT NULL,
    version      INTEGER NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX sale_purchases_offer ON sale_purchases (offer_id, status, buyer);
CREATE INDEX sale_purchases_buyer ON sale_purchases (buyer, id);
CREATE INDEX sale_purchases_due ON sale_purchases (expires_at) WHERE status = 'pending';
CREATE INDEX sale_purchases_unissued ON sale_purchases (id) WHERE status = 'paid' AND NOT issued;

-- One refund per bought ticket.
CREATE TABLE sale_refunds (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id   BIGINT NOT NULL UNIQUE,
    purchase_id BIGINT NOT NULL REFERENCES sale_purchases (id),
    buyer       BIGINT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'done')),
    version     INTEGER NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX sale_refunds_pending ON sale_refunds (id) WHERE status = 'pending';

-- +goose Down
DROP TABLE sale_refunds;
DROP TABLE sale_purchases;
DROP TABLE sale_offers;
