package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"piao/internal/governance"
	"piao/internal/identity"
	"piao/internal/realname"
)

// TestDocumentsPage: a passenger claims their document on the H5 page and
// sees it waiting; a wrong number is refused in both languages with the
// form kept; once verified, the page offers the approval form, which
// approves another account.
func TestDocumentsPage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rider := e.client(t)
	rider.login(loginFor(t, identity.Passenger))
	resp, body := rider.get("/h5/documents")
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `id="doc-claims-none"`, `href="/h5/documents"`, "核验本人证件")

	id := realname.MakeID("330203", time.Date(1988, 8, 8, 0, 0, 0, 0, time.UTC), 42)
	bad := url.Values{"csrf": {csrfIn(body)}, "name": {"陈静"}, "doc_type": {"id_card"}, "doc_number": {id[:17] + "0"}}
	if id[17] == '0' {
		bad.Set("doc_number", id[:17]+"1")
	}
	resp, body = rider.post("/h5/documents/claims", bad)
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "校验位不正确", "check character is wrong", `value="陈静"`)

	form := url.Values{"csrf": {csrfIn(body)}, "name": {"陈静"}, "doc_type": {"id_card"}, "doc_number": {id}}
	resp, body = rider.post("/h5/documents/claims", form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/h5/documents?done=claimed" {
		t.Fatalf("claim: %d %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	_, body = rider.get("/h5/documents?done=claimed")
	wantContains(t, body, `id="doc-notice"`, `data-state="pending"`, "待审核", realname.MaskDocument(id))
	claims, err := e.app.Governance.Claims(ctx, governance.ClaimFilter{Status: governance.ClaimPending})
	if err != nil || len(claims) != 1 {
		t.Fatalf("pending claims %+v %v", claims, err)
	}
	if _, err := e.app.Governance.VerifyClaim(ctx, claims[0].ID, "checked", "test"); err != nil {
		t.Fatal(err)
	}
	other, err := e.app.Identity.CreateAccount(ctx, identity.NewAccount{Username: "family-doc", Role: identity.Passenger, Password: "a long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	_, body = rider.get("/h5/documents")
	wantContains(t, body, `data-state="verified"`, fmt.Sprintf(`action="/h5/documents/claims/%d/approvals"`, claims[0].ID))
	resp, body = rider.post(fmt.Sprintf("/h5/documents/claims/%d/approvals", claims[0].ID), url.Values{"csrf": {csrfIn(body)}, "account": {fmt.Sprint(other.ID)}, "approved": {"1"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/h5/documents?done=approved" {
		t.Fatalf("approve: %d %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	own, err := e.app.GovernanceStore.Ownership(ctx, "id_card", id)
	if err != nil || len(own.Approved) != 1 || own.Approved[0] != other.ID {
		t.Fatalf("ownership after approval %+v %v", own, err)
	}
	resp, body = rider.get("/h5/documents?done=approved")
	wantContains(t, body, "已同意该账号为您订票")
}
