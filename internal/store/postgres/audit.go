package postgres

import (
	"context"
	"strconv"

	"piao/internal/audit"
	"piao/internal/fault"
	"piao/internal/store/sqlrow"
)

// Audit returns the store of the audit trail.
func (db *DB) Audit() audit.Store { return &auditStore{db} }

// auditStore implements audit.Store on PostgreSQL. It only inserts and
// reads; a trigger refuses any UPDATE, DELETE or TRUNCATE of the table.
type auditStore struct{ *DB }

var _ audit.Store = (*auditStore)(nil)

// AppendAudit stores an entry and returns it with its ID.
func (s *auditStore) AppendAudit(ctx context.Context, e audit.Entry) (audit.Entry, error) {
	err := s.pool.QueryRow(ctx, `INSERT INTO audit_entries (at, actor_id, actor_username, actor_role, action, subject, before_json, after_json, reason, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		sqlrow.At(e.At), e.Actor.AccountID, e.Actor.Username, e.Actor.Role, e.Action, e.Subject,
		sqlrow.AuditJSON(e.Before), sqlrow.AuditJSON(e.After), e.Reason, e.RequestID).Scan(&e.ID)
	return e, fault.Wrap(err, "append audit entry")
}

// AuditEntries returns the entries matching f, newest first.
func (s *auditStore) AuditEntries(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	f = f.Bounded()
	q := `SELECT ` + sqlrow.AuditEntryColumns + ` FROM audit_entries WHERE TRUE`
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.ActorID != 0 {
		q += ` AND actor_id = ` + arg(f.ActorID)
	}
	if f.Action != "" {
		lo, hi := sqlrow.AuditPrefix(f.Action)
		q += ` AND (action = ` + arg(f.Action) + ` OR (action >= ` + arg(lo) + ` AND action < ` + arg(hi) + `))`
	}
	if f.Subject != "" {
		q += ` AND subject = ` + arg(f.Subject)
	}
	if !f.From.IsZero() {
		q += ` AND at >= ` + arg(sqlrow.At(f.From))
	}
	if !f.Until.IsZero() {
		q += ` AND at < ` + arg(sqlrow.At(f.Until))
	}
	if f.BeforeID > 0 {
		q += ` AND id < ` + arg(f.BeforeID)
	}
	q += ` ORDER BY id DESC LIMIT ` + arg(f.Limit)
	return list(ctx, s.pool, "list audit entries", sqlrow.ScanAuditEntry, q, args...)
}
