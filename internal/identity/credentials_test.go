package identity_test

import (
	"context"
	"testing"

	"piao/internal/fault"
	"piao/internal/identity"
)

// TestTokenKindsDoNotCross checks that a console session is refused where
// an API token is needed and the reverse.
func TestTokenKindsDoNotCross(t *testing.T) {
	s, _ := newService(t)
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
	_, err = s.Authenticate(ctx, session, identity.APIToken)
	wantReason(t, err, fault.Unauthorized, "session_not_api_token")
	_, err = s.Authenticate(ctx, api, identity.SessionToken)
	wantReason(t, err, fault.Unauthorized, "invalid_token")
	if _, err := s.Authenticate(ctx, session, identity.SessionToken); err != nil {
		t.Errorf("session as a session: %v", err)
	}
	if _, err := s.Authenticate(ctx, api, identity.APIToken); err != nil {
		t.Errorf("API token as an API token: %v", err)
	}
}

// TestMintTokenNeedsPassword checks that an extra API token needs the
// password, not only a live credential.
func TestMintTokenNeedsPassword(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	mustCreate(t, s, identity.NewAccount{Username: "alice", Role: identity.Passenger, Password: "correct horse"})
	session, _, err := s.Login(ctx, "alice", "correct horse", identity.SessionToken)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Authenticate(ctx, session, identity.SessionToken)
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"", "wrong horse"} {
		_, err := s.MintToken(ctx, p, pw)
		wantReason(t, err, fault.Unauthorized, "bad_password")
	}
	minted, err := s.MintToken(ctx, p, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	mp, err := s.Authenticate(ctx, minted, identity.APIToken)
	if err != nil || mp.Account.ID != p.Account.ID || mp.Token.Kind != identity.APIToken {
		t.Errorf("minted token: %+v, %v", mp, err)
	}
}

// TestRevokeCredentials checks listing, revoking one and revoking all, and
// that one account cannot revoke another's credential.
func TestRevokeCredentials(t *testing.T) {
	s, c := newService(t)
	ctx := context.Background()
	alice := mustCreate(t, s, identity.NewAccount{Username: "alice", Role: identity.Passenger, Password: "correct horse"})
	mustCreate(t, s, identity.NewAccount{Username: "bob", Role: identity.Passenger, Password: "correct horse"})
	login := func(user string, kind identity.TokenKind) (string, identity.Principal) {
		t.Helper()
		secret, _, err := s.Login(ctx, user, "correct horse", kind)
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.Authenticate(ctx, secret, kind)
		if err != nil {
			t.Fatal(err)
		}
		return secret, p
	}
	phone, _ := login("alice", identity.SessionToken)
	c.Advance(1)
	laptop, lp := login("alice", identity.SessionToken)
	c.Advance(1)
	script, _ := login("alice", identity.APIToken)
	_, bp := login("bob", identity.SessionToken)

	creds, err := s.Credentials(ctx, lp)
	if err != nil {
		t.Fatal(err)
	}
	if len(creds) != 3 || creds[0].Kind != identity.APIToken || !creds[1].Current || creds[0].Current || creds[2].Current {
		t.Fatalf("credentials = %+v", creds)
	}
	for _, cr := range creds {
		if len(cr.ID) != 16 {
			t.Errorf("public ID %q", cr.ID)
		}
	}

	// Bob cannot revoke Alice's phone session by its ID; Alice can.
	phoneID := creds[2].ID
	err = s.Revoke(ctx, bp, phoneID)
	wantReason(t, err, fault.NotFound, "credential_not_found")
	if _, err := s.Authenticate(ctx, phone, identity.SessionToken); err != nil {
		t.Fatalf("phone session after bob's attempt: %v", err)
	}
	if err := s.Revoke(ctx, lp, phoneID); err != nil {
		t.Fatal(err)
	}
	_, err = s.Authenticate(ctx, phone, identity.SessionToken)
	wantReason(t, err, fault.Unauthorized, "invalid_token")

	// Log out everywhere ends the rest, and not Bob's.
	n, err := s.RevokeAll(ctx, alice.ID, "lost phone")
	if err != nil || n != 2 {
		t.Fatalf("RevokeAll = %d, %v; want 2", n, err)
	}
	for _, secret := range []string{laptop, script} {
		if _, err := s.Authenticate(ctx, secret, identity.SessionToken); err == nil {
			t.Error("a credential survived RevokeAll")
		}
		if _, err := s.Authenticate(ctx, secret, identity.APIToken); err == nil {
			t.Error("a credential survived RevokeAll")
		}
	}
	if creds, err := s.Credentials(ctx, bp); err != nil || len(creds) != 1 {
		t.Errorf("bob's credentials = %+v, %v", creds, err)
	}
	_, err = s.RevokeAll(ctx, 9999, "")
	if !fault.Is(err, fault.NotFound) {
		t.Errorf("RevokeAll of a missing account: %v", err)
	}
}

// TestMintTokenCountsAgainstTheLock checks that guessing the password
// through token minting counts as failed logins and is refused while the
// account is locked, so a stolen session is no way around the lockout.
func TestMintTokenCountsAgainstTheLock(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	mustCreate(t, s, identity.NewAccount{Username: "alice", Role: identity.Passenger, Password: "correct horse"})
	session, _, err := s.Login(ctx, "alice", "correct horse", identity.SessionToken)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Authenticate(ctx, session, identity.SessionToken)
	if err != nil {
		t.Fatal(err)
	}
	var last error
	for range s.Lockout.After {
		_, last = s.MintToken(ctx, p, "wrong horse")
	}
	wantReason(t, last, fault.LimitReached, "account_locked")
	_, err = s.MintToken(ctx, p, "correct horse")
	wantReason(t, err, fault.LimitReached, "account_locked")
	_, _, err = s.Login(ctx, "alice", "correct horse", identity.SessionToken)
	wantReason(t, err, fault.LimitReached, "account_locked")
}
