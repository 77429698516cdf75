-- +goose Up
-- A ticket a passenger bought (issue 24, B4) carries what was paid for it and
-- by whom: its rides draw on that prepaid value in the ledger, ride by ride,
-- whoever holds it after a gift. Zero for tickets given away.
ALTER TABLE benefit_tickets ADD COLUMN paid_fen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE benefit_tickets ADD COLUMN paid_by BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE benefit_tickets DROP COLUMN paid_by;
ALTER TABLE benefit_tickets DROP COLUMN paid_fen;
