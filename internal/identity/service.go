package identity

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"piao/internal/abuse"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"piao/internal/audit"
	"piao/internal/fault"
)

// Service logs people in and out and tells who holds a token.
type Service struct {
	Store      Store
	Now        func() time.Time
	Params     Params
	SessionTTL time.Duration // console sessions
	TokenTTL   time.Duration // API bearer tokens
	// Lockout locks an account's logins after failed ones (SPEC S5); the
	// zero value never locks.
	Lockout abuse.Lockout
	// Audit records accounts created, operators' unlocks and credential
	// changes; nil records nothing.
	Audit *audit.Log
	// hashes caps the password hashes running at once (see SetHashSlots).
	hashes *hashSlots
}

// NewService returns a service with production defaults.
func NewService(s Store, now func() time.Time) *Service {
	d := abuse.Defaults()
	svc := &Service{Store: s, Now: now, Params: DefaultParams, SessionTTL: 12 * time.Hour, TokenTTL: 30 * 24 * time.Hour, Lockout: d.Lockout}
	svc.SetHashSlots(d.HashSlots, d.HashWait)
	return svc
}

// Principal is who is making a request: an account, or nobody (zero value).
type Principal struct {
	Account Account
	Token   Token
}

// Role returns the principal's role, empty for anonymous.
func (p Principal) Role() Role { return p.Account.Role }

// Actor is the principal as the audit trail names who acts.
func (p Principal) Actor() audit.Actor {
	return audit.Actor{AccountID: p.Account.ID, Username: p.Account.Username, Role: string(p.Account.Role)}
}

// Anonymous reports whether nobody is logged in.
func (p Principal) Anonymous() bool { return p.Account.ID == 0 }

var errBadLogin = fault.New(fault.Unauthorized, "bad_credentials", "用户名或密码错误", "wrong username or password")

// NewAccount describes an account to create.
type NewAccount struct {
	Username    string `json:"username"`
	Phone       string `json:"phone,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
	Role        Role   `json:"role"`
	Password    string `json:"password"`
	// Reason is why the account is made, kept in the audit trail.
	Reason string `json:"reason,omitempty" maxLength:"500" doc:"Why the account is made, kept in the audit trail"`
	// Merchant and Grants make a merchant's account; only the merchant
	// service sets them, never a request body.
	Merchant int64        `json:"-"`
	Grants   []Permission `json:"-"`
	// PasswordHash, when set, is used instead of hashing Password: the
	// hash HashNewPassword made when a merchant applied.
	PasswordHash string `json:"-"`
}

var errWeakPassword = fault.New(fault.Invalid, "weak_password", "密码至少 8 个字符", "a password needs at least 8 characters")

// HashNewPassword checks a new password's strength and hashes it, under
// the cap on concurrent hashing.
func (s *Service) HashNewPassword(ctx context.Context, password string) (string, error) {
	if utf8.RuneCountInString(password) < 8 || len(password) > 256 {
		return "", errWeakPassword
	}
	var hash string
	var hashErr error
	if err := s.hashes.run(ctx, false, func() { hash, hashErr = HashPassword(password, s.Params) }); err != nil {
		return "", err
	}
	if hashErr != nil {
		return "", fault.Wrap(hashErr, "hash password")
	}
	return hash, nil
}

// CreateAccount validates and stores a new account with a hashed password.
func (s *Service) CreateAccount(ctx context.Context, n NewAccount) (Account, error) {
	n.Username = strings.TrimSpace(n.Username)
	if n.Username == "" || len(n.Username) > 64 || strings.ContainsAny(n.Username, " \t\r\n@") || !utf8.ValidString(n.Username) {
		return Account{}, fault.New(fault.Invalid, "bad_username", "用户名须为 1–64 个字符，不含空格和 @", "a username is 1–64 characters without spaces or @")
	}
	if n.Phone != "" && !validPhone(n.Phone) {
		return Account{}, fault.New(fault.Invalid, "bad_phone", "手机号须为 11 位数字，以 1 开头", "a phone number is 11 digits starting with 1")
	}
	if !n.Role.Valid() {
		return Account{}, fault.Newf(fault.Invalid, "bad_role", "未知角色 %q", "unknown role %q", n.Role)
	}
	if merchantRole(n.Role) != (n.Merchant > 0) {
		return Account{}, fault.New(fault.Invalid, "merchant_role", "商户账号须属于一个商户，其他账号不能属于商户", "a merchant's account belongs to a merchant; no other account does")
	}
	if len(n.Grants) > 0 && n.Role != MerchantStaff {
		return Account{}, fault.New(fault.Invalid, "grants_for_staff", "只有商户员工账号可授予权限", "only merchant staff accounts hold grants")
	}
	if err := ValidGrants(n.Grants); err != nil {
		return Account{}, err
	}
	hash := n.PasswordHash
	if hash == "" {
		var err error
		if hash, err = s.HashNewPassword(ctx, n.Password); err != nil {
			return Account{}, err
		}
	}
	if n.DisplayName == "" {
		n.DisplayName = n.Username
	}
	a, err := s.Store.CreateAccount(ctx, Account{Username: n.Username, Phone: n.Phone, DisplayName: n.DisplayName, Role: n.Role, PasswordHash: hash, CreatedAt: s.Now(), Merchant: n.Merchant, Grants: n.Grants})
	if err != nil {
		return Account{}, err
	}
	// The trail keeps who the account is and its role, never its password
	// hash or phone number.
	after := struct {
		ID          int64  `json:"id"`
		Username    string `json:"username"`
		DisplayName string `json:"display_name"`
		Role        Role   `json:"role"`
	}{a.ID, a.Username, a.DisplayName, a.Role}
	if err := s.Audit.Record(ctx, "account.create", accountSubject(a.ID), nil, after, n.Reason); err != nil {
		return Account{}, err
	}
	return a, nil
}

func validPhone(p string) bool {
	if len(p) != 11 || p[0] != '1' {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

// Login checks a username (or phone) and password and issues a token of
// kind; it returns the secret to hand to the client and the account.
func (s *Service) Login(ctx context.Context, login, password string, kind TokenKind) (string, Account, error) {
	a, err := s.Store.AccountByLogin(ctx, strings.TrimSpace(login))
	if fault.Is(err, fault.NotFound) {
		// Spend the same time as a real check so timing does not tell which logins exist.
		if _, err := s.checkPassword(ctx, dummyHash, password); err != nil {
			return "", Account{}, err
		}
		return "", Account{}, errBadLogin
	}
	if err != nil {
		return "", Account{}, err
	}
	if err := s.verifyPassword(ctx, a, password, errBadLogin); err != nil {
		return "", Account{}, err
	}
	secret, err := s.Issue(ctx, a.ID, kind)
	return secret, a, err
}

// verifyPassword checks an account's password under the lockout: a locked
// account is refused without a hash, a wrong password counts a failure
// (and may lock), a right one clears the count. wrong is the refusal of a
// wrong password or a disabled account. Logging in and minting a token
// both go through it, so neither is a way around the other's lock.
func (s *Service) verifyPassword(ctx context.Context, a Account, password string, wrong error) error {
	now := s.Now()
	failures, err := s.Store.LoginFailures(ctx, a.ID)
	if err != nil {
		return err
	}
	if now.Before(failures.LockedUntil) {
		// Locked: refused without a hash, so a locked account costs nothing to guess at.
		return errLocked(failures.LockedUntil)
	}
	ok, err := s.checkPassword(ctx, a.PasswordHash, password)
	if err != nil {
		return err
	}
	if a.Disabled {
		return wrong
	}
	if !ok {
		if err := s.loginFailed(ctx, a.ID, now); err != errBadLogin {
			return err // locked now, or the count could not be kept
		}
		return wrong
	}
	if failures.Failures > 0 {
		return s.Store.ClearLoginFailures(ctx, a.ID)
	}
	return nil
}

// dummyHash has the production parameters; it matches no password.
const dummyHash = "$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// Issue creates a token of kind for an account and returns its secret.
func (s *Service) Issue(ctx context.Context, accountID int64, kind TokenKind) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fault.Wrap(err, "token entropy")
	}
	secret := "piao_" + base64.RawURLEncoding.EncodeToString(raw)
	ttl := s.TokenTTL
	if kind == SessionToken {
		ttl = s.SessionTTL
	}
	now := s.Now()
	err := s.Store.CreateToken(ctx, Token{Hash: hashSecret(secret), AccountID: accountID, Kind: kind, CreatedAt: now, ExpiresAt: now.Add(ttl)})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// Authenticate returns the principal holding secret, which must be a
// token of kind: a console session is not an API token and the reverse,
// so a leaked cookie cannot drive the API nor a leaked API token a browser.
func (s *Service) Authenticate(ctx context.Context, secret string, kind TokenKind) (Principal, error) {
	invalid := fault.New(fault.Unauthorized, "invalid_token", "登录已失效，请重新登录", "the token is invalid or expired; log in again")
	if !strings.HasPrefix(secret, "piao_") || len(secret) > 100 {
		return Principal{}, invalid
	}
	t, a, err := s.Store.Credential(ctx, hashSecret(secret))
	if fault.Is(err, fault.NotFound) {
		return Principal{}, invalid
	}
	if err != nil {
		return Principal{}, err
	}
	if !s.Now().Before(t.ExpiresAt) || a.Disabled {
		return Principal{}, invalid
	}
	if t.Kind != kind {
		if kind == APIToken {
			return Principal{}, fault.New(fault.Unauthorized, "session_not_api_token", "控制台会话不能用作 API 令牌，请用 POST /api/v1/auth/login 获取令牌", "a console session is not an API token; get one from POST /api/v1/auth/login")
		}
		return Principal{}, invalid
	}
	return Principal{Account: a, Token: t}, nil
}

// MintToken issues an additional API token for the principal's account
// after checking its password again: holding a session (or a token) is not
// enough to mint a credential that outlives it.
func (s *Service) MintToken(ctx context.Context, p Principal, password string) (string, error) {
	a, err := s.Store.AccountByID(ctx, p.Account.ID)
	if err != nil {
		return "", err
	}
	if err := s.verifyPassword(ctx, a, password, fault.New(fault.Unauthorized, "bad_password", "密码错误", "wrong password")); err != nil {
		return "", err
	}
	secret, err := s.Issue(ctx, a.ID, APIToken)
	if err != nil {
		return "", err
	}
	return secret, s.Audit.Record(ctx, "account.token.mint", accountSubject(a.ID), nil, nil, "")
}

// Credential is one of an account's live sessions or API tokens as its
// holder sees it: never the secret, only a short public ID.
type Credential struct {
	ID        string    `json:"id" doc:"Public ID of the credential (not a secret)"`
	Kind      TokenKind `json:"kind" enum:"session,api"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Current   bool      `json:"current" doc:"The credential of this request"`
}

// credentialID is a token's public ID: the first 8 bytes of its hash in
// hex. The hash is of a 256-bit random secret, so the ID reveals nothing.
func credentialID(hash []byte) string { return hex.EncodeToString(hash[:8]) }

// Credentials lists the principal's live sessions and API tokens, newest first.
func (s *Service) Credentials(ctx context.Context, p Principal) ([]Credential, error) {
	ts, err := s.Store.TokensOf(ctx, p.Account.ID, s.Now())
	if err != nil {
		return nil, err
	}
	out := make([]Credential, len(ts))
	for i, t := range ts {
		out[i] = Credential{ID: credentialID(t.Hash), Kind: t.Kind, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, Current: bytes.Equal(t.Hash, p.Token.Hash)}
	}
	return out, nil
}

// Revoke ends one of the principal's own credentials by its public ID.
func (s *Service) Revoke(ctx context.Context, p Principal, id string) error {
	ts, err := s.Store.TokensOf(ctx, p.Account.ID, s.Now())
	if err != nil {
		return err
	}
	for _, t := range ts {
		if credentialID(t.Hash) == id {
			if err := s.Store.DeleteToken(ctx, t.Hash); err != nil {
				return err
			}
			return s.Audit.Record(ctx, "account.credential.revoke", accountSubject(p.Account.ID), map[string]any{"id": id, "kind": t.Kind}, nil, "")
		}
	}
	return fault.New(fault.NotFound, "credential_not_found", "没有这个会话或令牌", "no such session or token")
}

// RevokeAll ends every session and API token of an account ("log out
// everywhere"), the caller's own included, and returns how many ended.
func (s *Service) RevokeAll(ctx context.Context, accountID int64, reason string) (int, error) {
	if _, err := s.Store.AccountByID(ctx, accountID); err != nil {
		return 0, err
	}
	n, err := s.Store.DeleteTokensOf(ctx, accountID)
	if err != nil {
		return 0, err
	}
	return n, s.Audit.Record(ctx, "account.credential.revoke_all", accountSubject(accountID), nil, map[string]int{"revoked": n}, reason)
}

func accountSubject(id int64) string { return "account:" + strconv.FormatInt(id, 10) }

// Logout revokes the token holding secret.
func (s *Service) Logout(ctx context.Context, secret string) error {
	return s.Store.DeleteToken(ctx, hashSecret(secret))
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}
