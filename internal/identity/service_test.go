package identity_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/store/storetest"
	"piao/internal/testclock"
)

// fastParams keeps argon2id cheap in tests.
var fastParams = identity.Params{Memory: 1024, Time: 1, Threads: 1}

func newService(t *testing.T) (*identity.Service, *testclock.Clock) {
	t.Helper()
	c := testclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	s := identity.NewService(storetest.OpenSQLite(t).Identity, c.Now)
	s.Params = fastParams
	return s, c
}

func wantReason(t *testing.T, err error, code fault.Code, reason string) {
	t.Helper()
	if !fault.Is(err, code) || fault.As(err).Reason != reason {
		t.Errorf("err = %v, want %s/%s", err, code, reason)
	}
}

// TestCreateAccountValidation checks every rejected field and a valid account.
func TestCreateAccountValidation(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	ok := identity.NewAccount{Username: "alice", Phone: "13800000000", Role: identity.Passenger, Password: "correct horse"}
	cases := []struct {
		name   string
		edit   func(*identity.NewAccount)
		reason string
	}{
		{"empty username", func(n *identity.NewAccount) { n.Username = "" }, "bad_username"},
		{"blank username", func(n *identity.NewAccount) { n.Username = "   " }, "bad_username"},
		{"space in username", func(n *identity.NewAccount) { n.Username = "al ice" }, "bad_username"},
		{"tab in username", func(n *identity.NewAccount) { n.Username = "al\tice" }, "bad_username"},
		{"@ in username", func(n *identity.NewAccount) { n.Username = "alice@example.com" }, "bad_username"},
		{"long username", func(n *identity.NewAccount) { n.Username = strings.Repeat("a", 65) }, "bad_username"},
		{"invalid utf-8 username", func(n *identity.NewAccount) { n.Username = "al\xffice" }, "bad_username"},
		{"short phone", func(n *identity.NewAccount) { n.Phone = "1380000000" }, "bad_phone"},
		{"long phone", func(n *identity.NewAccount) { n.Phone = "138000000000" }, "bad_phone"},
		{"phone not starting with 1", func(n *identity.NewAccount) { n.Phone = "23800000000" }, "bad_phone"},
		{"phone with letters", func(n *identity.NewAccount) { n.Phone = "1380000000x" }, "bad_phone"},
		{"phone with plus", func(n *identity.NewAccount) { n.Phone = "+8613800000" }, "bad_phone"},
		{"empty role", func(n *identity.NewAccount) { n.Role = "" }, "bad_role"},
		{"unknown role", func(n *identity.NewAccount) { n.Role = "root" }, "bad_role"},
		{"short password", func(n *identity.NewAccount) { n.Password = "1234567" }, "weak_password"},
		{"short multibyte password", func(n *identity.NewAccount) { n.Password = "密码密码密码密" }, "weak_password"},
		{"overlong password", func(n *identity.NewAccount) { n.Password = strings.Repeat("p", 257) }, "weak_password"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := ok
			c.edit(&n)
			_, err := s.CreateAccount(ctx, n)
			wantReason(t, err, fault.Invalid, c.reason)
		})
	}

	// The valid request succeeds, trims the username and defaults the display name.
	n := ok
	n.Username = "  alice  "
	a, err := s.CreateAccount(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == 0 || a.Username != "alice" || a.DisplayName != "alice" || a.Phone != ok.Phone || a.Role != identity.Passenger {
		t.Errorf("account = %+v", a)
	}
	if !a.CreatedAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("CreatedAt = %v, want the clock's time", a.CreatedAt)
	}
	if a.PasswordHash == ok.Password || !identity.CheckPassword(a.PasswordHash, ok.Password) {
		t.Errorf("password hash %q does not check", a.PasswordHash)
	}

	// Other valid shapes: multibyte username of 64 bytes, no phone, 8-rune password.
	n = identity.NewAccount{Username: strings.Repeat("票", 21) + "a", Role: identity.Gate, Password: "密码密码密码密码", DisplayName: "闸机"}
	if a, err := s.CreateAccount(ctx, n); err != nil {
		t.Errorf("create %q: %v", n.Username, err)
	} else if a.DisplayName != "闸机" {
		t.Errorf("display name = %q", a.DisplayName)
	}

	// Duplicates are conflicts from the store.
	_, err = s.CreateAccount(ctx, ok)
	wantReason(t, err, fault.Conflict, "account_exists")
}

func mustCreate(t *testing.T, s *identity.Service, n identity.NewAccount) identity.Account {
	t.Helper()
	a, err := s.CreateAccount(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestLogin checks login by username and phone, and that failures look alike.
func TestLogin(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	a := mustCreate(t, s, identity.NewAccount{Username: "alice", Phone: "13800000000", Role: identity.Passenger, Password: "correct horse"})

	for _, login := range []string{"alice", " alice ", "13800000000"} {
		secret, got, err := s.Login(ctx, login, "correct horse", identity.SessionToken)
		if err != nil {
			t.Fatalf("Login(%q): %v", login, err)
		}
		if got.ID != a.ID || !strings.HasPrefix(secret, "piao_") {
			t.Errorf("Login(%q) = %q, %+v", login, secret, got)
		}
		p, err := s.Authenticate(ctx, secret, identity.SessionToken)
		if err != nil {
			t.Fatal(err)
		}
		if p.Account.ID != a.ID || p.Role() != identity.Passenger || p.Anonymous() || p.Token.Kind != identity.SessionToken {
			t.Errorf("principal = %+v", p)
		}
	}

	// Wrong password and unknown login look the same.
	_, _, errWrong := s.Login(ctx, "alice", "wrong horse", identity.SessionToken)
	_, _, errUnknown := s.Login(ctx, "bob", "correct horse", identity.SessionToken)
	_, _, errEmpty := s.Login(ctx, "alice", "", identity.SessionToken)
	for _, err := range []error{errWrong, errUnknown, errEmpty} {
		wantReason(t, err, fault.Unauthorized, "bad_credentials")
	}
	if fault.As(errWrong).EN != fault.As(errUnknown).EN || fault.As(errWrong).ZH != fault.As(errUnknown).ZH {
		t.Errorf("messages differ: %v vs %v", errWrong, errUnknown)
	}
}

// TestAuthenticate checks valid, expired, logged-out and garbage tokens.
func TestAuthenticate(t *testing.T) {
	s, c := newService(t)
	ctx := context.Background()
	mustCreate(t, s, identity.NewAccount{Username: "alice", Role: identity.Passenger, Password: "correct horse"})

	session, _, err := s.Login(ctx, "alice", "correct horse", identity.SessionToken)
	if err != nil {
		t.Fatal(err)
	}
	api, _, err := s.Login(ctx, "alice", "correct horse", identity.APIToken)
	if err != nil {
		t.Fatal(err)
	}
	if session == api {
		t.Fatal("two logins gave the same secret")
	}
	p, err := s.Authenticate(ctx, api, identity.APIToken)
	if err != nil {
		t.Fatal(err)
	}
	if p.Token.Kind != identity.APIToken || !p.Token.ExpiresAt.Equal(c.Now().Add(s.TokenTTL)) {
		t.Errorf("api token = %+v", p.Token)
	}

	// Just before the session expires it still works; at expiry it does not.
	c.Advance(s.SessionTTL - time.Second)
	if _, err := s.Authenticate(ctx, session, identity.SessionToken); err != nil {
		t.Errorf("session before expiry: %v", err)
	}
	c.Advance(time.Second)
	_, err = s.Authenticate(ctx, session, identity.SessionToken)
	wantReason(t, err, fault.Unauthorized, "invalid_token")
	// The API token lives longer.
	if _, err := s.Authenticate(ctx, api, identity.APIToken); err != nil {
		t.Errorf("api token after session expiry: %v", err)
	}

	// Logged-out tokens stop working; logging out twice is fine.
	if err := s.Logout(ctx, api); err != nil {
		t.Fatal(err)
	}
	_, err = s.Authenticate(ctx, api, identity.APIToken)
	wantReason(t, err, fault.Unauthorized, "invalid_token")
	if err := s.Logout(ctx, api); err != nil {
		t.Errorf("second logout: %v", err)
	}

	// Garbage never authenticates.
	for _, g := range []string{"", "piao_", "piao_garbage", "Bearer piao_x", "nonsense", "piao_" + strings.Repeat("A", 200), api[:len(api)-1]} {
		_, err := s.Authenticate(ctx, g, identity.APIToken)
		wantReason(t, err, fault.Unauthorized, "invalid_token")
	}
}

// TestDisabledAccount checks that a disabled account can neither log in nor use a token.
func TestDisabledAccount(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	hash, err := identity.HashPassword("correct horse", fastParams)
	if err != nil {
		t.Fatal(err)
	}
	// The service creates only enabled accounts, so store a disabled one directly.
	a, err := s.Store.CreateAccount(ctx, identity.Account{Username: "alice", DisplayName: "alice", Role: identity.Passenger, PasswordHash: hash, Disabled: true, CreatedAt: s.Now()})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Login(ctx, "alice", "correct horse", identity.SessionToken)
	wantReason(t, err, fault.Unauthorized, "bad_credentials")

	// A token issued before the account was disabled stops working.
	secret, err := s.Issue(ctx, a.ID, identity.SessionToken)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Authenticate(ctx, secret, identity.SessionToken)
	wantReason(t, err, fault.Unauthorized, "invalid_token")
}

// TestPasswordHash checks the hash round trip, salting and malformed hashes.
func TestPasswordHash(t *testing.T) {
	h1, err := identity.HashPassword("correct horse", fastParams)
	if err != nil {
		t.Fatal(err)
	}
	h2, err := identity.HashPassword("correct horse", fastParams)
	if err != nil {
		t.Fatal(err)
	}
	if h1 == h2 {
		t.Error("two hashes of one password are equal; the salt is not random")
	}
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Errorf("hash %q does not record its parameters", h1)
	}
	for _, h := range []string{h1, h2} {
		if !identity.CheckPassword(h, "correct horse") {
			t.Errorf("CheckPassword(%q) = false for the right password", h)
		}
		for _, wrong := range []string{"", "correct horse ", "Correct horse", "correct hors"} {
			if identity.CheckPassword(h, wrong) {
				t.Errorf("CheckPassword(%q, %q) = true", h, wrong)
			}
		}
	}
	// Default parameters round-trip too.
	hd, err := identity.HashPassword("密码密码密码密码", identity.DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	if !identity.CheckPassword(hd, "密码密码密码密码") {
		t.Error("default-parameter hash does not check")
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=1024,t=1,p=1$c2FsdA$a2V5", strings.Replace(h1, "v=19", "v=18", 1), h1[:len(h1)-1] + "!"} {
		if identity.CheckPassword(bad, "correct horse") {
			t.Errorf("CheckPassword(%q) = true", bad)
		}
	}
}

// TestAllowedSpecialPermissions checks Public and Authenticated for every role and anonymous.
func TestAllowedSpecialPermissions(t *testing.T) {
	roles := append([]identity.Role{""}, identity.Roles...)
	for _, r := range roles {
		if !identity.Allowed(r, identity.Public) {
			t.Errorf("Allowed(%q, Public) = false", r)
		}
		if got, want := identity.Allowed(r, identity.Authenticated), r != ""; got != want {
			t.Errorf("Allowed(%q, Authenticated) = %v, want %v", r, got, want)
		}
	}
}

// TestAllowedGrants checks every role against every ordinary permission.
func TestAllowedGrants(t *testing.T) {
	all := []identity.Permission{identity.NetworkWrite, identity.AccountsRead, identity.AccountsEdit, identity.AuditRead, identity.PIIRead,
		identity.OrdersOwn, identity.OrdersRead, identity.BookingAdmin, identity.GovernanceRead, identity.GovernanceEdit,
		identity.BenefitsRead, identity.BenefitsEdit, identity.BenefitsReview, identity.BenefitsSettle, identity.WalletOwn,
		identity.TapsWrite, identity.MetroRead, identity.MetroSettle}
	want := map[identity.Role][]identity.Permission{
		identity.OperatorAdmin: {identity.NetworkWrite, identity.AccountsRead, identity.AccountsEdit, identity.AuditRead, identity.PIIRead, identity.OrdersRead, identity.BookingAdmin, identity.GovernanceRead, identity.GovernanceEdit,
			identity.BenefitsRead, identity.BenefitsEdit, identity.BenefitsReview, identity.BenefitsSettle, identity.MetroRead, identity.MetroSettle},
		identity.OperatorReviewer: {identity.AccountsRead, identity.OrdersRead, identity.GovernanceRead, identity.GovernanceEdit, identity.BenefitsRead, identity.BenefitsReview, identity.MetroRead},
		identity.OperatorAuditor:  {identity.AccountsRead, identity.AuditRead, identity.OrdersRead, identity.GovernanceRead, identity.BenefitsRead, identity.MetroRead},
		identity.MerchantAdmin:    nil,
		identity.MerchantStaff:    nil,
		identity.Passenger:        {identity.OrdersOwn, identity.WalletOwn},
		identity.Partner:          nil,
		identity.Gate:             {identity.BenefitsSettle, identity.TapsWrite},
		"":                        nil,
		"root":                    nil,
	}
	for r, perms := range want {
		for _, p := range all {
			has := false
			for _, q := range perms {
				has = has || q == p
			}
			if got := identity.Allowed(r, p); got != has {
				t.Errorf("Allowed(%q, %q) = %v, want %v", r, p, got, has)
			}
		}
		if identity.Allowed(r, "unknown:perm") {
			t.Errorf("Allowed(%q, unknown) = true", r)
		}
	}
}
