package subsidy

import (
	"context"
	"time"

	"piao/internal/fault"
)

// The store's refusals, the same on every engine.
var (
	ErrSchemeNotFound    = fault.New(fault.NotFound, "scheme_not_found", "补贴方案不存在", "subsidy scheme not found")
	ErrSchemeExists      = fault.New(fault.Conflict, "scheme_exists", "补贴方案编号已被使用", "a scheme with this ID exists already")
	ErrEnrolmentNotFound = fault.New(fault.NotFound, "enrolment_not_found", "补贴申请不存在", "enrolment not found")
	// ErrPending refuses a second application of an account to a scheme
	// while one waits for review, even when two arrive at once.
	ErrPending = fault.New(fault.Conflict, "application_pending", "已有待审核的申请，请等待审核结果", "an application is already waiting for review")
	// ErrStale refuses to store a transition decided on an enrolment that
	// changed meanwhile, such as a second operator deciding the same
	// application: the first decision stands.
	ErrStale = fault.New(fault.Conflict, "enrolment_changed", "该申请已被他人处理，请刷新后查看", "the enrolment changed meanwhile; reload it")
)

// Filter selects enrolments to list, oldest first.
type Filter struct {
	// States keeps enrolments in any of these stored states (empty: all).
	States []State
	// Awaiting keeps only those waiting for the operator: applications,
	// and enrolments with a renewal pending.
	Awaiting bool
	// SchemeID keeps one scheme's enrolments ("" for all).
	SchemeID string
	// UntilBefore keeps those whose Until is set and at or before it
	// (zero: no bound), as the expiry sweep needs.
	UntilBefore time.Time
	// AfterID keeps IDs above it, to page on.
	AfterID int64
	// Limit is at most 1000 (default 100).
	Limit int
}

// Bounded returns f with its limit made explicit: 100 by default, at
// most 1000. Stores page with it.
func (f Filter) Bounded() Filter {
	switch {
	case f.Limit <= 0:
		f.Limit = 100
	case f.Limit > 1000:
		f.Limit = 1000
	}
	return f
}

// Store keeps subsidy schemes and enrolments. Each method is one
// transaction.
type Store interface {
	// CreateScheme stores a new scheme; an ID taken is ErrSchemeExists.
	CreateScheme(ctx context.Context, s Scheme, at time.Time) error
	// Scheme returns a scheme by ID.
	Scheme(ctx context.Context, id string) (Scheme, error)
	// Schemes lists every scheme by ID.
	Schemes(ctx context.Context) ([]Scheme, error)

	// CreateEnrolment stores a new application (state applied), setting
	// e.ID; one already waiting for the same account and scheme is
	// ErrPending and nothing is written.
	CreateEnrolment(ctx context.Context, e *Enrolment) error
	// Enrolment returns an enrolment by ID.
	Enrolment(ctx context.Context, id int64) (Enrolment, error)
	// AccountEnrolments lists an account's enrolments, newest first.
	AccountEnrolments(ctx context.Context, account int64) ([]Enrolment, error)
	// Enrolments lists enrolments matching f, by ID.
	Enrolments(ctx context.Context, f Filter) ([]Enrolment, error)
	// UpdateEnrolment stores e, the result of one transition on the
	// stored enrolment of its ID: the stored one must have exactly one
	// event less than e (the check that nobody changed it meanwhile),
	// else ErrStale and nothing is written.
	UpdateEnrolment(ctx context.Context, e Enrolment) error
}

// Awaiting reports whether e waits for the operator: an application or a
// pending renewal.
func (e Enrolment) Awaiting() bool {
	return e.State == Applied || e.Renewal != nil && (e.State == Active || e.State == Expired)
}
