-- +goose Up
-- Personal data encrypted at rest (SPEC S4; see internal/store/sqlrow/pii.go).
-- The columns that held document and phone numbers now hold their blind
-- index (HMAC-SHA256), so the unique rules and lookups on them keep
-- working; the numbers themselves are sealed (AES-256-GCM, tagged with the
-- key ID) in the columns added here. Rows written before this migration
-- are sealed by `piao keys rotate` (which also re-encrypts under a new key).
ALTER TABLE tickets ADD COLUMN doc_sealed TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN phone_sealed TEXT NOT NULL DEFAULT '';
ALTER TABLE list_members ADD COLUMN subject_sealed TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE list_members DROP COLUMN subject_sealed;
ALTER TABLE accounts DROP COLUMN phone_sealed;
ALTER TABLE tickets DROP COLUMN doc_sealed;
