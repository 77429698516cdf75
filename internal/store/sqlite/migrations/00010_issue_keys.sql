-- +goose Up
-- Idempotency keys for tickets issued by jobs (ride-more-save-more rewards,
-- SPEC M4): one ticket per key, however often the job runs.
ALTER TABLE benefit_tickets ADD COLUMN issue_key TEXT;
CREATE UNIQUE INDEX benefit_tickets_issue_key ON benefit_tickets (issue_key) WHERE issue_key IS NOT NULL;

-- +goose Down
DROP INDEX benefit_tickets_issue_key;
ALTER TABLE benefit_tickets DROP COLUMN issue_key;
