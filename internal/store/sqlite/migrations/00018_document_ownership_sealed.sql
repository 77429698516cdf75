-- +goose Up
-- Document ownership under the personal-data protection of 00012 (SPEC S4;
-- see internal/store/sqlrow/pii.go). doc_number in account_documents,
-- document_claims and document_counts now holds the blind index of
-- "TYPE:NUMBER", as tickets.doc_number does, so the primary keys, the
-- unique rules (one verified holder per document, one open claim per
-- account and document) and the lookups keep working; the passenger list
-- and the claims keep the number sealed in doc_sealed, to show it again.
-- document_counts is only looked up, so it keeps the index alone. Rows
-- written before this migration are indexed and sealed by
-- `piao keys rotate` (Engine.Reseal).
ALTER TABLE account_documents ADD COLUMN doc_sealed TEXT NOT NULL DEFAULT '';
ALTER TABLE document_claims ADD COLUMN doc_sealed TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE document_claims DROP COLUMN doc_sealed;
ALTER TABLE account_documents DROP COLUMN doc_sealed;
