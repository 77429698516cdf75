package governance

import (
	"fmt"
	"time"

	"piao/internal/behaviour"
)

// List names a list.
type List string

// The lists of SPEC G3.
const (
	Restricted List = "restricted" // 受限名单
	Priority   List = "priority"   // 优先名单
	Malicious  List = "malicious"  // 疑似恶意
)

// Lists is every list in display order.
var Lists = []List{Restricted, Malicious, Priority}

// Valid reports whether l is a known list.
func (l List) Valid() bool { return l == Restricted || l == Priority || l == Malicious }

// Source says who put a member on a list.
type Source string

// Sources.
const (
	ByRule     Source = "rule"
	ByOperator Source = "operator"
)

// Membership is one subject on one list for a while.
type Membership struct {
	ID      int64     `json:"id"`
	List    List      `json:"list"`
	Subject string    `json:"subject" doc:"account:ID or doc:TYPE:NUMBER"`
	Source  Source    `json:"source"`
	Reason  string    `json:"reason"`
	Start   time.Time `json:"start"`
	Expires time.Time `json:"expires"`
	// LiftedAt is set when an operator lifted the membership early.
	LiftedAt   *time.Time `json:"lifted_at,omitempty"`
	LiftedBy   string     `json:"lifted_by,omitempty"`
	LiftReason string     `json:"lift_reason,omitempty"`
	Events     []Audit    `json:"events,omitempty"`
}

// Active reports whether the membership is in force at t.
func (m Membership) Active(t time.Time) bool { return m.LiftedAt == nil && t.Before(m.Expires) }

// Audit is one entry of a membership's audit trail.
type Audit struct {
	MemberID int64     `json:"member_id"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"` // "account:3", "system:rules"
	Action   string    `json:"action"`
	Detail   string    `json:"detail,omitempty"`
}

// Tally is what one subject did in the rules' window.
type Tally struct {
	Transactions, Paid, Cancelled, Expired, Pending int
}

// Add counts one transaction.
func (t *Tally) Add(o behaviour.Outcome) {
	t.Transactions++
	switch o {
	case behaviour.Paid:
		t.Paid++
	case behaviour.Cancelled:
		t.Cancelled++
	case behaviour.Expired:
		t.Expired++
	default:
		t.Pending++
	}
}

// Match is a list a tally puts its subject on, and why.
type Match struct {
	List   List
	Reason string
}

// Match returns the lists a subject's tally qualifies it for.
func (r ListRules) Match(t Tally) []Match {
	var out []Match
	if r.RestrictedMinOrders > 0 && t.Transactions >= r.RestrictedMinOrders && t.Paid == 0 && t.Pending == 0 {
		out = append(out, Match{Restricted, fmt.Sprintf("%d 天内 %d 笔全部取消或超时、未支付 / all %d transactions in %d days cancelled or expired, none paid",
			r.WindowDays, t.Transactions, t.Transactions, r.WindowDays)})
	}
	if r.MaliciousOverCancels > 0 && t.Cancelled > r.MaliciousOverCancels {
		out = append(out, Match{Malicious, fmt.Sprintf("%d 天内手工取消 %d 次（超过 %d）/ %d manual cancels in %d days (over %d)",
			r.WindowDays, t.Cancelled, r.MaliciousOverCancels, t.Cancelled, r.WindowDays, r.MaliciousOverCancels)})
	}
	if r.PriorityMinTransactions > 0 && t.Transactions >= r.PriorityMinTransactions &&
		float64(t.Paid) >= r.PriorityMinPaidShare*float64(t.Transactions) {
		out = append(out, Match{Priority, fmt.Sprintf("%d 天内 %d/%d 笔已支付（≥ %.0f%%）/ %d of %d transactions in %d days paid (≥ %.0f%%)",
			r.WindowDays, t.Paid, t.Transactions, 100*r.PriorityMinPaidShare, t.Paid, t.Transactions, r.WindowDays, 100*r.PriorityMinPaidShare)})
	}
	return out
}

// Verdict is what the lists a booking's subjects are on do to it.
type Verdict struct {
	Block bool
	// Hold replaces the hold length when positive.
	Hold  time.Duration
	Delay time.Duration
	// Members are the active memberships that applied.
	Members []Membership
}

// Verdict combines the effects of active memberships: any block blocks,
// the shortest hold and the longest delay win.
func (r ListRules) Verdict(members []Membership) Verdict {
	var v Verdict
	for _, m := range members {
		e := r.Effects[m.List]
		v.Members = append(v.Members, m)
		v.Block = v.Block || e.Block
		if h := time.Duration(e.HoldMinutes) * time.Minute; h > 0 && (v.Hold == 0 || h < v.Hold) {
			v.Hold = h
		}
		v.Delay = max(v.Delay, time.Duration(e.DelayMillis)*time.Millisecond)
	}
	return v
}
