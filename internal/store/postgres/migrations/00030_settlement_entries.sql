-- +goose Up
-- Every settlement row names the journal entry of the batch that settled it
-- (issue 24, B5): one redemption entry per settlement batch, posted in the
-- same transaction. NULL only for trips settled before the journal, or
-- settled with nothing to post (zero fares). No index: the rows of an entry
-- are its key's trip range, and the checks read the whole table anyway.
ALTER TABLE metro_settlements ADD COLUMN journal_entry BIGINT REFERENCES journal_entries (id);

-- +goose Down
ALTER TABLE metro_settlements DROP COLUMN journal_entry;
