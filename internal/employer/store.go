package employer

import (
	"context"
	"time"

	"piao/internal/fault"
	"piao/internal/ledger"
	"piao/internal/network"
	"piao/internal/tenant"
)

// EmployeeInvitation is a one-time link of an employee to the passenger account
// that accepts it. Only the SHA-256 of its token is kept.
type EmployeeInvitation struct {
	Hash       []byte    `json:"-"`
	Employee   int64     `json:"employee_id"`
	Employer   int64     `json:"employer_id"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	AcceptedAt time.Time `json:"accepted_at,omitzero"`
}

// Store keeps rosters, invitations, allowance rules, top-ups and bills.
// Every method over an employer's rows takes a tenant.Scope and filters
// by it in SQL: another employer's row is not found. Each method is one
// transaction.
type Store interface {
	// TakenOf returns which of numbers and phones the employer's roster
	// holds already.
	TakenOf(ctx context.Context, scope tenant.Scope, employer int64, numbers, phones []string) (takenNumbers, takenPhones map[string]bool, err error)
	// AddEmployees stores employees of one employer, all or none, setting
	// their IDs; a number, phone or account the roster holds already is
	// ErrDuplicate.
	AddEmployees(ctx context.Context, scope tenant.Scope, es []Employee) ([]Employee, error)
	// Employee returns one employee the scope sees.
	Employee(ctx context.Context, scope tenant.Scope, id int64) (Employee, error)
	// Employees lists an employer's employees f selects, by ID.
	Employees(ctx context.Context, scope tenant.Scope, employer int64, f Filter) ([]Employee, error)
	// UpdateEmployee runs fn on an employee the scope sees, locked, and
	// stores what it leaves (ErrDuplicate on a number, phone or account
	// held by another).
	UpdateEmployee(ctx context.Context, scope tenant.Scope, id int64, fn func(*Employee) error) (Employee, error)
	// Offboard marks an active employee offboarded on left at now and, if
	// revokeKey is set, revokes in the same transaction the ticket issued
	// under that key if it is still held (not being gifted), has rides
	// left and is valid at now; it returns how many it revoked.
	Offboard(ctx context.Context, scope tenant.Scope, id int64, left network.Date, revokeKey string, now time.Time) (Employee, int, error)

	// CreateInvitation stores an invitation of an employee the scope sees.
	CreateInvitation(ctx context.Context, scope tenant.Scope, inv EmployeeInvitation) error
	// AcceptInvitation links the invitation's employee (active, not yet
	// linked) to account at now, once: a used, expired or unknown
	// invitation is ErrInvitationNotFound.
	AcceptInvitation(ctx context.Context, hash []byte, account int64, now time.Time) (Employee, error)

	// CreateRule stores an employer's rule, setting its ID; one per
	// employer (ErrRuleExists).
	CreateRule(ctx context.Context, scope tenant.Scope, r *AllowanceRule) error
	// Rule returns an employer's rule (ErrNoRule if none).
	Rule(ctx context.Context, scope tenant.Scope, employer int64) (AllowanceRule, error)
	// Rules lists every rule the scope sees, by ID.
	Rules(ctx context.Context, scope tenant.Scope) ([]AllowanceRule, error)
	// UpdateRule stores a rule's offboarding policy, monthly credit and
	// update time.
	UpdateRule(ctx context.Context, scope tenant.Scope, r AllowanceRule) error

	// CreateTopUp stores a pending top-up, setting its ID.
	CreateTopUp(ctx context.Context, scope tenant.Scope, t *TopUp) error
	// SetTopUpPayment records the gateway payment of a pending top-up.
	SetTopUpPayment(ctx context.Context, scope tenant.Scope, id int64, paymentID, payURL string) error
	// TopUp returns a top-up the scope sees.
	TopUp(ctx context.Context, scope tenant.Scope, id int64) (TopUp, error)
	// TopUps lists an employer's top-ups, newest first.
	TopUps(ctx context.Context, scope tenant.Scope, employer int64, limit int) ([]TopUp, error)
	// PayTopUp marks a pending top-up paid by paymentID at at and posts e
	// in the same transaction; ok is false (nothing written) when the
	// top-up is not pending.
	PayTopUp(ctx context.Context, id int64, paymentID string, at time.Time, e ledger.Entry) (ok bool, err error)
	// CloseTopUp closes a pending top-up at at (ok false if not pending);
	// a refund ID records a late payment given back.
	CloseTopUp(ctx context.Context, id int64, at time.Time, refundID string) (ok bool, err error)
	// DueTopUps lists pending top-ups expired by now, oldest first.
	DueTopUps(ctx context.Context, now time.Time, limit int) ([]TopUp, error)

	// CreateBill stores an employer's bill for its month and posts e in the
	// same transaction (an entry without postings, for a bill of 0, is not
	// posted); a bill of that month stored before is returned instead
	// (created false).
	CreateBill(ctx context.Context, b Bill, e ledger.Entry) (Bill, bool, error)
	// SetBillPayment records the gateway payment of an issued bill.
	SetBillPayment(ctx context.Context, scope tenant.Scope, id int64, paymentID, payURL string) error
	// Bill returns a bill the scope sees.
	Bill(ctx context.Context, scope tenant.Scope, id int64) (Bill, error)
	// Bills lists an employer's bills, newest first.
	Bills(ctx context.Context, scope tenant.Scope, employer int64, limit int) ([]Bill, error)
	// PayBill marks an issued bill paid and posts e with it (ok false when
	// it is not issued).
	PayBill(ctx context.Context, id int64, paymentID string, at time.Time, e ledger.Entry) (ok bool, err error)
	// Charged sums what the ledger's redemptions (and their reversals)
	// drew from party's prepaid account in [from, to): debits less
	// credits of entries other than top-ups and bills.
	Charged(ctx context.Context, prepaid ledger.Code, party string, from, to time.Time) (int64, error)
}

// Errors the store answers.
var (
	ErrNotFound           = fault.New(fault.NotFound, "employee_not_found", "没有这名员工", "there is no such employee")
	ErrDuplicate          = fault.New(fault.Conflict, "employee_duplicate", "工号、手机号或乘客账号已在花名册中", "the number, phone or passenger account is on the roster already")
	ErrInvitationNotFound = fault.New(fault.NotFound, "employee_invitation_not_found", "邀请不存在、已使用或已过期", "no such invitation, or it was used or expired")
	ErrRuleExists         = fault.New(fault.Conflict, "allowance_rule_exists", "该企业已有补贴规则", "the employer has an allowance rule already")
	ErrNoRule             = fault.New(fault.NotFound, "allowance_rule_not_found", "尚未设置补贴规则", "there is no allowance rule yet")
	ErrNotActive          = fault.New(fault.Conflict, "employee_not_active", "该员工已离职", "the employee has left")
)
