package identity_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"piao/internal/audit"
	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/store/storetest"
	"piao/internal/testclock"
)

// TestLoginLockout: 50 wrong logins in a row lock the account, the right
// password then fails while the lock lasts, the lock doubles with each
// further failure up to the cap, ends by time, and a success clears the
// run. On both engines: the lock is in the database, shared by processes.
func TestLoginLockout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st storetest.Stores) {
		ctx := context.Background()
		clock := testclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		s := identity.NewService(st.Identity, clock.Now)
		s.Params = fastParams
		alice, err := s.CreateAccount(ctx, identity.NewAccount{Username: "alice", Role: identity.Passenger, Password: "correct horse"})
		if err != nil {
			t.Fatal(err)
		}
		// Four failures: wrong credentials; the fifth locks for a minute.
		for range 4 {
			_, _, err := s.Login(ctx, "alice", "wrong", identity.APIToken)
			wantReason(t, err, fault.Unauthorized, "bad_credentials")
			clock.Advance(time.Second)
		}
		_, _, err = s.Login(ctx, "alice", "wrong", identity.APIToken)
		wantReason(t, err, fault.LimitReached, "account_locked")
		fe := fault.As(err)
		if got := fe.RetryAt.Sub(clock.Now()); got != time.Minute {
			t.Errorf("first lock %v, want 1m", got)
		}
		// 45 more tries while locked, then the right password: all refused.
		for range 45 {
			_, _, err := s.Login(ctx, "alice", "wrong", identity.APIToken)
			wantReason(t, err, fault.LimitReached, "account_locked")
		}
		_, _, err = s.Login(ctx, "alice", "correct horse", identity.APIToken)
		wantReason(t, err, fault.LimitReached, "account_locked")
		if fe := fault.As(err); fe.ZH == "" || fe.EN == "" || fe.RetryAt.IsZero() {
			t.Errorf("lock refusal lacks its message or time: %+v", fe)
		}
		// Tries while locked were not counted: the run is still 5.
		if f, _ := s.LoginFailures(ctx, alice.ID); f.Failures != 5 {
			t.Errorf("failures = %d, want 5", f.Failures)
		}
		// After the lock each failure doubles it: 2m, 4m, … capped at 1h.
		want := []time.Duration{2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour}
		for _, w := range want {
			clock.Set(fault.As(err).RetryAt)
			_, _, err = s.Login(ctx, "alice", "wrong", identity.APIToken)
			wantReason(t, err, fault.LimitReached, "account_locked")
			if got := fault.As(err).RetryAt.Sub(clock.Now()); got != w {
				t.Errorf("lock %v, want %v", got, w)
			}
		}
		// When the lock ends, the right password works and clears the run.
		clock.Set(fault.As(err).RetryAt)
		if _, _, err := s.Login(ctx, "alice", "correct horse", identity.APIToken); err != nil {
			t.Fatalf("login after the lock: %v", err)
		}
		if f, _ := s.LoginFailures(ctx, alice.ID); f.Failures != 0 || !f.LockedUntil.IsZero() {
			t.Errorf("after a success: %+v, want nothing", f)
		}
		_, _, err = s.Login(ctx, "alice", "wrong", identity.APIToken)
		wantReason(t, err, fault.Unauthorized, "bad_credentials")
	})
}

// TestUnlock: an operator's unlock lifts the lock at once, clears the run
// and is recorded in the audit trail with the run that was cleared.
func TestUnlock(t *testing.T) {
	ctx := context.Background()
	s, clock := newService(t)
	trail := &memTrail{}
	s.Audit = audit.New(trail, clock.Now)
	a, err := s.CreateAccount(ctx, identity.NewAccount{Username: "bob", Role: identity.Passenger, Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		s.Login(ctx, "bob", "wrong", identity.APIToken)
	}
	_, _, err = s.Login(ctx, "bob", "correct horse", identity.APIToken)
	wantReason(t, err, fault.LimitReached, "account_locked")
	before, err := s.Unlock(ctx, a.ID, "caller verified by phone")
	if err != nil {
		t.Fatal(err)
	}
	if before.Failures != 5 || before.LockedUntil.IsZero() {
		t.Errorf("unlock returned %+v, want the locked run of 5", before)
	}
	if _, _, err := s.Login(ctx, "bob", "correct horse", identity.APIToken); err != nil {
		t.Errorf("login after unlock: %v", err)
	}
	// The trail holds the account's creation, then its unlock.
	if len(trail.entries) != 2 || trail.entries[0].Action != "account.create" {
		t.Fatalf("audit entries = %+v, want account.create and account.unlock", trail.entries)
	}
	if u := trail.entries[1]; u.Action != "account.unlock" || u.Subject != fmt.Sprintf("account:%d", a.ID) || u.Reason != "caller verified by phone" {
		t.Errorf("audit entry = %+v, want the account.unlock of account:1", u)
	}
	_, err = s.Unlock(ctx, 999, "")
	wantReason(t, err, fault.NotFound, "account_not_found")
}

// TestHashSlots: with one slot busy, a login waits at most the configured
// time and is refused with 503-class server_busy, never runs a second hash.
func TestHashSlots(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	s.Params = identity.Params{Memory: 32 * 1024, Time: 2, Threads: 1}
	if _, err := s.CreateAccount(ctx, identity.NewAccount{Username: "carol", Role: identity.Passenger, Password: "correct horse"}); err != nil {
		t.Fatal(err)
	}
	s.Lockout.After = 0 // this test is about slots, not the lock
	s.SetHashSlots(1, time.Millisecond)
	var busy, bad atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			_, _, err := s.Login(ctx, "carol", "wrong", identity.APIToken)
			switch {
			case fault.Is(err, fault.Unavailable) && fault.As(err).Reason == "server_busy":
				if fault.As(err).RetryAt.IsZero() {
					t.Error("server_busy without a retry time")
				}
				busy.Add(1)
			case fault.Is(err, fault.Unauthorized):
				bad.Add(1)
			default:
				t.Errorf("login: %v", err)
			}
		})
	}
	wg.Wait()
	if busy.Load() == 0 || bad.Load() == 0 {
		t.Errorf("%d busy, %d checked: want some of each with one slot and 1ms of patience", busy.Load(), bad.Load())
	}
}

// memTrail is an audit.Store in memory.
type memTrail struct {
	mu      sync.Mutex
	entries []audit.Entry
}

func (m *memTrail) AppendAudit(_ context.Context, e audit.Entry) (audit.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e.ID = int64(len(m.entries) + 1)
	m.entries = append(m.entries, e)
	return e, nil
}

func (m *memTrail) AuditEntries(context.Context, audit.Filter) ([]audit.Entry, error) {
	return append([]audit.Entry(nil), m.entries...), nil
}
