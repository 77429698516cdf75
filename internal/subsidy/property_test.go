package subsidy_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/subsidy"
)

// TestLifecycleProperties drives random sequences of transitions at
// random times and checks the invariants of the state machine.
func TestLifecycleProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := teachers()
		s.ValidMonths = rapid.IntRange(1, 24).Draw(t, "months")
		s.RenewDays = rapid.IntRange(0, min(27, 28*s.ValidMonths-1)).Draw(t, "renew_days")
		if rapid.Bool().Draw(t, "discount") {
			s.Grant, s.PercentOff, s.Cap = subsidy.Discount, rapid.IntRange(1, 99).Draw(t, "pct"), rapid.Int64Range(0, 500).Draw(t, "cap")
		}
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		now := at("2024-01-01 00:00:00").Add(time.Duration(rapid.Int64Range(0, 365*24*60).Draw(t, "start")) * time.Minute)
		e, err := subsidy.Apply(s, nil, 5, "ev", now)
		if err != nil {
			t.Fatal(err)
		}
		for range rapid.IntRange(1, 25).Draw(t, "steps") {
			now = now.Add(time.Duration(rapid.Int64Range(0, 120*24*60).Draw(t, "gap")) * time.Minute)
			before := e
			beforeHist := slices.Clone(e.History)
			var next subsidy.Enrolment
			var err error
			op := rapid.SampledFrom([]string{"verify", "reject", "renew", "expire", "revoke", "reapply"}).Draw(t, "op")
			switch op {
			case "verify":
				next, err = subsidy.Verify(e, s, "ops", now)
			case "reject":
				next, err = subsidy.Reject(e, "ops", "no", now)
			case "renew":
				next, err = subsidy.RequestRenewal(e, s, "ev", now)
			case "expire":
				next, err = subsidy.Expire(e, now)
			case "revoke":
				next, err = subsidy.Revoke(e, "ops", "no", now)
			case "reapply":
				next, err = subsidy.Apply(s, []subsidy.Enrolment{e}, 5, "ev", now)
				if err == nil {
					if e.State == subsidy.Applied || e.ActiveAt(now) || e.Renewal != nil && e.State != subsidy.Revoked && e.State != subsidy.Rejected {
						t.Fatalf("reapplied over %+v", e)
					}
					e = next
					continue
				}
			}
			// The input is never changed.
			if !reflect.DeepEqual(e.History, beforeHist) {
				t.Fatalf("%s changed its input's history", op)
			}
			if err != nil {
				if c := fault.CodeOf(err); c != fault.Conflict && c != fault.Invalid {
					t.Fatalf("%s: %v", op, err)
				}
				continue
			}
			e = next
			if len(e.History) != len(before.History)+1 || !e.History[len(e.History)-1].At.Equal(now) {
				t.Fatalf("%s: history %+v", op, e.History)
			}
			switch e.State {
			case subsidy.Applied, subsidy.Active, subsidy.Rejected, subsidy.Expired, subsidy.Revoked:
			default:
				t.Fatalf("unknown state %q", e.State)
			}
			if e.State == subsidy.Active || e.State == subsidy.Expired {
				u := e.Until.In(benefits.Shanghai)
				if !e.From.Before(e.Until) || u.Hour() != 0 || u.Minute() != 0 || u.Second() != 0 || e.VerifiedBy == "" {
					t.Fatalf("period %v–%v", e.From, e.Until)
				}
				// Verified periods never shrink.
				if before.State == subsidy.Active && e.State == subsidy.Active && e.Until.Before(before.Until) {
					t.Fatalf("%s shortened the period", op)
				}
			}
			if e.State == subsidy.Rejected || e.State == subsidy.Revoked {
				if e.Reason == "" || e.Renewal != nil {
					t.Fatalf("%s: %+v", op, e)
				}
			}
			for i := 1; i < len(e.History); i++ {
				if e.History[i].At.Before(e.History[i-1].At) {
					t.Fatal("history out of order")
				}
			}
			// ActiveAt agrees with the state and period, and Grant with ActiveAt.
			probe := now.Add(time.Duration(rapid.Int64Range(-400*24*60, 400*24*60).Draw(t, "probe")) * time.Minute)
			act := e.ActiveAt(probe)
			if act != (e.State == subsidy.Active && !probe.Before(e.From) && probe.Before(e.Until)) {
				t.Fatal("ActiveAt")
			}
			if act && e.StateAt(probe) != subsidy.Active {
				t.Fatal("active but StateAt says otherwise")
			}
			_, ok := subsidy.Grant(e, s, benefits.Ride{ID: "r", Fare: 400, EnteredAt: probe}, 0)
			if ok != act {
				t.Fatalf("Grant %v, ActiveAt %v", ok, act)
			}
		}
	})
}

// TestGrantProperties: a subsidy never makes a fare negative or raises
// it, and Select with it is never worse for the rider than without.
func TestGrantProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := talents()
		s.PercentOff = rapid.IntRange(1, 99).Draw(t, "pct")
		s.Cap = rapid.Int64Range(0, 500).Draw(t, "cap")
		s.Combinable = rapid.Bool().Draw(t, "combinable")
		if rapid.Bool().Draw(t, "free") {
			s.Grant, s.PercentOff, s.Cap = subsidy.Free, 0, 0
		}
		e := must2(subsidy.Apply(s, nil, 5, "ev", at("2024-03-14 09:00:00")))
		e = must2(subsidy.Verify(e, s, "ops", at("2024-03-15 10:00:00")))
		ride := benefits.Ride{ID: "r", Fare: rapid.Int64Range(0, 3000).Draw(t, "fare"), EnteredAt: at("2024-05-01 08:00:00")}
		b, ok := subsidy.Grant(e, s, ride, rapid.IntRange(0, 59).Draw(t, "used"))
		if !ok {
			t.Fatal("no grant")
		}
		coupon := benefits.Benefit{TicketID: 1, Kind: benefits.AmountOff, Terms: benefits.Terms{AmountOff: rapid.Int64Range(1, 3000).Draw(t, "off")}, Window: benefits.Window{Until: at("2030-01-01 00:00:00")}, RidesLeft: 1}
		without := benefits.Select(ride, sh, []benefits.Benefit{coupon})
		with := benefits.Select(ride, sh, []benefits.Benefit{coupon, b})
		if with.Net < 0 || with.Net > ride.Fare || with.Net > without.Net {
			t.Fatalf("with %+v without %+v", with, without)
		}
		if !s.Combinable && len(with.Applied) > 1 {
			t.Fatalf("exclusive subsidy combined: %+v", with)
		}
	})
}

func must2(e subsidy.Enrolment, err error) subsidy.Enrolment {
	if err != nil {
		panic(err)
	}
	return e
}
