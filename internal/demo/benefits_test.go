package demo_test

import (
	"context"
	"testing"
	"time"

	"piao/internal/app/apptest"
	"piao/internal/benefits"
	"piao/internal/demo"
	"piao/internal/tenant"
)

// TestSeedBenefits seeds the demo campaigns once: two running (one with
// codes and claims, one with codes only) and one waiting for review, made
// by the admin and approved by the reviewer; seeding again adds nothing.
func TestSeedBenefits(t *testing.T) {
	a := apptest.NewDemo(t)
	ctx := context.Background()
	now := time.Now()
	n, err := demo.SeedBenefits(ctx, a.Benefits, a.Identity, now)
	if err != nil || n != 3 {
		t.Fatalf("SeedBenefits = %d, %v; want 3 campaigns", n, err)
	}
	if n, err := demo.SeedBenefits(ctx, a.Benefits, a.Identity, now); err != nil || n != 0 {
		t.Fatalf("seeding again = %d, %v; want nothing", n, err)
	}
	cs, err := a.Benefits.Campaigns(ctx, tenant.All(), benefits.CampaignFilter{})
	if err != nil || len(cs) != 3 {
		t.Fatalf("campaigns = %d, %v", len(cs), err)
	}
	status := map[benefits.Status]int{}
	for _, c := range cs {
		status[c.Effective(now.Add(time.Second))]++
		if c.CreatedBy == "" {
			t.Errorf("campaign %d has no creator", c.ID)
		}
	}
	if status[benefits.Active] != 2 || status[benefits.Submitted] != 1 {
		t.Errorf("statuses %v, want 2 active and 1 submitted", status)
	}
	st, err := a.Benefits.Stats(ctx, tenant.All(), cs[len(cs)-1].ID)
	if err != nil || st.Codes != 20 {
		t.Errorf("the festival campaign's codes: %+v, %v", st, err)
	}
}
