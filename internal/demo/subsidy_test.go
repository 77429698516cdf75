package demo_test

import (
	"context"
	"testing"
	"time"

	"piao/internal/app/apptest"
	"piao/internal/benefits"
	"piao/internal/demo"
	"piao/internal/subsidy"
	"piao/internal/tenant"
)

// TestSeedSubsidy seeds two schemes with running campaigns and one
// application waiting for review, after the demo campaigns; seeding again
// adds nothing.
func TestSeedSubsidy(t *testing.T) {
	a := apptest.NewDemo(t)
	ctx := context.Background()
	now := time.Now()
	if _, err := demo.SeedBenefits(ctx, a.Benefits, a.Identity, now); err != nil {
		t.Fatal(err)
	}
	n, err := demo.SeedSubsidy(ctx, a.Subsidy, a.Benefits, a.Identity, now)
	if err != nil || n != 2 {
		t.Fatalf("SeedSubsidy = %d, %v; want 2 schemes", n, err)
	}
	if n, err := demo.SeedSubsidy(ctx, a.Subsidy, a.Benefits, a.Identity, now); err != nil || n != 0 {
		t.Fatalf("seeding again = %d, %v; want nothing", n, err)
	}
	schemes, err := a.Subsidy.Schemes(ctx)
	if err != nil || len(schemes) != 2 {
		t.Fatalf("schemes: %v %+v", err, schemes)
	}
	for _, s := range schemes {
		c, err := a.Benefits.Campaign(ctx, tenant.All(), s.CampaignID)
		if err != nil || c.Effective(now.Add(time.Second)) != benefits.Active || c.Owner != "subsidy:"+s.ID || !c.Automatic() {
			t.Errorf("scheme %s campaign: %v %+v", s.ID, err, c)
		}
	}
	queue, err := a.Subsidy.Enrolments(ctx, subsidy.Filter{Awaiting: true})
	if err != nil || len(queue) != 1 || queue[0].SchemeID != "teachers" || queue[0].State != subsidy.Applied {
		t.Fatalf("queue: %v %+v", err, queue)
	}
}
