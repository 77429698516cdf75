package storetest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"piao/internal/idempotency"
	"piao/internal/store/storetest"
)

// ikT0 is a fixed instant to the microsecond (PostgreSQL's precision), not
// in UTC so the stores must normalise zones.
var ikT0 = time.Date(2026, 5, 1, 10, 0, 0, 123456000, time.FixedZone("CST", 8*3600))

func idRecord(scope, key, path, body string) idempotency.Record {
	return idempotency.Record{Scope: scope, Key: key, Method: "POST", Path: path, BodyHash: idempotency.BodyHash([]byte(body))}
}

func mustClaim(t *testing.T, st idempotency.Store, r idempotency.Record, now time.Time, want bool) idempotency.Record {
	t.Helper()
	held, claimed, err := st.Claim(context.Background(), r, now)
	if err != nil {
		t.Fatal(err)
	}
	if claimed != want {
		t.Fatalf("claim %s/%s at %s: claimed = %v, want %v (held %+v)", r.Scope, r.Key, now, claimed, want, held)
	}
	if held.Scope != r.Scope || held.Key != r.Key {
		t.Fatalf("held %s/%s, want %s/%s", held.Scope, held.Key, r.Scope, r.Key)
	}
	if held.CreatedAt.Location() != time.UTC {
		t.Errorf("created_at %v is not in UTC", held.CreatedAt)
	}
	return held
}

// TestIdempotencyClaimCompleteReplay checks the life of a key: claimed
// once, held while in progress, completed with a response that reads back
// byte for byte, and scoped per account.
func TestIdempotencyClaimCompleteReplay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		st := s.Idempotency
		r := idRecord("account:1", "key-1", "/api/v1/orders", `{"a":1}`)

		got := mustClaim(t, st, r, ikT0, true)
		if got.Status != idempotency.InProgress || !got.CreatedAt.Equal(ikT0) || !got.SameRequest(r) {
			t.Fatalf("claimed %+v", got)
		}
		held := mustClaim(t, st, r, ikT0.Add(time.Second), false)
		if held.Status != idempotency.InProgress || !held.SameRequest(r) || !held.CreatedAt.Equal(ikT0) {
			t.Fatalf("held while in progress: %+v", held)
		}
		// Another request with the same key reads the first one's record.
		other := idRecord("account:1", "key-1", "/api/v1/orders/7/cancel", `{}`)
		if held := mustClaim(t, st, other, ikT0.Add(time.Second), false); held.SameRequest(other) || !held.SameRequest(r) {
			t.Fatalf("held for another request: %+v", held)
		}
		// Keys are per scope.
		mustClaim(t, st, idRecord("account:2", "key-1", "/api/v1/orders", `{"a":1}`), ikT0, true)

		resp := idempotency.Response{Status: 201, ContentType: "application/json", Location: "/api/v1/orders/9", Body: []byte("{\"id\":9}\n\x00\xff")}
		if err := st.Complete(ctx, r.Scope, r.Key, resp); err != nil {
			t.Fatal(err)
		}
		done := mustClaim(t, st, r, ikT0.Add(time.Minute), false)
		if done.Status != idempotency.Completed || !done.SameRequest(r) || done.Response.Status != resp.Status ||
			done.Response.ContentType != resp.ContentType || done.Response.Location != resp.Location || string(done.Response.Body) != string(resp.Body) {
			t.Fatalf("completed record %+v, want response %+v", done, resp)
		}
		// A completed key cannot complete again, nor be released.
		if err := st.Complete(ctx, r.Scope, r.Key, resp); err != idempotency.ErrClaimLost {
			t.Fatalf("complete twice: %v", err)
		}
		if err := st.Complete(ctx, "account:1", "no-such-key", resp); err != idempotency.ErrClaimLost {
			t.Fatalf("complete unknown key: %v", err)
		}
		if err := st.Release(ctx, r.Scope, r.Key); err != nil {
			t.Fatal(err)
		}
		if held := mustClaim(t, st, r, ikT0.Add(time.Minute), false); held.Status != idempotency.Completed {
			t.Fatalf("release removed a completed record: %+v", held)
		}

		// An empty body reads back empty.
		e := idRecord("account:1", "empty", "/api/v1/orders/1", "")
		mustClaim(t, st, e, ikT0, true)
		if err := st.Complete(ctx, e.Scope, e.Key, idempotency.Response{Status: 204}); err != nil {
			t.Fatal(err)
		}
		if held := mustClaim(t, st, e, ikT0, false); held.Response.Status != 204 || len(held.Response.Body) != 0 || held.Response.ContentType != "" {
			t.Fatalf("empty response %+v", held.Response)
		}
	})
}

// TestIdempotencyReleaseAndExpiry checks that a released claim frees its
// key, that an abandoned claim and an expired record give theirs up, and
// that Sweep deletes old records only.
func TestIdempotencyReleaseAndExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		st := s.Idempotency

		r := idRecord("account:1", "k", "/api/v1/orders", "x")
		mustClaim(t, st, r, ikT0, true)
		if err := st.Release(ctx, r.Scope, r.Key); err != nil {
			t.Fatal(err)
		}
		mustClaim(t, st, r, ikT0, true)
		// Still in progress just before AbandonAfter; taken for abandoned after.
		mustClaim(t, st, r, ikT0.Add(idempotency.AbandonAfter-time.Second), false)
		mustClaim(t, st, r, ikT0.Add(idempotency.AbandonAfter+time.Second), true)
		if err := st.Complete(ctx, r.Scope, r.Key, idempotency.Response{Status: 200, Body: []byte("ok")}); err != nil {
			t.Fatal(err)
		}
		t1 := ikT0.Add(idempotency.AbandonAfter + time.Second)
		// A completed record lives for TTL.
		if held := mustClaim(t, st, r, t1.Add(idempotency.TTL-time.Second), false); held.Status != idempotency.Completed {
			t.Fatalf("held %+v", held)
		}
		if got := mustClaim(t, st, r, t1.Add(idempotency.TTL+time.Second), true); got.Status != idempotency.InProgress {
			t.Fatalf("reclaimed %+v", got)
		}

		// Sweep deletes what was claimed before the cutoff.
		old := idRecord("account:3", "old", "/p", "")
		young := idRecord("account:3", "young", "/p", "")
		mustClaim(t, st, old, ikT0, true)
		mustClaim(t, st, young, ikT0.Add(time.Hour), true)
		n, err := st.Sweep(ctx, ikT0.Add(30*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("swept %d records, want 1", n)
		}
		mustClaim(t, st, old, ikT0.Add(time.Hour), true)
		mustClaim(t, st, young, ikT0.Add(time.Hour), false)
	})
}

// TestIdempotencyConcurrentClaims checks that of many concurrent claims of
// one key exactly one succeeds and the others see its record.
func TestIdempotencyConcurrentClaims(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		st := s.Idempotency
		for round := range 3 {
			r := idRecord("account:1", fmt.Sprintf("race-%d", round), "/api/v1/orders", "same body")
			const n = 16
			var wg sync.WaitGroup
			var mu sync.Mutex
			claims := 0
			for range n {
				wg.Go(func() {
					held, claimed, err := st.Claim(context.Background(), r, ikT0)
					if err != nil {
						t.Error(err)
						return
					}
					if !held.SameRequest(r) || held.Status != idempotency.InProgress {
						t.Errorf("held %+v", held)
					}
					if claimed {
						mu.Lock()
						claims++
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if claims != 1 {
				t.Fatalf("round %d: %d of %d concurrent claims succeeded, want 1", round, claims, n)
			}
		}
	})
}
