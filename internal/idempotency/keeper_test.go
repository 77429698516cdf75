package idempotency_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"piao/internal/idempotency"
	"piao/internal/testclock"
)

// sweepCounter is a store that records the cutoffs it was swept with.
type sweepCounter struct {
	mu      sync.Mutex
	cutoffs []time.Time
	claims  int
}

func (s *sweepCounter) Claim(_ context.Context, r idempotency.Record, now time.Time) (idempotency.Record, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.claims++
	r.CreatedAt = now
	return r, true, nil
}
func (s *sweepCounter) Complete(context.Context, string, string, idempotency.Response) error {
	return nil
}
func (s *sweepCounter) Release(context.Context, string, string) error { return nil }
func (s *sweepCounter) Sweep(_ context.Context, cutoff time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cutoffs = append(s.cutoffs, cutoff)
	return 0, nil
}

func (s *sweepCounter) sweeps() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.cutoffs...)
}

// waitSweeps waits until the store has been swept n times (sweeps run in
// the background).
func waitSweeps(t *testing.T, s *sweepCounter, n int) []time.Time {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if got := s.sweeps(); len(got) >= n {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("swept %d times, want %d", len(s.sweeps()), n)
	return nil
}

func TestKeeperSweepsAtMostHourly(t *testing.T) {
	start := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	clock := testclock.New(start)
	store := &sweepCounter{}
	k := idempotency.NewKeeper(store, clock.Now)
	ctx := context.Background()
	claim := func() {
		t.Helper()
		held, claimed, err := k.Claim(ctx, idempotency.Record{Scope: "1", Key: "k"})
		if err != nil || !claimed || !held.CreatedAt.Equal(clock.Now()) {
			t.Fatalf("Claim = %+v, %v, %v; want claimed at the keeper's clock", held, claimed, err)
		}
	}

	claim() // the first claim after a start sweeps at once
	if got := waitSweeps(t, store, 1); !got[0].Equal(start.Add(-idempotency.TTL)) {
		t.Fatalf("swept keys older than %v, want older than TTL before now (%v)", got[0], start.Add(-idempotency.TTL))
	}
	clock.Advance(idempotency.SweepEvery - time.Minute)
	claim()
	claim()
	clock.Advance(time.Minute)
	claim() // an hour after the last sweep: the next one starts
	got := waitSweeps(t, store, 2)
	if want := clock.Now().Add(-idempotency.TTL); !got[1].Equal(want) {
		t.Fatalf("second sweep cut off at %v, want %v", got[1], want)
	}
	if n := len(store.sweeps()); n != 2 {
		t.Fatalf("swept %d times over four claims in an hour, want 2", n)
	}
}
