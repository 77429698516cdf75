package demo

import (
	"context"
	"fmt"
	"time"

	"piao/internal/benefits"
	"piao/internal/governance"
	"piao/internal/identity"
	"piao/internal/tenant"
)

// SeedBenefits adds the demo's value-added tickets on the Ningbo-like
// metro, made by the demo admin and reviewed by the demo reviewer as in
// the console: a running ¥2-off claim campaign (metro festival) with
// redemption codes, a ten-ride ticket given by codes, and a weekend
// discount waiting for review. It does nothing when campaigns exist, and
// says how many it created.
func SeedBenefits(ctx context.Context, svc *benefits.Service, ids *identity.Service, now time.Time) (int, error) {
	existing, err := svc.Campaigns(ctx, tenant.All(), benefits.CampaignFilter{Limit: 1})
	if err != nil || len(existing) > 0 {
		return 0, err
	}
	actor := func(username string) (string, error) {
		a, err := ids.Store.AccountByLogin(ctx, username)
		if err != nil {
			return "", fmt.Errorf("demo benefits: login %s: %w", username, err)
		}
		return governance.Actor(a.ID, a.Username), nil
	}
	admin, err := actor("admin")
	if err != nil {
		return 0, err
	}
	reviewer, err := actor("reviewer")
	if err != nil {
		return 0, err
	}
	const owner = "operator"
	type plan struct {
		product  benefits.Product
		campaign benefits.Campaign
		approve  bool
		codes    int
	}
	plans := []plan{
		{
			product: benefits.Product{Kind: benefits.AmountOff, NameZH: "两元乘车券", NameEN: "¥2 off a ride", Feed: MetroFeed,
				Terms: benefits.Terms{AmountOff: 200, MinFare: 300}, Valid: benefits.Validity{Days: 30}, Cover: benefits.Cover{Theme: "event", Text: "宁波地铁节"},
				InstructionsZH: "票价满 3 元的行程，刷乘车码出站时自动抵扣 2 元。", InstructionsEN: "Takes ¥2 off a ride of ¥3 or more when you leave with your ride code."},
			campaign: benefits.Campaign{NameZH: "地铁节领券", NameEN: "Metro festival", Channels: []benefits.Channel{benefits.ClaimChannel, benefits.CodeChannel},
				Stock: 1000, PerUser: 2, BudgetValue: 150_000},
			approve: true, codes: 20,
		},
		{
			product: benefits.Product{Kind: benefits.MultiRide, NameZH: "十次乘车票", NameEN: "Ten rides", Feed: MetroFeed,
				Terms: benefits.Terms{Rides: 10}, Valid: benefits.Validity{Days: 60}, Cover: benefits.Cover{Theme: "graduation", Text: "毕业快乐"}},
			campaign: benefits.Campaign{NameZH: "毕业季十次票", NameEN: "Graduation ten rides", Channels: []benefits.Channel{benefits.CodeChannel, benefits.DirectChannel},
				Stock: 200, PerUser: 1},
			approve: true, codes: 20,
		},
		{
			product: benefits.Product{Kind: benefits.Percentage, NameZH: "周末八折", NameEN: "20 % off at weekends", Feed: MetroFeed,
				Terms: benefits.Terms{PercentOff: 20, Cap: 100}, Scope: benefits.Scope{Weekdays: []int{6, 7}}, Valid: benefits.Validity{Days: 14}},
			campaign: benefits.Campaign{NameZH: "周末出行", NameEN: "Weekend rides", Channels: []benefits.Channel{benefits.ClaimChannel}, Stock: 500, PerUser: 1},
		},
	}
	n := 0
	for _, pl := range plans {
		p, err := svc.CreateProduct(ctx, tenant.All(), pl.product, owner, admin)
		if err != nil {
			return n, fmt.Errorf("demo product %s: %w", pl.product.NameZH, err)
		}
		c := pl.campaign
		c.ProductID, c.Starts, c.Ends = p.ID, now.Add(-time.Minute), now.AddDate(0, 0, 30)
		if c, err = svc.CreateCampaign(ctx, tenant.All(), c, owner, admin); err != nil {
			return n, fmt.Errorf("demo campaign %s: %w", c.NameZH, err)
		}
		n++
		if pl.codes > 0 {
			if _, err := svc.GenerateCodes(ctx, tenant.All(), c.ID, pl.codes, admin); err != nil {
				return n, err
			}
		}
		if _, err := svc.Act(ctx, tenant.All(), c.ID, benefits.Submit, admin, ""); err != nil {
			return n, err
		}
		if pl.approve {
			if _, err := svc.Act(ctx, tenant.All(), c.ID, benefits.Approve, reviewer, ""); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}
