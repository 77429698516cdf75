package postgres

import (
	"context"
	"piao/internal/ledger"
	"piao/internal/store/sqlrow"

	"github.com/jackc/pgx/v5"
)

// PostEntry posts a journal entry in the booking transaction.
func (t *bookingTx) PostEntry(e ledger.Entry) error {
	_, err := postEntry(t.ctx, t.tx, e)
	return err
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
