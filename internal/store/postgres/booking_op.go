package postgres

import (
	"errors"

	"piao/internal/fault"
)

// The committer runs many ops in one transaction; each op runs inside the
// savepoint booking_op, so an op it refuses is undone alone (a statement
// that failed is undone with it, and the transaction stays usable) while
// the others keep their writes. BeginOp releases the previous op's
// savepoint (its writes stay in the transaction) and sets a new one in one
// round trip; releasing keeps one subtransaction open at a time.

// BeginOp marks where the next op's writes begin.
func (t *bookingTx) BeginOp() error {
	q := `SAVEPOINT booking_op`
	if t.inOp {
		q = `RELEASE SAVEPOINT booking_op; SAVEPOINT booking_op`
	}
	if _, err := t.tx.Exec(t.ctx, q); err != nil { // no arguments: the simple protocol, which runs both
		t.inOp = false
		return txError(err, "set op savepoint")
	}
	t.inOp = true
	return nil
}

// RollbackOp undoes every write since BeginOp; the savepoint stays.
func (t *bookingTx) RollbackOp() error {
	if !t.inOp {
		return fault.Wrap(errors.New("no op savepoint"), "roll back op")
	}
	_, err := t.tx.Exec(t.ctx, `ROLLBACK TO SAVEPOINT booking_op`)
	return txError(err, "roll back op")
}
