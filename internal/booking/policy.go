package booking

import (
	"context"
	"encoding/json"
	"time"

	"piao/internal/fault"
)

// PolicySetting is the settings key the booking policy is stored under.
const PolicySetting = "booking_policy"

// Policy is the operator's configuration of preferences and the waitlist
// (SPEC R8, R9). Every field is editable; the zero value of a field left out
// of the stored JSON keeps its default.
type Policy struct {
	// ElderlyLower gives passengers aged ElderlyAge or over (from the birth
	// date in their ID number) a lower berth first when they ask for any
	// berth and one is free.
	ElderlyLower bool `json:"elderly_lower"`
	ElderlyAge   int  `json:"elderly_age"`
	// RepeatBerthFirst is the paper's proposal 1: a passenger who cancelled
	// a non-lower berth on a train date and books it again asking for any
	// berth is served a lower berth first.
	RepeatBerthFirst bool `json:"repeat_berth_first"`
	// RepeatBerthCancels is how many middle or upper berths of a train
	// date a passenger must have cancelled to count (default 2: the
	// paper's "多次").
	RepeatBerthCancels int `json:"repeat_berth_cancels"`
	// WaitlistMaxActive caps the waitlist entries an account has unpaid or
	// waiting at once.
	WaitlistMaxActive int `json:"waitlist_max_active"`
	// WaitlistMaxOptions caps the options (train, date, class, berth) of
	// one entry.
	WaitlistMaxOptions int `json:"waitlist_max_options"`
	// WaitlistPriorityFirst queues entries of priority-list members ahead
	// of the others.
	WaitlistPriorityFirst bool `json:"waitlist_priority_first"`
}

// DefaultPolicy returns the defaults: lower berths first for passengers of
// 60 and over, proposal 1 on, three active waitlist entries per account of
// up to six options each, priority-list members first.
func DefaultPolicy() Policy {
	return Policy{ElderlyLower: true, ElderlyAge: 60, RepeatBerthFirst: true, RepeatBerthCancels: 2, WaitlistMaxActive: 3, WaitlistMaxOptions: 6, WaitlistPriorityFirst: true}
}

// Validate checks the numbers.
func (p Policy) Validate() error {
	bad := func(field, zh, en string) error {
		return fault.New(fault.Invalid, "bad_policy", "购票策略 "+field+"："+zh, "booking policy "+field+": "+en)
	}
	if p.ElderlyAge < 1 || p.ElderlyAge > 150 {
		return bad("elderly_age", "须在 1–150 之间", "must be 1–150")
	}
	if p.RepeatBerthCancels < 1 || p.RepeatBerthCancels > 100 {
		return bad("repeat_berth_cancels", "须在 1–100 之间", "must be 1–100")
	}
	if p.WaitlistMaxActive < 1 || p.WaitlistMaxActive > 100 {
		return bad("waitlist_max_active", "须在 1–100 之间", "must be 1–100")
	}
	if p.WaitlistMaxOptions < 1 || p.WaitlistMaxOptions > 20 {
		return bad("waitlist_max_options", "须在 1–20 之间", "must be 1–20")
	}
	return nil
}

// Policy returns the booking policy in force.
func (s *Service) Policy(ctx context.Context) (Policy, error) {
	p := DefaultPolicy()
	v, err := s.store.Setting(ctx, PolicySetting)
	if err != nil || v == "" {
		return p, err
	}
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return DefaultPolicy(), fault.Wrap(err, "read setting "+PolicySetting)
	}
	return p, nil
}

// SetPolicy replaces the booking policy after validating it; reason is
// why, for the audit trail.
func (s *Service) SetPolicy(ctx context.Context, p Policy, reason string) error {
	if err := p.Validate(); err != nil {
		return err
	}
	before, err := s.Policy(ctx)
	if err != nil {
		return err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return fault.Wrap(err, "encode policy")
	}
	err = s.queue(ctx, func(b2 *batch) error { return b2.tx.SetSetting(PolicySetting, string(b)) })
	s.policy.mu.Lock()
	s.policy.at = time.Time{} // this process sees the change at once
	s.policy.mu.Unlock()
	if err != nil {
		return err
	}
	return s.cfg.Audit.Record(ctx, "booking.policy.set", "booking_policy", before, p, reason)
}
