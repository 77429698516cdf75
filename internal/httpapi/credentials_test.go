package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"piao/internal/identity"
)

// TestCredentialKindsAndRevocation checks that a console session is not
// an API token, that minting a token needs the password, that a caller
// lists and revokes its own credentials and an operator revokes all of an
// account's, and that API answers are neither cached nor sniffed.
func TestCredentialKindsAndRevocation(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	acct, err := s.app.Identity.Store.AccountByLogin(ctx, "passenger")
	if err != nil {
		t.Fatal(err)
	}
	session, err := s.app.Identity.Issue(ctx, acct.ID, identity.SessionToken)
	if err != nil {
		t.Fatal(err)
	}
	res := s.do(t, "GET", "/api/v1/me", session, nil)
	if res.status != http.StatusUnauthorized || decodeProblem(t, res).Reason != "session_not_api_token" {
		t.Fatalf("a console session as a bearer token: %d %s", res.status, res.body)
	}

	tok := s.token(t, identity.Passenger)
	res = s.do(t, "GET", "/api/v1/me", tok, nil)
	if got := res.header.Get("Cache-Control"); got != "no-store" || res.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers: Cache-Control %q, X-Content-Type-Options %q", got, res.header.Get("X-Content-Type-Options"))
	}
	for _, body := range []string{`{}`, `{"password":"not-the-password"}`} {
		res := s.do(t, "POST", "/api/v1/auth/token", tok, strings.NewReader(body))
		if res.status != http.StatusUnauthorized && res.status != http.StatusUnprocessableEntity {
			t.Errorf("minting with %s: %d %s", body, res.status, res.body)
		}
	}

	var list struct {
		Credentials []identity.Credential `json:"credentials"`
	}
	res = s.do(t, "GET", "/api/v1/me/credentials", tok, nil)
	if err := json.Unmarshal(res.body, &list); err != nil || res.status != http.StatusOK {
		t.Fatalf("list: %d %s", res.status, res.body)
	}
	var sessionID string
	current := 0
	for _, c := range list.Credentials {
		if c.Current {
			current++
		}
		if c.Kind == identity.SessionToken {
			sessionID = c.ID
		}
		if strings.Contains(string(res.body), session) || strings.Contains(string(res.body), tok) {
			t.Fatal("the list shows a secret")
		}
	}
	if current != 1 || sessionID == "" {
		t.Fatalf("credentials = %+v", list.Credentials)
	}
	// Another passenger cannot end it; its holder can.
	other := s.token(t, identity.OperatorAdmin)
	if res := s.do(t, "DELETE", "/api/v1/me/credentials/"+sessionID, other, nil); res.status != http.StatusNotFound {
		t.Fatalf("someone else's credential: %d %s", res.status, res.body)
	}
	if _, err := s.app.Identity.Authenticate(ctx, session, identity.SessionToken); err != nil {
		t.Fatalf("session ended by a stranger: %v", err)
	}
	if res := s.do(t, "DELETE", "/api/v1/me/credentials/"+sessionID, tok, nil); res.status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", res.status, res.body)
	}
	if _, err := s.app.Identity.Authenticate(ctx, session, identity.SessionToken); err == nil {
		t.Fatal("the revoked session still works")
	}

	// The operator ends everything the passenger holds.
	res = s.do(t, "POST", "/api/v1/accounts/"+strconv.FormatInt(acct.ID, 10)+"/revoke-credentials", other, strings.NewReader(`{"reason":"stolen phone"}`))
	if res.status != http.StatusOK || !strings.Contains(string(res.body), `"revoked":`) {
		t.Fatalf("operator revoke: %d %s", res.status, res.body)
	}
	if res := s.do(t, "GET", "/api/v1/me", tok, nil); res.status != http.StatusUnauthorized {
		t.Fatalf("token after revoke-all: %d", res.status)
	}
	// Both revocations are in the audit log, with who did them and why.
	subject := "account:" + strconv.FormatInt(acct.ID, 10)
	res = s.do(t, "GET", "/api/v1/audit?action=account.credential&subject="+subject, other, nil)
	for _, want := range []string{`"account.credential.revoke_all"`, `"account.credential.revoke"`, `"stolen phone"`, `"username":"admin"`, `"username":"passenger"`} {
		if res.status != http.StatusOK || !strings.Contains(string(res.body), want) {
			t.Errorf("audit of %s lacks %s: %d %s", subject, want, res.status, res.body)
		}
	}
	// A passenger may not end someone else's credentials.
	mine := s.token(t, identity.Passenger)
	if res := s.do(t, "POST", "/api/v1/accounts/1/revoke-credentials", mine, strings.NewReader(`{}`)); res.status != http.StatusForbidden {
		t.Fatalf("passenger revoking another account: %d", res.status)
	}
	// Log out everywhere includes the caller's own token.
	if res := s.do(t, "POST", "/api/v1/me/credentials/revoke-all", mine, strings.NewReader(`{}`)); res.status != http.StatusOK {
		t.Fatalf("revoke-all: %d %s", res.status, res.body)
	}
	if res := s.do(t, "GET", "/api/v1/me", mine, nil); res.status != http.StatusUnauthorized {
		t.Fatalf("token after log out everywhere: %d", res.status)
	}
}
