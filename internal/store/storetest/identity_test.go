package storetest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/store/storetest"
)

// idT0 is a fixed instant with sub-microsecond digits cut, since PostgreSQL
// keeps microseconds; it is not UTC so the stores must normalise zones.
var idT0 = time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.FixedZone("CST", 8*3600))

func idNewAccount(username, phone string) identity.Account {
	return identity.Account{
		Username:     username,
		Phone:        phone,
		DisplayName:  "显示 " + username,
		Role:         identity.Passenger,
		PasswordHash: "$argon2id$hash-of-" + username,
		CreatedAt:    idT0,
	}
}

func idSameAccount(t *testing.T, got, want identity.Account) {
	t.Helper()
	if got.ID != want.ID || got.Username != want.Username || got.Phone != want.Phone ||
		got.DisplayName != want.DisplayName || got.Role != want.Role ||
		got.PasswordHash != want.PasswordHash || got.Disabled != want.Disabled ||
		!got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("account = %+v, want %+v", got, want)
	}
}

func idWantFault(t *testing.T, err error, code fault.Code, reason string) {
	t.Helper()
	if !fault.Is(err, code) || fault.As(err).Reason != reason {
		t.Errorf("err = %v, want %s/%s", err, code, reason)
	}
}

// TestIdentityAccounts checks account creation, lookups and uniqueness on every engine.
func TestIdentityAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		st := s.Identity

		a, err := st.CreateAccount(ctx, idNewAccount("alice", "13800000001"))
		if err != nil {
			t.Fatal(err)
		}
		if a.ID == 0 {
			t.Fatal("CreateAccount returned no ID")
		}
		want := idNewAccount("alice", "13800000001")
		want.ID = a.ID
		idSameAccount(t, a, want)

		for _, login := range []string{"alice", "13800000001"} {
			got, err := st.AccountByLogin(ctx, login)
			if err != nil {
				t.Fatalf("AccountByLogin(%q): %v", login, err)
			}
			idSameAccount(t, got, want)
			if got.CreatedAt.Location() != time.UTC {
				t.Errorf("CreatedAt zone = %v, want UTC", got.CreatedAt.Location())
			}
		}
		got, err := st.AccountByID(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		idSameAccount(t, got, want)

		_, err = st.AccountByLogin(ctx, "nobody")
		idWantFault(t, err, fault.NotFound, "account_not_found")
		_, err = st.AccountByLogin(ctx, "")
		idWantFault(t, err, fault.NotFound, "account_not_found")
		_, err = st.AccountByID(ctx, a.ID+1000)
		idWantFault(t, err, fault.NotFound, "account_not_found")

		// Taken username, taken phone.
		_, err = st.CreateAccount(ctx, idNewAccount("alice", "13800000002"))
		idWantFault(t, err, fault.Conflict, "account_exists")
		_, err = st.CreateAccount(ctx, idNewAccount("alice2", "13800000001"))
		idWantFault(t, err, fault.Conflict, "account_exists")

		// Several accounts without a phone are fine, and none is found by "".
		b, err := st.CreateAccount(ctx, idNewAccount("bob", ""))
		if err != nil {
			t.Fatal(err)
		}
		c, err := st.CreateAccount(ctx, idNewAccount("carol", ""))
		if err != nil {
			t.Fatal(err)
		}
		if b.ID == c.ID || b.ID == a.ID {
			t.Errorf("IDs not distinct: %d %d %d", a.ID, b.ID, c.ID)
		}
		got, err = st.AccountByID(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Phone != "" {
			t.Errorf("phone = %q, want empty", got.Phone)
		}
		_, err = st.AccountByLogin(ctx, "")
		idWantFault(t, err, fault.NotFound, "account_not_found")

		// A username that is another account's phone finds the username.
		d, err := st.CreateAccount(ctx, idNewAccount("13800000001", ""))
		if err != nil {
			t.Fatal(err)
		}
		got, err = st.AccountByLogin(ctx, "13800000001")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != d.ID {
			t.Errorf("login 13800000001 found account %d, want the username match %d", got.ID, d.ID)
		}

		// Disabled round-trips.
		dis := idNewAccount("dave", "")
		dis.Disabled = true
		dis.Role = identity.Gate
		dis, err = st.CreateAccount(ctx, dis)
		if err != nil {
			t.Fatal(err)
		}
		got, err = st.AccountByID(ctx, dis.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Disabled || got.Role != identity.Gate {
			t.Errorf("got %+v, want disabled gate", got)
		}
	})
}

// TestIdentitySetPassword checks that SetPassword changes only its account.
func TestIdentitySetPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		st := s.Identity
		a, err := st.CreateAccount(ctx, idNewAccount("alice", ""))
		if err != nil {
			t.Fatal(err)
		}
		b, err := st.CreateAccount(ctx, idNewAccount("bob", ""))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.SetPassword(ctx, a.ID, "new-hash"); err != nil {
			t.Fatal(err)
		}
		got, err := st.AccountByID(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.PasswordHash != "new-hash" {
			t.Errorf("hash = %q, want new-hash", got.PasswordHash)
		}
		other, err := st.AccountByID(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if other.PasswordHash != b.PasswordHash {
			t.Errorf("other account's hash changed to %q", other.PasswordHash)
		}
		idWantFault(t, st.SetPassword(ctx, b.ID+1000, "x"), fault.NotFound, "account_not_found")
	})
}

func idTokenHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// TestIdentityTokens checks token create, get and delete on every engine.
func TestIdentityTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		st := s.Identity
		a, err := st.CreateAccount(ctx, idNewAccount("alice", ""))
		if err != nil {
			t.Fatal(err)
		}
		tok := identity.Token{Hash: idTokenHash("one"), AccountID: a.ID, Kind: identity.SessionToken, CreatedAt: idT0, ExpiresAt: idT0.Add(12 * time.Hour)}
		if err := st.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		got, err := st.TokenByHash(ctx, tok.Hash)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Hash, tok.Hash) || got.AccountID != a.ID || got.Kind != identity.SessionToken ||
			!got.CreatedAt.Equal(tok.CreatedAt) || !got.ExpiresAt.Equal(tok.ExpiresAt) {
			t.Errorf("token = %+v, want %+v", got, tok)
		}

		_, err = st.TokenByHash(ctx, idTokenHash("missing"))
		idWantFault(t, err, fault.NotFound, "token_not_found")

		// Credential reads the token and its account together.
		ct, ca, err := st.Credential(ctx, tok.Hash)
		if err != nil || !bytes.Equal(ct.Hash, tok.Hash) || ct.AccountID != a.ID || ct.Kind != identity.SessionToken ||
			!ct.CreatedAt.Equal(tok.CreatedAt) || !ct.ExpiresAt.Equal(tok.ExpiresAt) {
			t.Errorf("Credential token = %+v, %v; want %+v", ct, err, tok)
		}
		idSameAccount(t, ca, a)
		_, _, err = st.Credential(ctx, idTokenHash("missing"))
		idWantFault(t, err, fault.NotFound, "token_not_found")

		// A token for a missing account is refused.
		orphan := tok
		orphan.Hash, orphan.AccountID = idTokenHash("orphan"), a.ID+1000
		idWantFault(t, st.CreateToken(ctx, orphan), fault.NotFound, "account_not_found")

		if err := st.DeleteToken(ctx, tok.Hash); err != nil {
			t.Fatal(err)
		}
		_, err = st.TokenByHash(ctx, tok.Hash)
		idWantFault(t, err, fault.NotFound, "token_not_found")
		if err := st.DeleteToken(ctx, tok.Hash); err != nil {
			t.Errorf("deleting a missing token: %v", err)
		}
	})
}

// TestIdentityDeleteExpiredTokens checks that the sweep removes only expired tokens.
func TestIdentityDeleteExpiredTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		st := s.Identity
		a, err := st.CreateAccount(ctx, idNewAccount("alice", ""))
		if err != nil {
			t.Fatal(err)
		}
		now := idT0.Add(24 * time.Hour)
		// Expiries on both sides of now, including ones a microsecond away
		// and ones far off, so text ordering in SQLite is exercised too.
		expiries := map[string]time.Time{
			"long-expired":  now.Add(-30 * 24 * time.Hour),
			"just-expired":  now.Add(-time.Microsecond),
			"hour-expired":  now.Add(-time.Hour),
			"just-valid":    now.Add(time.Microsecond),
			"valid":         now.Add(time.Hour),
			"valid-decades": now.AddDate(30, 0, 0),
		}
		for name, exp := range expiries {
			tok := identity.Token{Hash: idTokenHash(name), AccountID: a.ID, Kind: identity.APIToken, CreatedAt: idT0, ExpiresAt: exp}
			if err := st.CreateToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		n, err := st.DeleteExpiredTokens(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Errorf("deleted %d tokens, want 3", n)
		}
		for name, exp := range expiries {
			_, err := st.TokenByHash(ctx, idTokenHash(name))
			if exp.Before(now) {
				idWantFault(t, err, fault.NotFound, "token_not_found")
			} else if err != nil {
				t.Errorf("token %s: %v", name, err)
			}
		}
		n, err = st.DeleteExpiredTokens(ctx, now)
		if err != nil || n != 0 {
			t.Errorf("second sweep = %d, %v; want 0, nil", n, err)
		}
	})
}
