package storetest_test

import (
	"context"
	"errors"
	"testing"

	"piao/internal/booking"
	"piao/internal/ledger"
	"piao/internal/store/storetest"
)

// The committer runs several ops in one transaction and undoes a refused
// one alone: RollbackOp undoes every write since BeginOp (rows and journal
// entries), even after a statement failed, and the transaction goes on and
// commits the other ops' writes.
func TestBookingOpRollback(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		acc := bkSetUp(t, s, 2)
		bkCreateTrain(t, s, bkZ66)
		entry := func(key string) ledger.Entry {
			return ledger.Build(key, ledger.KindPayment, "test", bkT0, "op test",
				ledger.Debit(ledger.GatewayClearing, "", 100), ledger.Credit(ledger.PassengerPayments, "", 100))
		}
		kept, undone, after := bkOrder(acc[0], bkZ66, booking.Held, bkT0, "O1"), bkOrder(acc[1], bkZ66, booking.Held, bkT0, "O2"), bkOrder(acc[1], bkZ66, booking.Held, bkT0, "O4")
		err := s.Booking.Update(ctx, func(tx booking.Tx) error {
			// Op 1: kept.
			if err := tx.BeginOp(); err != nil {
				return err
			}
			if err := tx.InsertOrder(&kept); err != nil {
				return err
			}
			if err := tx.PostEntry(entry("op:kept")); err != nil {
				return err
			}
			// Op 2: writes, then a statement fails (a second held order of
			// the account breaks a unique rule), and the op is undone.
			if err := tx.BeginOp(); err != nil {
				return err
			}
			if err := tx.InsertOrder(&undone); err != nil {
				return err
			}
			if err := tx.PostEntry(entry("op:undone")); err != nil {
				return err
			}
			second := bkOrder(acc[1], bkZ66, booking.Held, bkT0, "O3")
			if err := tx.InsertOrder(&second); err == nil {
				return errors.New("a second held order of one account was stored")
			}
			if err := tx.RollbackOp(); err != nil {
				return err
			}
			if has, err := tx.HasEntry("op:undone"); err != nil || has {
				return errors.New("the undone op's entry is still there")
			}
			if has, err := tx.HasEntry("op:kept"); err != nil || !has {
				return errors.New("the first op's entry is gone")
			}
			// Op 3: the transaction is usable; the account has no held
			// order any more, so this one goes in.
			if err := tx.BeginOp(); err != nil {
				return err
			}
			return tx.InsertOrder(&after)
		})
		if err != nil {
			t.Fatal(err)
		}
		if os, err := s.Booking.OrdersOf(ctx, acc[0], 10); err != nil || len(os) != 1 || os[0].ID != kept.ID {
			t.Fatalf("first account's orders %+v, %v: want the kept one", os, err)
		}
		if os, err := s.Booking.OrdersOf(ctx, acc[1], 10); err != nil || len(os) != 1 || os[0].ID != after.ID {
			t.Fatalf("second account's orders %+v, %v: want only the one after the undone op", os, err)
		}
		if _, err := s.DB.Ledger().EntryByKey(ctx, "op:kept"); err != nil {
			t.Fatalf("kept entry: %v", err)
		}
		if e, err := s.DB.Ledger().EntryByKey(ctx, "op:undone"); err == nil {
			t.Fatalf("the undone op's entry was committed: %+v", e)
		}
	})
}
