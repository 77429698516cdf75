package storetest_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"piao/internal/booking"
	"piao/internal/governance"
	"piao/internal/store/storetest"
)

// TestDocumentOwnership checks the passenger lists, claims, approvals and
// per-account document counts on every engine: links made in booking
// transactions, one open claim per account and document, one verified
// holder per document, approvals cleared when the holder changes.
func TestDocumentOwnership(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		g := s.Governance
		a := govAccounts(t, ctx, s, 3)
		const typ, num = "ID", "360102198001010011"
		key := typ + ":" + num

		// Booking transactions link documents (twice is once) and add counts
		// per account.
		err := s.Booking.Update(ctx, func(tx booking.Tx) error {
			for _, acct := range []int64{a[0], a[1], a[1]} {
				if err := tx.LinkDocument(acct, typ, num, govT0); err != nil {
					return err
				}
			}
			if err := tx.AddDocumentDayCounts(typ, num, a[1], govDay1, 1, 0); err != nil {
				return err
			}
			if err := tx.AddDocumentDayCounts(typ, num, a[1], govDay1, 1, 1); err != nil {
				return err
			}
			if err := tx.AddDocumentDayCounts(typ, num, a[0], govDay2, 1, 0); err != nil {
				return err
			}
			own, err := tx.DocumentOwnership(typ, num)
			if err != nil || own.Verified() {
				t.Errorf("unverified ownership %+v %v", own, err)
			}
			by, err := tx.DocumentDayCounts(typ, num, govDay1)
			if want := map[int64]governance.Counts{a[1]: {Manual: 2, Expired: 1}}; err != nil || !reflect.DeepEqual(by, want) {
				t.Errorf("counts in the transaction %v %v, want %v", by, err, want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		by, err := g.DocumentDayCounts(ctx, govDay2, typ, num)
		if want := map[int64]governance.Counts{a[0]: {Manual: 1}}; err != nil || !reflect.DeepEqual(by, want) {
			t.Fatalf("counts %v %v, want %v", by, err, want)
		}
		list, err := g.AccountDocuments(ctx, a[1])
		if err != nil || len(list) != 1 || list[0].DocNumber != num || list[0].Holder != 0 || list[0].Approved || !list[0].AddedAt.Equal(govT0) {
			t.Fatalf("passenger list %+v %v", list, err)
		}

		// Claims: one open per account and document.
		c0 := governance.Claim{AccountID: a[0], DocType: typ, DocNumber: num, Name: "王伟", Status: governance.ClaimPending, CreatedAt: govT0}
		if err := g.AddClaim(ctx, &c0); err != nil || c0.ID == 0 {
			t.Fatalf("add claim %+v %v", c0, err)
		}
		dup := c0
		if err := g.AddClaim(ctx, &dup); !errors.Is(err, governance.ErrClaimOpen) {
			t.Fatalf("second open claim: %v", err)
		}
		c1 := governance.Claim{AccountID: a[1], DocType: typ, DocNumber: num, Name: "王伟", Status: governance.ClaimPending, CreatedAt: govT0.Add(time.Second)}
		if err := g.AddClaim(ctx, &c1); err != nil {
			t.Fatal(err)
		}
		got, err := g.Claim(ctx, c0.ID)
		c0.CreatedAt = c0.CreatedAt.UTC() // the stores read times back in UTC
		if err != nil || !reflect.DeepEqual(got, c0) {
			t.Fatalf("claim read back %+v %v, want %+v", got, err, c0)
		}
		if _, err := g.Claim(ctx, c1.ID+100); !errors.Is(err, governance.ErrClaimNotFound) {
			t.Fatalf("missing claim: %v", err)
		}
		pending, err := g.Claims(ctx, governance.ClaimFilter{Status: governance.ClaimPending})
		if err != nil || len(pending) != 2 || pending[0].ID != c1.ID {
			t.Fatalf("pending claims newest first %+v %v", pending, err)
		}
		mine, err := g.Claims(ctx, governance.ClaimFilter{AccountID: a[0]})
		if err != nil || len(mine) != 1 || mine[0].ID != c0.ID {
			t.Fatalf("account's claims %+v %v", mine, err)
		}

		// Approvals before a holder are stale and ignored.
		at := govT0.Add(time.Minute)
		if err := g.SetApproval(ctx, a[2], typ, num, &at); err != nil {
			t.Fatal(err)
		}
		if own, err := g.Ownership(ctx, typ, num); err != nil || own.Verified() || len(own.Approved) != 0 {
			t.Fatalf("ownership with a stale approval %+v %v", own, err)
		}

		// Verifying c1 makes a[1] the holder and clears the stale approval.
		decide := func(c governance.Claim, from, to governance.ClaimStatus) (bool, error) {
			c.Status, c.DecidedAt, c.DecidedBy, c.Reason = to, &at, "account:9 (ops)", "checked"
			return g.DecideClaim(ctx, from, c)
		}
		if ok, err := decide(c1, governance.ClaimPending, governance.ClaimVerified); !ok || err != nil {
			t.Fatalf("verify: %v %v", ok, err)
		}
		if ok, err := decide(c1, governance.ClaimPending, governance.ClaimRejected); ok || err != nil {
			t.Fatalf("deciding a decided claim: %v %v", ok, err)
		}
		if ok, err := decide(c0, governance.ClaimPending, governance.ClaimVerified); ok || !errors.Is(err, governance.ErrAlreadyVerified) {
			t.Fatalf("a second holder: %v %v", ok, err)
		}
		if got, _ := g.Claim(ctx, c0.ID); got.Status != governance.ClaimPending {
			t.Fatalf("the refused verification changed the claim: %+v", got)
		}
		own, err := g.Ownership(ctx, typ, num)
		if err != nil || own.Holder != a[1] || len(own.Approved) != 0 {
			t.Fatalf("ownership after verification %+v %v", own, err)
		}
		got, _ = g.Claim(ctx, c1.ID)
		if got.Status != governance.ClaimVerified || got.DecidedAt == nil || !got.DecidedAt.Equal(at) || got.DecidedBy != "account:9 (ops)" || got.Reason != "checked" {
			t.Fatalf("verified claim %+v", got)
		}

		// The holder approves a[0] (linked) and a[2] (not linked: linked now).
		for _, acct := range []int64{a[0], a[2]} {
			if err := g.SetApproval(ctx, acct, typ, num, &at); err != nil {
				t.Fatal(err)
			}
		}
		own, err = g.Ownership(ctx, typ, num)
		slices.Sort(own.Approved)
		if err != nil || own.Holder != a[1] || !slices.Equal(own.Approved, []int64{a[0], a[2]}) {
			t.Fatalf("ownership with approvals %+v %v", own, err)
		}
		if err := g.SetApproval(ctx, a[2], typ, num, nil); err != nil {
			t.Fatal(err)
		}
		all, err := g.VerifiedDocuments(ctx)
		if err != nil || len(all) != 1 || all[key].Holder != a[1] || !slices.Equal(all[key].Approved, []int64{a[0]}) {
			t.Fatalf("verified documents %+v %v", all, err)
		}
		err = s.Booking.Update(ctx, func(tx booking.Tx) error {
			own, err := tx.DocumentOwnership(typ, num)
			if err != nil || own.Holder != a[1] || !slices.Equal(own.Approved, []int64{a[0]}) {
				t.Errorf("ownership in a booking transaction %+v %v", own, err)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for acct, want := range map[int64]string{a[0]: "approved", a[1]: "holder", a[2]: "withdrawn"} {
			list, err := g.AccountDocuments(ctx, acct)
			if err != nil || len(list) != 1 || list[0].Holder != a[1] || list[0].Approved != (want != "withdrawn") {
				t.Fatalf("passenger list of %s account %+v %v", want, list, err)
			}
		}

		// Revoking the holder leaves the document unverified, its
		// approvals cleared; another claim can then be verified.
		if ok, err := decide(c1, governance.ClaimVerified, governance.ClaimRevoked); !ok || err != nil {
			t.Fatalf("revoke: %v %v", ok, err)
		}
		if own, err := g.Ownership(ctx, typ, num); err != nil || own.Verified() || len(own.Approved) != 0 {
			t.Fatalf("ownership after revocation %+v %v", own, err)
		}
		if ok, err := decide(c0, governance.ClaimPending, governance.ClaimVerified); !ok || err != nil {
			t.Fatalf("verify after revocation: %v %v", ok, err)
		}
		if own, err := g.Ownership(ctx, typ, num); err != nil || own.Holder != a[0] || len(own.Approved) != 0 {
			t.Fatalf("new holder %+v %v", own, err)
		}
	})
}
