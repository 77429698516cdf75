-- +goose Up
-- The ride code a gate redeemed a ride with (issuer/serial): a dynamic code
-- pays for one ride only, however many ride IDs a gate sends it with.
-- Paper tickets' long-lived codes and rides from before keep NULL.
ALTER TABLE ride_redemptions ADD COLUMN code_id TEXT;
CREATE UNIQUE INDEX ride_redemptions_code_id ON ride_redemptions (code_id) WHERE code_id IS NOT NULL;

-- +goose Down
DROP INDEX ride_redemptions_code_id;
ALTER TABLE ride_redemptions DROP COLUMN code_id;
