package sqlrow

import (
	"database/sql"
	"encoding/json"

	"piao/internal/audit"
	"piao/internal/fault"
)

// AuditEntryColumns are the columns of audit_entries that ScanAuditEntry reads.
const AuditEntryColumns = `id, at, actor_id, actor_username, actor_role, action, subject, before_json, after_json, reason, request_id`

// ScanAuditEntry reads AuditEntryColumns.
func ScanAuditEntry(r Row) (audit.Entry, error) {
	var e audit.Entry
	var at Time
	var before, after sql.NullString
	if err := r.Scan(&e.ID, &at, &e.Actor.AccountID, &e.Actor.Username, &e.Actor.Role, &e.Action, &e.Subject, &before, &after, &e.Reason, &e.RequestID); err != nil {
		return e, fault.Wrap(err, "read audit entry")
	}
	e.At = at.Time
	if before.Valid {
		e.Before = json.RawMessage(before.String)
	}
	if after.Valid {
		e.After = json.RawMessage(after.String)
	}
	return e, nil
}

// AuditJSON is a before or after column: the JSON as text, NULL when empty.
func AuditJSON(raw json.RawMessage) sql.NullString {
	return sql.NullString{String: string(raw), Valid: len(raw) > 0}
}

// AuditPrefix returns the bounds of the actions under prefix (those starting
// with prefix and a dot): at or after lo and before hi, in byte order.
func AuditPrefix(prefix string) (lo, hi string) {
	return prefix + ".", prefix + "/" // '/' is the byte after '.'
}
