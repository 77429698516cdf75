package purchase_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"piao/internal/ledger"
	"piao/internal/purchase"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
)

// wantEntry checks an entry's kind, channel ID and postings exactly, and
// that the journal is sound.
func wantEntry(t *testing.T, s storetest.Stores, key, kind, external string, want ...ledger.Posting) {
	t.Helper()
	ctx := context.Background()
	e, err := s.DB.Ledger().EntryByKey(ctx, key)
	if err != nil {
		t.Fatalf("entry %s: %v", key, err)
	}
	if e.Kind != kind || e.External != external || !slices.Equal(e.Postings, want) {
		t.Fatalf("entry %s: kind %s external %q postings %+v\nwant kind %s external %q postings %+v", key, e.Kind, e.External, e.Postings, kind, external, want)
	}
	if problems, err := s.DB.Ledger().Verify(ctx); err != nil || len(problems) > 0 {
		t.Fatalf("ledger check: %+v, %v", problems, err)
	}
}

// A purchase paid credits its merchant's prepaid value (an employer's
// prepaid balance for an employer); the campaign's refund returns the
// unused value part by part and keeps the fee; a payment for a closed
// purchase is owed back and returned.
func TestPurchaseLedgerEntries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		for _, tc := range []struct {
			merchant int64
			kind     string
			account  ledger.Code
		}{{7, "merchant", ledger.MerchantPrepaid}, {9, ledger.EmployerKind, ledger.EmployerPrepaid}} {
			e := newEnv(t, s, purchase.RefundRules{FeeBasisPoints: 150})
			e.svc = purchase.New(s.DB.Purchases(), purchase.Config{Now: e.clock.Now, Gateway: e.gw, Campaigns: e.camps,
				NotifyURL: "http://127.0.0.1:1/n", ReturnURL: "http://127.0.0.1:1/r/", Refunds: purchase.RefundRules{FeeBasisPoints: 150},
				MerchantKind: func(_ context.Context, m int64) (string, error) {
					if m == 9 {
						return ledger.EmployerKind, nil
					}
					return "merchant", nil
				}})
			scope, party := tenant.Merchant(tc.merchant), tenant.OwnerOf(tc.merchant)
			camp := tc.merchant * 10
			e.campaign(camp, tc.merchant, 0)
			var ps []purchase.Purchase
			for _, v := range []int64{10_000, 20_000} {
				p, err := e.svc.Create(ctx, scope, 70, purchase.Order{CampaignID: camp, ValueFen: v})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.svc.HandleNotification(ctx, e.paid(t, p)); err != nil {
					t.Fatal(err)
				}
				wantEntry(t, s, purchase.PaidKey(p.ID), ledger.KindPurchase, p.PaymentID,
					ledger.Debit(ledger.GatewayClearing, "", v), ledger.Credit(tc.account, party, v))
				ps = append(ps, p)
			}
			e.camps.Spend(camp, 8_767) // unused 21,233; fee 1.5 % = 318.495 → 318; back 20,915
			e.clock.Set(e.camps.Get(camp).Ends.Add(8 * 24 * time.Hour))
			r, err := e.svc.RefundUnused(ctx, scope, camp, 70)
			if err != nil {
				t.Fatal(err)
			}
			if r.FeeFen != 318 || r.RefundedFen != 20_915 || len(r.Parts) != 2 {
				t.Fatalf("refund %+v", r)
			}
			// Newest first: 20,000 against the second purchase, 915 against the first.
			for i, p := range []purchase.Purchase{ps[1], ps[0]} {
				part := r.Parts[i]
				wantEntry(t, s, purchase.RefundPartKey(r.ID, p.ID), ledger.KindRefund, part.RefundID,
					ledger.Debit(tc.account, party, part.AmountFen), ledger.Credit(ledger.GatewayClearing, "", part.AmountFen))
			}
			wantEntry(t, s, purchase.RefundFeeKey(r.ID), ledger.KindRefund, "",
				ledger.Debit(tc.account, party, 318), ledger.Credit(ledger.FeeIncome, "", 318))
			// What the merchant has left in the journal is what its
			// campaign spent: 30,000 − 20,915 − 318 = 8,767.
			bs, err := s.DB.Ledger().Balances(ctx, party)
			if err != nil || len(bs) != 1 || bs[0].Account != tc.account || bs[0].Net() != 8_767 {
				t.Fatalf("balances of %s: %+v, %v", party, bs, err)
			}
		}

		// A purchase that expired, paid afterwards: owed back, returned.
		e := newEnv(t, s, purchase.RefundRules{})
		e.campaign(1, 7, 300)
		p, err := e.svc.Create(ctx, tenant.Merchant(7), 70, purchase.Order{CampaignID: 1, Tickets: 2})
		if err != nil {
			t.Fatal(err)
		}
		n := e.paid(t, p)
		closed := p
		closed.Status, closed.CloseReason, closed.ClosedAt, closed.Version = purchase.Closed, purchase.ClosedExpired, e.clock.Now(), p.Version+1
		if err := s.DB.Purchases().UpdatePurchase(ctx, tenant.All(), closed); err != nil {
			t.Fatal(err)
		}
		if out, err := e.svc.HandleNotification(ctx, n); err != nil || out != purchase.OutcomeRefunded {
			t.Fatalf("late payment: %s %v", out, err)
		}
		wantEntry(t, s, purchase.LatePaymentKey(n.PaymentID), ledger.KindPayment, n.PaymentID,
			ledger.Debit(ledger.GatewayClearing, "", 600), ledger.Credit(ledger.RefundsPayable, "", 600))
		wantEntry(t, s, purchase.LateRefundKey(n.PaymentID), ledger.KindRefund, "mp-late-"+n.PaymentID,
			ledger.Debit(ledger.RefundsPayable, "", 600), ledger.Credit(ledger.GatewayClearing, "", 600))
	})
}
