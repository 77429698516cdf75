package storetest_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"piao/internal/fault"
	"piao/internal/store/storetest"
	"piao/internal/subsidy"
)

// subT0 is a fixed instant, not in UTC, so the stores must keep zones apart
// from the instant.
var subT0 = time.Date(2026, 3, 15, 10, 0, 0, 123456000, time.FixedZone("CST", 8*3600))

// eachSubsidy runs fn on a fresh, migrated subsidy store of every engine.
func eachSubsidy(t *testing.T, fn func(t *testing.T, st subsidy.Store)) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) { fn(t, s.Subsidy) })
}

func subScheme(id string, g subsidy.Group, campaign int64) subsidy.Scheme {
	return subsidy.Scheme{ID: id, Group: g, NameZH: "教师免费乘车", NameEN: "Teachers ride free", CampaignID: campaign,
		Grant: subsidy.Free, ValidMonths: 12, RenewDays: 30}
}

// subJSON is a value's JSON: stored values must come back with the same.
func subJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func subApply(t *testing.T, st subsidy.Store, s subsidy.Scheme, account int64, at time.Time) subsidy.Enrolment {
	t.Helper()
	e, err := subsidy.Apply(s, nil, account, "教师资格证 20263601000123", at)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateEnrolment(context.Background(), &e); err != nil {
		t.Fatal(err)
	}
	if e.ID == 0 {
		t.Fatal("no ID set")
	}
	return e
}

// TestSubsidySchemes: schemes are stored once by ID, read back whole, and
// listed by ID.
func TestSubsidySchemes(t *testing.T) {
	eachSubsidy(t, func(t *testing.T, st subsidy.Store) {
		ctx := context.Background()
		b := subScheme("teachers", subsidy.Teacher, 7)
		b.Grant, b.PercentOff, b.Cap = subsidy.Discount, 50, 300
		b.Scope.Lines = []string{"nbmetro:L1"}
		a := subScheme("seniors", subsidy.Senior, 8)
		for _, s := range []subsidy.Scheme{b, a} {
			if err := st.CreateScheme(ctx, s, subT0); err != nil {
				t.Fatal(err)
			}
		}
		dup := a
		dup.NameZH = "另一个"
		if err := st.CreateScheme(ctx, dup, subT0); !errors.Is(err, subsidy.ErrSchemeExists) {
			t.Fatalf("duplicate scheme: %v", err)
		}
		got, err := st.Scheme(ctx, "teachers")
		if err != nil || subJSON(t, got) != subJSON(t, b) {
			t.Fatalf("scheme: %v %+v", err, got)
		}
		if _, err := st.Scheme(ctx, "nope"); !errors.Is(err, subsidy.ErrSchemeNotFound) || !fault.Is(err, fault.NotFound) {
			t.Fatalf("missing scheme: %v", err)
		}
		all, err := st.Schemes(ctx)
		if err != nil || len(all) != 2 || all[0].ID != "seniors" || all[1].ID != "teachers" || all[0].NameZH != a.NameZH {
			t.Fatalf("schemes: %v %+v", err, all)
		}
	})
}

// TestSubsidyEnrolments: applications round-trip, one waits per account
// and scheme, and the filters select what the review queue and the
// expiry sweep need.
func TestSubsidyEnrolments(t *testing.T) {
	eachSubsidy(t, func(t *testing.T, st subsidy.Store) {
		ctx := context.Background()
		tea, sen := subScheme("teachers", subsidy.Teacher, 7), subScheme("seniors", subsidy.Senior, 8)
		for _, s := range []subsidy.Scheme{tea, sen} {
			if err := st.CreateScheme(ctx, s, subT0); err != nil {
				t.Fatal(err)
			}
		}
		e1 := subApply(t, st, tea, 101, subT0)
		got, err := st.Enrolment(ctx, e1.ID)
		if err != nil || subJSON(t, got) != subJSON(t, e1) || !got.AppliedAt.Equal(subT0) {
			t.Fatalf("enrolment: %v\n%s\n%s", err, subJSON(t, got), subJSON(t, e1))
		}
		if _, err := st.Enrolment(ctx, 999999); !errors.Is(err, subsidy.ErrEnrolmentNotFound) {
			t.Fatalf("missing enrolment: %v", err)
		}
		// A second application of the same account to the same scheme
		// waits behind the first, whatever the caller checked before.
		again, _ := subsidy.Apply(tea, nil, 101, "another", subT0.Add(time.Minute))
		if err := st.CreateEnrolment(ctx, &again); !errors.Is(err, subsidy.ErrPending) {
			t.Fatalf("second application: %v", err)
		}
		orphan, _ := subsidy.Apply(subScheme("nope", subsidy.Student, 9), nil, 101, "x", subT0)
		if err := st.CreateEnrolment(ctx, &orphan); !fault.Is(err, fault.NotFound) {
			t.Fatalf("application to a missing scheme: %v", err)
		}
		e2 := subApply(t, st, sen, 101, subT0.Add(time.Minute))
		e3 := subApply(t, st, tea, 102, subT0.Add(2*time.Minute))
		mine, err := st.AccountEnrolments(ctx, 101)
		if err != nil || len(mine) != 2 || mine[0].ID != e2.ID || mine[1].ID != e1.ID {
			t.Fatalf("account enrolments: %v %+v", err, mine)
		}
		if none, err := st.AccountEnrolments(ctx, 555); err != nil || none == nil || len(none) != 0 {
			t.Fatalf("no enrolments: %v %#v", err, none)
		}

		// Verify e1, reject e2: the queue keeps e3 alone.
		v1, err := subsidy.Verify(e1, tea, "reviewer", subT0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.UpdateEnrolment(ctx, v1); err != nil {
			t.Fatal(err)
		}
		r2, _ := subsidy.Reject(e2, "reviewer", "证明材料不清晰", subT0.Add(time.Hour))
		if err := st.UpdateEnrolment(ctx, r2); err != nil {
			t.Fatal(err)
		}
		queue, err := st.Enrolments(ctx, subsidy.Filter{Awaiting: true})
		if err != nil || len(queue) != 1 || queue[0].ID != e3.ID {
			t.Fatalf("queue: %v %+v", err, queue)
		}
		// Re-enrolment after the rejection is a new application.
		e4 := subApply(t, st, sen, 101, subT0.Add(2*time.Hour))
		// A renewal request puts the active enrolment in the queue.
		n1, err := subsidy.RequestRenewal(v1, tea, "新证书", v1.RenewalOpens(tea))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.UpdateEnrolment(ctx, n1); err != nil {
			t.Fatal(err)
		}
		queue, err = st.Enrolments(ctx, subsidy.Filter{Awaiting: true})
		if err != nil || len(queue) != 3 || queue[0].ID != e1.ID || queue[1].ID != e3.ID || queue[2].ID != e4.ID || queue[0].Renewal == nil {
			t.Fatalf("queue with a renewal: %v %+v", err, queue)
		}
		if q, err := st.Enrolments(ctx, subsidy.Filter{Awaiting: true, SchemeID: "seniors"}); err != nil || len(q) != 1 || q[0].ID != e4.ID {
			t.Fatalf("one scheme's queue: %v %+v", err, q)
		}
		if q, err := st.Enrolments(ctx, subsidy.Filter{Awaiting: true, AfterID: e1.ID, Limit: 1}); err != nil || len(q) != 1 || q[0].ID != e3.ID {
			t.Fatalf("queue page: %v %+v", err, q)
		}
		if q, err := st.Enrolments(ctx, subsidy.Filter{States: []subsidy.State{subsidy.Rejected, subsidy.Active}}); err != nil || len(q) != 2 || q[0].ID != e1.ID || q[1].ID != e2.ID {
			t.Fatalf("by state: %v %+v", err, q)
		}
		// The expiry sweep's selection: active with Until at or before.
		due := func(at time.Time) int {
			q, err := st.Enrolments(ctx, subsidy.Filter{States: []subsidy.State{subsidy.Active}, UntilBefore: at})
			if err != nil {
				t.Fatal(err)
			}
			return len(q)
		}
		if due(n1.Until.Add(-time.Nanosecond)) != 0 || due(n1.Until) != 1 {
			t.Fatalf("due around Until %v: %d, %d", n1.Until, due(n1.Until.Add(-time.Nanosecond)), due(n1.Until))
		}
	})
}

// TestSubsidyDecidedOnce: two operators deciding one application at once
// store one decision; the other is told it changed, and a transition on a
// stale copy is refused.
func TestSubsidyDecidedOnce(t *testing.T) {
	eachSubsidy(t, func(t *testing.T, st subsidy.Store) {
		ctx := context.Background()
		tea := subScheme("teachers", subsidy.Teacher, 7)
		if err := st.CreateScheme(ctx, tea, subT0); err != nil {
			t.Fatal(err)
		}
		for round := range 8 {
			e := subApply(t, st, tea, int64(200+round), subT0)
			at := subT0.Add(time.Hour)
			v, _ := subsidy.Verify(e, tea, "reviewer-a", at)
			r, _ := subsidy.Reject(e, "reviewer-b", "材料不符", at)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, next := range []subsidy.Enrolment{v, r} {
				wg.Add(1)
				go func() { defer wg.Done(); errs[i] = st.UpdateEnrolment(ctx, next) }()
			}
			wg.Wait()
			won := -1
			for i, err := range errs {
				switch {
				case err == nil && won < 0:
					won = i
				case errors.Is(err, subsidy.ErrStale) && fault.Is(err, fault.Conflict):
				default:
					t.Fatalf("round %d: errors %v", round, errs)
				}
			}
			if won < 0 {
				t.Fatalf("round %d: nobody decided: %v", round, errs)
			}
			got, err := st.Enrolment(ctx, e.ID)
			if err != nil || got.State != []subsidy.State{subsidy.Active, subsidy.Rejected}[won] || len(got.History) != 2 {
				t.Fatalf("round %d: stored %v %+v", round, err, got)
			}
			// Deciding again on the copy read before is stale.
			if err := st.UpdateEnrolment(ctx, r); !errors.Is(err, subsidy.ErrStale) {
				t.Fatalf("round %d: stale copy: %v", round, err)
			}
		}
		ghost := subsidy.Enrolment{ID: 424242, State: subsidy.Active, History: []subsidy.Event{{Kind: subsidy.EvApplied, At: subT0}, {Kind: subsidy.EvVerified, At: subT0}}}
		if err := st.UpdateEnrolment(ctx, ghost); !errors.Is(err, subsidy.ErrEnrolmentNotFound) {
			t.Fatalf("missing enrolment: %v", err)
		}
	})
}
