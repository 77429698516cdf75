-- +goose Up
-- A merchant's admin and staff accounts name their merchant, and staff hold
-- the merchant permissions their admin granted them (SPEC B1, S2).
ALTER TABLE accounts ADD COLUMN merchant_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN grants TEXT NOT NULL DEFAULT '';
CREATE INDEX accounts_merchant ON accounts (merchant_id, id) WHERE merchant_id <> 0;

-- +goose Down
DROP INDEX accounts_merchant;
ALTER TABLE accounts DROP COLUMN grants;
ALTER TABLE accounts DROP COLUMN merchant_id;
