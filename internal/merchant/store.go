package merchant

import (
	"context"
	"time"

	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/tenant"
)

// Invitation is a merchant admin's invitation of a staff member: the
// account is made when the invitee accepts it with a password. Only the
// SHA-256 of its token is kept.
type Invitation struct {
	Hash        []byte                `json:"-"`
	Merchant    int64                 `json:"merchant"`
	Username    string                `json:"username"`
	DisplayName string                `json:"display_name"`
	Grants      []identity.Permission `json:"grants"`
	InvitedBy   int64                 `json:"invited_by"`
	CreatedAt   time.Time             `json:"created_at"`
	ExpiresAt   time.Time             `json:"expires_at"`
	AcceptedAt  time.Time             `json:"accepted_at,omitzero"`
	Account     int64                 `json:"account,omitempty"`
}

// Filter selects merchants.
type Filter struct {
	Status Status // empty: every status
	Kind   Kind   // empty: every kind
	Limit  int    // at most 500; 0 means 100
}

// Bounded returns f with its limit in range.
func (f Filter) Bounded() Filter {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 500)
	return f
}

// Store keeps merchants, their events, papers, applicant tokens and staff
// invitations. Every method that reads or changes a merchant's rows takes
// a tenant.Scope and sees nothing outside it: another merchant's row is
// not found.
type Store interface {
	// CreateMerchant stores a new merchant (ID and times are set) with its
	// papers, the hash of its applicant token and its first event, in one
	// transaction. A credit code held by another merchant of its kind that
	// is not rejected is ErrCreditCodeTaken; an admin username another
	// such merchant asked for is ErrUsernameTaken.
	CreateMerchant(ctx context.Context, m Merchant, papers []Paper, applicantToken []byte, ev Event) (Merchant, error)
	// Merchant returns a merchant by ID.
	Merchant(ctx context.Context, scope tenant.Scope, id int64) (Merchant, error)
	// ApplicantMerchant returns the ID of the merchant an applicant token
	// (its hash) belongs to.
	ApplicantMerchant(ctx context.Context, tokenHash []byte) (int64, error)
	// Merchants lists the merchants f selects, newest first.
	Merchants(ctx context.Context, scope tenant.Scope, f Filter) ([]Merchant, error)
	// UpdateMerchant stores m's status, update time, admin account and
	// password hash and suspended accounts, and appends ev, if the stored
	// merchant's status is still from; otherwise ErrStale.
	UpdateMerchant(ctx context.Context, scope tenant.Scope, m Merchant, from Status, ev Event) error
	// Events lists a merchant's events, oldest first.
	Events(ctx context.Context, scope tenant.Scope, id int64) ([]Event, error)
	// AddPapers stores papers of a merchant, if it would then hold at most
	// max (else ErrTooManyPapers), and returns them with their IDs.
	AddPapers(ctx context.Context, scope tenant.Scope, id int64, papers []Paper, max int) ([]Paper, error)
	// Papers lists a merchant's papers without their bytes, oldest first.
	Papers(ctx context.Context, scope tenant.Scope, id int64) ([]Paper, error)
	// Paper returns one paper of a merchant with its bytes.
	Paper(ctx context.Context, scope tenant.Scope, id, paper int64) (Paper, error)

	// CreateInvitation stores an invitation of inv.Merchant, which scope
	// must see.
	CreateInvitation(ctx context.Context, scope tenant.Scope, inv Invitation) error
	// Invitation returns the invitation with that token hash.
	Invitation(ctx context.Context, hash []byte) (Invitation, error)
	// Invitations lists a merchant's invitations not yet accepted and
	// unexpired at now, newest first.
	Invitations(ctx context.Context, scope tenant.Scope, merchant int64, now time.Time) ([]Invitation, error)
	// AcceptInvitation marks an invitation accepted by account at at, if
	// it was not yet; otherwise ErrInvitationUsed.
	AcceptInvitation(ctx context.Context, hash []byte, account int64, at time.Time) error
}

// Errors the stores answer.
var (
	ErrNotFound           = fault.New(fault.NotFound, "merchant_not_found", "没有这个商户", "no such merchant")
	ErrPaperNotFound      = fault.New(fault.NotFound, "paper_not_found", "没有这份材料", "no such paper")
	ErrCreditCodeTaken    = fault.New(fault.Conflict, "credit_code_taken", "该统一社会信用代码已有商户申请或入驻", "a merchant with this unified social credit code has already applied or joined")
	ErrUsernameTaken      = fault.New(fault.Conflict, "username_taken", "该用户名已被使用", "the username is taken")
	ErrStale              = fault.New(fault.Conflict, "merchant_changed", "商户状态已被他人修改，请刷新后重试", "the merchant changed meanwhile; reload and try again")
	ErrTooManyPapers      = fault.Newf(fault.Invalid, "too_many_papers", "每个商户至多 %d 份材料", "a merchant holds at most %d papers", MaxPapers)
	ErrInvitationNotFound = fault.New(fault.NotFound, "invitation_not_found", "邀请不存在或已过期", "no such invitation, or it expired")
	ErrInvitationUsed     = fault.New(fault.Conflict, "invitation_used", "邀请已被接受", "the invitation was already accepted")
)

// ErrNotRunning is what the API and the console answer for onboarding in
// a process that does not run it.
var ErrNotRunning = fault.New(fault.Unavailable, "merchants_unavailable", "商户入驻服务未启动", "merchant onboarding is not running in this process")
