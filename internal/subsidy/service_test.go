package subsidy_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/store/sealed"
	"piao/internal/store/sqlite"
	"piao/internal/subsidy"
	"piao/internal/testclock"
)

// svcWorld is a service over a fresh SQLite store with a clock the test
// moves, recording the grants and campaigns it asks for.
type svcWorld struct {
	svc       *subsidy.Service
	clock     *testclock.Clock
	grants    []subsidy.GroupGrant
	failGrant bool
	products  []benefits.Product
	campaigns []benefits.Campaign
}

func newSvcWorld(t *testing.T) *svcWorld {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "piao.db"), sealed.Generate())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	w := &svcWorld{clock: testclock.New(at("2026-03-15 10:00:00"))}
	w.svc = subsidy.NewService(db.Subsidy(), subsidy.Config{
		Now: w.clock.Now,
		Grant: func(_ context.Context, gs []subsidy.GroupGrant) error {
			if w.failGrant {
				return errors.New("metro store down")
			}
			w.grants = append(w.grants, gs...)
			return nil
		},
		NewCampaign: func(_ context.Context, p benefits.Product, c benefits.Campaign, _ string) (int64, error) {
			w.products, w.campaigns = append(w.products, p), append(w.campaigns, c)
			return int64(100 + len(w.campaigns)), nil
		},
	})
	return w
}

var svcSpec = subsidy.CampaignSpec{Feed: "nbmetro", Starts: at("2026-01-01 00:00:00"), Ends: at("2027-01-01 00:00:00")}

func svcScheme() subsidy.Scheme {
	return subsidy.Scheme{ID: "teachers", Group: subsidy.Teacher, NameZH: "教师免费乘车", Grant: subsidy.Free, ValidMonths: 12, RenewDays: 30}
}

// TestServiceCreateScheme: a scheme gets an automatic campaign carrying
// exactly its terms for its group, owned by the scheme; what settlement
// could not honour is refused.
func TestServiceCreateScheme(t *testing.T) {
	ctx := context.Background()
	w := newSvcWorld(t)
	for _, c := range []struct {
		edit   func(*subsidy.Scheme)
		reason string
	}{
		{func(s *subsidy.Scheme) { s.RidesPerMonth = 40 }, "rides_per_month_unsupported"},
		{func(s *subsidy.Scheme) { s.Scope.Riders = []string{"senior"} }, "scope_riders_set"},
		{func(s *subsidy.Scheme) { s.Group = "a-group-code-longer-than-32-characters" }, "bad_group"},
		{func(s *subsidy.Scheme) { s.ValidMonths = 0 }, "bad_valid_months"},
	} {
		s := svcScheme()
		c.edit(&s)
		if _, err := w.svc.CreateScheme(ctx, s, svcSpec, "admin"); fault.As(err) == nil || fault.As(err).Reason != c.reason {
			t.Errorf("%s: %v", c.reason, err)
		}
	}
	late := svcSpec
	late.Ends = late.Starts
	if _, err := w.svc.CreateScheme(ctx, svcScheme(), late, "admin"); fault.As(err) == nil || fault.As(err).Reason != "bad_campaign_window" {
		t.Errorf("campaign window: %v", err)
	}
	if len(w.campaigns) != 0 {
		t.Fatalf("campaigns made for refused schemes: %+v", w.campaigns)
	}
	s, err := w.svc.CreateScheme(ctx, svcScheme(), svcSpec, "admin")
	if err != nil || s.CampaignID != 101 {
		t.Fatalf("create: %v %+v", err, s)
	}
	p, c := w.products[0], w.campaigns[0]
	if p.Kind != benefits.Percentage || p.Terms.PercentOff != 100 || !p.Terms.Exclusive || !slices.Equal(p.Scope.Riders, []string{"teacher"}) ||
		p.Owner != "subsidy:teachers" || p.Feed != "nbmetro" || c.Owner != p.Owner || !c.Automatic() || c.Stock != 0 || !c.Starts.Equal(svcSpec.Starts) {
		t.Fatalf("campaign: %+v %+v", p, c)
	}
	if got, err := w.svc.Scheme(ctx, "teachers"); err != nil || got.CampaignID != 101 {
		t.Fatalf("stored: %v %+v", err, got)
	}
	again := svcScheme()
	if _, err := w.svc.CreateScheme(ctx, again, svcSpec, "admin"); !errors.Is(err, subsidy.ErrSchemeExists) {
		t.Fatalf("same ID: %v", err)
	}
	again.ID = "teachers-2"
	if _, err := w.svc.CreateScheme(ctx, again, svcSpec, "admin"); fault.As(err) == nil || fault.As(err).Reason != "group_has_scheme" {
		t.Fatalf("same group: %v", err)
	}
	d := subsidy.Scheme{ID: "talents", Group: subsidy.Talent, NameEN: "Talents", Grant: subsidy.Discount, PercentOff: 30, Cap: 200, Combinable: true, ValidMonths: 24,
		Scope: benefits.Scope{Weekdays: []int{1, 2, 3, 4, 5}}}
	dp, _ := subsidy.CampaignFor(d, svcSpec)
	if dp.Terms.PercentOff != 30 || dp.Terms.Cap != 200 || dp.Terms.Exclusive || !slices.Equal(dp.Scope.Weekdays, d.Scope.Weekdays) || !slices.Equal(dp.Scope.Riders, []string{"talent"}) {
		t.Fatalf("discount campaign: %+v", dp)
	}
}

// TestServiceExpiryAndReconcile: the sweep records expiry once; a grant a
// failed write missed is made good by Reconcile, the latest enrolment of
// an account winning.
func TestServiceExpiryAndReconcile(t *testing.T) {
	ctx := context.Background()
	w := newSvcWorld(t)
	if _, err := w.svc.CreateScheme(ctx, svcScheme(), svcSpec, "admin"); err != nil {
		t.Fatal(err)
	}
	e, err := w.svc.Apply(ctx, 7, "teachers", "证 1")
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(time.Hour)
	v, err := w.svc.Verify(ctx, e.ID, "reviewer")
	if err != nil || len(w.grants) != 1 || w.grants[0] != (subsidy.GroupGrant{Account: 7, Group: subsidy.Teacher, From: v.From, Until: v.Until}) || !v.From.Equal(w.clock.Now()) {
		t.Fatalf("verify: %v %+v %+v", err, v, w.grants)
	}
	// A second account verified while the grant cannot be written: the
	// verification stands, the error says so, Reconcile grants it.
	e2, _ := w.svc.Apply(ctx, 8, "teachers", "证 2")
	w.failGrant = true
	if v2, err := w.svc.Verify(ctx, e2.ID, "reviewer"); err == nil || v2.State != subsidy.Active {
		t.Fatalf("verify with the grant failing: %v %+v", err, v2)
	}
	if got, _ := w.svc.Enrolment(ctx, e2.ID); got.State != subsidy.Active {
		t.Fatalf("stored: %+v", got)
	}
	w.failGrant = false
	// Account 7 is revoked and enrolled again: its latest enrolment wins.
	w.clock.Advance(time.Hour)
	_, err = w.svc.Revoke(ctx, e.ID, "reviewer", "离职")
	if err != nil || w.grants[len(w.grants)-1].Until != w.clock.Now() {
		t.Fatalf("revoke: %v %+v", err, w.grants)
	}
	e3, _ := w.svc.Apply(ctx, 7, "teachers", "证 3")
	w.clock.Advance(time.Hour)
	v3, _ := w.svc.Verify(ctx, e3.ID, "reviewer")
	w.grants = nil
	if n, err := w.svc.Reconcile(ctx); err != nil || n != 2 || len(w.grants) != 2 {
		t.Fatalf("reconcile: %d %v %+v", n, err, w.grants)
	}
	for _, g := range w.grants {
		want := map[int64]time.Time{7: v3.From, 8: at("2026-03-15 11:00:00")}[g.Account]
		if !g.From.Equal(want) || g.Group != subsidy.Teacher {
			t.Fatalf("reconciled grant %+v, want from %v", g, want)
		}
	}

	// Expiry: nothing is due before Until; at Until both active ones expire, once.
	w.clock.Set(v3.Until.Add(-time.Second))
	if n, err := w.svc.ExpireDue(ctx); err != nil || n != 0 {
		t.Fatalf("expire early: %d %v", n, err)
	}
	w.clock.Set(v3.Until)
	if n, err := w.svc.ExpireDue(ctx); err != nil || n != 2 {
		t.Fatalf("expire: %d %v", n, err)
	}
	if n, err := w.svc.ExpireDue(ctx); err != nil || n != 0 {
		t.Fatalf("expire again: %d %v", n, err)
	}
	mine, err := w.svc.AccountEnrolments(ctx, 7)
	if err != nil || len(mine) != 2 || mine[0].State != subsidy.Expired || mine[1].State != subsidy.Revoked {
		t.Fatalf("account 7: %v %+v", err, mine)
	}
	// Re-enrolment after expiry is a new application.
	if e4, err := w.svc.Apply(ctx, 7, "teachers", "证 4"); err != nil || e4.State != subsidy.Applied {
		t.Fatalf("apply after expiry: %v %+v", err, e4)
	}
	// Only the owner asks to renew.
	if _, err := w.svc.RequestRenewal(ctx, 9, e2.ID, "x"); !errors.Is(err, subsidy.ErrEnrolmentNotFound) {
		t.Fatalf("renewal by another account: %v", err)
	}
}

// TestServiceDecidedOnce: two operators deciding one application at once
// through the service: one decision is stored, the other is refused as a
// conflict, and the group is granted only if the verification won.
func TestServiceDecidedOnce(t *testing.T) {
	ctx := context.Background()
	w := newSvcWorld(t)
	if _, err := w.svc.CreateScheme(ctx, svcScheme(), svcSpec, "admin"); err != nil {
		t.Fatal(err)
	}
	for round := range 10 {
		e, err := w.svc.Apply(ctx, int64(300+round), "teachers", "证")
		if err != nil {
			t.Fatal(err)
		}
		before := len(w.grants)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		wg.Add(2)
		go func() { defer wg.Done(); _, errs[0] = w.svc.Verify(ctx, e.ID, "reviewer-a") }()
		go func() { defer wg.Done(); _, errs[1] = w.svc.Reject(ctx, e.ID, "reviewer-b", "材料不符") }()
		wg.Wait()
		granted := len(w.grants) - before // written only by a winning Verify, read after Wait
		if (errs[0] == nil) == (errs[1] == nil) || !fault.Is(errs[0], fault.Conflict) && !fault.Is(errs[1], fault.Conflict) {
			t.Fatalf("round %d: %v", round, errs)
		}
		got, err := w.svc.Enrolment(ctx, e.ID)
		if err != nil || len(got.History) != 2 {
			t.Fatalf("round %d: %v %+v", round, err, got)
		}
		if want := map[bool]subsidy.State{true: subsidy.Active, false: subsidy.Rejected}[errs[0] == nil]; got.State != want || granted != map[bool]int{true: 1, false: 0}[errs[0] == nil] {
			t.Fatalf("round %d: stored %s with %d grants, errors %v", round, got.State, granted, errs)
		}
	}
}
