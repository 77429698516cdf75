package storetest_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/merchant"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
	"piao/internal/upload"
)

var mcT0 = time.Date(2026, 5, 4, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))

const mcPhone = "13987654321"

func mcMerchant(code, admin string) merchant.Merchant {
	return merchant.Merchant{Kind: merchant.KindMerchant, LegalName: "万象商城有限公司", CreditCode: code, Contact: merchant.Contact{Name: "王经理", Phone: mcPhone},
		AdminUsername: admin, AdminPasswordHash: "$argon2id$x", Status: merchant.Applied, CreatedAt: mcT0, UpdatedAt: mcT0}
}

func mcPaper(t *testing.T, kind merchant.PaperKind, name string, data []byte) merchant.Paper {
	t.Helper()
	f, err := upload.Papers.Check(name, data)
	if err != nil {
		t.Fatal(err)
	}
	return merchant.Paper{Kind: kind, File: f, CreatedAt: mcT0}
}

var mcPDF = []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")

func mcCreate(t *testing.T, st merchant.Store, code, admin string, token string) merchant.Merchant {
	t.Helper()
	m, err := st.CreateMerchant(context.Background(), mcMerchant(code, admin), []merchant.Paper{mcPaper(t, merchant.Licence, "执照.pdf", mcPDF)}, []byte(token),
		merchant.Event{At: mcT0, Actor: "applicant", To: merchant.Applied})
	if err != nil {
		t.Fatal(err)
	}
	if m.ID == 0 {
		t.Fatal("no ID")
	}
	return m
}

// TestMerchantStore: a merchant reads back whole within its scope and is
// not found outside it; a live credit code or admin username cannot apply
// twice (nothing written); a rejected one frees both; status changes are
// conditional and keep their events; papers are bounded and read back
// byte for byte; invitations are accepted once.
func TestMerchantStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		st := s.DB.Merchant()
		code, code2 := "91350100M000100Y43", "9144030071526726XG"
		a := mcCreate(t, st, code, "mall", "tok-a")
		b := mcCreate(t, st, code2, "bank", "tok-b")

		got, err := st.Merchant(ctx, tenant.Merchant(a.ID), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Contact.Phone != mcPhone || got.LegalName != a.LegalName || got.CreditCode != code || got.AdminPasswordHash != "$argon2id$x" || !got.CreatedAt.Equal(mcT0) || got.Status != merchant.Applied {
			t.Errorf("read back %+v", got)
		}
		for _, scope := range []tenant.Scope{tenant.Merchant(b.ID), {}} {
			if _, err := st.Merchant(ctx, scope, a.ID); !fault.Is(err, fault.NotFound) {
				t.Errorf("scope %s sees merchant %d: %v", scope, a.ID, err)
			}
			if ps, err := st.Papers(ctx, scope, a.ID); err != nil || len(ps) != 0 {
				t.Errorf("scope %s sees %d papers of %d (%v)", scope, len(ps), a.ID, err)
			}
			if evs, err := st.Events(ctx, scope, a.ID); err != nil || len(evs) != 0 {
				t.Errorf("scope %s sees %d events of %d (%v)", scope, len(evs), a.ID, err)
			}
		}
		if id, err := st.ApplicantMerchant(ctx, []byte("tok-b")); err != nil || id != b.ID {
			t.Errorf("token b: %d, %v", id, err)
		}
		if _, err := st.ApplicantMerchant(ctx, []byte("tok-x")); !fault.Is(err, fault.NotFound) {
			t.Errorf("unknown token: %v", err)
		}

		// Duplicates: nothing written.
		if _, err := st.CreateMerchant(ctx, mcMerchant(code, "other"), nil, []byte("tok-c"), merchant.Event{At: mcT0, To: merchant.Applied}); err != merchant.ErrCreditCodeTaken {
			t.Errorf("duplicate code: %v", err)
		}
		if _, err := st.CreateMerchant(ctx, mcMerchant("91330100716105852F", "mall"), nil, []byte("tok-d"), merchant.Event{At: mcT0, To: merchant.Applied}); err != merchant.ErrUsernameTaken {
			t.Errorf("duplicate admin username: %v", err)
		}
		all, err := st.Merchants(ctx, tenant.All(), merchant.Filter{})
		if err != nil || len(all) != 2 || all[0].ID != b.ID {
			t.Fatalf("merchants after refusals: %d (%v), want 2 newest first", len(all), err)
		}
		if own, _ := st.Merchants(ctx, tenant.Merchant(a.ID), merchant.Filter{}); len(own) != 1 || own[0].ID != a.ID {
			t.Errorf("merchant a lists %v", own)
		}

		// Status changes.
		rej := a
		rej.Status, rej.UpdatedAt = merchant.Rejected, mcT0.Add(time.Hour)
		ev := merchant.Event{At: rej.UpdatedAt, Actor: "account:1 (admin)", Action: merchant.Reject, From: merchant.Applied, To: merchant.Rejected, Reason: "执照模糊"}
		if err := st.UpdateMerchant(ctx, tenant.Merchant(b.ID), rej, merchant.Applied, ev); !fault.Is(err, fault.NotFound) {
			t.Errorf("b's scope changed a: %v", err)
		}
		if err := st.UpdateMerchant(ctx, tenant.All(), rej, merchant.Applied, ev); err != nil {
			t.Fatal(err)
		}
		if err := st.UpdateMerchant(ctx, tenant.All(), rej, merchant.Applied, ev); err != merchant.ErrStale {
			t.Errorf("a stale change: %v", err)
		}
		evs, err := st.Events(ctx, tenant.All(), a.ID)
		if err != nil || len(evs) != 2 || evs[1].Reason != "执照模糊" || evs[1].From != merchant.Applied || evs[1].To != merchant.Rejected || evs[1].Action != merchant.Reject || !evs[1].At.Equal(rej.UpdatedAt) {
			t.Errorf("events %+v (%v)", evs, err)
		}
		if rejected, _ := st.Merchants(ctx, tenant.All(), merchant.Filter{Status: merchant.Rejected}); len(rejected) != 1 || rejected[0].ID != a.ID {
			t.Errorf("rejected: %v", rejected)
		}
		again := mcCreate(t, st, code, "mall", "tok-e") // the rejected one freed both
		sus := b
		sus.Status, sus.AdminAccount, sus.AdminPasswordHash, sus.SuspendedAccounts = merchant.Approved, 42, "", []int64{42, 43}
		if err := st.UpdateMerchant(ctx, tenant.All(), sus, merchant.Applied, merchant.Event{At: mcT0, Action: merchant.Approve, From: merchant.Applied, To: merchant.Approved}); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.Merchant(ctx, tenant.All(), b.ID); got.AdminAccount != 42 || got.AdminPasswordHash != "" || len(got.SuspendedAccounts) != 2 || got.SuspendedAccounts[1] != 43 {
			t.Errorf("after approval: %+v", got)
		}

		// Papers.
		png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 100)...)
		added, err := st.AddPapers(ctx, tenant.Merchant(again.ID), again.ID, []merchant.Paper{mcPaper(t, merchant.OtherPaper, "门头.png", png)}, merchant.MaxPapers)
		if err != nil || len(added) != 1 || added[0].ID == 0 {
			t.Fatalf("add papers: %v %v", added, err)
		}
		if _, err := st.AddPapers(ctx, tenant.Merchant(b.ID), again.ID, added, merchant.MaxPapers); !fault.Is(err, fault.NotFound) {
			t.Errorf("b added papers to another: %v", err)
		}
		if _, err := st.AddPapers(ctx, tenant.All(), again.ID, []merchant.Paper{mcPaper(t, merchant.OtherPaper, "x.pdf", mcPDF)}, 2); err != merchant.ErrTooManyPapers {
			t.Errorf("a third paper of 2: %v", err)
		}
		ps, err := st.Papers(ctx, tenant.All(), again.ID)
		if err != nil || len(ps) != 2 || ps[1].Name != "门头.png" || ps[1].ContentType != upload.PNG || ps[1].Data != nil || ps[1].Size != len(png) {
			t.Fatalf("papers %+v (%v)", ps, err)
		}
		p, err := st.Paper(ctx, tenant.Merchant(again.ID), again.ID, ps[1].ID)
		if err != nil || !bytes.Equal(p.Data, png) || p.SHA256 != ps[1].SHA256 {
			t.Errorf("paper bytes: %v", err)
		}
		if _, err := st.Paper(ctx, tenant.Merchant(b.ID), again.ID, ps[1].ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("b read another's paper: %v", err)
		}
		if _, err := st.Paper(ctx, tenant.Merchant(b.ID), b.ID, ps[1].ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("b read another's paper under its own ID: %v", err)
		}

		// Invitations.
		inv := merchant.Invitation{Hash: []byte("inv-1"), Merchant: b.ID, Username: "clerk", DisplayName: "店员", Grants: []identity.Permission{identity.MerchantReports},
			InvitedBy: 42, CreatedAt: mcT0, ExpiresAt: mcT0.Add(7 * 24 * time.Hour)}
		if err := st.CreateInvitation(ctx, tenant.Merchant(again.ID), inv); !fault.Is(err, fault.NotFound) {
			t.Errorf("another merchant invited for b: %v", err)
		}
		if err := st.CreateInvitation(ctx, tenant.Merchant(b.ID), inv); err != nil {
			t.Fatal(err)
		}
		open, err := st.Invitations(ctx, tenant.Merchant(b.ID), b.ID, mcT0.Add(time.Hour))
		if err != nil || len(open) != 1 || open[0].Username != "clerk" || len(open[0].Grants) != 1 || !open[0].AcceptedAt.IsZero() {
			t.Fatalf("open invitations %+v (%v)", open, err)
		}
		if other, _ := st.Invitations(ctx, tenant.Merchant(again.ID), b.ID, mcT0); len(other) != 0 {
			t.Errorf("another merchant sees b's invitations")
		}
		if late, _ := st.Invitations(ctx, tenant.Merchant(b.ID), b.ID, mcT0.Add(8*24*time.Hour)); len(late) != 0 {
			t.Errorf("an expired invitation is listed")
		}
		if err := st.AcceptInvitation(ctx, []byte("inv-1"), 44, mcT0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := st.AcceptInvitation(ctx, []byte("inv-1"), 45, mcT0.Add(time.Hour)); err != merchant.ErrInvitationUsed {
			t.Errorf("second accept: %v", err)
		}
		got2, err := st.Invitation(ctx, []byte("inv-1"))
		if err != nil || got2.Account != 44 || !got2.AcceptedAt.Equal(mcT0.Add(time.Hour)) {
			t.Errorf("accepted invitation %+v (%v)", got2, err)
		}
		if _, err := st.Invitation(ctx, []byte("inv-x")); !fault.Is(err, fault.NotFound) {
			t.Errorf("unknown invitation: %v", err)
		}
	})
}

// TestMerchantPhoneSealed: the contact's phone is sealed at rest, and a
// key rotation reseals it (and the merchant's paper).
func TestMerchantPhoneSealed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		m := mcCreate(t, s.DB.Merchant(), "91350100M000100Y43", "mall", "tok")
		if raw := rawDatabase(t, s.DB); bytes.Contains(raw, []byte(mcPhone)) {
			t.Fatal("the raw database holds the contact's phone in plain text")
		}
		rotated := s.Keys.Rotated()
		db := reopen(t, s.DB, rotated)
		n, err := db.Reseal(context.Background(), nil)
		if err != nil || n != 2 {
			t.Fatalf("Reseal rewrote %d (%v), want 2 (the phone and the paper)", n, err)
		}
		retired := reopen(t, s.DB, rotated.Retired())
		got, err := retired.Merchant().Merchant(context.Background(), tenant.All(), m.ID)
		if err != nil || got.Contact.Phone != mcPhone {
			t.Errorf("after rotation: %q, %v", got.Contact.Phone, err)
		}
	})
}

// TestMerchantConcurrentLimits: applications with one credit code racing
// each other store exactly one; papers uploaded at once never exceed the
// limit.
func TestMerchantConcurrentLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		st := s.DB.Merchant()
		const n = 8
		var wg sync.WaitGroup
		var mu sync.Mutex
		stored, taken := 0, 0
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := st.CreateMerchant(ctx, mcMerchant("91350100M000100Y43", fmt.Sprintf("admin%d", i)), []merchant.Paper{mcPaper(t, merchant.Licence, "l.pdf", mcPDF)},
					[]byte(fmt.Sprintf("tok%d", i)), merchant.Event{At: mcT0, To: merchant.Applied})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					stored++
				case err == merchant.ErrCreditCodeTaken:
					taken++
				default:
					t.Errorf("application %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		if stored != 1 || taken != n-1 {
			t.Fatalf("%d stored, %d refused, want 1 and %d", stored, taken, n-1)
		}
		all, err := st.Merchants(ctx, tenant.All(), merchant.Filter{})
		if err != nil || len(all) != 1 {
			t.Fatalf("%d merchants (%v)", len(all), err)
		}
		id := all[0].ID
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := mcPaper(t, merchant.OtherPaper, fmt.Sprintf("p%d.pdf", i), mcPDF)
				if _, err := st.AddPapers(ctx, tenant.Merchant(id), id, []merchant.Paper{p, p}, 5); err != nil && err != merchant.ErrTooManyPapers {
					t.Errorf("papers %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		ps, err := st.Papers(ctx, tenant.All(), id)
		if err != nil || len(ps) != 5 {
			t.Errorf("%d papers after racing uploads (%v), want 5: one licence and two pairs", len(ps), err)
		}
	})
}
