package app

import (
	"context"

	"piao/internal/benefits"
	"piao/internal/metro"
	"piao/internal/subsidy"
	"piao/internal/tenant"
)

// subsidyConfig connects subsidies to the rest of piao: verified
// enrolments grant rider categories in the metro store, where settlement
// reads them, and a new scheme's automatic campaign is made and submitted
// for review by the benefits service, owned by the scheme.
func subsidyConfig(a *App) subsidy.Config {
	return subsidy.Config{
		Now: a.Now, Audit: a.Audit,
		Grant: func(ctx context.Context, gs []subsidy.GroupGrant) error {
			out := make([]metro.AccountGroup, len(gs))
			for i, g := range gs {
				out[i] = metro.AccountGroup{Account: g.Account, GroupGrant: metro.GroupGrant{Group: string(g.Group), Window: benefits.Window{From: g.From, Until: g.Until}}}
			}
			return a.MetroStore.GrantGroups(ctx, out)
		},
		NewCampaign: func(ctx context.Context, p benefits.Product, c benefits.Campaign, actor string) (int64, error) {
			p, err := a.Benefits.CreateProduct(ctx, tenant.All(), p, p.Owner, actor)
			if err != nil {
				return 0, err
			}
			c.ProductID = p.ID
			if c, err = a.Benefits.CreateCampaign(ctx, tenant.All(), c, c.Owner, actor); err != nil {
				return 0, err
			}
			if _, err := a.Benefits.Act(ctx, tenant.All(), c.ID, benefits.Submit, actor, ""); err != nil {
				return 0, err
			}
			return c.ID, nil
		},
	}
}
