package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"piao/internal/identity"
)

// TestSessionsPage checks that a user sees their sessions and tokens,
// ends one, and logs out everywhere, which ends this browser's session too.
func TestSessionsPage(t *testing.T) {
	e := newEnv(t)
	l := loginFor(t, identity.Passenger)
	laptop, phone := e.client(t), e.client(t)
	laptop.login(l)
	phone.login(l)

	resp, body := laptop.get("/account/sessions")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "控制台会话", "当前", "退出所有设备")
	ids := regexp.MustCompile(`data-id="([0-9a-f]{16})"`).FindAllStringSubmatch(body, -1)
	if len(ids) < 2 {
		t.Fatalf("want both sessions listed:\n%s", body)
	}

	// The phone ends the laptop's session (the row not marked current on
	// the phone's page); the laptop is logged out.
	resp, body = phone.get("/account/sessions")
	wantStatus(t, resp, body, http.StatusOK)
	other := regexp.MustCompile(`<tr data-id="([0-9a-f]{16})">\s*<td>控制台会话</td>`).FindStringSubmatch(body)
	if other == nil {
		t.Fatalf("no other session on the phone's page:\n%s", body)
	}
	resp, body = phone.post("/account/sessions/"+other[1]+"/revoke", url.Values{"csrf": {phone.csrfFor("/account/sessions")}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if resp, _ := laptop.get("/account/sessions"); resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("laptop after its session ended: %d", resp.StatusCode)
	}

	// Log out everywhere: the phone's own session ends too.
	resp, body = phone.post("/account/sessions/revoke-all", url.Values{"csrf": {phone.csrfFor("/account/sessions")}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/login" {
		t.Errorf("after log out everywhere: %s", loc)
	}
	if resp, _ := phone.get("/account/sessions"); resp.StatusCode == http.StatusOK {
		t.Fatal("the phone still has a session after logging out everywhere")
	}
}
