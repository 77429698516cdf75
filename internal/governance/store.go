package governance

import (
	"context"
	"time"

	"piao/internal/behaviour"
	"piao/internal/network"
)

// MemberFilter selects memberships for review.
type MemberFilter struct {
	List    List   // "" for every list
	Subject string // "" for every subject
	// ActiveAt, when set, keeps memberships in force at that time only.
	ActiveAt time.Time
	Limit    int // default 100, at most 1000
	Offset   int
}

// Store keeps list memberships with their audit trails, and reads the
// booking transactions and daily counts the rules and reports need.
type Store interface {
	DocumentStore

	// Setting returns a JSON setting by name ("" if unset); SetSetting
	// stores one. Rules live under SettingName.
	Setting(ctx context.Context, name string) (string, error)
	SetSetting(ctx context.Context, name, value string) error

	// Transactions calls fn for every booking transaction (one passenger's
	// ticket on one order) of orders placed in [from, to), in order of
	// placement; train, when not "", keeps that service ID only.
	Transactions(ctx context.Context, from, to time.Time, train string, fn func(behaviour.Transaction) error) error

	// DayCounts returns the counts of subjects on a service day; subjects
	// with none are absent.
	DayCounts(ctx context.Context, day network.Date, subjects []string) (map[string]Counts, error)

	// Members lists memberships newest first, without their audit trails.
	Members(ctx context.Context, f MemberFilter) ([]Membership, error)
	// Member returns one membership with its audit trail, oldest first.
	Member(ctx context.Context, id int64) (Membership, error)
	// AddMember stores a membership, setting its ID, and its first audit entry.
	AddMember(ctx context.Context, m *Membership, a Audit) error
	// ExtendMember moves the expiry of a membership that was not lifted and
	// records a; it reports false if the membership was lifted.
	ExtendMember(ctx context.Context, id int64, expires time.Time, a Audit) (bool, error)
	// LiftMember ends a membership that was not lifted and records a; it
	// reports false if it was lifted already.
	LiftMember(ctx context.Context, id int64, at time.Time, by, reason string, a Audit) (bool, error)
}
