package postgres

import (
	"context"
	"errors"

	"piao/internal/ledger"
	"piao/internal/store/sqlrow"

	"github.com/jackc/pgx/v5"
)

// PostEntry posts a journal entry in the booking transaction.
func (t *bookingTx) PostEntry(e ledger.Entry) error {
	_, err := postEntry(t.ctx, t.tx, e)
	return err
}

// HasEntry reports whether the journal holds an entry with the key, as
// the booking transaction sees it.
func (t *bookingTx) HasEntry(key string) (bool, error) {
	var one int
	err := t.tx.QueryRow(t.ctx, `SELECT 1 FROM journal_entries WHERE key = $1`, key).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, txError(err, "find journal entry")
}

// merchantKinds reads the kind of every merchant organisation, for the
// journal's choice of prepaid account (ledger.PrepaidAccount).
func merchantKinds(ctx context.Context, q querier) (map[int64]string, error) {
	kinds, err := list(ctx, q, "list merchant kinds", sqlrow.ScanMerchantKind, `SELECT id, kind FROM merchants`)
	return sqlrow.MerchantKinds(kinds), err
}

// postEntries posts entries in the caller's transaction, in order.
func postEntries(ctx context.Context, tx pgx.Tx, entries []ledger.Entry) error {
	for _, e := range entries {
		if _, err := postEntry(ctx, tx, e); err != nil {
			return err
		}
	}
	return nil
}
