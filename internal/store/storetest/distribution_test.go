package storetest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"piao/internal/audit"
	"piao/internal/benefits"
	"piao/internal/distribution"
	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
)

// dsMerchant owns the campaigns of these tests; dsOther is another merchant.
var dsMerchant, dsOther = tenant.Merchant(7), tenant.Merchant(8)

// dsPassengers creates n passengers with phones 138<prefix><i, 7 digits>.
func dsPassengers(t testing.TB, s storetest.Stores, prefix string, n int) ([]int64, []string) {
	t.Helper()
	ids, phones := make([]int64, n), make([]string, n)
	for i := range ids {
		phones[i] = fmt.Sprintf("138%s%07d", prefix, i)
		a, err := s.Identity.CreateAccount(context.Background(), identity.Account{
			Username: fmt.Sprintf("ds%s%d", prefix, i), Phone: phones[i], DisplayName: "乘客", Role: identity.Passenger, PasswordHash: "x", CreatedAt: bnT0,
		})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = a.ID
	}
	return ids, phones
}

// dsCampaign stores a voucher product and an approved campaign of
// merchant 7 running around bnT0, like bnCampaign.
func dsCampaign(t testing.TB, s storetest.Stores, stock, perUser int, channels ...benefits.Channel) benefits.Campaign {
	t.Helper()
	ctx := context.Background()
	p := benefits.Product{Owner: "merchant:7", Kind: benefits.AmountOff, NameZH: "两元抵用券", Feed: "nbmetro",
		Terms: benefits.Terms{AmountOff: 200, MinFare: 300}, Valid: benefits.Validity{Days: 30}, CreatedBy: "test", CreatedAt: bnT0}
	if err := s.Benefits.CreateProduct(ctx, dsMerchant, &p); err != nil {
		t.Fatal(err)
	}
	c := benefits.Campaign{ProductID: p.ID, Owner: "merchant:7", NameZH: "商户活动", Status: benefits.Approved,
		Starts: bnT0.Add(-time.Hour), Ends: bnT0.Add(30 * 24 * time.Hour), Channels: channels, Stock: stock, PerUser: perUser,
		CreatedBy: "account:70", CreatedAt: bnT0, UpdatedAt: bnT0}
	if err := s.Benefits.CreateCampaign(ctx, dsMerchant, &c, benefits.Event{At: bnT0, By: "account:70", Action: "create", To: benefits.Approved}); err != nil {
		t.Fatal(err)
	}
	return c
}

// dsService is the distribution service over one engine's stores, at bnT0.
func dsService(s storetest.Stores) (*distribution.Service, *benefits.Service) {
	now := func() time.Time { return bnT0 }
	bn := benefits.NewService(s.Benefits, benefits.Config{Now: now})
	return distribution.NewService(s.Distribution, distribution.Config{Benefits: bn, Audit: audit.New(s.Audit, now), Now: now}), bn
}

func dsRide(id string) benefits.Ride {
	return benefits.Ride{ID: id, Feed: "nbmetro", From: "a", To: "b", Fare: 400, EnteredAt: bnT0.Add(time.Hour)}
}

func dsChoose(r benefits.Ride) benefits.Chooser {
	return func(cands []benefits.Benefit, camps map[int64]benefits.Campaign) benefits.Selection {
		return benefits.SelectWithinBudgets(r, benefits.Shanghai, cands, camps)
	}
}

// TestDistributionListIssueAndRevoke uploads a list to a merchant's
// campaign, checks who sees it, then revokes what was not delivered: a
// used ticket and a gifted one stay, the untouched one is revoked and no
// ride can use it any more.
func TestDistributionListIssueAndRevoke(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		svc, _ := dsService(s)
		acc, phones := dsPassengers(t, s, "1", 4)
		c := dsCampaign(t, s, 3, 1, benefits.DirectChannel)
		staff, err := s.Identity.CreateAccount(ctx, identity.Account{Username: "staff7", Phone: "13912345678", DisplayName: "店员", Role: identity.MerchantStaff, Merchant: 7, PasswordHash: "x", CreatedAt: bnT0})
		if err != nil {
			t.Fatal(err)
		}

		// A bad list writes nothing: an unknown phone, a staff account's phone.
		bad := "phone\n" + phones[0] + "\n13700000000\n13912345678\n"
		_, _, err = svc.Upload(ctx, dsMerchant, c.ID, []byte(bad), "account:70")
		var re *distribution.RosterError
		if !errors.As(err, &re) || len(re.Lines) != 2 || re.Lines[0].Line != 3 || re.Lines[1].Line != 4 || re.Lines[0].Column != "phone" {
			t.Fatalf("bad list: %v %+v", err, re.Lines)
		}
		if ls, _ := svc.Lists(ctx, tenant.All(), 0); len(ls) != 0 {
			t.Fatalf("a refused list was stored: %+v", ls)
		}
		if got, _ := s.Benefits.Campaign(ctx, tenant.All(), c.ID); got.Issued != 0 {
			t.Fatalf("a refused list issued %d", got.Issued)
		}
		// Another merchant's campaign is not found.
		if _, _, err := svc.Upload(ctx, dsOther, c.ID, []byte("phone\n"+phones[0]+"\n"), "account:80"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("other merchant's upload: %v", err)
		}
		if _, _, err := svc.Upload(ctx, dsMerchant, c.ID, []byte(fmt.Sprintf("account\n%d\n", staff.ID)), "account:70"); !errors.As(err, &re) || re.Lines[0].Line != 2 || re.Lines[0].Column != "account" {
			t.Fatalf("staff account listed: %v", err)
		}

		// A campaign that does not issue directly refuses the whole list.
		coded := dsCampaign(t, s, 3, 1, benefits.CodeChannel)
		if _, _, err := svc.Upload(ctx, dsMerchant, coded.ID, []byte("phone\n"+phones[0]+"\n"), "account:70"); fault.As(err).Reason != "channel_closed" {
			t.Fatalf("a list for a campaign without the direct channel: %v", err)
		}
		// Four good lines for a stock of three: the fourth is refused.
		good := "phone,note\n" + strings.Join([]string{phones[0] + ",vip", phones[1] + ",", phones[2] + ",", phones[3] + ",late"}, "\n") + "\n"
		l, entries, err := svc.Upload(ctx, dsMerchant, c.ID, []byte(good), "account:70")
		if err != nil {
			t.Fatal(err)
		}
		if l.MerchantID != 7 || l.Entries != 4 || l.Issued != 3 || l.Refused != 1 || l.Kind != distribution.ByPhone || l.UploadedBy != "account:70" {
			t.Fatalf("list = %+v", l)
		}
		if entries[3].TicketID != 0 || entries[3].Reason != "sold_out" || entries[0].TicketID == 0 || entries[0].Account != acc[0] {
			t.Fatalf("entries = %+v", entries)
		}
		for _, sc := range []struct {
			name  string
			scope tenant.Scope
			sees  bool
		}{{"owner", dsMerchant, true}, {"operator", tenant.All(), true}, {"other merchant", dsOther, false}, {"nobody", tenant.Scope{}, false}} {
			_, es, err := svc.List(ctx, sc.scope, l.ID)
			ls, _ := svc.Lists(ctx, sc.scope, c.ID)
			if sc.sees != (err == nil) || sc.sees != (len(ls) == 1) {
				t.Errorf("%s: List err %v, Lists %d", sc.name, err, len(ls))
			}
			if !sc.sees && !fault.Is(err, fault.NotFound) {
				t.Errorf("%s: %v, want not found", sc.name, err)
			}
			if sc.sees && (len(es) != 4 || es[0].Phone != phones[0] || es[0].Note != "vip" || es[2].TicketID != entries[2].TicketID || es[3].Reason != "sold_out") {
				t.Errorf("%s: entries = %+v", sc.name, es)
			}
		}

		// Ticket 0 is used for a ride, ticket 1 is being gifted.
		red, _, err := s.Benefits.Redeem(ctx, dsRide("R1"), acc[0], bnT0, dsChoose(dsRide("R1")))
		if err != nil || len(red.Applied) != 1 || red.Applied[0].TicketID != entries[0].TicketID {
			t.Fatalf("ride: %+v %v", red, err)
		}
		g := benefits.Gift{Token: "DSGIFT1", TicketID: entries[1].TicketID, Giver: acc[1], CreatedAt: bnT0, Expires: bnT0.Add(time.Hour)}
		if err := s.Benefits.CreateGift(ctx, &g); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.RevokeList(ctx, dsOther, l.ID, 0, "account:80", ""); !fault.Is(err, fault.NotFound) {
			t.Fatalf("other merchant revoking: %v", err)
		}
		r, err := svc.RevokeList(ctx, dsMerchant, l.ID, 0, "account:70", "活动取消")
		if err != nil || r != (distribution.Revocation{ListID: l.ID, Revoked: 1, Used: 1, Gifted: 1, NotIssued: 1}) {
			t.Fatalf("revoke = %+v, %v", r, err)
		}
		tk, _ := s.Benefits.Ticket(ctx, entries[2].TicketID)
		if tk.State != benefits.Revoked || tk.StatusAt(bnT0) != benefits.Withdrawn {
			t.Fatalf("revoked ticket = %+v", tk)
		}
		if tk, _ := s.Benefits.Ticket(ctx, entries[0].TicketID); tk.State == benefits.Revoked {
			t.Fatal("a used ticket was revoked")
		}
		red, _, err = s.Benefits.Redeem(ctx, dsRide("R2"), acc[2], bnT0, dsChoose(dsRide("R2")))
		if err != nil || len(red.Applied) != 0 {
			t.Fatalf("a revoked ticket paid for a ride: %+v %v", red, err)
		}
		// Again: nothing left to revoke; one line alone says so too.
		r, err = svc.RevokeList(ctx, dsMerchant, l.ID, 0, "account:70", "")
		if err != nil || r.Revoked != 0 || r.Used != 1 || r.Gifted != 1 {
			t.Fatalf("second revoke = %+v, %v", r, err)
		}
		if r, err := svc.RevokeList(ctx, dsMerchant, l.ID, 4, "account:70", ""); err != nil || r.Already != 1 {
			t.Fatalf("revoked line again = %+v, %v", r, err)
		}
		if _, err := svc.RevokeList(ctx, dsMerchant, l.ID, 99, "account:70", ""); !fault.Is(err, fault.NotFound) {
			t.Fatalf("missing line: %v", err)
		}
		l, es, _ := svc.List(ctx, dsMerchant, l.ID)
		if l.Revoked != 1 || es[2].RevokedAt.IsZero() || !es[0].RevokedAt.IsZero() {
			t.Fatalf("after revoking: %+v %+v", l, es)
		}
		// The trail has the upload and the revocation, and no phone.
		entriesTrail, err := s.Audit.AuditEntries(ctx, audit.Filter{Subject: fmt.Sprintf("distribution_list:%d", l.ID)})
		if err != nil || len(entriesTrail) != 2 {
			t.Fatalf("trail = %+v, %v", entriesTrail, err)
		}
		for _, e := range entriesTrail {
			if strings.Contains(string(e.After), phones[0]) {
				t.Errorf("the trail holds a phone: %s", e.After)
			}
		}
	})
}

// TestDistributionCodeRevoke voids a batch's unredeemed codes: redeeming
// one is refused as code_revoked, the redeemed one and its ticket stay.
func TestDistributionCodeRevoke(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		svc, bn := dsService(s)
		acc, _ := dsPassengers(t, s, "2", 2)
		c := dsCampaign(t, s, 10, 0, benefits.CodeChannel)
		b, err := svc.GenerateCodes(ctx, dsMerchant, c.ID, 3, "account:70")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.GenerateCodes(ctx, dsOther, c.ID, 3, "account:80"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("other merchant generating: %v", err)
		}
		var codes []string
		if err := svc.Codes(ctx, dsMerchant, b.ID, func(r benefits.CodeRow) error { codes = append(codes, r.Code); return nil }); err != nil || len(codes) != 3 {
			t.Fatalf("codes: %v %v", codes, err)
		}
		if err := svc.Codes(ctx, dsOther, b.ID, func(benefits.CodeRow) error { return nil }); !fault.Is(err, fault.NotFound) {
			t.Fatalf("other merchant's export: %v", err)
		}
		first, err := bn.RedeemCode(ctx, codes[0], acc[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.RevokeCodes(ctx, dsOther, b.ID, "account:80", ""); !fault.Is(err, fault.NotFound) {
			t.Fatalf("other merchant revoking: %v", err)
		}
		got, n, err := svc.RevokeCodes(ctx, dsMerchant, b.ID, "account:70", "")
		if err != nil || n != 2 || got.Revoked != 2 || got.Redeemed != 1 || got.RevokedAt.IsZero() {
			t.Fatalf("revoke = %+v %d %v", got, n, err)
		}
		_, err = bn.RedeemCode(ctx, codes[1], acc[1])
		bnWant(t, err, "code_revoked")
		if fault.CodeOf(err) != fault.Conflict {
			t.Fatalf("code_revoked is %s", fault.CodeOf(err))
		}
		_, err = bn.RedeemCode(ctx, codes[0], acc[1])
		bnWant(t, err, "code_used")
		if tk, err := s.Benefits.Ticket(ctx, first.ID); err != nil || tk.State != benefits.Held {
			t.Fatalf("the redeemed code's ticket: %+v %v", tk, err)
		}
		if _, n, err := svc.RevokeCodes(ctx, tenant.All(), b.ID, "account:1", ""); err != nil || n != 0 {
			t.Fatalf("revoking again: %d %v", n, err)
		}
		bs, err := svc.CodeBatches(ctx, dsMerchant, c.ID)
		if err != nil || len(bs) != 1 || bs[0].Revoked != 2 || bs[0].Redeemed != 1 {
			t.Fatalf("batches = %+v %v", bs, err)
		}
		if _, err := svc.CodeBatches(ctx, dsOther, c.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("other merchant's batches: %v", err)
		}
	})
}

// TestDistributionRevokeRaces runs rides and redemptions against a
// revocation of the same tickets and codes: each ticket ends either used
// or revoked, never both, and each code either redeemed or voided.
func TestDistributionRevokeRaces(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		svc, bn := dsService(s)
		const n = 16
		acc, _ := dsPassengers(t, s, "3", n)
		c := dsCampaign(t, s, n, 0, benefits.DirectChannel, benefits.CodeChannel)
		var roster strings.Builder
		roster.WriteString("account\n")
		for _, a := range acc {
			fmt.Fprintf(&roster, "%d\n", a)
		}
		l, entries, err := svc.Upload(ctx, dsMerchant, c.ID, []byte(roster.String()), "account:70")
		if err != nil || l.Issued != n {
			t.Fatalf("upload: %+v %v", l, err)
		}
		batchCamp := dsCampaign(t, s, n, 0, benefits.CodeChannel)
		b, err := svc.GenerateCodes(ctx, dsMerchant, batchCamp.ID, n, "account:70")
		if err != nil {
			t.Fatal(err)
		}
		var codes []string
		_ = svc.Codes(ctx, dsMerchant, b.ID, func(r benefits.CodeRow) error { codes = append(codes, r.Code); return nil })

		used := make([]bool, n)
		redeemed := make([]bool, n)
		var rev distribution.Revocation
		var voided int
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, 2*n+2)
		// Each revocation starts once the first ride (or redemption) is
		// done, and the second half of them starts with it: some finish
		// before it, some race it.
		firstRide, firstCode := make(chan struct{}), make(chan struct{})
		rideGate, codeGate := make(chan struct{}), make(chan struct{})
		wait := func(i int, gate chan struct{}) {
			if i < n/2 {
				<-start
			} else {
				<-gate
			}
		}
		var rideOnce, codeOnce sync.Once
		for i := range n {
			wg.Add(2)
			go func() {
				defer wg.Done()
				wait(i, rideGate)
				r := dsRide(fmt.Sprintf("RACE%d", i))
				red, _, err := s.Benefits.Redeem(ctx, r, acc[i], bnT0, dsChoose(r))
				rideOnce.Do(func() { close(firstRide) })
				if err != nil {
					errs <- err
					return
				}
				// The rider may also hold a ticket redeemed from a code:
				// only the list's ticket counts here.
				for _, ap := range red.Applied {
					used[i] = used[i] || ap.TicketID == entries[i].TicketID
				}
			}()
			go func() {
				defer wg.Done()
				wait(i, codeGate)
				_, err := bn.RedeemCode(ctx, codes[i], acc[i])
				codeOnce.Do(func() { close(firstCode) })
				switch {
				case err == nil:
					redeemed[i] = true
				case fault.As(err).Reason != "code_revoked":
					errs <- err
				}
			}()
		}
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-firstRide
			close(rideGate)
			var err error
			if rev, err = svc.RevokeList(ctx, dsMerchant, l.ID, 0, "account:70", ""); err != nil {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			<-firstCode
			close(codeGate)
			var err error
			if _, voided, err = svc.RevokeCodes(ctx, dsMerchant, b.ID, "account:70", ""); err != nil {
				errs <- err
			}
		}()
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		usedCount, redeemedCount := 0, 0
		for i, e := range entries {
			tk, err := s.Benefits.Ticket(ctx, e.TicketID)
			if err != nil {
				t.Fatal(err)
			}
			revoked := tk.State == benefits.Revoked
			if revoked == used[i] {
				t.Errorf("ticket %d: revoked %v, used by a ride %v (rides left %d)", tk.ID, revoked, used[i], tk.RidesLeft)
			}
			if revoked && tk.RidesLeft != tk.RidesTotal {
				t.Errorf("ticket %d revoked after a ride", tk.ID)
			}
			if used[i] {
				usedCount++
			}
			if redeemed[i] {
				redeemedCount++
			}
		}
		if rev.Revoked+rev.Used != n || rev.Used != usedCount {
			t.Errorf("revocation %+v, %d used by rides", rev, usedCount)
		}
		if voided+redeemedCount != n {
			t.Errorf("%d voided + %d redeemed != %d codes", voided, redeemedCount, n)
		}
		got, _ := svc.CodeBatches(ctx, dsMerchant, batchCamp.ID)
		if got[0].Revoked != voided || got[0].Redeemed != redeemedCount {
			t.Errorf("batch %+v, voided %d, redeemed %d", got[0], voided, redeemedCount)
		}
		t.Logf("%s: %d rides first, %d revoked; %d codes redeemed first, %d voided", s.Engine, usedCount, rev.Revoked, redeemedCount, voided)
	})
}
