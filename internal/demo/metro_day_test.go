package demo_test

import (
	"context"
	"testing"
	"time"

	"piao/internal/app/apptest"
	"piao/internal/demo"
	"piao/internal/tenant"
)

func TestSeedMetroDay(t *testing.T) {
	a := apptest.NewDemo(t)
	ctx := context.Background()
	if _, err := demo.SeedBenefits(ctx, a.Benefits, a.Identity, time.Now()); err != nil {
		t.Fatal(err)
	}
	day, err := demo.SeedMetroDay(ctx, a.Benefits, a.Metro, a.Identity, time.Now(), 200)
	if err != nil {
		t.Fatal(err)
	}
	if day.Taps < 400 || day.Trips < 200 || day.Benefited == 0 || day.Benefited >= day.Trips {
		t.Fatalf("demo day: %+v", day)
	}
	if problems, err := a.LedgerStore.Verify(ctx); err != nil || len(problems) > 0 {
		t.Fatalf("ledger check after the demo day: %+v, %v", problems, err)
	}
	local := time.Now().In(time.FixedZone("CST", 8*3600))
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, local.Location())
	uses, err := a.MetroStore.UseStats(ctx, day.CampaignID, today.AddDate(0, 0, -1), today)
	if err != nil {
		t.Fatal(err)
	}
	n, saved := 0, int64(0)
	for _, u := range uses {
		n, saved = n+u.Trips, saved+u.Saving
		if u.Saving <= 0 {
			t.Fatalf("a free ride that saved nothing: %+v", u)
		}
	}
	if n == 0 || n > day.Benefited {
		t.Fatalf("%d free rides counted, %d trips benefited", n, day.Benefited)
	}
	// The campaign's statistics agree with the ride statistics: every free
	// ride counted, each rider who had one counted as issued and used.
	st, err := a.Benefits.Stats(ctx, tenant.All(), day.CampaignID)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Automatic || st.Rides != n || st.Spent != saved || st.Issued == 0 || st.Issued > n || st.Used != st.Issued || st.Holders != st.Issued {
		t.Fatalf("free-ride day stats %+v; %d rides saved %d fen", st, n, saved)
	}
	again, err := demo.SeedMetroDay(ctx, a.Benefits, a.Metro, a.Identity, time.Now(), 200)
	if err != nil || again.Trips != 0 || again.CampaignID != 0 {
		t.Fatalf("seeding again: %+v %v", again, err)
	}
}
