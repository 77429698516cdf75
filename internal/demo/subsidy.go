package demo

import (
	"context"
	"fmt"
	"time"

	"piao/internal/benefits"
	"piao/internal/governance"
	"piao/internal/identity"
	"piao/internal/subsidy"
	"piao/internal/tenant"
)

// SeedSubsidy adds the demo's subsidies for special groups on the metro:
// teachers ride free and high-level talents at half fare (at most ¥5 a
// ride), defined by the demo admin with their campaigns approved by the
// demo reviewer, and the demo passenger's application as a teacher
// waiting in the review queue. It does nothing when schemes exist, and
// says how many it created. Call it after SeedBenefits, which seeds only
// a database without campaigns.
func SeedSubsidy(ctx context.Context, svc *subsidy.Service, bs *benefits.Service, ids *identity.Service, now time.Time) (int, error) {
	existing, err := svc.Schemes(ctx)
	if err != nil || len(existing) > 0 {
		return 0, err
	}
	accounts := map[string]identity.Account{}
	for _, u := range []string{"admin", "reviewer", "passenger"} {
		a, err := ids.Store.AccountByLogin(ctx, u)
		if err != nil {
			return 0, fmt.Errorf("demo subsidy: login %s: %w", u, err)
		}
		accounts[u] = a
	}
	actor := func(u string) string { return governance.Actor(accounts[u].ID, accounts[u].Username) }
	spec := subsidy.CampaignSpec{Feed: MetroFeed, Starts: now.Add(-time.Minute), Ends: now.AddDate(1, 0, 0)}
	n := 0
	for _, s := range []subsidy.Scheme{
		{ID: "teachers", Group: subsidy.Teacher, NameZH: "教师免费乘车", NameEN: "Teachers ride free", Grant: subsidy.Free, ValidMonths: 12, RenewDays: 30},
		{ID: "talents", Group: subsidy.Talent, NameZH: "高层次人才乘车五折", NameEN: "High-level talents ride at half fare", Grant: subsidy.Discount,
			PercentOff: 50, Cap: 500, ValidMonths: 36, RenewDays: 60},
	} {
		s, err := svc.CreateScheme(ctx, s, spec, actor("admin"))
		if err != nil {
			return n, fmt.Errorf("demo scheme %s: %w", s.ID, err)
		}
		if _, err := bs.Act(ctx, tenant.All(), s.CampaignID, benefits.Approve, actor("reviewer"), ""); err != nil {
			return n, fmt.Errorf("demo scheme %s: approve its campaign: %w", s.ID, err)
		}
		n++
	}
	if _, err := svc.Apply(ctx, accounts["passenger"].ID, "teachers", "教师资格证 20263302000123"); err != nil {
		return n, fmt.Errorf("demo subsidy application: %w", err)
	}
	return n, nil
}
