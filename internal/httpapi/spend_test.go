package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"piao/internal/app/apptest"
	"piao/internal/benefits"
	"piao/internal/identity"
	"piao/internal/metro"
	"piao/internal/ridemore"
	"piao/internal/tenant"
)

// TestSettleSpendTiersOverHTTP: with a spend_tiers rule in use (piao serve
// --spend-rule), settling through the API gives the rides after ¥100 of
// a month 20 % off, booked to the rule's campaign.
func TestSettleSpendTiersOverHTTP(t *testing.T) {
	ctx := context.Background()
	a := apptest.NewDemo(t)
	bs := a.BenefitsStore
	now := time.Now()
	p := benefits.Product{Owner: "operator", Kind: benefits.Percentage, NameZH: "月度累计消费优惠", NameEN: "Monthly spend discount", Feed: "nbmetro",
		Terms: benefits.Terms{PercentOff: 20}, Valid: benefits.Validity{Days: 31}, CreatedBy: "test", CreatedAt: now}
	if err := bs.CreateProduct(ctx, tenant.All(), &p); err != nil {
		t.Fatal(err)
	}
	c := benefits.Campaign{ProductID: p.ID, Owner: "operator", NameZH: "月度累计消费优惠", NameEN: "Monthly spend discount", Status: benefits.Approved,
		Starts: now.AddDate(0, -1, 0), Ends: now.AddDate(1, 0, 0), Channels: []benefits.Channel{benefits.DirectChannel}, CreatedBy: "test", CreatedAt: now, UpdatedAt: now}
	if err := bs.CreateCampaign(ctx, tenant.All(), &c, benefits.Event{At: now, By: "test", Action: "create", To: benefits.Approved}); err != nil {
		t.Fatal(err)
	}
	if err := a.UseSpendRule(ctx, ridemore.Beijing("bj", c.ID+1000)); err == nil {
		t.Fatal("a rule naming no stored campaign was accepted")
	}
	if err := a.UseSpendRule(ctx, ridemore.Beijing("bj", c.ID)); err != nil {
		t.Fatal(err)
	}
	ts, _ := apptest.Serve(t, a, nil)
	s := &testServer{Server: ts, app: a}

	// 20 rides of ¥6 this month, an hour apart, from the start of the month.
	local := now.In(benefits.Shanghai)
	start := time.Date(local.Year(), local.Month(), 1, 6, 0, 0, 0, benefits.Shanghai)
	var trips []metro.Trip
	for i := range 20 {
		at := start.Add(time.Duration(i) * time.Hour)
		trips = append(trips, metro.Trip{ID: fmt.Sprintf("t-bj-%02d", i), Feed: "nbmetro", Account: 4242, Status: metro.Complete,
			From: "nbmetro:GL", To: "nbmetro:QSP", FromLine: "nbmetro:L2", ToLine: "nbmetro:L2", Entered: at, Exited: at.Add(30 * time.Minute), Metres: 15000, Fare: 600})
	}
	if _, err := a.MetroStore.AddTrips(ctx, trips, nil); err != nil {
		t.Fatal(err)
	}
	admin := s.token(t, identity.OperatorAdmin)
	res := s.do(t, "POST", "/api/v1/metro/nbmetro/settle", admin, nil)
	var rep metro.SettleReport
	bnJSON(t, res, &rep)
	if res.status != http.StatusOK || rep.Trips != 20 || rep.Benefited != 3 || rep.Operator != 3*120 {
		t.Fatalf("settle: %d %+v", res.status, rep)
	}
	for i, want := range map[int]int64{16: 600, 17: 480, 19: 480} {
		l, err := a.MetroStore.Settlement(ctx, trips[i].ID)
		if err != nil || l.Passenger != want {
			t.Fatalf("ride %d: %+v %v, want %d paid", i+1, l, err, want)
		}
	}
}
