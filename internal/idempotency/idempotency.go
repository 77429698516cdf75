// Package idempotency holds the domain of idempotent API calls: a client
// sends an Idempotency-Key with a mutating call, and a retry with the same
// key gets the first call's result instead of running again.
//
// A Record ties a key, within a scope (the calling account), to one request
// — its method, path and body hash — and, once the first call has finished,
// to its response. The HTTP adapter claims, completes and replays records;
// the storage engines keep them. This package does no I/O.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"piao/internal/fault"
)

// Header is the request header carrying the client's key.
const Header = "Idempotency-Key"

// ReplayedHeader marks a response replayed from a stored record.
const ReplayedHeader = "Idempotent-Replayed"

// MaxKeyLength is the longest key accepted.
const MaxKeyLength = 255

// TTL is how long a key is remembered: a retry later than this runs again.
const TTL = 24 * time.Hour

// AbandonAfter is how long a claim may stay in progress before it is taken
// for abandoned (its process died mid-request) and may be claimed again.
// It is far longer than any request may run.
const AbandonAfter = 10 * time.Minute

// Status is the state of a record.
type Status string

// The states of a record.
const (
	// InProgress: the first call is running.
	InProgress Status = "in_progress"
	// Completed: the first call finished and its response is stored.
	Completed Status = "completed"
)

// Response is what the first call answered: enough to replay it exactly.
type Response struct {
	Status      int    // HTTP status code
	ContentType string // the Content-Type header, if any
	Location    string // the Location header, if any
	Body        []byte // the response body, byte for byte
}

// Record is one remembered key.
type Record struct {
	Scope     string    // who may use the key, e.g. "account:42"
	Key       string    // the client's Idempotency-Key
	Method    string    // the HTTP method of the first call
	Path      string    // the path (and query) of the first call
	BodyHash  string    // BodyHash of the first call's request body
	Status    Status    // InProgress or Completed
	CreatedAt time.Time // when the key was claimed
	Response  Response  // the stored response once Completed
}

// SameRequest reports whether o is the same request as r: the same method,
// path and body. A key may only be retried with the same request.
func (r Record) SameRequest(o Record) bool {
	return r.Method == o.Method && r.Path == o.Path && r.BodyHash == o.BodyHash
}

// Live reports whether the record still holds its key at now: it is not
// older than TTL, and if in progress, not older than AbandonAfter.
func (r Record) Live(now time.Time) bool {
	age := now.Sub(r.CreatedAt)
	if r.Status == InProgress {
		return age < AbandonAfter
	}
	return age < TTL
}

// BodyHash returns the hex SHA-256 of a request body.
func BodyHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// ValidKey reports whether k is an acceptable key: 1–MaxKeyLength
// printable ASCII characters (space to tilde).
func ValidKey(k string) bool {
	if k == "" || len(k) > MaxKeyLength {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// ErrClaimLost says a claim to complete is gone: released, swept or
// replaced after it was abandoned.
var ErrClaimLost = fault.New(fault.Conflict, "idempotency_claim_lost", "幂等键的占用已失效", "the idempotency key's claim is gone")

// Store keeps records. Every engine implements it and passes the contract
// suite in package storetest.
type Store interface {
	// Claim atomically claims r.Scope and r.Key for a first call: unless a
	// live record holds the key, it stores r with status InProgress and
	// CreatedAt now, and returns that record and true. Otherwise it returns
	// the record holding the key and false. A record that is no longer Live
	// at now is replaced. Of concurrent claims of one key exactly one
	// succeeds.
	Claim(ctx context.Context, r Record, now time.Time) (held Record, claimed bool, err error)
	// Complete stores the response of a claimed key and marks it Completed.
	// It fails with ErrClaimLost if the key is not in progress.
	Complete(ctx context.Context, scope, key string, resp Response) error
	// Release deletes an in-progress claim so that a retry runs again (the
	// first call failed). A completed record is left alone.
	Release(ctx context.Context, scope, key string) error
	// Sweep deletes the records claimed before cutoff and returns how many.
	Sweep(ctx context.Context, cutoff time.Time) (int64, error)
}
