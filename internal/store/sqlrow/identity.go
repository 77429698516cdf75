package sqlrow

import (
	"strings"

	"piao/internal/fault"
	"piao/internal/identity"
)

// The errors both engines' identity stores answer with.
var (
	ErrAccountExists   = fault.New(fault.Conflict, "account_exists", "用户名或手机号已被使用", "the username or phone number is already taken")
	ErrAccountNotFound = fault.New(fault.NotFound, "account_not_found", "账号不存在", "account not found")
	ErrTokenNotFound   = fault.New(fault.NotFound, "token_not_found", "令牌不存在", "token not found")
)

// TokenColumns are the columns of tokens that ScanToken reads.
const TokenColumns = `hash, account_id, kind, created_at, expires_at`

// scanAccount reads AccountColumns, the phone still sealed; no row is ErrAccountNotFound.
func scanAccount(r Row) (identity.Account, error) {
	var a identity.Account
	var created Time
	var grants string
	err := r.Scan(&a.ID, &a.Username, &a.Phone, &a.DisplayName, (*string)(&a.Role), &a.PasswordHash, &a.Disabled, &created, &a.Merchant, &grants)
	if err != nil {
		return identity.Account{}, NoRowsAs(fault.Wrap(err, "scan account"), ErrAccountNotFound)
	}
	a.CreatedAt, a.Grants = created.Time, ParseGrants(grants)
	return a, nil
}

// ScanToken reads TokenColumns; no row is ErrTokenNotFound.
func ScanToken(r Row) (identity.Token, error) {
	var t identity.Token
	var created, expires Time
	err := r.Scan(&t.Hash, &t.AccountID, (*string)(&t.Kind), &created, &expires)
	if err != nil {
		return identity.Token{}, NoRowsAs(fault.Wrap(err, "token by hash"), ErrTokenNotFound)
	}
	t.CreatedAt, t.ExpiresAt = created.Time, expires.Time
	return t, nil
}

// scanCredential reads CredentialColumns, a token and its account (phone
// still sealed); no row is ErrTokenNotFound. Every API call's token check
// runs it, so it scans in one call.
func scanCredential(r Row) (identity.Token, identity.Account, error) {
	var t identity.Token
	var a identity.Account
	var aCreated, tCreated, tExpires Time
	var grants string
	err := r.Scan(&a.ID, &a.Username, &a.Phone, &a.DisplayName, (*string)(&a.Role), &a.PasswordHash, &a.Disabled, &aCreated, &a.Merchant, &grants,
		&t.Hash, (*string)(&t.Kind), &tCreated, &tExpires)
	if err != nil {
		return identity.Token{}, identity.Account{}, NoRowsAs(fault.Wrap(err, "credential"), ErrTokenNotFound)
	}
	t.AccountID, a.Grants = a.ID, ParseGrants(grants)
	a.CreatedAt, t.CreatedAt, t.ExpiresAt = aCreated.Time, tCreated.Time, tExpires.Time
	return t, a, nil
}

// Grants is how an account's grants are stored: permissions joined by commas.
func Grants(gs []identity.Permission) string {
	parts := make([]string, len(gs))
	for i, g := range gs {
		parts[i] = string(g)
	}
	return strings.Join(parts, ",")
}

// ParseGrants reads what Grants stored; nil for none.
func ParseGrants(s string) []identity.Permission {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	out := make([]identity.Permission, len(parts))
	for i, p := range parts {
		out[i] = identity.Permission(p)
	}
	return out
}
