package benefits_test

import (
	"context"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/tenant"
)

// TestPrepaidCanSpend: a prepaid campaign's budget of 0 spends nothing,
// where an operator's 0 means no cap; within a prepaid budget it spends
// up to the fen.
func TestPrepaidCanSpend(t *testing.T) {
	op := benefits.Campaign{Status: benefits.Active}
	if !op.CanSpend(500) {
		t.Error("an operator campaign with no budget refused a ride")
	}
	pre := benefits.Campaign{Status: benefits.Active, Prepaid: true}
	if pre.CanSpend(1) || !pre.OverBudget(1, 1) {
		t.Error("a prepaid campaign with nothing paid admitted a ride")
	}
	pre.BudgetValue, pre.Spent = 1000, 700
	if !pre.CanSpend(300) || pre.CanSpend(301) {
		t.Error("a prepaid campaign's budget is not spent to the fen")
	}
	if pre.OverBudget(1, 300) || !pre.OverBudget(1, 301) {
		t.Error("OverBudget disagrees with CanSpend")
	}
}

// TestTemplateBounds: a template admits products of its kind with terms
// within its bounds, and nothing once inactive.
func TestTemplateBounds(t *testing.T) {
	tpl := benefits.Template{Kind: benefits.AmountOff, NameZH: "抵用券", UnitPrice: 0, MaxAmountOff: 500, Active: true}
	if err := tpl.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (benefits.Template{Kind: benefits.AmountOff, NameZH: "x", MaxRides: 3}).Validate(); fault.As(err).Reason != "bounds_for_other_kind" {
		t.Errorf("bounds of another kind: %v", err)
	}
	if err := (benefits.Template{Kind: benefits.SingleRide, NameZH: "x", UnitPrice: -1}).Validate(); fault.As(err).Reason != "bad_unit_price" {
		t.Errorf("negative price: %v", err)
	}
	ok := benefits.Product{Kind: benefits.AmountOff, Terms: benefits.Terms{AmountOff: 500}}
	if err := tpl.Admits(ok); err != nil {
		t.Errorf("within bounds: %v", err)
	}
	wantReason(t, "over the bound", tpl.Admits(benefits.Product{Kind: benefits.AmountOff, Terms: benefits.Terms{AmountOff: 501}}), "amount_off_over_template")
	wantReason(t, "another kind", tpl.Admits(benefits.Product{Kind: benefits.Percentage, Terms: benefits.Terms{PercentOff: 10}}), "kind_not_in_template")
	pct := benefits.Template{Kind: benefits.Percentage, NameZH: "折扣", MaxPercentOff: 30, MaxCap: 200, Active: true}
	wantReason(t, "no cap", pct.Admits(benefits.Product{Kind: benefits.Percentage, Terms: benefits.Terms{PercentOff: 20}}), "cap_over_template")
	if err := pct.Admits(benefits.Product{Kind: benefits.Percentage, Terms: benefits.Terms{PercentOff: 30, Cap: 200}}); err != nil {
		t.Errorf("percentage within bounds: %v", err)
	}
	tpl.Active = false
	wantReason(t, "inactive", tpl.Admits(ok), "template_inactive")
	multi := benefits.Product{Kind: benefits.MultiRide, UnitPrice: 300, Terms: benefits.Terms{Rides: 10}}
	if got := multi.TicketPrice(); got != 3000 {
		t.Errorf("a 10-ride ticket at 300 a ride costs %d, want 3000", got)
	}
}

// merchantCampaign makes a template, a merchant product from it and a
// draft campaign of merchant m; the campaign is prepaid with nothing in it.
func (e *svcEnv) merchantCampaign(t *testing.T, m int64, tpl benefits.Template, p benefits.Product) (benefits.Template, benefits.Campaign) {
	t.Helper()
	ctx, scope := context.Background(), tenant.Merchant(m)
	tpl, err := e.svc.CreateTemplate(ctx, tpl, "account:1")
	if err != nil {
		t.Fatal(err)
	}
	p.Feed = "m"
	if p.NameZH == "" {
		p.NameZH = "商户票"
	}
	if p.Valid == (benefits.Validity{}) {
		p.Valid = benefits.Validity{Days: 30}
	}
	p, err = e.svc.CreateMerchantProduct(ctx, scope, tpl.ID, p, "account:7")
	if err != nil {
		t.Fatal(err)
	}
	if p.Owner != tenant.OwnerOf(m) || p.TemplateID != tpl.ID || p.UnitPrice != tpl.UnitPrice {
		t.Fatalf("merchant product = %+v", p)
	}
	c, err := e.svc.CreateCampaign(ctx, scope, benefits.Campaign{ProductID: p.ID, NameZH: "商户活动", Stock: 99, BudgetValue: 5000,
		Starts: e.clock.Now().Add(-time.Minute), Ends: e.clock.Now().Add(24 * time.Hour), Channels: []benefits.Channel{benefits.ClaimChannel}}, "operator", "account:7")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Prepaid || c.Stock != 0 || c.BudgetValue != 0 || c.Owner != tenant.OwnerOf(m) {
		t.Fatalf("merchant campaign = %+v, want prepaid with nothing in it", c)
	}
	return tpl, c
}

// TestMerchantCampaignFunding walks a merchant's prepaid campaign: it
// cannot be submitted without stock; purchases add stock and value once
// per key; claims stop at the stock bought and start again after a
// top-up; it closes once over, returning what was unused, once per key.
func TestMerchantCampaignFunding(t *testing.T) {
	e := newSvcEnv(t, 3)
	ctx, scope := context.Background(), tenant.Merchant(7)
	_, c := e.merchantCampaign(t, 7, benefits.Template{Kind: benefits.MultiRide, NameZH: "十次票", UnitPrice: 300, MaxRides: 10},
		benefits.Product{Kind: benefits.MultiRide, Terms: benefits.Terms{Rides: 5}})
	if price, err := e.svc.UnitPrice(ctx, scope, c.ID); err != nil || price != 1500 {
		t.Fatalf("UnitPrice = %d, %v; want 5 rides × 300", price, err)
	}
	if _, err := e.svc.UnitPrice(ctx, tenant.Merchant(8), c.ID); !fault.Is(err, fault.NotFound) {
		t.Errorf("another merchant's UnitPrice: %v", err)
	}
	_, err := e.svc.Act(ctx, scope, c.ID, benefits.Submit, "account:7", "")
	wantReason(t, "submit without stock", err, "no_stock")

	c, err = e.svc.AddStock(ctx, scope, c.ID, "purchase:1", 1, 1500)
	if err != nil || c.Stock != 1 || c.BudgetValue != 1500 {
		t.Fatalf("AddStock = %+v, %v", c, err)
	}
	if c, err = e.svc.AddStock(ctx, scope, c.ID, "purchase:1", 1, 1500); err != nil || c.Stock != 1 || c.BudgetValue != 1500 {
		t.Fatalf("a repeated purchase added again: %+v, %v", c, err)
	}
	_, err = e.svc.AddStock(ctx, tenant.Merchant(8), c.ID, "purchase:2", 1, 1500)
	if !fault.Is(err, fault.NotFound) {
		t.Errorf("another merchant's top-up: %v", err)
	}
	wantReason(t, "a negative top-up", func() error { _, err := e.svc.AddStock(ctx, scope, c.ID, "purchase:3", -1, 0); return err }(), "bad_top_up")

	for _, step := range []struct {
		a  benefits.Action
		by string
	}{{benefits.Submit, "account:7"}, {benefits.Approve, "account:2"}} {
		if c, err = e.svc.Act(ctx, tenant.All(), c.ID, step.a, step.by, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.Claim(ctx, c.ID, e.accounts[0]); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Claim(ctx, c.ID, e.accounts[1])
	wantReason(t, "claim beyond the stock bought", err, "sold_out")
	if c, err = e.svc.AddStock(ctx, scope, c.ID, "purchase:4", 1, 1500); err != nil || c.Stock != 2 || c.BudgetValue != 3000 {
		t.Fatalf("top-up = %+v, %v", c, err)
	}
	if _, err := e.svc.Claim(ctx, c.ID, e.accounts[1]); err != nil {
		t.Fatalf("claim after a top-up: %v", err)
	}
	ev, err := e.svc.Events(ctx, scope, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	topUps := 0
	for _, x := range ev {
		if x.Action == "top_up" {
			topUps++
		}
	}
	if topUps != 2 {
		t.Errorf("%d top_up events, want 2 (one per key)", topUps)
	}

	_, _, err = e.svc.CloseBudget(ctx, scope, c.ID, "close:1")
	wantReason(t, "closing a running campaign", err, "campaign_not_over")
	if _, err := e.svc.Act(ctx, tenant.All(), c.ID, benefits.Terminate, "account:2", "提前结束"); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.AddStock(ctx, scope, c.ID, "purchase:5", 1, 1500)
	wantReason(t, "a top-up once over", err, "campaign_over")
	unused, c, err := e.svc.CloseBudget(ctx, scope, c.ID, "close:1")
	if err != nil || unused != 3000 || c.BudgetValue != c.Spent {
		t.Fatalf("CloseBudget = %d, %+v, %v; want all 3000 fen unused", unused, c, err)
	}
	if again, _, err := e.svc.CloseBudget(ctx, scope, c.ID, "close:1"); err != nil || again != unused {
		t.Errorf("a repeated close = %d, %v; want %d again", again, err, unused)
	}
	if other, _, err := e.svc.CloseBudget(ctx, scope, c.ID, "close:2"); err != nil || other != 0 {
		t.Errorf("a second close with another key = %d, %v; want 0 left", other, err)
	}
	_, err = e.svc.AddStock(ctx, scope, c.ID+1000, "close:1", 1, 1)
	if !fault.Is(err, fault.NotFound) && fault.As(err).Reason != "key_reused" {
		t.Errorf("a key reused for another campaign: %v", err)
	}
}

// TestOperatorCampaignNotPrepaid: the operator's campaigns keep their
// stock and budgets as given and cannot be topped up.
func TestOperatorCampaignNotPrepaid(t *testing.T) {
	e := newSvcEnv(t, 0)
	c := e.running(t, benefits.Product{Kind: benefits.SingleRide, NameZH: "单程", Valid: benefits.Validity{Days: 3}}, benefits.Campaign{Stock: 5})
	if c.Prepaid || c.Stock != 5 {
		t.Fatalf("operator campaign = %+v", c)
	}
	_, err := e.svc.AddStock(context.Background(), tenant.All(), c.ID, "k", 1, 0)
	wantReason(t, "topping up an operator campaign", err, "campaign_not_prepaid")
}

// TestCoverKeptOnceReviewed: a merchant changes its product's cover while
// the campaign is a draft, never once it is submitted or approved (the
// operator reviewed it with that cover); a rejected campaign may change
// it before it is submitted again.
func TestCoverKeptOnceReviewed(t *testing.T) {
	e := newSvcEnv(t, 1)
	ctx, scope := context.Background(), tenant.Merchant(7)
	_, c := e.merchantCampaign(t, 7, benefits.Template{Kind: benefits.SingleRide, NameZH: "单程票", UnitPrice: 400}, benefits.Product{Kind: benefits.SingleRide})
	cover := func() error {
		_, err := e.svc.SetCover(ctx, scope, benefits.CoverImage{ProductID: c.ProductID, Name: "logo.png", ContentType: "image/png", SHA256: "ab", Data: []byte("\x89PNG")}, "account:7")
		return err
	}
	if err := cover(); err != nil {
		t.Fatalf("a draft's cover: %v", err)
	}
	if _, err := e.svc.AddStock(ctx, scope, c.ID, "purchase:1", 1, 400); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Act(ctx, scope, c.ID, benefits.Submit, "account:7", ""); err != nil {
		t.Fatal(err)
	}
	wantReason(t, "a submitted campaign's cover", cover(), "cover_reviewed")
	if _, err := e.svc.Act(ctx, tenant.All(), c.ID, benefits.Reject, "account:2", "封面不清晰"); err != nil {
		t.Fatal(err)
	}
	if err := cover(); err != nil {
		t.Errorf("a rejected campaign's cover: %v", err)
	}
	if _, err := e.svc.Act(ctx, scope, c.ID, benefits.Submit, "account:7", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Act(ctx, tenant.All(), c.ID, benefits.Approve, "account:2", ""); err != nil {
		t.Fatal(err)
	}
	wantReason(t, "an approved campaign's cover", cover(), "cover_reviewed")
}
