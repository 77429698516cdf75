package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"piao/internal/fault"
	"piao/internal/idempotency"
	"piao/internal/store/sqlrow"
)

// idempotencyStore implements idempotency.Store on PostgreSQL. Several
// processes may claim one key at once: INSERT … ON CONFLICT DO NOTHING on
// the primary key lets exactly one of them insert, the others wait for it
// to commit and then read its record.
type idempotencyStore struct{ *DB }

var _ idempotency.Store = (*idempotencyStore)(nil)

func (s *idempotencyStore) Claim(ctx context.Context, r idempotency.Record, now time.Time) (idempotency.Record, bool, error) {
	r.Status, r.CreatedAt, r.Response = idempotency.InProgress, now.UTC().Truncate(time.Microsecond), idempotency.Response{}
	// The holder may be released between our insert and our read; then
	// the key is free again and we try once more.
	for range 3 {
		var held idempotency.Record
		claimed, found := false, false
		err := s.tx(ctx, func(tx pgx.Tx) error {
			// A record that is no longer live gives its key up.
			if _, err := tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE scope = $1 AND idem_key = $2
				AND (created_at < $3 OR (status = 'in_progress' AND created_at < $4))`,
				r.Scope, r.Key, now.Add(-idempotency.TTL), now.Add(-idempotency.AbandonAfter)); err != nil {
				return fault.Wrap(err, "expire idempotency key")
			}
			tag, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (scope, idem_key, method, path, body_hash, status, created_at)
				VALUES ($1, $2, $3, $4, $5, 'in_progress', $6) ON CONFLICT (scope, idem_key) DO NOTHING`,
				r.Scope, r.Key, r.Method, r.Path, r.BodyHash, r.CreatedAt)
			if err != nil {
				return fault.Wrap(err, "claim idempotency key")
			}
			if tag.RowsAffected() == 1 {
				held, claimed, found = r, true, true
				return nil
			}
			held, err = sqlrow.ScanIdempotency(tx.QueryRow(ctx,
				`SELECT `+sqlrow.IdempotencyColumns+` FROM idempotency_keys WHERE scope = $1 AND idem_key = $2`, r.Scope, r.Key))
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			if err == nil {
				held.Response.Body, err = s.pii.OpenBytes(held.Response.Body, "stored answer")
			}
			found = err == nil
			return err
		})
		if err != nil {
			return idempotency.Record{}, false, err
		}
		if found {
			return held, claimed, nil
		}
	}
	return idempotency.Record{}, false, fault.New(fault.Conflict, "idempotency_contended", "幂等键正被频繁占用，请稍后重试", "the idempotency key is contended; try again later")
}

func (s *idempotencyStore) Complete(ctx context.Context, scope, key string, resp idempotency.Response) error {
	tag, err := s.pool.Exec(ctx, `UPDATE idempotency_keys SET status = 'completed', resp_status = $1, content_type = $2, location = $3, resp_body = $4
		WHERE scope = $5 AND idem_key = $6 AND status = 'in_progress'`,
		resp.Status, resp.ContentType, resp.Location, s.pii.SealBytes(resp.Body), scope, key)
	if err != nil {
		return fault.Wrap(err, "complete idempotency key")
	}
	if tag.RowsAffected() == 0 {
		return idempotency.ErrClaimLost
	}
	return nil
}

func (s *idempotencyStore) Release(ctx context.Context, scope, key string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE scope = $1 AND idem_key = $2 AND status = 'in_progress'`, scope, key)
	return fault.Wrap(err, "release idempotency key")
}

func (s *idempotencyStore) Sweep(ctx context.Context, cutoff time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, cutoff)
	if err != nil {
		return 0, fault.Wrap(err, "sweep idempotency keys")
	}
	return tag.RowsAffected(), nil
}
