package sqlite

import (
	"errors"

	"piao/internal/fault"
)

// The committer runs many ops in one transaction; each op runs inside the
// savepoint booking_op, so an op it refuses is undone alone while the
// others keep their writes. BeginOp releases the previous op's savepoint
// (its writes stay in the transaction) and sets a new one.
const (
	qReleaseOp  = `RELEASE SAVEPOINT booking_op`
	qSavepoint  = `SAVEPOINT booking_op`
	qRollbackOp = `ROLLBACK TO SAVEPOINT booking_op`
)

// BeginOp marks where the next op's writes begin.
func (t *bookingTx) BeginOp() error {
	if t.inOp {
		if _, err := t.exec(qReleaseOp); err != nil {
			return fault.Wrap(err, "release op savepoint")
		}
		t.inOp = false
	}
	if _, err := t.exec(qSavepoint); err != nil {
		return fault.Wrap(err, "set op savepoint")
	}
	t.inOp = true
	return nil
}

// RollbackOp undoes every write since BeginOp; the savepoint stays.
func (t *bookingTx) RollbackOp() error {
	if !t.inOp {
		return fault.Wrap(errors.New("no op savepoint"), "roll back op")
	}
	_, err := t.exec(qRollbackOp)
	return fault.Wrap(err, "roll back op")
}
