package idempotency

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// SweepEvery is how often, at most, a process deletes expired keys. The
// sweep is opportunistic: the first claim after the interval starts it in
// the background, so an idle process does no work and a busy one sweeps
// about hourly (the first claim after a start sweeps at once). Expired keys
// a sweep has not reached yet do no harm: a claim replaces them.
const SweepEvery = time.Hour

// Keeper is the idempotency service the HTTP layer calls: it claims keys
// for first calls, keeps their responses, releases failed claims and now
// and then sweeps expired keys from its store.
type Keeper struct {
	store     Store
	now       func() time.Time
	lastSweep atomic.Int64 // unix nanoseconds of the last sweep's start
}

// NewKeeper returns a keeper over store; now is the clock (nil: time.Now).
func NewKeeper(store Store, now func() time.Time) *Keeper {
	if now == nil {
		now = time.Now
	}
	return &Keeper{store: store, now: now}
}

// Claim claims r's key for a first call (see Store.Claim), starting a
// background sweep of expired keys when one is due.
func (k *Keeper) Claim(ctx context.Context, r Record) (held Record, claimed bool, err error) {
	now := k.now()
	k.maybeSweep(now)
	return k.store.Claim(ctx, r, now)
}

// Complete stores the response of a claimed key (see Store.Complete).
func (k *Keeper) Complete(ctx context.Context, scope, key string, resp Response) error {
	return k.store.Complete(ctx, scope, key, resp)
}

// Release frees an in-progress claim so that a retry runs again (see Store.Release).
func (k *Keeper) Release(ctx context.Context, scope, key string) error {
	return k.store.Release(ctx, scope, key)
}

// maybeSweep starts a background sweep of expired keys if none ran for
// SweepEvery in this process.
func (k *Keeper) maybeSweep(now time.Time) {
	last := k.lastSweep.Load()
	if now.UnixNano()-last < int64(SweepEvery) || !k.lastSweep.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		n, err := k.store.Sweep(ctx, now.Add(-TTL))
		if err != nil {
			slog.WarnContext(ctx, "sweep idempotency keys", "err", err.Error())
			return
		}
		if n > 0 {
			slog.InfoContext(ctx, "swept idempotency keys", "deleted", n)
		}
	}()
}
