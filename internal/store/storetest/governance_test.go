package storetest_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"piao/internal/behaviour"
	"piao/internal/booking"
	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/identity"
	"piao/internal/network"
	"piao/internal/store/storetest"
)

// govT0 is a fixed instant to the microsecond (PostgreSQL's precision), not
// in UTC so the stores must normalise zones.
var govT0 = time.Date(2026, 6, 1, 8, 0, 0, 654321000, time.FixedZone("CST", 8*3600))

var (
	govDay1 = network.MustDate("2026-06-01")
	govDay2 = network.MustDate("2026-06-02")
)

// govAdd adds to counts in a booking transaction of its own.
func govAdd(ctx context.Context, s storetest.Stores, subject string, day network.Date, manual, expired int) error {
	return s.Booking.Update(ctx, func(tx booking.Tx) error { _, err := tx.AddDayCounts(subject, day, manual, expired); return err })
}

// TestGovernanceDayCounts checks the booking transaction's counts upsert
// and reads, in and out of transactions, on every engine.
func TestGovernanceDayCounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		err := s.Booking.Update(ctx, func(tx booking.Tx) error {
			c, err := tx.DayCounts("account:1", govDay1)
			if err != nil || c != (governance.Counts{}) {
				t.Errorf("DayCounts of nobody = %+v, %v; want zero", c, err)
			}
			for _, add := range []struct {
				subject         string
				day             network.Date
				manual, expired int
			}{
				{"account:1", govDay1, 1, 0},
				{"account:1", govDay1, 0, 2},
				{"doc:ID:1", govDay1, 0, 0}, // adds nothing: no row
				{"doc:ID:2", govDay1, 2, 1},
				{"account:1", govDay2, 5, 0},
			} {
				if _, err := tx.AddDayCounts(add.subject, add.day, add.manual, add.expired); err != nil {
					return err
				}
			}
			// The transaction reads its own adds.
			if c, err := tx.DayCounts("account:1", govDay1); err != nil || c != (governance.Counts{Manual: 1, Expired: 2}) {
				t.Errorf("DayCounts in transaction = %+v, %v; want 1/2", c, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// A transaction that fails adds nothing.
		boom := errors.New("boom")
		err = s.Booking.Update(ctx, func(tx booking.Tx) error {
			c, err := tx.AddDayCounts("account:1", govDay1, 10, 10)
			if err != nil {
				return err
			}
			if c != (governance.Counts{Manual: 11, Expired: 12}) {
				t.Errorf("AddDayCounts returned %+v, want the counts after the add, 11/12", c)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("failing Update = %v, want boom", err)
		}

		got, err := s.Governance.DayCounts(ctx, govDay1, []string{"account:1", "doc:ID:1", "doc:ID:2", "nobody"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]governance.Counts{"account:1": {Manual: 1, Expired: 2}, "doc:ID:2": {Manual: 2, Expired: 1}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("DayCounts day 1 = %v, want %v", got, want)
		}
		got, err = s.Governance.DayCounts(ctx, govDay2, []string{"account:1", "doc:ID:2"})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]governance.Counts{"account:1": {Manual: 5}}; !reflect.DeepEqual(got, want) {
			t.Errorf("DayCounts day 2 = %v, want %v", got, want)
		}
		if got, err := s.Governance.DayCounts(ctx, govDay1, nil); err != nil || len(got) != 0 {
			t.Errorf("DayCounts of no subjects = %v, %v; want empty", got, err)
		}

		// Many subjects at once (more than one SQLite query's worth).
		many := make([]string, 1200)
		for i := range many {
			many[i] = fmt.Sprintf("doc:ID:%d", 1000+i)
		}
		many[1100] = "doc:ID:2"
		many[3] = "account:1"
		got, err = s.Governance.DayCounts(ctx, govDay1, many)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("DayCounts of 1200 subjects = %v, want %v", got, want)
		}
	})
}

// TestGovernanceConcurrentDayCounts checks that adds from concurrent
// booking transactions all count.
func TestGovernanceConcurrentDayCounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		const n = 50
		var wg sync.WaitGroup
		errs := make(chan error, n)
		wantExpired := 0
		for i := range n {
			wantExpired += i % 3
			wg.Go(func() {
				errs <- s.Booking.Update(ctx, func(tx booking.Tx) error {
					if _, err := tx.DayCounts("account:7", govDay1); err != nil {
						return err
					}
					_, err := tx.AddDayCounts("account:7", govDay1, 1, i%3)
					return err
				})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Governance.DayCounts(ctx, govDay1, []string{"account:7"})
		if err != nil {
			t.Fatal(err)
		}
		if want := (governance.Counts{Manual: n, Expired: wantExpired}); got["account:7"] != want {
			t.Errorf("counts after %d concurrent adds = %+v, want %+v", n, got["account:7"], want)
		}
	})
}

func govMember(list governance.List, subject string, source governance.Source, expires time.Duration) governance.Membership {
	return governance.Membership{
		List: list, Subject: subject, Source: source, Reason: "原因 / reason " + subject,
		Start: govT0, Expires: govT0.Add(expires),
	}
}

// govSameMember compares memberships without their audit trails.
func govSameMember(t *testing.T, got, want governance.Membership) {
	t.Helper()
	liftedEq := (got.LiftedAt == nil) == (want.LiftedAt == nil) && (got.LiftedAt == nil || got.LiftedAt.Equal(*want.LiftedAt))
	if got.ID != want.ID || got.List != want.List || got.Subject != want.Subject || got.Source != want.Source ||
		got.Reason != want.Reason || !got.Start.Equal(want.Start) || !got.Expires.Equal(want.Expires) ||
		!liftedEq || got.LiftedBy != want.LiftedBy || got.LiftReason != want.LiftReason {
		t.Errorf("membership = %+v\nwant         %+v", got, want)
	}
	for _, tm := range []time.Time{got.Start, got.Expires} {
		if tm.Location() != time.UTC {
			t.Errorf("time %v is not in UTC", tm)
		}
	}
	if got.LiftedAt != nil && got.LiftedAt.Location() != time.UTC {
		t.Errorf("lifted at %v is not in UTC", got.LiftedAt)
	}
}

func govIDs(ms []governance.Membership) []int64 {
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

func govAudit(action string, at time.Time) governance.Audit {
	return governance.Audit{At: at, Actor: "account:9", Action: action, Detail: "细节 / detail of " + action}
}

// TestGovernanceMembers checks list memberships: adding, listing with
// filters and pages, extending, lifting, and their audit trails.
func TestGovernanceMembers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		st := s.Governance
		day := 24 * time.Hour

		ms := []governance.Membership{
			govMember(governance.Restricted, "account:1", governance.ByRule, 30*day),
			govMember(governance.Priority, "doc:ID:1", governance.ByOperator, time.Hour),
			govMember(governance.Restricted, "doc:ID:1", governance.ByRule, 30*day),
			govMember(governance.Malicious, "account:2", governance.ByRule, 10*day),
		}
		for i := range ms {
			if err := st.AddMember(ctx, &ms[i], govAudit("add", govT0)); err != nil {
				t.Fatal(err)
			}
			if ms[i].ID == 0 || (i > 0 && ms[i].ID <= ms[i-1].ID) {
				t.Fatalf("AddMember IDs = %v", govIDs(ms[:i+1]))
			}
		}
		m1, m2, m3, m4 := ms[0], ms[1], ms[2], ms[3]

		list := func(f governance.MemberFilter, want ...governance.Membership) {
			t.Helper()
			got, err := st.Members(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil || !reflect.DeepEqual(govIDs(got), govIDs(want)) {
				t.Fatalf("Members(%+v) = %v, want %v", f, govIDs(got), govIDs(want))
			}
			for i := range got {
				govSameMember(t, got[i], want[i])
				if len(got[i].Events) != 0 {
					t.Errorf("Members returned events: %v", got[i].Events)
				}
			}
		}
		list(governance.MemberFilter{}, m4, m3, m2, m1)
		list(governance.MemberFilter{List: governance.Restricted}, m3, m1)
		list(governance.MemberFilter{Subject: "doc:ID:1"}, m3, m2)
		list(governance.MemberFilter{List: governance.Restricted, Subject: "doc:ID:1"}, m3)
		list(governance.MemberFilter{List: governance.Priority, Subject: "account:1"})
		list(governance.MemberFilter{ActiveAt: govT0.Add(2 * time.Hour)}, m4, m3, m1)
		// A membership is no longer in force at its expiry.
		list(governance.MemberFilter{Subject: "doc:ID:1", ActiveAt: govT0.Add(time.Hour)}, m3)
		list(governance.MemberFilter{Subject: "doc:ID:1", ActiveAt: govT0.Add(time.Hour - time.Microsecond)}, m3, m2)
		list(governance.MemberFilter{Limit: 2}, m4, m3)
		list(governance.MemberFilter{Limit: 2, Offset: 2}, m2, m1)
		list(governance.MemberFilter{Offset: 10})

		// Extending moves the expiry and records the audit entry.
		ok, err := st.ExtendMember(ctx, m2.ID, govT0.Add(2*day), govAudit("extend", govT0.Add(time.Minute)))
		if err != nil || !ok {
			t.Fatalf("ExtendMember = %v, %v", ok, err)
		}
		m2.Expires = govT0.Add(2 * day)
		list(governance.MemberFilter{ActiveAt: govT0.Add(2 * time.Hour)}, m4, m3, m2, m1)

		// Lifting ends the membership once.
		liftAt := govT0.Add(time.Hour)
		ok, err = st.LiftMember(ctx, m3.ID, liftAt, "account:9", "申诉 / appeal", govAudit("lift", liftAt))
		if err != nil || !ok {
			t.Fatalf("LiftMember = %v, %v", ok, err)
		}
		m3.LiftedAt, m3.LiftedBy, m3.LiftReason = &liftAt, "account:9", "申诉 / appeal"
		ok, err = st.LiftMember(ctx, m3.ID, liftAt.Add(time.Hour), "account:8", "again", govAudit("lift again", liftAt.Add(time.Hour)))
		if err != nil || ok {
			t.Errorf("second LiftMember = %v, %v; want false", ok, err)
		}
		ok, err = st.ExtendMember(ctx, m3.ID, govT0.Add(90*day), govAudit("extend lifted", liftAt.Add(time.Hour)))
		if err != nil || ok {
			t.Errorf("ExtendMember of a lifted membership = %v, %v; want false", ok, err)
		}
		list(governance.MemberFilter{ActiveAt: govT0.Add(2 * time.Hour)}, m4, m2, m1)
		list(governance.MemberFilter{ActiveAt: govT0.Add(30 * time.Minute)}, m4, m2, m1) // lifted is lifted whenever asked
		list(governance.MemberFilter{Subject: "doc:ID:1"}, m3, m2)

		// One membership with its audit trail, oldest first; refused
		// changes left none.
		check := func(m governance.Membership, actions ...string) {
			t.Helper()
			got, err := st.Member(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			govSameMember(t, got, m)
			if len(got.Events) != len(actions) {
				t.Fatalf("audit trail of %d = %+v, want %v", m.ID, got.Events, actions)
			}
			for i, e := range got.Events {
				want := govAudit(actions[i], e.At)
				want.MemberID = m.ID
				if e != want || e.At.Location() != time.UTC {
					t.Errorf("audit entry %d = %+v, want %+v", i, e, want)
				}
			}
		}
		check(m1, "add")
		check(m2, "add", "extend")
		check(m3, "add", "lift")
		got, _ := st.Member(ctx, m3.ID)
		if !got.Events[0].At.Equal(govT0) || !got.Events[1].At.Equal(liftAt) {
			t.Errorf("audit times = %v, %v; want %v, %v", got.Events[0].At, got.Events[1].At, govT0, liftAt)
		}

		// Memberships that do not exist are not found.
		const missing = 1 << 40
		_, err = st.Member(ctx, missing)
		idWantFault(t, err, fault.NotFound, "member_not_found")
		if fe := fault.As(err); fe.ZH == "" || fe.EN == "" {
			t.Errorf("not found error lacks messages: %+v", fe)
		}
		ok, err = st.ExtendMember(ctx, missing, govT0, govAudit("extend", govT0))
		if ok {
			t.Error("ExtendMember of a missing membership reported true")
		}
		idWantFault(t, err, fault.NotFound, "member_not_found")
		ok, err = st.LiftMember(ctx, missing, govT0, "account:9", "x", govAudit("lift", govT0))
		if ok {
			t.Error("LiftMember of a missing membership reported true")
		}
		idWantFault(t, err, fault.NotFound, "member_not_found")

		// Pages default to 100 and hold at most 1000.
		for range 105 {
			m := govMember(governance.Restricted, "account:99", governance.ByRule, day)
			if err := st.AddMember(ctx, &m, govAudit("add", govT0)); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct{ limit, want int }{{0, 100}, {-5, 100}, {2000, 105}, {104, 104}} {
			got, err := st.Members(ctx, governance.MemberFilter{Subject: "account:99", Limit: c.limit})
			if err != nil || len(got) != c.want {
				t.Errorf("Members(limit %d) = %d memberships, %v; want %d", c.limit, len(got), err, c.want)
			}
		}
	})
}

// govOrder is an order to insert for the transactions test.
type govOrder struct {
	account int
	at      time.Duration // after govT0
	train   string
	date    string
	status  booking.OrderStatus
	tickets []govTicket
}

type govTicket struct {
	doc    string
	status booking.TicketStatus
}

// govInsert inserts an order with its tickets through a booking transaction.
func govInsert(t testing.TB, ctx context.Context, s storetest.Stores, accounts []int64, o govOrder) booking.Order {
	t.Helper()
	created := govT0.Add(o.at)
	k := booking.TrainKey{ServiceID: o.train, Date: network.MustDate(o.date)}
	order := booking.Order{
		AccountID: accounts[o.account], Status: o.status, Train: k, TotalFen: 10000 * int64(len(o.tickets)),
		CreatedAt: created, HoldExpiresAt: created.Add(30 * time.Minute),
	}
	for i, tk := range o.tickets {
		order.Tickets = append(order.Tickets, booking.Ticket{
			Train: k, Number: "G1", FromSeq: 0, ToSeq: 1, FromStationID: "cr:A", ToStationID: "cr:B",
			Departure: created.Add(24 * time.Hour), Arrival: created.Add(26 * time.Hour),
			SeatNo: i, Car: 1, Seat: fmt.Sprintf("%02dA", i+1), SeatClass: "second", PassengerName: "张三",
			DocType: "ID", DocNumber: tk.doc, FareFen: 10000, Status: tk.status,
		})
	}
	if err := s.Booking.Update(ctx, func(tx booking.Tx) error { return tx.InsertOrder(&order) }); err != nil {
		t.Fatal(err)
	}
	return order
}

func govAccounts(t testing.TB, ctx context.Context, s storetest.Stores, n int) []int64 {
	t.Helper()
	ids := make([]int64, n)
	for i := range ids {
		a, err := s.Identity.CreateAccount(ctx, identity.Account{
			Username: fmt.Sprintf("gov%d", i), DisplayName: "g", Role: identity.Passenger, PasswordHash: "x", CreatedAt: govT0,
		})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = a.ID
	}
	return ids
}

// TestGovernanceTransactions checks the stream of booking transactions:
// the window [from, to), the train filter, the order of placement and the
// outcome of each ticket status.
func TestGovernanceTransactions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		st := s.Governance
		accounts := govAccounts(t, ctx, s, 3)

		// Inserted out of time order: the stream follows placement times.
		const g1, g2 = "cr:G1", "cr:G2"
		orders := map[string]govOrder{
			"late":  {0, 10 * time.Minute, g1, "2026-06-10", booking.Paid, []govTicket{{"L1", booking.Paid}}},
			"o3":    {0, 2 * time.Minute, g1, "2026-06-11", booking.Expired, []govTicket{{"D1", booking.Expired}}},
			"o1":    {0, 0, g1, "2026-06-10", booking.Paid, []govTicket{{"D1", booking.Paid}, {"D2", booking.Refunded}}},
			"o2":    {2, time.Minute, g2, "2026-06-10", booking.Held, []govTicket{{"D3", booking.Held}, {"D4", booking.Held}}},
			"o4":    {1, 3 * time.Minute, g1, "2026-06-10", booking.Held, []govTicket{{"D5", booking.Held}}},
			"o5":    {0, 3 * time.Minute, g2, "2026-06-12", booking.Paid, []govTicket{{"D6", booking.Changed}, {"D7", booking.Paid}}},
			"early": {0, -time.Microsecond, g1, "2026-06-10", booking.Cancelled, []govTicket{{"E1", booking.Cancelled}}},
		}
		ins := map[string]booking.Order{}
		for _, name := range []string{"late", "o3", "o1", "o2", "o4", "o5", "early"} {
			ins[name] = govInsert(t, ctx, s, accounts, orders[name])
		}
		// o2 is cancelled later through the booking path.
		err := s.Booking.Update(ctx, func(tx booking.Tx) error {
			o, err := tx.OrderForUpdate(ins["o2"].ID)
			if err != nil {
				return err
			}
			o.Status = booking.Cancelled
			for i := range o.Tickets {
				o.Tickets[i].Status = booking.Cancelled
			}
			return tx.SetOrder(o)
		})
		if err != nil {
			t.Fatal(err)
		}

		type want struct {
			order   string
			doc     string
			outcome behaviour.Outcome
		}
		all := []want{
			{"o1", "D1", behaviour.Paid}, {"o1", "D2", behaviour.Paid},
			{"o2", "D3", behaviour.Cancelled}, {"o2", "D4", behaviour.Cancelled},
			{"o3", "D1", behaviour.Expired},
			{"o4", "D5", behaviour.Pending}, // o4 and o5 were placed at one instant: by order ID
			{"o5", "D6", behaviour.Paid}, {"o5", "D7", behaviour.Paid},
		}
		scan := func(from, to time.Time, train string, wants []want) {
			t.Helper()
			var got []behaviour.Transaction
			err := st.Transactions(ctx, from, to, train, func(tx behaviour.Transaction) error {
				got = append(got, tx)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(wants) {
				t.Fatalf("Transactions(%v, %v, %q) = %d rows %+v, want %d", from, to, train, len(got), got, len(wants))
			}
			for i, w := range wants {
				o := orders[w.order]
				exp := behaviour.Transaction{
					Passenger: "ID:" + w.doc, Account: accounts[o.account], Train: o.train,
					Date: network.MustDate(o.date), At: govT0.Add(o.at).UTC(), Outcome: w.outcome,
				}
				if got[i] != exp {
					t.Errorf("transaction %d = %+v\nwant            %+v", i, got[i], exp)
				}
			}
		}
		to := govT0.Add(10 * time.Minute)
		scan(govT0, to, "", all)
		scan(govT0, to, g1, []want{all[0], all[1], all[4], all[5]})
		scan(govT0, to, "cr:none", nil)
		scan(govT0.Add(time.Minute), govT0.Add(3*time.Minute), "", all[2:5])
		scan(govT0.Add(-time.Microsecond), to.Add(time.Microsecond), g1, []want{
			{"early", "E1", behaviour.Cancelled}, all[0], all[1], all[4], all[5], {"late", "L1", behaviour.Paid},
		})
		scan(to, to, "", nil)

		// An error from fn stops the scan and is returned as is.
		stop := errors.New("stop")
		n := 0
		err = st.Transactions(ctx, govT0, to, "", func(behaviour.Transaction) error {
			n++
			if n == 3 {
				return stop
			}
			return nil
		})
		if err != stop || n != 3 {
			t.Errorf("Transactions stopped with %v after %d rows, want stop after 3", err, n)
		}
		// The store still works after an early stop.
		scan(govT0, to, g2, []want{all[2], all[3], all[6], all[7]})
	})
}

// TestGovernanceSettings checks the governance store's settings are the
// booking store's settings.
func TestGovernanceSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		st := s.Governance
		if v, err := st.Setting(ctx, governance.SettingName); err != nil || v != "" {
			t.Fatalf("unset Setting = %q, %v", v, err)
		}
		for _, v := range []string{`{"account_cancel_limit":3}`, `{"account_cancel_limit":4,"day_start":"06:00"}`} {
			if err := st.SetSetting(ctx, governance.SettingName, v); err != nil {
				t.Fatal(err)
			}
			if got, err := st.Setting(ctx, governance.SettingName); err != nil || got != v {
				t.Errorf("Setting = %q, %v; want %q", got, err, v)
			}
			if got, err := s.Booking.Setting(ctx, governance.SettingName); err != nil || got != v {
				t.Errorf("booking Setting = %q, %v; want %q", got, err, v)
			}
		}
		if v, err := st.Setting(ctx, "other"); err != nil || v != "" {
			t.Errorf("other Setting = %q, %v", v, err)
		}
	})
}

// BenchmarkGovernanceTransactions measures streaming transactions: run
// with -bench GovernanceTransactions (PIAO_TEST_POSTGRES for PostgreSQL).
func BenchmarkGovernanceTransactions(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			s := e.Open(b)
			ctx := context.Background()
			accounts := govAccounts(b, ctx, s, 100)
			const orders, perOrder = 20000, 2
			statuses := []booking.TicketStatus{booking.Paid, booking.Cancelled, booking.Expired, booking.Refunded}
			for start := 0; start < orders; start += 1000 {
				err := s.Booking.Update(ctx, func(tx booking.Tx) error {
					for i := start; i < start+1000; i++ {
						created := govT0.Add(time.Duration(i) * time.Second)
						k := booking.TrainKey{ServiceID: fmt.Sprintf("cr:G%d", i%50), Date: govDay1.AddDays(i % 30)}
						o := booking.Order{AccountID: accounts[i%len(accounts)], Status: booking.Paid, Train: k, CreatedAt: created, HoldExpiresAt: created}
						for j := range perOrder {
							o.Tickets = append(o.Tickets, booking.Ticket{
								Train: k, Number: "G1", ToSeq: 1, FromStationID: "cr:A", ToStationID: "cr:B", Departure: created, Arrival: created,
								SeatNo: j, Seat: "01A", SeatClass: "second", PassengerName: "张三", DocType: "ID",
								DocNumber: fmt.Sprintf("%d-%d", i, j), Status: statuses[(i+j)%len(statuses)],
							})
						}
						if err := tx.InsertOrder(&o); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				n := 0
				err := s.Governance.Transactions(ctx, govT0, govT0.Add(orders*time.Second), "", func(behaviour.Transaction) error {
					n++
					return nil
				})
				if err != nil || n != orders*perOrder {
					b.Fatalf("scanned %d rows, %v", n, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*orders*perOrder), "ns/row")
		})
	}
}
