-- +goose Up
-- Who may pay a sandbox payment on its page (issue 22): the merchant's
-- reference of the payer ("account:7"); empty for payments made before.
ALTER TABLE sandbox_payments ADD COLUMN payer TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE sandbox_payments DROP COLUMN payer;
