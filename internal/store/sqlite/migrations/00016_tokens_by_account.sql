-- +goose Up
-- An account's sessions and tokens are listed and revoked together
-- ("log out everywhere", issue 22).
CREATE INDEX tokens_account ON tokens (account_id, created_at);

-- +goose Down
DROP INDEX tokens_account;
