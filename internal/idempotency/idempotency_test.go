package idempotency_test

import (
	"strings"
	"testing"
	"time"

	"piao/internal/idempotency"
)

func TestValidKey(t *testing.T) {
	for k, want := range map[string]bool{
		"":                        false,
		"a":                       true,
		"550e8400-e29b-41d4-a716": true,
		"with space ~!":           true,
		strings.Repeat("x", 255):  true,
		strings.Repeat("x", 256):  false,
		"tab\there":               false,
		"键":                       false,
		"del\x7f":                 false,
	} {
		if got := idempotency.ValidKey(k); got != want {
			t.Errorf("ValidKey(%q) = %v, want %v", k, got, want)
		}
	}
}

func TestRecordLiveAndSameRequest(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	r := idempotency.Record{Method: "POST", Path: "/api/v1/orders", BodyHash: idempotency.BodyHash([]byte("{}")), Status: idempotency.InProgress, CreatedAt: t0}
	if !r.Live(t0.Add(idempotency.AbandonAfter-time.Nanosecond)) || r.Live(t0.Add(idempotency.AbandonAfter)) {
		t.Error("an in-progress record lives for AbandonAfter")
	}
	r.Status = idempotency.Completed
	if !r.Live(t0.Add(idempotency.TTL-time.Nanosecond)) || r.Live(t0.Add(idempotency.TTL)) {
		t.Error("a completed record lives for TTL")
	}
	same := r
	same.Status, same.CreatedAt = idempotency.InProgress, time.Time{}
	if !r.SameRequest(same) {
		t.Error("SameRequest compares the request only")
	}
	for _, o := range []idempotency.Record{
		{Method: "PUT", Path: r.Path, BodyHash: r.BodyHash},
		{Method: r.Method, Path: "/api/v1/orders?x=1", BodyHash: r.BodyHash},
		{Method: r.Method, Path: r.Path, BodyHash: idempotency.BodyHash([]byte("{ }"))},
	} {
		if r.SameRequest(o) {
			t.Errorf("%+v is the same request as %+v", o, r)
		}
	}
	if h := idempotency.BodyHash(nil); h != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("BodyHash(nil) = %s", h)
	}
}
