package storetest_test

import (
	"context"
	"testing"
	"time"

	"piao/internal/fault"
	"piao/internal/store/storetest"
)

// TestLoginFailures checks the failed-login run and its lock on every
// engine: counting, forgetting an old run, a lock that only grows, clearing.
func TestLoginFailures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		st := s.Identity
		a, err := st.CreateAccount(ctx, idNewAccount("lf", ""))
		if err != nil {
			t.Fatal(err)
		}
		f, err := st.LoginFailures(ctx, a.ID)
		if err != nil || f.Failures != 0 || !f.LastFailure.IsZero() || !f.LockedUntil.IsZero() {
			t.Fatalf("no failures yet: %+v, %v", f, err)
		}
		forget := idT0.Add(-24 * time.Hour)
		for i := 1; i <= 3; i++ {
			n, err := st.AddLoginFailure(ctx, a.ID, idT0.Add(time.Duration(i)*time.Second), forget)
			if err != nil || n != i {
				t.Fatalf("failure %d: n = %d, %v", i, n, err)
			}
		}
		// Locking keeps the later of two locks, whatever the order.
		later, earlier := idT0.Add(time.Hour), idT0.Add(time.Minute)
		if err := st.LockLogin(ctx, a.ID, later); err != nil {
			t.Fatal(err)
		}
		if err := st.LockLogin(ctx, a.ID, earlier); err != nil {
			t.Fatal(err)
		}
		f, err = st.LoginFailures(ctx, a.ID)
		if err != nil || f.Failures != 3 || !f.LastFailure.Equal(idT0.Add(3*time.Second)) || !f.LockedUntil.Equal(later) {
			t.Errorf("after 3 failures and two locks: %+v, %v; want 3, last %v, locked until %v", f, err, idT0.Add(3*time.Second), later)
		}
		if f.LockedUntil.Location() != time.UTC {
			t.Errorf("LockedUntil zone %v, want UTC", f.LockedUntil.Location())
		}
		// A failure after a quiet spell longer than the forget window starts a new run.
		next := idT0.Add(48 * time.Hour)
		n, err := st.AddLoginFailure(ctx, a.ID, next, next.Add(-24*time.Hour))
		if err != nil || n != 1 {
			t.Errorf("failure after a quiet day: n = %d, %v; want 1", n, err)
		}
		if err := st.ClearLoginFailures(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if f, err := st.LoginFailures(ctx, a.ID); err != nil || f.Failures != 0 || !f.LockedUntil.IsZero() {
			t.Errorf("after clearing: %+v, %v", f, err)
		}
		if err := st.ClearLoginFailures(ctx, a.ID); err != nil {
			t.Errorf("clearing nothing: %v", err)
		}
		// Unknown accounts.
		_, err = st.AddLoginFailure(ctx, a.ID+100, idT0, forget)
		idWantFault(t, err, fault.NotFound, "account_not_found")
		err = st.LockLogin(ctx, a.ID+100, later)
		idWantFault(t, err, fault.NotFound, "account_not_found")
	})
}
