package governance_test

import (
	"strings"
	"testing"
	"time"

	"piao/internal/behaviour"
	"piao/internal/fault"
	"piao/internal/governance"
)

var shanghai = governance.Shanghai

func TestDayBoundaryInShanghai(t *testing.T) {
	cases := []struct {
		at       time.Time
		start    time.Duration
		day      string
		endsUTC  string
		describe string
	}{
		{time.Date(2026, 11, 22, 15, 59, 59, 0, time.UTC), 0, "2026-11-22", "2026-11-22T16:00:00Z", "23:59:59 Beijing is still the 22nd though UTC says so too"},
		{time.Date(2026, 11, 22, 16, 0, 0, 0, time.UTC), 0, "2026-11-23", "2026-11-23T16:00:00Z", "00:00 Beijing is the 23rd while UTC is still the 22nd"},
		{time.Date(2026, 11, 22, 23, 30, 0, 0, shanghai), 0, "2026-11-22", "2026-11-22T16:00:00Z", "late evening"},
		{time.Date(2026, 11, 23, 5, 59, 0, 0, shanghai), 6 * time.Hour, "2026-11-22", "2026-11-22T22:00:00Z", "before a 06:00 day start belongs to the day before"},
		{time.Date(2026, 11, 23, 6, 0, 0, 0, shanghai), 6 * time.Hour, "2026-11-23", "2026-11-23T22:00:00Z", "06:00 starts the new day"},
		{time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC), 0, "2027-01-01", "2027-01-01T16:00:00Z", "new year"},
	}
	for _, c := range cases {
		day, ends := governance.Day(c.at, c.start)
		if day.String() != c.day || ends.UTC().Format(time.RFC3339) != c.endsUTC {
			t.Errorf("%s: Day(%v, %v) = %s ending %s; want %s ending %s", c.describe, c.at, c.start, day, ends.UTC().Format(time.RFC3339), c.day, c.endsUTC)
		}
	}
	r := governance.DefaultRules()
	r.DayStart = "06:00"
	if d, _ := r.Today(time.Date(2026, 11, 23, 5, 0, 0, 0, shanghai)); d.String() != "2026-11-22" {
		t.Errorf("Today with day start 06:00 at 05:00 = %s", d)
	}
}

func TestAccountLimit(t *testing.T) {
	r := governance.DefaultRules()
	until := time.Date(2026, 11, 23, 0, 0, 0, 0, shanghai)
	if err := r.CheckAccount(governance.Counts{Manual: 2, Expired: 9}, until); err != nil {
		t.Fatalf("2 cancels (expiries do not count) refused: %v", err)
	}
	err := r.CheckAccount(governance.Counts{Manual: 3}, until)
	fe := fault.As(err)
	if fe.Code != fault.LimitReached || fe.Reason != "account_cancel_limit" || !fe.RetryAt.Equal(until) {
		t.Fatalf("3 cancels: %+v", fe)
	}
	if !strings.Contains(fe.ZH, "2026-11-23 00:00") || !strings.Contains(fe.EN, "2026-11-23 00:00") {
		t.Errorf("the message does not say when the block lifts: %q / %q", fe.ZH, fe.EN)
	}
	r.AccountCancelLimit = 0
	if err := r.CheckAccount(governance.Counts{Manual: 50}, until); err != nil {
		t.Errorf("limit 0 should disable the check: %v", err)
	}
	if w := governance.DefaultRules().AccountWarning(governance.Counts{Manual: 2}, until); w == nil || w.Count != 2 {
		t.Errorf("no warning at one cancel left: %+v", w)
	}
	if w := governance.DefaultRules().AccountWarning(governance.Counts{Manual: 1}, until); w != nil {
		t.Errorf("warning too early: %+v", w)
	}
}

func TestDocumentLimit(t *testing.T) {
	r := governance.DefaultRules() // warn at 2, ban at 3
	until := time.Date(2026, 11, 23, 0, 0, 0, 0, shanghai)
	if w, err := r.CheckDocument(0, "王*", governance.Counts{Manual: 1}, until); w != nil || err != nil {
		t.Fatalf("1 cancel: %v %v", w, err)
	}
	w, err := r.CheckDocument(0, "王*", governance.Counts{Manual: 2, Expired: 5}, until)
	if err != nil || w == nil || w.Count != 2 || w.Limit != 3 {
		t.Fatalf("2 cancels should warn: %+v %v", w, err)
	}
	_, err = r.CheckDocument(1, "王*", governance.Counts{Manual: 3}, until)
	if fe := fault.As(err); fe.Reason != "passenger_cancel_limit" || !strings.Contains(fe.EN, "passenger 2") {
		t.Fatalf("3 cancels should ban: %+v", fe)
	}
	r.CountExpiries = true
	if _, err := r.CheckDocument(0, "王*", governance.Counts{Manual: 1, Expired: 2}, until); fault.As(err).Reason != "passenger_cancel_limit" {
		t.Fatalf("with count_expiries 1 cancel + 2 expiries should ban: %v", err)
	}
}

func TestParseRules(t *testing.T) {
	r, err := governance.ParseRules("")
	if err != nil || r.AccountCancelLimit != 3 || r.Lists.PriorityMinPaidShare != 0.7 || r.Lists.MaliciousOverCancels != 100 {
		t.Fatalf("defaults: %+v %v", r, err)
	}
	r, err = governance.ParseRules(`{"account_cancel_limit": 5, "day_start": "06:00"}`)
	if err != nil || r.AccountCancelLimit != 5 || r.DayStart != "06:00" || r.DocumentCancelLimit != 3 || !r.Lists.Effects[governance.Malicious].Block {
		t.Fatalf("partial rules keep defaults: %+v %v", r, err)
	}
	for _, bad := range []string{
		`{"day_start": "24:00"}`, `{"day_start": "6:00"}`, `{"account_cancel_limit": -1}`,
		`{"document_warn_at": 3, "document_cancel_limit": 3}`, `{"lists": {"window_days": 0}}`,
		`{"lists": {"window_days": 30, "membership_days": 30, "priority_min_paid_share": 1.5}}`,
		`{"lists": {"window_days": 30, "membership_days": 30, "priority_min_paid_share": 0.7, "effects": {"vip": {}}}}`,
		`{"account_cancel_limit": "three"}`, `[`,
	} {
		if _, err := governance.ParseRules(bad); fault.As(err).Reason != "bad_rules" {
			t.Errorf("ParseRules(%s) = %v, want bad_rules", bad, err)
		}
	}
}

func tally(outcomes ...behaviour.Outcome) governance.Tally {
	var t governance.Tally
	for _, o := range outcomes {
		t.Add(o)
	}
	return t
}

func lists(ms []governance.Match) []governance.List {
	var out []governance.List
	for _, m := range ms {
		out = append(out, m.List)
	}
	return out
}

func TestListRules(t *testing.T) {
	lr := governance.DefaultRules().Lists // restricted ≥5 all unpaid; priority ≥70% of ≥3; malicious >100 cancels
	C, E, P, H := behaviour.Cancelled, behaviour.Expired, behaviour.Paid, behaviour.Pending
	rep := func(o behaviour.Outcome, n int) []behaviour.Outcome {
		out := make([]behaviour.Outcome, n)
		for i := range out {
			out[i] = o
		}
		return out
	}
	cases := []struct {
		name string
		t    governance.Tally
		want []governance.List
	}{
		{"four cancels are too few", tally(C, C, C, C), nil},
		{"five cancels and expiries", tally(C, C, E, C, E), []governance.List{governance.Restricted}},
		{"a held order keeps one off", tally(C, C, C, C, C, H), nil},
		{"one payment keeps one off", tally(C, C, C, C, C, P), nil},
		{"7 of 10 paid", tally(append(rep(P, 7), rep(C, 3)...)...), []governance.List{governance.Priority}},
		{"6 of 10 paid", tally(append(rep(P, 6), rep(C, 4)...)...), nil},
		{"2 of 2 paid is too few", tally(P, P), nil},
		{"100 cancels", tally(rep(C, 100)...), []governance.List{governance.Restricted}},
		{"101 cancels", tally(rep(C, 101)...), []governance.List{governance.Restricted, governance.Malicious}},
	}
	for _, c := range cases {
		got := lists(lr.Match(c.t))
		if len(got) != len(c.want) || (len(got) > 0 && strings.Join(toS(got), ",") != strings.Join(toS(c.want), ",")) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func toS(ls []governance.List) []string {
	var out []string
	for _, l := range ls {
		out = append(out, string(l))
	}
	return out
}

func TestVerdict(t *testing.T) {
	lr := governance.DefaultRules().Lists
	lr.Effects[governance.Priority] = governance.Effect{HoldMinutes: 45}
	v := lr.Verdict([]governance.Membership{{List: governance.Priority}, {List: governance.Restricted}})
	if v.Block || v.Hold != 10*time.Minute || v.Delay != 2*time.Second {
		t.Fatalf("restricted + priority: %+v", v)
	}
	v = lr.Verdict([]governance.Membership{{List: governance.Malicious}, {List: governance.Priority}})
	if !v.Block {
		t.Fatalf("malicious should block: %+v", v)
	}
	if v := lr.Verdict(nil); v.Block || v.Hold != 0 || v.Delay != 0 {
		t.Fatalf("no lists: %+v", v)
	}
}
