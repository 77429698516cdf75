package sqlrow

import (
	"piao/internal/fault"
	"piao/internal/idempotency"
)

// IdempotencyColumns are the columns of idempotency_keys that ScanIdempotency reads.
const IdempotencyColumns = `scope, idem_key, method, path, body_hash, status, created_at, resp_status, content_type, location, resp_body`

// ScanIdempotency reads IdempotencyColumns. No row is the driver's error
// (sql.ErrNoRows), wrapped.
func ScanIdempotency(r Row) (idempotency.Record, error) {
	var rec idempotency.Record
	var created Time
	err := r.Scan(&rec.Scope, &rec.Key, &rec.Method, &rec.Path, &rec.BodyHash, (*string)(&rec.Status), &created,
		&rec.Response.Status, &rec.Response.ContentType, &rec.Response.Location, &rec.Response.Body)
	rec.CreatedAt = created.Time
	return rec, fault.Wrap(err, "read idempotency key")
}
