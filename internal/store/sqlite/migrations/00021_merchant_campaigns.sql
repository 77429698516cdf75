-- +goose Up
-- Merchants' campaigns (SPEC B2): the operator's templates merchants make
-- products from, a product's brand image, and the idempotency keys of
-- prepaid campaigns' funding (top-ups, closing the budget), written in the
-- transaction that changes the campaign.
CREATE TABLE benefit_templates (
    id         INTEGER PRIMARY KEY,
    active     INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    body       TEXT NOT NULL
);

CREATE TABLE benefit_product_covers (
    product_id   INTEGER PRIMARY KEY REFERENCES benefit_products (id),
    owner        TEXT NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    data         BLOB NOT NULL,
    updated_by   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

CREATE TABLE campaign_funding (
    key         TEXT PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    action      TEXT NOT NULL,
    value       INTEGER NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX campaign_funding_campaign ON campaign_funding (campaign_id);

-- +goose Down
DROP TABLE campaign_funding;
DROP TABLE benefit_product_covers;
DROP TABLE benefit_templates;
