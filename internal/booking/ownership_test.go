package booking_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"piao/internal/audit"
	"piao/internal/booking"
	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/network"
	"piao/internal/realname"
	"piao/internal/store/storetest"
)

// bookAndCancel books p with account on a date and cancels it.
func bookAndCancel(t *testing.T, e *env, account int64, date network.Date, p booking.PassengerRequest) booking.Order {
	t.Helper()
	o, err := bookOn(e, account, date, p)
	if err != nil {
		t.Fatalf("booking by account %d: %v", account, err)
	}
	c, err := e.svc.Cancel(context.Background(), o.ID, account)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// verify files and verifies holder's claim of p's document.
func verify(t *testing.T, gov *governance.Service, holder int64, p booking.PassengerRequest) governance.Claim {
	t.Helper()
	ctx := context.Background()
	c, err := gov.ClaimDocument(ctx, holder, p.Name, p.DocType, p.DocNumber)
	if err != nil {
		t.Fatal(err)
	}
	v, err := gov.VerifyClaim(ctx, c.ID, "证件照片与姓名一致 ID photo matches", "test")
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != governance.ClaimVerified {
		t.Fatalf("claim %+v", v)
	}
	return v
}

// A stranger who books and cancels three times with my ID number bans it
// while it is unverified, as the paper's per-passenger limit says. Once I
// verify it, the stranger's cancels stop counting (today's and the list
// rules' window alike), the restricted membership they fed is lifted, I
// can book, and the stranger cannot book my document any more, while the
// stranger's own account limit still holds.
func TestStrangerCannotBanVerifiedDocument(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		r := governance.DefaultRules()
		r.Lists.RestrictedMinOrders = 3
		e, gov := govEnv(t, s, &r)
		ctx := context.Background()
		accts := e.accounts(t, 2)
		me, stranger := accts[0], accts[1]
		mine := passenger(1, network.HardSleeper, "")
		doc := governance.DocumentSubject(mine.DocType, mine.DocNumber)
		for i := range 3 {
			bookAndCancel(t, e, stranger, day0.AddDays(1+i), mine)
		}
		if _, err := bookOn(e, me, day0.AddDays(5), mine); !hasReason(err, "passenger_cancel_limit") {
			t.Fatalf("before verification the stranger's cancels ban my document: %v", err)
		}
		e.clock.Advance(time.Minute) // the rules' window ends before now
		if _, err := gov.Evaluate(ctx); err != nil {
			t.Fatal(err)
		}
		listed, err := gov.Members(ctx, governance.MemberFilter{List: governance.Restricted, Subject: doc, ActiveAt: e.clock.Now()})
		if err != nil || len(listed) != 1 {
			t.Fatalf("before verification the rules list my document: %v %v", listed, err)
		}

		verify(t, gov, me, mine)
		got, err := gov.DayCounts(ctx, day0, doc)
		if err != nil || got.Manual != 0 {
			t.Fatalf("after verification my document's count is %+v (%v), want 0", got, err)
		}
		listed, err = gov.Members(ctx, governance.MemberFilter{Subject: doc, ActiveAt: e.clock.Now()})
		if err != nil || len(listed) != 0 {
			t.Fatalf("the stranger-fed membership stands: %+v %v", listed, err)
		}
		if _, err := bookOn(e, me, day0.AddDays(5), mine); err != nil {
			t.Fatalf("I cannot book my own document: %v", err)
		}

		// The stranger cannot book my document, and its cancels of other
		// passengers count against its own account.
		_, err = bookOn(e, stranger, day0.AddDays(6), mine)
		if fe := fault.As(err); fe.Reason != "passenger_not_approved" || fe.Code != fault.Forbidden {
			t.Fatalf("stranger booking my verified document: %v", err)
		}
		if _, err := bookOn(e, stranger, day0.AddDays(6), passenger(2, network.HardSleeper, "")); !hasReason(err, "account_cancel_limit") {
			t.Fatalf("the stranger's own limit: %v", err)
		}

		// The list rules no longer count the stranger's transactions against
		// my document, and still count them against the stranger's account.
		e.clock.Advance(time.Minute)
		if _, err := gov.Evaluate(ctx); err != nil {
			t.Fatal(err)
		}
		listed, err = gov.Members(ctx, governance.MemberFilter{Subject: doc, ActiveAt: e.clock.Now()})
		if err != nil || len(listed) != 0 {
			t.Fatalf("the rules list my verified document again: %+v %v", listed, err)
		}
		listed, err = gov.Members(ctx, governance.MemberFilter{List: governance.Restricted, Subject: governance.AccountSubject(stranger), ActiveAt: e.clock.Now()})
		if err != nil || len(listed) != 1 {
			t.Fatalf("the stranger's account is not restricted: %+v %v", listed, err)
		}
	})
}

// One person booking and cancelling their own document from three
// accounts is caught by the per-passenger limit, whether the document is
// unverified or verified with the other accounts approved; an approval
// withdrawn takes that account's cancels out again.
func TestOnePersonOnThreeAccountsIsCaught(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e, gov := govEnv(t, s, nil)
		ctx := context.Background()
		accts := e.accounts(t, 4)

		unverified := passenger(3, network.HardSleeper, "")
		for i := range 3 {
			bookAndCancel(t, e, accts[i], day0.AddDays(1+i), unverified)
		}
		if _, err := bookOn(e, accts[3], day0.AddDays(5), unverified); !hasReason(err, "passenger_cancel_limit") {
			t.Fatalf("unverified document on three accounts: %v", err)
		}

		own := passenger(4, network.HardSleeper, "")
		claim := verify(t, gov, accts[0], own)
		for _, a := range accts[1:3] {
			if err := gov.Approve(ctx, accts[0], claim.ID, a, true); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 3 {
			bookAndCancel(t, e, accts[i], day0.AddDays(1+i), own)
		}
		if _, err := bookOn(e, accts[0], day0.AddDays(5), own); !hasReason(err, "passenger_cancel_limit") {
			t.Fatalf("verified document on three approved accounts: %v", err)
		}
		if err := gov.Approve(ctx, accts[0], claim.ID, accts[2], false); err != nil {
			t.Fatal(err)
		}
		if got, _ := gov.DayCounts(ctx, day0, governance.DocumentSubject(own.DocType, own.DocNumber)); got.Manual != 2 {
			t.Fatalf("after withdrawing one approval the count is %+v, want 2", got)
		}
		// Only the holder approves: another account cannot.
		err := gov.Approve(ctx, accts[1], claim.ID, accts[3], true)
		if fe := fault.As(err); fe.Reason != "not_document_holder" {
			t.Fatalf("approval by a non-holder: %v", err)
		}
		list, err := gov.PassengerList(ctx, accts[2])
		if err != nil || len(list) != 2 || list[1].Standing != "not_approved" || list[0].Standing != "unverified" {
			t.Fatalf("passenger list of the withdrawn account: %+v %v", list, err)
		}
	})
}

// memAudit keeps audit entries in memory.
type memAudit struct {
	mu      sync.Mutex
	entries []audit.Entry
}

func (m *memAudit) AppendAudit(_ context.Context, e audit.Entry) (audit.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e.ID = int64(len(m.entries) + 1)
	m.entries = append(m.entries, e)
	return e, nil
}

func (m *memAudit) AuditEntries(context.Context, audit.Filter) ([]audit.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.entries), nil
}

// Verifying a claim is recorded in the audit trail, with the operator, the
// reason, and the number masked.
func TestClaimDecisionsAreAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, booking.Config{SweepEvery: time.Hour})
		trail := &memAudit{}
		gov := governance.NewService(s.Governance, governance.Config{Now: e.clock.Now, Audit: audit.New(trail, e.clock.Now)})
		acct := e.accounts(t, 1)[0]
		p := passenger(5, network.HardSleeper, "")
		ctx := audit.WithActor(context.Background(), audit.Actor{AccountID: 9, Username: "ops", Role: "operator_admin"})
		c, err := gov.ClaimDocument(ctx, acct, p.Name, p.DocType, p.DocNumber)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gov.VerifyClaim(ctx, c.ID, "证件照片一致 photo matches", "account:9 (ops)"); err != nil {
			t.Fatal(err)
		}
		if len(trail.entries) != 1 {
			t.Fatalf("audit entries %+v", trail.entries)
		}
		got := trail.entries[0]
		if got.Action != "document.verify" || got.Subject != fmt.Sprintf("document_claim:%d", c.ID) || got.Actor.AccountID != 9 || got.Reason != "证件照片一致 photo matches" ||
			!strings.Contains(string(got.After), `"status":"verified"`) || !strings.Contains(string(got.Before), `"status":"pending"`) ||
			strings.Contains(string(got.After), p.DocNumber) || !strings.Contains(string(got.After), realname.MaskDocument(p.DocNumber)) {
			t.Fatalf("audit entry %+v before %s after %s", got, got.Before, got.After)
		}
	})
}
