// Package identity holds accounts, roles, permissions, password hashing and
// the tokens behind console sessions and API bearer tokens.
//
// It decides who someone is and what they may do; it must never know about
// HTTP. Storage is behind Store.
package identity

import (
	"context"
	"time"
)

// Role is what an account is for. Every account has exactly one role.
type Role string

// The roles of piao's users.
const (
	OperatorAdmin    Role = "operator_admin"
	OperatorReviewer Role = "operator_reviewer"
	OperatorAuditor  Role = "operator_auditor"
	MerchantAdmin    Role = "merchant_admin"
	MerchantStaff    Role = "merchant_staff"
	Passenger        Role = "passenger"
	Partner          Role = "partner"
	Gate             Role = "gate"
)

// Roles lists every role, in display order.
var Roles = []Role{OperatorAdmin, OperatorReviewer, OperatorAuditor, MerchantAdmin, MerchantStaff, Passenger, Partner, Gate}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Account is a login.
type Account struct {
	ID           int64     `json:"id"`
	Username     string    `json:"username"`
	Phone        string    `json:"phone,omitempty"`
	DisplayName  string    `json:"display_name"`
	Role         Role      `json:"role"`
	PasswordHash string    `json:"-"`
	Disabled     bool      `json:"disabled"`
	CreatedAt    time.Time `json:"created_at"`
	// Merchant is the merchant a merchant_admin or merchant_staff account
	// works for (SPEC B1, S2); 0 for every other account.
	Merchant int64 `json:"merchant,omitempty"`
	// Grants are the merchant permissions a merchant_staff account was
	// given by its merchant's admin (分权); other roles ignore them.
	Grants []Permission `json:"grants,omitempty"`
}

// TokenKind tells a console session from an API bearer token.
type TokenKind string

// Token kinds.
const (
	SessionToken TokenKind = "session"
	APIToken     TokenKind = "api"
)

// SessionCookie is the name of the browser cookie that carries a console
// session's secret; the console sets it, and the payment sandbox reads it to
// know the payer as a real provider knows its logged-in user.
const SessionCookie = "piao_session"

// Token is a stored credential. Only the SHA-256 of the secret is kept.
type Token struct {
	Hash      []byte
	AccountID int64
	Kind      TokenKind
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Store keeps accounts and tokens. Each method is one transaction.
type Store interface {
	// CreateAccount stores a new account and returns it with its ID; a
	// username or phone already taken is a conflict.
	CreateAccount(ctx context.Context, a Account) (Account, error)
	// AccountByLogin finds an account by username or phone.
	AccountByLogin(ctx context.Context, login string) (Account, error)
	// AccountByID finds an account by ID.
	AccountByID(ctx context.Context, id int64) (Account, error)
	// SetGrants replaces the merchant permissions of a merchant's account.
	SetGrants(ctx context.Context, id int64, grants []Permission) error
	// SetDisabled disables or enables an account's logins.
	SetDisabled(ctx context.Context, id int64, disabled bool) error
	// MerchantAccounts lists a merchant's accounts, oldest first.
	MerchantAccounts(ctx context.Context, merchant int64) ([]Account, error)
	// SetPassword replaces an account's password hash.
	SetPassword(ctx context.Context, id int64, hash string) error
	// CreateToken stores a token.
	CreateToken(ctx context.Context, t Token) error
	// TokenByHash returns the token with that hash, expired or not.
	TokenByHash(ctx context.Context, hash []byte) (Token, error)
	// Credential returns the token with that hash and its account in one
	// read: what every authenticated request needs. A missing token is
	// not_found.
	Credential(ctx context.Context, hash []byte) (Token, Account, error)
	// DeleteToken removes a token (logout); removing a missing token is not an error.
	DeleteToken(ctx context.Context, hash []byte) error
	// DeleteExpiredTokens removes tokens expired before now and returns how many.
	DeleteExpiredTokens(ctx context.Context, now time.Time) (int, error)
	// TokensOf returns the account's tokens unexpired at now, newest first.
	TokensOf(ctx context.Context, accountID int64, now time.Time) ([]Token, error)
	// DeleteTokensOf removes every token of the account and returns how many.
	DeleteTokensOf(ctx context.Context, accountID int64) (int, error)

	// LoginFailures returns an account's run of failed logins (zero if none).
	LoginFailures(ctx context.Context, accountID int64) (LoginFailures, error)
	// AddLoginFailure counts one failed login at at and returns the count;
	// a run whose last failure was before forgetBefore starts again at 1.
	AddLoginFailure(ctx context.Context, accountID int64, at, forgetBefore time.Time) (int, error)
	// LockLogin locks an account's logins until until, or later if it is
	// already locked longer.
	LockLogin(ctx context.Context, accountID int64, until time.Time) error
	// ClearLoginFailures forgets an account's failed logins and its lock.
	ClearLoginFailures(ctx context.Context, accountID int64) error
}

// LoginFailures is an account's run of failed logins and the lock it led to.
type LoginFailures struct {
	Failures    int       `json:"failures"`
	LastFailure time.Time `json:"last_failure,omitzero"`
	LockedUntil time.Time `json:"locked_until,omitzero"`
}
