package subsidy_test

import (
	"errors"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/subsidy"
)

var sh = benefits.Shanghai

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, sh)
	if err != nil {
		panic(err)
	}
	return t
}

func reason(err error) string {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return fe.Reason
	}
	if err != nil {
		return "?" + err.Error()
	}
	return ""
}

func teachers() subsidy.Scheme {
	return subsidy.Scheme{
		ID: "teachers-2024", Group: subsidy.Teacher, NameZH: "教师免费乘车", NameEN: "Free rides for teachers",
		CampaignID: 77, Grant: subsidy.Free, ValidMonths: 12, RenewDays: 30,
	}
}

func talents() subsidy.Scheme {
	return subsidy.Scheme{
		ID: "talents", Group: subsidy.Talent, NameZH: "高层次人才乘车五折", NameEN: "Half fare for high-level talents",
		CampaignID: 78, Grant: subsidy.Discount, PercentOff: 50, Cap: 300, RidesPerMonth: 60, ValidMonths: 6, RenewDays: 15,
	}
}

func must(t *testing.T) func(subsidy.Enrolment, error) subsidy.Enrolment {
	return func(e subsidy.Enrolment, err error) subsidy.Enrolment {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
}

func TestSchemeValidate(t *testing.T) {
	mod := func(s subsidy.Scheme, f func(*subsidy.Scheme)) subsidy.Scheme { f(&s); return s }
	tests := []struct {
		name string
		s    subsidy.Scheme
		want string
	}{
		{"free", teachers(), ""},
		{"discount", talents(), ""},
		{"bad id", mod(teachers(), func(s *subsidy.Scheme) { s.ID = "Teachers 2024" }), "bad_scheme_id"},
		{"no group", mod(teachers(), func(s *subsidy.Scheme) { s.Group = "" }), "bad_group"},
		{"other group", mod(teachers(), func(s *subsidy.Scheme) { s.Group = "nurse" }), ""},
		{"no name", mod(teachers(), func(s *subsidy.Scheme) { s.NameZH, s.NameEN = " ", "" }), "scheme_name_required"},
		{"no campaign", mod(teachers(), func(s *subsidy.Scheme) { s.CampaignID = 0 }), "campaign_required"},
		{"unknown grant", mod(teachers(), func(s *subsidy.Scheme) { s.Grant = "cash" }), "bad_grant"},
		{"free with percent", mod(teachers(), func(s *subsidy.Scheme) { s.PercentOff = 50 }), "terms_for_discount"},
		{"discount 0 %", mod(talents(), func(s *subsidy.Scheme) { s.PercentOff = 0 }), "bad_percent_off"},
		{"discount 100 %", mod(talents(), func(s *subsidy.Scheme) { s.PercentOff = 100 }), "bad_percent_off"},
		{"negative cap", mod(talents(), func(s *subsidy.Scheme) { s.Cap = -1 }), "bad_cap"},
		{"negative rides per month", mod(talents(), func(s *subsidy.Scheme) { s.RidesPerMonth = -1 }), "bad_rides_per_month"},
		{"0 months", mod(teachers(), func(s *subsidy.Scheme) { s.ValidMonths = 0 }), "bad_valid_months"},
		{"renewal window as long as validity", mod(teachers(), func(s *subsidy.Scheme) { s.ValidMonths, s.RenewDays = 1, 28 }), "bad_renew_days"},
		{"no renewal", mod(teachers(), func(s *subsidy.Scheme) { s.RenewDays = 0 }), ""},
		{"off-peak scope", mod(teachers(), func(s *subsidy.Scheme) {
			s.Scope = benefits.Scope{FromMinute: 9 * 60, ToMinute: 17 * 60, Weekdays: []int{1, 2, 3, 4, 5}}
		}), ""},
		{"bad scope hours", mod(teachers(), func(s *subsidy.Scheme) { s.Scope = benefits.Scope{FromMinute: 2000} }), "bad_hours"},
		{"bad scope weekday", mod(teachers(), func(s *subsidy.Scheme) { s.Scope = benefits.Scope{Weekdays: []int{8}} }), "bad_weekday"},
		{"half a section", mod(teachers(), func(s *subsidy.Scheme) { s.Scope = benefits.Scope{From: []string{"A"}} }), "half_section"},
		{"empty station ID", mod(teachers(), func(s *subsidy.Scheme) { s.Scope = benefits.Scope{Stations: []string{""}} }), "unknown_station"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Validate()
			if reason(err) != tt.want {
				t.Fatalf("Validate() = %v, want %q", err, tt.want)
			}
			if err != nil && (fault.CodeOf(err) != fault.Invalid || fault.As(err).ZH == "" || fault.As(err).EN == "") {
				t.Fatalf("error %+v", fault.As(err))
			}
		})
	}
	zh, en := subsidy.Teacher.Name()
	if zh != "教师" || en != "teachers" {
		t.Fatal(zh, en)
	}
	if zh, _ := subsidy.Talent.Name(); zh != "高层次人才" {
		t.Fatal(zh)
	}
}

func TestLifecycle(t *testing.T) {
	s := teachers()
	e := must(t)(subsidy.Apply(s, nil, 5, "教师资格证 20213300001", at("2024-03-14 09:00:00")))
	if e.State != subsidy.Applied || e.Group != subsidy.Teacher || len(e.History) != 1 || e.History[0].By != "account:5" {
		t.Fatalf("applied: %+v", e)
	}
	if e.ActiveAt(at("2024-03-14 10:00:00")) {
		t.Fatal("active before verification")
	}
	v := must(t)(subsidy.Verify(e, s, "ops:li", at("2024-03-15 10:00:00")))
	if len(e.History) != 1 {
		t.Fatal("Verify changed its input")
	}
	// Verified on 15 March for 12 months: the last day is 14 March 2025.
	if v.State != subsidy.Active || v.VerifiedBy != "ops:li" || !v.From.Equal(at("2024-03-15 10:00:00")) || !v.Until.Equal(at("2025-03-15 00:00:00")) {
		t.Fatalf("verified: %+v", v)
	}
	for _, tt := range []struct {
		at   time.Time
		want bool
	}{
		{at("2024-03-15 09:59:59"), false},
		{at("2024-03-15 10:00:00"), true},
		{at("2025-03-14 23:59:59"), true},
		{at("2025-03-15 00:00:00"), false},
		{time.Date(2025, 3, 14, 15, 59, 59, 0, time.UTC), true}, // 23:59:59 in Shanghai
		{time.Date(2025, 3, 14, 16, 0, 0, 0, time.UTC), false},  // midnight in Shanghai
	} {
		if got := v.ActiveAt(tt.at); got != tt.want {
			t.Errorf("ActiveAt(%v) = %v", tt.at, got)
		}
	}
	if v.StateAt(at("2025-03-14 23:59:59")) != subsidy.Active || v.StateAt(at("2025-03-15 00:00:00")) != subsidy.Expired {
		t.Fatal("StateAt at expiry")
	}
	if _, err := subsidy.Expire(v, at("2025-03-14 23:59:59")); reason(err) != "not_expired" {
		t.Fatalf("early expiry: %v", err)
	}
	x := must(t)(subsidy.Expire(v, at("2025-03-15 00:00:00")))
	if x.State != subsidy.Expired || x.History[len(x.History)-1].By != subsidy.System || x.ActiveAt(at("2025-03-15 00:00:01")) {
		t.Fatalf("expired: %+v", x)
	}
	if _, err := subsidy.Expire(x, at("2025-03-16 00:00:00")); reason(err) != "not_active" {
		t.Fatalf("expire twice: %v", err)
	}
	// Re-enrolment: a new application.
	if _, err := subsidy.RequestRenewal(x, s, "new", at("2025-03-16 00:00:00")); reason(err) != "enrolment_expired" {
		t.Fatalf("renew after expiry: %v", err)
	}
	re := must(t)(subsidy.Apply(s, []subsidy.Enrolment{x}, 5, "教师资格证 20213300001", at("2025-03-16 09:00:00")))
	if re.State != subsidy.Applied {
		t.Fatal(re)
	}
}

func TestPeriodEnds(t *testing.T) {
	s := teachers()
	for _, tt := range []struct {
		verified string
		months   int
		until    string
	}{
		{"2024-01-31 12:00:00", 1, "2024-02-29 00:00:00"}, // clamped to the end of February
		{"2023-01-31 12:00:00", 1, "2023-02-28 00:00:00"},
		{"2024-01-15 23:59:59", 1, "2024-02-15 00:00:00"},
		{"2024-12-01 00:00:00", 1, "2025-01-01 00:00:00"},
		{"2024-02-29 08:00:00", 12, "2025-02-28 00:00:00"},
		{"2024-06-30 08:00:00", 6, "2024-12-30 00:00:00"},
	} {
		s.ValidMonths, s.RenewDays = tt.months, 0
		e := must(t)(subsidy.Apply(s, nil, 1, "ev", at(tt.verified).Add(-time.Hour)))
		v := must(t)(subsidy.Verify(e, s, "ops", at(tt.verified)))
		if !v.Until.Equal(at(tt.until)) {
			t.Errorf("verified %s for %d months: until %v, want %s", tt.verified, tt.months, v.Until, tt.until)
		}
	}
	// A verification at 23:30 UTC is the next day in Shanghai.
	s.ValidMonths = 1
	e := must(t)(subsidy.Apply(s, nil, 1, "ev", time.Date(2024, 1, 14, 23, 0, 0, 0, time.UTC)))
	v := must(t)(subsidy.Verify(e, s, "ops", time.Date(2024, 1, 14, 23, 30, 0, 0, time.UTC)))
	if !v.Until.Equal(at("2024-02-15 00:00:00")) {
		t.Errorf("until %v", v.Until)
	}
}

func TestRejectAndRevoke(t *testing.T) {
	s := teachers()
	e := must(t)(subsidy.Apply(s, nil, 5, "ev", at("2024-03-14 09:00:00")))
	if _, err := subsidy.Reject(e, "ops", " ", at("2024-03-15 09:00:00")); reason(err) != "reason_required" {
		t.Fatalf("no reason: %v", err)
	}
	if _, err := subsidy.Reject(e, "", "x", at("2024-03-15 09:00:00")); reason(err) != "operator_required" {
		t.Fatalf("no operator: %v", err)
	}
	r := must(t)(subsidy.Reject(e, "ops", "证件照片不清晰", at("2024-03-15 09:00:00")))
	if r.State != subsidy.Rejected || r.Reason != "证件照片不清晰" {
		t.Fatal(r)
	}
	if _, err := subsidy.Verify(r, s, "ops", at("2024-03-16 09:00:00")); reason(err) != "not_awaiting_review" || fault.CodeOf(err) != fault.Conflict {
		t.Fatalf("verify rejected: %v", err)
	}
	if _, err := subsidy.Reject(r, "ops", "again", at("2024-03-16 09:00:00")); reason(err) != "not_awaiting_review" {
		t.Fatalf("reject twice: %v", err)
	}
	// Apply again after a rejection.
	e2 := must(t)(subsidy.Apply(s, []subsidy.Enrolment{r}, 5, "ev2", at("2024-03-16 09:00:00")))
	v := must(t)(subsidy.Verify(e2, s, "ops", at("2024-03-17 09:00:00")))
	if _, err := subsidy.Revoke(v, "ops", "", at("2024-04-01 09:00:00")); reason(err) != "reason_required" {
		t.Fatalf("revoke without reason: %v", err)
	}
	rv := must(t)(subsidy.Revoke(v, "ops", "已离职", at("2024-04-01 09:00:00")))
	if rv.State != subsidy.Revoked || rv.ActiveAt(at("2024-04-02 09:00:00")) {
		t.Fatal(rv)
	}
	if _, err := subsidy.Revoke(rv, "ops", "x", at("2024-04-02 09:00:00")); reason(err) != "not_active" {
		t.Fatalf("revoke twice: %v", err)
	}
	if _, err := subsidy.Verify(v, talents(), "ops", at("2024-04-01 09:00:00")); reason(err) != "scheme_mismatch" {
		t.Fatalf("other scheme: %v", err)
	}
	if _, err := subsidy.Verify(e2, s, "ops", at("2024-03-15 09:00:00")); reason(err) != "time_reversed" {
		t.Fatalf("time reversed: %v", err)
	}
	if _, err := subsidy.Verify(e2, s, "ops", time.Time{}); reason(err) != "time_required" {
		t.Fatalf("no time: %v", err)
	}
}

func TestApplyChecks(t *testing.T) {
	s := teachers()
	now := at("2024-05-01 09:00:00")
	pending := must(t)(subsidy.Apply(s, nil, 5, "ev", at("2024-04-01 09:00:00")))
	active := must(t)(subsidy.Verify(pending, s, "ops", at("2024-04-02 09:00:00")))
	expired := must(t)(subsidy.Expire(active, at("2025-04-02 00:00:00")))
	tests := []struct {
		name    string
		prior   []subsidy.Enrolment
		account int64
		ev      string
		at      time.Time
		want    string
	}{
		{"first", nil, 5, "ev", now, ""},
		{"pending", []subsidy.Enrolment{pending}, 5, "ev", now, "application_pending"},
		{"active", []subsidy.Enrolment{active}, 5, "ev", now, "already_enrolled"},
		{"active but past until (not yet marked)", []subsidy.Enrolment{active}, 5, "ev", at("2025-04-02 00:00:00"), ""},
		{"expired", []subsidy.Enrolment{expired}, 5, "ev", at("2025-04-03 00:00:00"), ""},
		{"someone else's", []subsidy.Enrolment{pending}, 6, "ev", now, ""},
		{"no account", nil, 0, "ev", now, "account_required"},
		{"no evidence", nil, 5, "  ", now, "bad_evidence"},
		{"control characters in evidence", nil, 5, "a\nb", now, "bad_evidence"},
		{"no time", nil, 5, "ev", time.Time{}, "time_required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := subsidy.Apply(s, tt.prior, tt.account, tt.ev, tt.at)
			if reason(err) != tt.want {
				t.Fatalf("Apply = %v, want %q", err, tt.want)
			}
		})
	}
	other := talents()
	if _, err := subsidy.Apply(other, []subsidy.Enrolment{active}, 5, "ev", now); err != nil {
		t.Fatalf("another scheme: %v", err)
	}
	bad := teachers()
	bad.ValidMonths = 0
	if _, err := subsidy.Apply(bad, nil, 5, "ev", now); reason(err) != "bad_valid_months" {
		t.Fatalf("bad scheme: %v", err)
	}
}

func TestRenewal(t *testing.T) {
	s := teachers() // 12 months, renewal within 30 days of expiry
	e := must(t)(subsidy.Apply(s, nil, 5, "ev", at("2024-03-14 09:00:00")))
	v := must(t)(subsidy.Verify(e, s, "ops", at("2024-03-15 10:00:00"))) // until 2025-03-15 00:00
	if got := v.RenewalOpens(s); !got.Equal(at("2025-02-13 00:00:00")) {
		t.Fatalf("opens %v", got)
	}
	_, err := subsidy.RequestRenewal(v, s, "ev2", at("2025-02-12 23:59:59"))
	if reason(err) != "renewal_too_early" || !fault.As(err).RetryAt.Equal(at("2025-02-13 00:00:00")) {
		t.Fatalf("too early: %v", err)
	}
	noRenew := s
	noRenew.RenewDays = 0
	if _, err := subsidy.RequestRenewal(v, noRenew, "ev2", at("2025-03-01 00:00:00")); reason(err) != "renewal_not_offered" {
		t.Fatalf("no renewal: %v", err)
	}
	if _, err := subsidy.RequestRenewal(v, s, "ev2", at("2025-03-15 00:00:00")); reason(err) != "enrolment_expired" {
		t.Fatalf("at expiry: %v", err)
	}
	rq := must(t)(subsidy.RequestRenewal(v, s, "ev2", at("2025-02-13 00:00:00")))
	if rq.Renewal == nil || rq.State != subsidy.Active || !rq.ActiveAt(at("2025-03-01 00:00:00")) {
		t.Fatal(rq)
	}
	if _, err := subsidy.RequestRenewal(rq, s, "ev3", at("2025-02-14 00:00:00")); reason(err) != "renewal_pending" {
		t.Fatalf("twice: %v", err)
	}
	if _, err := subsidy.Apply(s, []subsidy.Enrolment{rq}, 5, "ev", at("2025-02-14 00:00:00")); reason(err) != "application_pending" {
		t.Fatalf("apply with a pending renewal: %v", err)
	}

	// Verified before expiry: 12 more months from the old end, no gap.
	rn := must(t)(subsidy.Verify(rq, s, "ops:wang", at("2025-03-01 10:00:00")))
	if !rn.Until.Equal(at("2026-03-15 00:00:00")) || !rn.From.Equal(v.From) || rn.Renewal != nil || rn.Evidence != "ev2" || rn.VerifiedBy != "ops:wang" {
		t.Fatalf("renewed: %+v", rn)
	}
	if rn.History[len(rn.History)-1].Kind != subsidy.EvRenewed {
		t.Fatal(rn.History)
	}

	// Renewal refused: runs on to its old expiry.
	rj := must(t)(subsidy.Reject(rq, "ops", "材料过期", at("2025-03-01 10:00:00")))
	if rj.State != subsidy.Active || rj.Renewal != nil || !rj.Until.Equal(v.Until) || rj.Reason != "" {
		t.Fatalf("renewal rejected: %+v", rj)
	}

	// Decided after expiry: a new period from the decision, no cover for the gap.
	x := must(t)(subsidy.Expire(rq, at("2025-03-15 00:00:00")))
	if x.Renewal == nil {
		t.Fatal("expiry dropped the pending renewal")
	}
	late := must(t)(subsidy.Verify(x, s, "ops", at("2025-03-20 10:00:00")))
	if late.State != subsidy.Active || !late.From.Equal(at("2025-03-20 10:00:00")) || !late.Until.Equal(at("2026-03-20 00:00:00")) || late.ActiveAt(at("2025-03-18 10:00:00")) {
		t.Fatalf("late renewal: %+v", late)
	}
	// Verified while still stored active but already past Until.
	late2 := must(t)(subsidy.Verify(rq, s, "ops", at("2025-03-15 00:00:00")))
	if !late2.From.Equal(at("2025-03-15 00:00:00")) || !late2.Until.Equal(at("2026-03-15 00:00:00")) {
		t.Fatalf("renewal on the expiry instant: %+v", late2)
	}
}

func TestGrant(t *testing.T) {
	s := teachers()
	e := must(t)(subsidy.Apply(s, nil, 5, "ev", at("2024-03-14 09:00:00")))
	v := must(t)(subsidy.Verify(e, s, "ops", at("2024-03-15 10:00:00")))
	ride := benefits.Ride{ID: "r", Fare: 500, EnteredAt: at("2024-06-01 08:00:00")}

	b, ok := subsidy.Grant(v, s, ride, 0)
	if !ok || b.TicketID != 0 || b.CampaignID != 77 || b.Kind != benefits.Percentage || b.Terms.PercentOff != 100 || !b.Terms.Exclusive {
		t.Fatalf("free grant %+v %v", b, ok)
	}
	if _, ok := subsidy.Grant(e, s, ride, 0); ok {
		t.Fatal("grant before verification")
	}
	if _, ok := subsidy.Grant(v, talents(), ride, 0); ok {
		t.Fatal("grant for another scheme")
	}
	late := ride
	late.EnteredAt = at("2025-03-15 00:00:00")
	if _, ok := subsidy.Grant(v, s, late, 0); ok {
		t.Fatal("grant at expiry")
	}
	late.EnteredAt = at("2025-03-14 23:59:59")
	if _, ok := subsidy.Grant(v, s, late, 0); !ok {
		t.Fatal("no grant on the last day")
	}

	// Free beats coupons; the rider keeps their single-ride ticket.
	single := benefits.Benefit{TicketID: 9, Kind: benefits.SingleRide, Window: benefits.Window{Until: at("2030-01-01 00:00:00")}, RidesLeft: 1}
	coupon := benefits.Benefit{TicketID: 10, Kind: benefits.AmountOff, Terms: benefits.Terms{AmountOff: 100}, Window: benefits.Window{Until: at("2030-01-01 00:00:00")}, RidesLeft: 1}
	sel := benefits.Select(ride, sh, []benefits.Benefit{single, coupon, b})
	if sel.Net != 0 || len(sel.Applied) != 1 || sel.Applied[0].CampaignID != 77 || !subsidy.Used(sel, s) {
		t.Fatalf("free: %+v", sel)
	}

	// Discount, exclusive: weighed alone against the coupons.
	ts := talents()
	te := must(t)(subsidy.Apply(ts, nil, 5, "ev", at("2024-03-14 09:00:00")))
	tv := must(t)(subsidy.Verify(te, ts, "ops", at("2024-03-15 10:00:00")))
	db, ok := subsidy.Grant(tv, ts, ride, 59)
	if !ok || db.Terms.PercentOff != 50 || db.Terms.Cap != 300 || !db.Terms.Exclusive {
		t.Fatalf("discount grant %+v", db)
	}
	if _, ok := subsidy.Grant(tv, ts, ride, 60); ok {
		t.Fatal("grant past the monthly cap")
	}
	// Fare 500: subsidy alone 250; coupon 100 off alone 400 → subsidy.
	sel = benefits.Select(ride, sh, []benefits.Benefit{coupon, db})
	if sel.Net != 250 || !subsidy.Used(sel, ts) || len(sel.Applied) != 1 {
		t.Fatalf("exclusive discount: %+v", sel)
	}
	// A 300-off coupon beats the subsidy (net 200 < 250): the subsidy is not used.
	big := coupon
	big.Terms.AmountOff = 300
	sel = benefits.Select(ride, sh, []benefits.Benefit{big, db})
	if sel.Net != 200 || subsidy.Used(sel, ts) {
		t.Fatalf("better coupon: %+v", sel)
	}
	// Combinable: coupon then subsidy, 500 → 200 → 100.
	ts.Combinable = true
	cb, _ := subsidy.Grant(tv, ts, ride, 0)
	sel = benefits.Select(ride, sh, []benefits.Benefit{big, cb})
	if sel.Net != 100 || !subsidy.Used(sel, ts) || len(sel.Applied) != 2 {
		t.Fatalf("combinable: %+v", sel)
	}
	// The cap: fare 1000 at 50 % capped at 300 → 700.
	ride.Fare = 1000
	if sel := benefits.Select(ride, sh, []benefits.Benefit{db}); sel.Net != 700 {
		t.Fatalf("cap: %+v", sel)
	}
	// Scope: off-peak only.
	s.Scope = benefits.Scope{FromMinute: 9 * 60, ToMinute: 17 * 60}
	ob, _ := subsidy.Grant(v, s, ride, 0)
	if sel := benefits.Select(ride, sh, []benefits.Benefit{ob}); sel.Net != 1000 {
		t.Fatalf("peak ride subsidised: %+v", sel)
	}
	ride.EnteredAt = at("2024-06-01 09:00:00")
	if sel := benefits.Select(ride, sh, []benefits.Benefit{ob}); sel.Net != 0 {
		t.Fatalf("off-peak ride not subsidised: %+v", sel)
	}
}
