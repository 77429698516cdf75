package sqlite

import (
	"context"
	"database/sql"
	"time"

	"piao/internal/fault"
	"piao/internal/idempotency"
	"piao/internal/store/sqlrow"
)

// idempotencyStore implements idempotency.Store on SQLite. Claims run in a
// write transaction; the single writer connection with BEGIN IMMEDIATE
// serialises them, so of concurrent claims of one key exactly one inserts.
type idempotencyStore struct{ *DB }

var _ idempotency.Store = (*idempotencyStore)(nil)

func (s *idempotencyStore) Claim(ctx context.Context, r idempotency.Record, now time.Time) (idempotency.Record, bool, error) {
	r.Status, r.CreatedAt, r.Response = idempotency.InProgress, now.UTC(), idempotency.Response{}
	var held idempotency.Record
	claimed := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// A record that is no longer live gives its key up.
		if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE scope = ? AND idem_key = ?
			AND (created_at < ? OR (status = 'in_progress' AND created_at < ?))`,
			r.Scope, r.Key, sqlrow.At(now.Add(-idempotency.TTL)), sqlrow.At(now.Add(-idempotency.AbandonAfter))); err != nil {
			return fault.Wrap(err, "expire idempotency key")
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (scope, idem_key, method, path, body_hash, status, created_at)
			VALUES (?, ?, ?, ?, ?, 'in_progress', ?) ON CONFLICT (scope, idem_key) DO NOTHING`,
			r.Scope, r.Key, r.Method, r.Path, r.BodyHash, sqlrow.At(r.CreatedAt))
		if err != nil {
			return fault.Wrap(err, "claim idempotency key")
		}
		if n, _ := res.RowsAffected(); n == 1 {
			held, claimed = r, true
			return nil
		}
		held, err = sqlrow.ScanIdempotency(tx.QueryRowContext(ctx,
			`SELECT `+sqlrow.IdempotencyColumns+` FROM idempotency_keys WHERE scope = ? AND idem_key = ?`, r.Scope, r.Key))
		if err == nil {
			held.Response.Body, err = s.pii.OpenBytes(held.Response.Body, "stored answer")
		}
		return err
	})
	if err != nil {
		return idempotency.Record{}, false, err
	}
	return held, claimed, nil
}

func (s *idempotencyStore) Complete(ctx context.Context, scope, key string, resp idempotency.Response) error {
	n, err := s.execCount(ctx, "complete idempotency key", `UPDATE idempotency_keys SET status = 'completed', resp_status = ?, content_type = ?, location = ?, resp_body = ?
		WHERE scope = ? AND idem_key = ? AND status = 'in_progress'`,
		resp.Status, resp.ContentType, resp.Location, s.pii.SealBytes(resp.Body), scope, key)
	if err == nil && n == 0 {
		return idempotency.ErrClaimLost
	}
	return err
}

func (s *idempotencyStore) Release(ctx context.Context, scope, key string) error {
	_, err := s.execCount(ctx, "release idempotency key", `DELETE FROM idempotency_keys WHERE scope = ? AND idem_key = ? AND status = 'in_progress'`, scope, key)
	return err
}

func (s *idempotencyStore) Sweep(ctx context.Context, cutoff time.Time) (int64, error) {
	return s.execCount(ctx, "sweep idempotency keys", `DELETE FROM idempotency_keys WHERE created_at < ?`, sqlrow.At(cutoff))
}
