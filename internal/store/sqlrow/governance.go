package sqlrow

import (
	"fmt"
	"strings"

	"piao/internal/behaviour"
	"piao/internal/booking"
	"piao/internal/fault"
	"piao/internal/governance"
)

// ErrMemberNotFound is what both engines answer for a list membership
// that does not exist.
var ErrMemberNotFound = fault.New(fault.NotFound, "member_not_found", "名单记录不存在", "list membership not found")

// OutcomeCase is a CASE expression mapping the ticket status column col to
// a behaviour.Outcome, so reading transactions scans a small integer
// rather than a string per row.
func OutcomeCase(col string) string {
	var b strings.Builder
	b.WriteString("CASE " + col)
	for _, p := range []struct {
		status  booking.TicketStatus
		outcome behaviour.Outcome
	}{
		{booking.Paid, behaviour.Paid}, {booking.Refunded, behaviour.Paid}, {booking.Changed, behaviour.Paid},
		{booking.Cancelled, behaviour.Cancelled}, {booking.Expired, behaviour.Expired}, {booking.Held, behaviour.Pending},
	} {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", p.status, p.outcome)
	}
	fmt.Fprintf(&b, " ELSE %d END", behaviour.Pending)
	return b.String()
}

// SubjectCounts is one subject's counts on a day, as DayCounts reads them.
type SubjectCounts struct {
	Subject string
	governance.Counts
}

// ScanSubjectCounts scans a row of subject, manual and expired.
func ScanSubjectCounts(r Row) (SubjectCounts, error) {
	var c SubjectCounts
	err := r.Scan(&c.Subject, &c.Manual, &c.Expired)
	return c, err
}

// AuditColumns are the columns ScanAudit reads from list_member_events.
const AuditColumns = `member_id, at, actor, action, detail`

// ScanAudit scans a row of AuditColumns.
func ScanAudit(r Row) (governance.Audit, error) {
	var a governance.Audit
	var at Time
	err := r.Scan(&a.MemberID, &at, &a.Actor, &a.Action, &a.Detail)
	a.At = at.Time
	return a, err
}
