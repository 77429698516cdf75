package httpapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"piao/internal/app/apptest"
	"piao/internal/booking"
	"piao/internal/governance"
	"piao/internal/identity"
	"piao/internal/realname"
)

// TestStrangerCannotBanMyDocumentOverHTTP: a stranger's three cancels with
// my ID number ban it and put it on the restricted list while it is
// unverified; once an operator verifies my claim, I can book, the stranger
// cannot book my document, the counts and lists no longer hold the
// stranger's cancels against it, and my passenger list says I hold it.
func TestStrangerCannotBanMyDocumentOverHTTP(t *testing.T) {
	s := newTestServer(t)
	me, stranger := s.newPassenger(t, "holder-doc"), s.newPassenger(t, "stranger-doc")
	admin, auditor := s.token(t, identity.OperatorAdmin), s.token(t, identity.OperatorAuditor)
	myID := realname.MakeID("360102", time.Date(1990, 5, 6, 0, 0, 0, 0, time.UTC), 321)
	subject := "doc:id_card:" + myID
	book := func(token string, days int) response {
		body := fmt.Sprintf(`{"train":"Z66","date":%q,"from":"NCG","to":"BXP","passengers":[{"name":"李娜","doc_type":"id_card","doc_number":%q,"seat_class":"hard_sleeper"}]}`,
			apptest.Today().AddDays(days).String(), myID)
		return s.do(t, "POST", "/api/v1/orders", token, strings.NewReader(body))
	}
	rules := governance.DefaultRules()
	rules.Lists.RestrictedMinOrders = 3
	rb, _ := json.Marshal(rules)
	if res := s.do(t, "PUT", "/api/v1/governance/rules", admin, strings.NewReader(string(rb))); res.status != 200 {
		t.Fatalf("rules: %d %s", res.status, res.body)
	}
	for i := range 3 {
		res := book(stranger, 1+i)
		var booked booking.Booked
		if res.status != 200 || json.Unmarshal(res.body, &booked) != nil {
			t.Fatalf("stranger's booking %d: %d %s", i, res.status, res.body)
		}
		if res := s.do(t, "POST", fmt.Sprintf("/api/v1/orders/%d/cancel", booked.Order.ID), stranger, nil); res.status != 200 {
			t.Fatalf("stranger's cancel %d: %d %s", i, res.status, res.body)
		}
	}
	if res := book(me, 5); res.status != 429 || decodeProblem(t, res).Reason != "passenger_cancel_limit" {
		t.Fatalf("unverified, my document is banned by the stranger's cancels: %d %s", res.status, res.body)
	}
	activeMembers := func() int {
		res := s.do(t, "GET", "/api/v1/governance/members?active=true&subject="+subject, auditor, nil)
		var out struct{ Members []governance.Membership }
		if res.status != 200 || json.Unmarshal(res.body, &out) != nil {
			t.Fatalf("members: %d %s", res.status, res.body)
		}
		return len(out.Members)
	}
	if res := s.do(t, "POST", "/api/v1/governance/evaluate", admin, nil); res.status != 200 {
		t.Fatalf("evaluate: %d %s", res.status, res.body)
	}
	if n := activeMembers(); n != 1 {
		t.Fatalf("unverified, the rules list my document: %d memberships", n)
	}

	// I claim my document; an operator verifies it.
	res := s.do(t, "POST", "/api/v1/me/documents/claims", me, strings.NewReader(fmt.Sprintf(`{"name":"李娜","doc_type":"id_card","doc_number":%q}`, myID)))
	var claim governance.Claim
	if res.status != 200 || json.Unmarshal(res.body, &claim) != nil || claim.Status != governance.ClaimPending || claim.DocNumber != realname.MaskDocument(myID) {
		t.Fatalf("claim: %d %s", res.status, res.body)
	}
	if res := s.do(t, "GET", "/api/v1/document-claims?status=pending", stranger, nil); res.status != 403 {
		t.Fatalf("a passenger lists claims: %d", res.status)
	}
	res = s.do(t, "GET", "/api/v1/document-claims?status=pending", auditor, nil)
	if res.status != 200 || !strings.Contains(string(res.body), fmt.Sprintf(`"id":%d`, claim.ID)) || strings.Contains(string(res.body), myID) {
		t.Fatalf("pending claims (number masked): %d %s", res.status, res.body)
	}
	// The full number only for pii:read, as in every other answer.
	if res := s.do(t, "GET", "/api/v1/document-claims?status=pending&full=true", auditor, nil); res.status != 403 || decodeProblem(t, res).Reason != "pii_read_forbidden" {
		t.Fatalf("full claims without pii:read: %d %s", res.status, res.body)
	}
	if res := s.do(t, "GET", "/api/v1/document-claims?status=pending&full=true", admin, nil); res.status != 200 || !strings.Contains(string(res.body), `"doc_number":"`+myID+`"`) {
		t.Fatalf("full claims for pii:read: %d %s", res.status, res.body)
	}
	if res := s.do(t, "GET", "/api/v1/me/documents/claims", me, nil); res.status != 200 || strings.Contains(string(res.body), myID) || !strings.Contains(string(res.body), realname.MaskDocument(myID)) {
		t.Fatalf("my claims (number masked): %d %s", res.status, res.body)
	}
	verifyPath := fmt.Sprintf("/api/v1/document-claims/%d/verify", claim.ID)
	if res := s.do(t, "POST", verifyPath, auditor, strings.NewReader(`{"reason":"x"}`)); res.status != 403 {
		t.Fatalf("governance:read verifies: %d", res.status)
	}
	res = s.do(t, "POST", verifyPath, admin, strings.NewReader(`{"reason":"身份证照片与姓名一致 ID photo and name match"}`))
	if res.status != 200 || json.Unmarshal(res.body, &claim) != nil || claim.Status != governance.ClaimVerified {
		t.Fatalf("verify: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", verifyPath, admin, strings.NewReader(`{"reason":"again"}`)); res.status != 409 {
		t.Fatalf("verifying twice: %d %s", res.status, res.body)
	}

	if res := book(me, 5); res.status != 200 {
		t.Fatalf("verified, I cannot book: %d %s", res.status, res.body)
	}
	res = book(stranger, 6)
	if p := decodeProblem(t, res); res.status != 403 || p.Reason != "passenger_not_approved" {
		t.Fatalf("the stranger books my verified document: %d %s", res.status, res.body)
	}
	res = s.do(t, "GET", "/api/v1/governance/counts?subject="+subject, auditor, nil)
	var counts struct{ Counts governance.Counts }
	if res.status != 200 || json.Unmarshal(res.body, &counts) != nil || counts.Counts.Manual != 0 {
		t.Fatalf("my document's count after verification: %d %s", res.status, res.body)
	}
	if n := activeMembers(); n != 0 {
		t.Fatalf("the stranger-fed membership stands: %d", n)
	}
	if res := s.do(t, "POST", "/api/v1/governance/evaluate", admin, nil); res.status != 200 {
		t.Fatalf("evaluate: %d %s", res.status, res.body)
	}
	if n := activeMembers(); n != 0 {
		t.Fatalf("the rules list my verified document again: %d", n)
	}
	res = s.do(t, "GET", "/api/v1/me/documents", me, nil)
	var list struct{ Documents []governance.LinkedDocument }
	if res.status != 200 || json.Unmarshal(res.body, &list) != nil || len(list.Documents) != 1 || list.Documents[0].Standing != "holder" || strings.Contains(string(res.body), myID) {
		t.Fatalf("my passenger list: %d %s", res.status, res.body)
	}
}

// TestHolderApprovesAnotherAccountOverHTTP: the holder of a verified
// document approves a second account, which can then book it; only the
// holder can approve.
func TestHolderApprovesAnotherAccountOverHTTP(t *testing.T) {
	s := newTestServer(t)
	holder, family := s.newPassenger(t, "holder-appr"), s.newPassenger(t, "family-appr")
	admin := s.token(t, identity.OperatorAdmin)
	id := realname.MakeID("360102", time.Date(1970, 2, 3, 0, 0, 0, 0, time.UTC), 11)
	var claim governance.Claim
	res := s.do(t, "POST", "/api/v1/me/documents/claims", holder, strings.NewReader(fmt.Sprintf(`{"name":"王芳","doc_type":"id_card","doc_number":%q}`, id)))
	if res.status != 200 || json.Unmarshal(res.body, &claim) != nil {
		t.Fatalf("claim: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", fmt.Sprintf("/api/v1/document-claims/%d/verify", claim.ID), admin, strings.NewReader(`{"reason":"checked"}`)); res.status != 200 {
		t.Fatalf("verify: %d %s", res.status, res.body)
	}
	book := func(token string) response {
		body := fmt.Sprintf(`{"train":"Z66","date":%q,"from":"NCG","to":"BXP","passengers":[{"name":"王芳","doc_type":"id_card","doc_number":%q,"seat_class":"hard_sleeper"}]}`,
			apptest.Today().AddDays(2).String(), id)
		return s.do(t, "POST", "/api/v1/orders", token, strings.NewReader(body))
	}
	if res := book(family); res.status != 403 {
		t.Fatalf("before approval: %d %s", res.status, res.body)
	}
	var who struct{ ID int64 }
	json.Unmarshal(s.do(t, "GET", "/api/v1/me", family, nil).body, &who)
	approve := fmt.Sprintf(`{"claim_id":%d,"account_id":%d,"approved":true}`, claim.ID, who.ID)
	if res := s.do(t, "POST", "/api/v1/me/documents/approvals", family, strings.NewReader(approve)); res.status != 403 || decodeProblem(t, res).Reason != "not_document_holder" {
		t.Fatalf("a non-holder approves: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", "/api/v1/me/documents/approvals", holder, strings.NewReader(approve)); res.status != 200 {
		t.Fatalf("approve: %d %s", res.status, res.body)
	}
	if res := book(family); res.status != 200 {
		t.Fatalf("after approval: %d %s", res.status, res.body)
	}
}
