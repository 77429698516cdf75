// Package governance keeps the booking channel healthy (SPEC G1–G3): daily
// limits on manual cancels per booking account and per passenger document,
// and the restricted, priority and suspected-malicious lists with their
// rules, memberships and effects at booking.
//
// The rules and day arithmetic are pure. Service keeps list memberships
// through a Store and evaluates the list rules over booking transactions.
package governance

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"piao/internal/fault"
)

// SettingName is the settings key the rules are stored under, as JSON.
const SettingName = "governance_rules"

// Rules is the governance configuration. Every number is editable by an
// operator; zero disables a limit.
type Rules struct {
	// DayStart is when the service day begins in Asia/Shanghai, "HH:MM"
	// (default "00:00"): daily counts and bans reset then.
	DayStart string `json:"day_start"`
	// AccountCancelLimit is how many orders a booking account may cancel
	// by hand per day (12306: 3); once reached, the account cannot book
	// again until the day ends (G1).
	AccountCancelLimit int `json:"account_cancel_limit"`
	// DocumentWarnAt is how many cancels of one passenger's tickets, across
	// all accounts, bring a warning (G2).
	DocumentWarnAt int `json:"document_warn_at"`
	// DocumentCancelLimit is how many cancels of one passenger's tickets,
	// across all accounts, ban that passenger from booking for the rest of
	// the day (G2).
	DocumentCancelLimit int `json:"document_cancel_limit"`
	// CountExpiries adds automatic returns (holds that ran out) to the
	// passenger's count. They are always counted, separately.
	CountExpiries bool `json:"count_expiries"`
	// Lists holds the list rules and their effects (G3).
	Lists ListRules `json:"lists"`
}

// ListRules defines when a subject joins a list and what a list does.
type ListRules struct {
	// WindowDays is the rolling window the rules look at (default 30).
	WindowDays int `json:"window_days"`
	// MembershipDays is how long a rule-made membership lasts (default 30);
	// a subject that still matches is renewed.
	MembershipDays int `json:"membership_days"`
	// RestrictedMinOrders: every transaction in the window cancelled or
	// expired, none paid, and at least this many → restricted (default 5).
	RestrictedMinOrders int `json:"restricted_min_orders"`
	// PriorityMinPaidShare: at least this share of transactions paid
	// (default 0.7) with at least PriorityMinTransactions (default 3) →
	// priority.
	PriorityMinPaidShare    float64 `json:"priority_min_paid_share"`
	PriorityMinTransactions int     `json:"priority_min_transactions"`
	// MaliciousOverCancels: more than this many manual cancels in the
	// window → suspected malicious (default 100).
	MaliciousOverCancels int `json:"malicious_over_cancels"`
	// Effects says what each list does at booking.
	Effects map[List]Effect `json:"effects"`
}

// Effect is what a list does to its members' bookings.
type Effect struct {
	// HoldMinutes replaces the hold length (0: unchanged). The shortest hold
	// of the lists a booking touches wins.
	HoldMinutes int `json:"hold_minutes,omitempty"`
	// DelayMillis puts the booking in a slow lane: it waits this long before
	// it competes for seats, so others are served first.
	DelayMillis int `json:"delay_millis,omitempty"`
	// Block refuses the booking.
	Block bool `json:"block,omitempty"`
}

// DefaultRules returns the paper's and 12306's numbers.
func DefaultRules() Rules {
	return Rules{
		DayStart:            "00:00",
		AccountCancelLimit:  3,
		DocumentWarnAt:      2,
		DocumentCancelLimit: 3,
		Lists: ListRules{
			WindowDays:              30,
			MembershipDays:          30,
			RestrictedMinOrders:     5,
			PriorityMinPaidShare:    0.7,
			PriorityMinTransactions: 3,
			MaliciousOverCancels:    100,
			Effects: map[List]Effect{
				Restricted: {HoldMinutes: 10, DelayMillis: 2000},
				Malicious:  {Block: true},
				Priority:   {},
			},
		},
	}
}

// ParseRules reads rules stored as JSON; "" gives the defaults, and fields
// left out keep their default values.
func ParseRules(s string) (Rules, error) {
	r := DefaultRules()
	if s == "" {
		return r, nil
	}
	r.Lists.Effects = nil
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return Rules{}, fault.Newf(fault.Invalid, "bad_rules", "治理规则格式错误：%v", "the governance rules are malformed: %v", err)
	}
	if r.Lists.Effects == nil {
		r.Lists.Effects = DefaultRules().Lists.Effects
	}
	return r, r.Validate()
}

// Validate checks every field.
func (r Rules) Validate() error {
	bad := func(field, zh, en string) error {
		return fault.New(fault.Invalid, "bad_rules", "治理规则 "+field+"："+zh, "governance rule "+field+": "+en)
	}
	if _, err := parseClock(r.DayStart); err != nil {
		return bad("day_start", "须为 HH:MM", "must be HH:MM")
	}
	for name, v := range map[string]int{
		"account_cancel_limit": r.AccountCancelLimit, "document_warn_at": r.DocumentWarnAt,
		"document_cancel_limit": r.DocumentCancelLimit, "restricted_min_orders": r.Lists.RestrictedMinOrders,
		"priority_min_transactions": r.Lists.PriorityMinTransactions, "malicious_over_cancels": r.Lists.MaliciousOverCancels,
	} {
		if v < 0 || v > 100000 {
			return bad(name, "须在 0–100000 之间", "must be 0–100000")
		}
	}
	if r.DocumentCancelLimit > 0 && r.DocumentWarnAt >= r.DocumentCancelLimit {
		return bad("document_warn_at", "须小于 document_cancel_limit", "must be below document_cancel_limit")
	}
	if r.Lists.WindowDays < 1 || r.Lists.WindowDays > 366 {
		return bad("lists.window_days", "须在 1–366 之间", "must be 1–366")
	}
	if r.Lists.MembershipDays < 1 || r.Lists.MembershipDays > 3660 {
		return bad("lists.membership_days", "须在 1–3660 之间", "must be 1–3660")
	}
	if s := r.Lists.PriorityMinPaidShare; !(s > 0 && s <= 1) {
		return bad("lists.priority_min_paid_share", "须在 (0, 1] 之间", "must be in (0, 1]")
	}
	for l, e := range r.Lists.Effects {
		if !l.Valid() {
			return bad("lists.effects", "未知名单 "+string(l), "unknown list "+string(l))
		}
		if e.HoldMinutes < 0 || e.HoldMinutes > 24*60 || e.DelayMillis < 0 || e.DelayMillis > 60000 {
			return bad("lists.effects."+string(l), "保留时长 0–1440 分钟，延迟 0–60000 毫秒", "hold 0–1440 minutes, delay 0–60000 ms")
		}
	}
	return nil
}

// parseClock reads "HH:MM" as a duration after midnight.
func parseClock(s string) (time.Duration, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || hh > 23 || mm > 59 || hh < 0 || mm < 0 {
		return 0, fmt.Errorf("bad clock %q", s)
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, nil
}

func jsonMarshal(r Rules) (string, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return "", fault.Wrap(err, "encode rules")
	}
	return string(b), nil
}
