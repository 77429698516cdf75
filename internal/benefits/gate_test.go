package benefits_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/metro"
	"piao/internal/ridecode"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
)

// gateEnv is a benefits service that trusts ride codes of issuer nb1 on
// network m, with rider categories from the metro store's grants.
type gateEnv struct {
	*svcEnv
	issuer *ridecode.Issuer
	metro  metro.Store
}

func newGateEnv(t *testing.T, n int) *gateEnv {
	t.Helper()
	g := &gateEnv{issuer: newIssuer(t, "nb1")}
	g.svcEnv = newSvcEnv(t, n, func(cfg *benefits.Config, st storetest.Stores) {
		v, err := ridecode.NewVerifier(ridecode.VerifierConfig{Keys: map[string]*ecdsa.PublicKey{"nb1": g.issuer.PublicKey()}, Skew: ridecode.DefaultSkew, Network: "m"})
		if err != nil {
			t.Fatal(err)
		}
		cfg.RideCodes, cfg.RiderGroups, g.metro = v, st.Metro.RiderGroups, st.Metro
	})
	return g
}

func newIssuer(t *testing.T, id string) *ridecode.Issuer {
	t.Helper()
	k, err := ridecode.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	is, err := ridecode.NewIssuer(id, k)
	if err != nil {
		t.Fatal(err)
	}
	return is
}

// code signs a code for the account issued now on network m; edit changes
// the claims first.
func (g *gateEnv) code(t *testing.T, is *ridecode.Issuer, account int64, edit ...func(*ridecode.Claims)) string {
	t.Helper()
	c := ridecode.Claims{Network: "m", Account: account, IssuedAt: g.clock.Now()}
	for _, e := range edit {
		e(&c)
	}
	text, err := is.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// ride is a ¥5 ride entered ten minutes ago, paid with code.
func (g *gateEnv) ride(id, code string) benefits.GateRide {
	return benefits.GateRide{ID: id, Code: code, From: "m:A", To: "m:B", Fare: 500, EnteredAt: g.clock.Now().Add(-10 * time.Minute)}
}

func wantReason(t *testing.T, what string, err error, reason string) {
	t.Helper()
	if fault.As(err).Reason != reason {
		t.Errorf("%s: %v, want %s", what, err, reason)
	}
}

// TestRedeemAtGateRefusals: forged, foreign, expired and early codes, a
// code of another network, an entry time far from the code's use, and a
// process without keys are refused with their stable reasons.
func TestRedeemAtGateRefusals(t *testing.T) {
	g := newGateEnv(t, 1)
	ctx := context.Background()
	me := g.accounts[0]
	g.clock.Advance(time.Hour)
	forger := newIssuer(t, "nb1") // the right issuer ID, the wrong key
	stranger := newIssuer(t, "xx")
	for _, c := range []struct {
		what, code, reason string
	}{
		{"forged signature", g.code(t, forger, me), ridecode.ReasonSignature},
		{"unknown issuer", g.code(t, stranger, me), ridecode.ReasonUnknownIssuer},
		{"expired", g.code(t, g.issuer, me, func(c *ridecode.Claims) { c.IssuedAt = c.IssuedAt.Add(-2 * time.Minute) }), ridecode.ReasonExpired},
		{"not yet valid", g.code(t, g.issuer, me, func(c *ridecode.Claims) { c.IssuedAt = c.IssuedAt.Add(time.Minute) }), ridecode.ReasonNotYetValid},
		{"other network", g.code(t, g.issuer, me, func(c *ridecode.Claims) { c.Network = "other" }), ridecode.ReasonNetwork},
		{"not a code", "HELLO", ridecode.ReasonMalformed},
	} {
		_, _, err := g.svc.RedeemAtGate(ctx, g.ride("R-"+c.what, c.code))
		wantReason(t, c.what, err, c.reason)
		if fault.As(err).Code != fault.Invalid {
			t.Errorf("%s: code %s, want invalid", c.what, fault.As(err).Code)
		}
	}
	early := g.ride("R-early", g.code(t, g.issuer, me))
	early.EnteredAt = g.clock.Now().Add(-5 * time.Hour)
	_, _, err := g.svc.RedeemAtGate(ctx, early)
	wantReason(t, "entered five hours before", err, "ride_entry_out_of_range")
	late := g.ride("R-late", g.code(t, g.issuer, me))
	late.EnteredAt = g.clock.Now().Add(time.Minute)
	_, _, err = g.svc.RedeemAtGate(ctx, late)
	wantReason(t, "entered in the future", err, "ride_entry_out_of_range")
	if _, err := g.svc.Redemption(ctx, "R-forged signature"); !fault.Is(err, fault.NotFound) {
		t.Errorf("a refused ride was stored: %v", err)
	}

	off := newSvcEnv(t, 1)
	_, _, err = off.svc.RedeemAtGate(ctx, g.ride("R-off", g.code(t, g.issuer, me)))
	if fault.As(err).Code != fault.Unavailable || fault.As(err).Reason != "ride_codes_unconfigured" {
		t.Errorf("without keys: %v", err)
	}
}

// TestRedeemAtGateRider: the code says who rides, so a voucher of one
// account never pays another's ride; a dynamic code pays once, a ride ID
// sent again (even after the code expired) answers the first result.
func TestRedeemAtGateRider(t *testing.T) {
	g := newGateEnv(t, 2)
	ctx := context.Background()
	alice, bob := g.accounts[0], g.accounts[1]
	c := g.running(t, benefits.Product{Kind: benefits.AmountOff, NameZH: "两元", Terms: benefits.Terms{AmountOff: 200}, Valid: benefits.Validity{Days: 3}}, benefits.Campaign{Stock: 10})
	for range 2 {
		if _, err := g.svc.Claim(ctx, c.ID, alice); err != nil {
			t.Fatal(err)
		}
	}
	g.clock.Advance(time.Hour)

	red, _, err := g.svc.RedeemAtGate(ctx, g.ride("bob-1", g.code(t, g.issuer, bob)))
	if err != nil || red.Account != bob || red.Net != 500 || len(red.Applied) != 0 {
		t.Errorf("bob's code: %+v, %v; want bob paying ¥5", red, err)
	}
	aliceCode := g.code(t, g.issuer, alice)
	red, replayed, err := g.svc.RedeemAtGate(ctx, g.ride("alice-1", aliceCode))
	if err != nil || replayed || red.Account != alice || red.Net != 300 || red.Ride.Feed != "m" || red.Ride.Code == "" {
		t.Fatalf("alice's code: %+v, %v; want alice paying ¥3", red, err)
	}
	_, _, err = g.svc.RedeemAtGate(ctx, g.ride("alice-2", aliceCode))
	wantReason(t, "one code, a second ride ID", err, ridecode.ReasonReplayed)
	again, replayed, err := g.svc.RedeemAtGate(ctx, g.ride("alice-1", aliceCode))
	if err != nil || !replayed || again.Applied[0].TicketID != red.Applied[0].TicketID {
		t.Errorf("the same ride again: replayed %v, %+v, %v", replayed, again, err)
	}
	g.clock.Advance(10 * time.Minute)
	if again, replayed, err := g.svc.RedeemAtGate(ctx, g.ride("alice-1", aliceCode)); err != nil || !replayed || again.Net != 300 {
		t.Errorf("the same ride after the code expired: replayed %v, %+v, %v", replayed, again, err)
	}
	_, _, err = g.svc.RedeemAtGate(ctx, g.ride("alice-3", aliceCode))
	wantReason(t, "an expired code on a new ride", err, ridecode.ReasonExpired)
	if got, _ := g.svc.Campaign(ctx, tenant.All(), c.ID); got.Uses != 1 {
		t.Errorf("campaign uses %d, want 1", got.Uses)
	}
}

// TestRedeemAtGateTicket: a count code pays with its own ticket only, which
// its account must hold.
func TestRedeemAtGateTicket(t *testing.T) {
	g := newGateEnv(t, 2)
	ctx := context.Background()
	alice, bob := g.accounts[0], g.accounts[1]
	big := g.running(t, benefits.Product{Kind: benefits.AmountOff, NameZH: "三元", Terms: benefits.Terms{AmountOff: 300}, Valid: benefits.Validity{Days: 3}}, benefits.Campaign{Stock: 10})
	ten := g.running(t, benefits.Product{Kind: benefits.MultiRide, NameZH: "十次", Terms: benefits.Terms{Rides: 10}, Valid: benefits.Validity{Days: 3}}, benefits.Campaign{Stock: 10})
	voucher, err := g.svc.Claim(ctx, big.ID, alice)
	if err != nil {
		t.Fatal(err)
	}
	tenRides, err := g.svc.Claim(ctx, ten.ID, alice)
	if err != nil {
		t.Fatal(err)
	}
	g.clock.Advance(time.Hour)
	count := func(account, ticket int64) string {
		return g.code(t, g.issuer, account, func(c *ridecode.Claims) { c.Kind, c.Ticket = ridecode.KindCount, ticket })
	}
	// The ten-ride ticket would pay the whole fare; the code names the voucher.
	red, _, err := g.svc.RedeemAtGate(ctx, g.ride("t-1", count(alice, voucher.ID)))
	if err != nil || len(red.Applied) != 1 || red.Applied[0].TicketID != voucher.ID || red.Net != 200 {
		t.Errorf("a code naming the voucher: %+v, %v; want it only, ¥2 paid", red, err)
	}
	red, _, err = g.svc.RedeemAtGate(ctx, g.ride("t-1b", count(alice, tenRides.ID)))
	if err != nil || len(red.Applied) != 1 || red.Applied[0].TicketID != tenRides.ID || red.Net != 0 {
		t.Errorf("a code naming the ten-ride ticket: %+v, %v", red, err)
	}
	_, _, err = g.svc.RedeemAtGate(ctx, g.ride("t-2", count(bob, tenRides.ID)))
	wantReason(t, "alice's ticket in bob's code", err, "ride_rider_mismatch")
	_, _, err = g.svc.RedeemAtGate(ctx, g.ride("t-3", count(alice, 999999)))
	wantReason(t, "a ticket that does not exist", err, "ride_rider_mismatch")
}

// TestRedeemAtGateRiderGroups: rider categories come from verified
// enrolments (the metro store's grants) at the entry time, never from what
// a caller says; paper tickets, ridden by whoever holds the paper, get none.
func TestRedeemAtGateRiderGroups(t *testing.T) {
	g := newGateEnv(t, 2)
	ctx := context.Background()
	teacher, other := g.accounts[0], g.accounts[1]
	c := g.running(t, benefits.Product{Kind: benefits.Percentage, NameZH: "教师半价", Terms: benefits.Terms{PercentOff: 50}, Scope: benefits.Scope{Riders: []string{"teacher"}}, Valid: benefits.Validity{Days: 3}}, benefits.Campaign{Stock: 10})
	paper := g.running(t, benefits.Product{Kind: benefits.PaperQR, NameZH: "纸质次票", Terms: benefits.Terms{Rides: 5}, Valid: benefits.Validity{Days: 3}}, benefits.Campaign{Stock: 10})
	for _, a := range []int64{teacher, other} {
		for range 3 {
			if _, err := g.svc.Claim(ctx, c.ID, a); err != nil {
				t.Fatal(err)
			}
		}
	}
	g.clock.Advance(time.Hour)

	// Not enrolled: nothing applies, whatever a caller asserts.
	red, _, err := g.svc.RedeemAtGate(ctx, g.ride("g-1", g.code(t, g.issuer, teacher)))
	if err != nil || len(red.Applied) != 0 || len(red.Ride.RiderGroups) != 0 {
		t.Errorf("before enrolment: %+v, %v", red, err)
	}
	red, _, err = g.svc.Redeem(ctx, benefits.Ride{ID: "g-asserted", Feed: "m", From: "m:A", To: "m:B", Fare: 500, EnteredAt: g.clock.Now(), RiderGroups: []string{"teacher"}}, other)
	if err != nil || len(red.Applied) != 0 || len(red.Ride.RiderGroups) != 0 {
		t.Errorf("an asserted category: %+v, %v; want it ignored", red, err)
	}

	// Enrolled (verified) from now on: the category applies to rides entered in its window.
	now := g.clock.Now()
	if err := g.metro.GrantGroups(ctx, []metro.AccountGroup{{Account: teacher, GroupGrant: metro.GroupGrant{Group: "teacher", Window: benefits.Window{From: now.Add(-5 * time.Minute), Until: now.Add(24 * time.Hour)}}}}); err != nil {
		t.Fatal(err)
	}
	red, _, err = g.svc.RedeemAtGate(ctx, g.ride("g-2", g.code(t, g.issuer, teacher)))
	if err != nil || red.Net != 500 || len(red.Ride.RiderGroups) != 0 {
		t.Errorf("enrolled, entered before the grant: %+v, %v; want ¥5 paid in full", red, err)
	}
	r := g.ride("g-3", g.code(t, g.issuer, teacher))
	r.EnteredAt = now.Add(-time.Minute)
	red, _, err = g.svc.RedeemAtGate(ctx, r)
	if err != nil || red.Net != 250 || len(red.Applied) != 1 || len(red.Ride.RiderGroups) != 1 || red.Ride.RiderGroups[0] != "teacher" {
		t.Errorf("enrolled: %+v, %v; want half fare as a teacher", red, err)
	}
	red, _, err = g.svc.RedeemAtGate(ctx, g.ride("g-4", g.code(t, g.issuer, other)))
	if err != nil || len(red.Applied) != 0 {
		t.Errorf("another rider: %+v, %v", red, err)
	}

	// A paper ticket of the teacher: the paper's rider gets no category.
	pt, err := g.svc.Claim(ctx, paper.ID, teacher)
	if err != nil {
		t.Fatal(err)
	}
	g.clock.Advance(time.Minute)
	pr := g.ride("g-5", g.code(t, g.issuer, teacher, func(c *ridecode.Claims) { c.Kind, c.Ticket = ridecode.KindPaper, pt.ID }))
	pr.EnteredAt = g.clock.Now()
	red, _, err = g.svc.RedeemAtGate(ctx, pr)
	if err != nil || len(red.Ride.RiderGroups) != 0 || len(red.Applied) != 1 || red.Applied[0].TicketID != pt.ID || red.Ride.Code != "" {
		t.Errorf("paper ticket: %+v, %v", red, err)
	}
}
