package sandbox_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"piao/internal/payment"
	"piao/internal/payment/sandbox"
	"piao/internal/store/storetest"
)

// TestPageNeedsThePayer checks that a payment created for a payer opens
// and pays only for that payer's login: a stranger is sent to log in, and
// another account is refused, on the page and on its form.
func TestPageNeedsThePayer(t *testing.T) {
	e := newEnv(t, 0)
	st := storetest.OpenSQLite(t).Sandbox
	mux := http.NewServeMux()
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)
	// The login a request carries is the X-Test-Login header here; piao
	// reads its console session cookie.
	payer := func(r *http.Request) (string, bool) {
		who := r.Header.Get("X-Test-Login")
		return who, who != ""
	}
	g, err := sandbox.New(st, sandbox.Config{Secret: secret, BaseURL: site.URL, Now: e.clock.Now, Payer: payer, LoginURL: "/login"})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/sandbox/", g.Handler())
	p, err := g.Create(context.Background(), payment.CreateRequest{
		OrderRef: "o-1", AmountFen: 1200, Subject: "G1", Payer: "account:7",
		NotifyURL: e.rc.URL + "/notify", ExpiresAt: e.clock.Now().Add(30 * time.Minute),
	})
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, login string, form url.Values) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, p.PayURL, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if login != "" {
			req.Header.Set("X-Test-Login", login)
		}
		resp, err := e.web.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := do("GET", "", nil); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=%2Fsandbox%2Fpay%2F") {
		t.Errorf("anonymous page: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := do("GET", "account:8", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("another account's page: %d", resp.StatusCode)
	}
	token := csrfRE.FindStringSubmatch(func() string {
		req, _ := http.NewRequest("GET", p.PayURL, nil)
		req.Header.Set("X-Test-Login", "account:7")
		resp, err := e.web.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}())
	if token == nil {
		t.Fatal("the payer sees no form")
	}
	form := url.Values{"action": {"pay"}, "csrf": {token[1]}}
	for _, login := range []string{"", "account:8"} {
		if resp := do("POST", login, form); resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("paying as %q: %d", login, resp.StatusCode)
		}
		if q, _ := g.Query(context.Background(), p.ID); q.Status != payment.Pending {
			t.Fatalf("paid by %q: %s", login, q.Status)
		}
	}
	if resp := do("POST", "account:7", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the payer pays: %d", resp.StatusCode)
	}
	if q, _ := g.Query(context.Background(), p.ID); q.Status != payment.Paid {
		t.Fatalf("after the payer paid: %s", q.Status)
	}
}
