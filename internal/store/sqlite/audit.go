package sqlite

import (
	"context"
	"database/sql"

	"piao/internal/audit"
	"piao/internal/fault"
	"piao/internal/store/sqlrow"
)

// Audit returns the store of the audit trail.
func (db *DB) Audit() audit.Store { return &auditStore{db} }

// auditStore implements audit.Store on SQLite. It only inserts and reads;
// triggers refuse any UPDATE or DELETE of the table.
type auditStore struct{ *DB }

var _ audit.Store = (*auditStore)(nil)

// AppendAudit stores an entry and returns it with its ID.
func (s *auditStore) AppendAudit(ctx context.Context, e audit.Entry) (audit.Entry, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		return fault.Wrap(tx.QueryRowContext(ctx, `INSERT INTO audit_entries (at, actor_id, actor_username, actor_role, action, subject, before_json, after_json, reason, request_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			sqlrow.At(e.At), e.Actor.AccountID, e.Actor.Username, e.Actor.Role, e.Action, e.Subject,
			sqlrow.AuditJSON(e.Before), sqlrow.AuditJSON(e.After), e.Reason, e.RequestID).Scan(&e.ID), "append audit entry")
	})
	return e, err
}

// AuditEntries returns the entries matching f, newest first.
func (s *auditStore) AuditEntries(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	f = f.Bounded()
	q := `SELECT ` + sqlrow.AuditEntryColumns + ` FROM audit_entries WHERE 1 = 1`
	var args []any
	if f.ActorID != 0 {
		q += ` AND actor_id = ?`
		args = append(args, f.ActorID)
	}
	if f.Action != "" {
		lo, hi := sqlrow.AuditPrefix(f.Action)
		q += ` AND (action = ? OR (action >= ? AND action < ?))`
		args = append(args, f.Action, lo, hi)
	}
	if f.Subject != "" {
		q += ` AND subject = ?`
		args = append(args, f.Subject)
	}
	if !f.From.IsZero() {
		q += ` AND at >= ?`
		args = append(args, sqlrow.At(f.From))
	}
	if !f.Until.IsZero() {
		q += ` AND at < ?`
		args = append(args, sqlrow.At(f.Until))
	}
	if f.BeforeID > 0 {
		q += ` AND id < ?`
		args = append(args, f.BeforeID)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	return list(ctx, s.read, "list audit entries", sqlrow.ScanAuditEntry, q, args...)
}
