package booking_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"piao/internal/booking"
	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/network"
	"piao/internal/store/storetest"
	"piao/internal/testclock"
)

// govEnv is a booking service with governance on, over one engine.
func govEnv(t *testing.T, s storetest.Stores, rules *governance.Rules) (*env, *governance.Service) {
	t.Helper()
	c := testclock.New(startTime)
	gov := governance.NewService(s.Governance, governance.Config{Now: c.Now, CacheTTL: time.Nanosecond})
	if rules != nil {
		if err := gov.SetRules(context.Background(), *rules, "test", ""); err != nil {
			t.Fatal(err)
		}
	}
	// Tests expire holds themselves: no background sweeper racing them.
	e := newEnv(t, s, booking.Config{Now: c.Now, Governance: gov, SweepEvery: time.Hour})
	e.clock = c
	return e, gov
}

// bookOn books one passenger on Z66 Nanchang → Beijing West on a date.
func bookOn(e *env, account int64, date network.Date, p booking.PassengerRequest) (booking.Order, error) {
	res, err := e.svc.Book(context.Background(), booking.BookRequest{AccountID: account, Train: "Z66", Date: date.String(), From: "NCG", To: "BXP", Passengers: []booking.PassengerRequest{p}})
	return res.Order, err
}

func warningCodes(ws []governance.Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Code)
	}
	return out
}

// G1: three manual cancels close the account for the rest of the service
// day in Asia/Shanghai, and it opens again at midnight there.
func TestAccountCancelLimitUntilMidnight(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e, _ := govEnv(t, s, nil)
		acct := e.accounts(t, 1)[0]
		travel := day0.AddDays(3)
		for i := range 3 {
			o, err := bookOn(e, acct, travel, passenger(i, network.HardSleeper, ""))
			if err != nil {
				t.Fatalf("booking %d: %v", i+1, err)
			}
			c, err := e.svc.Cancel(context.Background(), o.ID, acct)
			if err != nil {
				t.Fatal(err)
			}
			codes := warningCodes(c.Warnings)
			if (i >= 1) != (len(codes) > 0 && codes[0] == "account_cancels") {
				t.Fatalf("cancel %d warnings %v", i+1, codes)
			}
		}
		midnight := time.Date(2026, 11, 24, 0, 0, 0, 0, shanghai)
		_, err := bookOn(e, acct, travel, passenger(10, network.HardSleeper, ""))
		fe := fault.As(err)
		if fe.Reason != "account_cancel_limit" || !fe.RetryAt.Equal(midnight) {
			t.Fatalf("fourth booking: %v (retry at %v)", err, fe.RetryAt)
		}
		e.clock.Set(midnight.Add(-time.Second)) // 23:59:59, still the same day
		if _, err := bookOn(e, acct, travel, passenger(11, network.HardSleeper, "")); !hasReason(err, "account_cancel_limit") {
			t.Fatalf("at 23:59:59: %v", err)
		}
		e.clock.Set(midnight) // UTC still says the 23rd; Beijing says the 24th
		if _, err := bookOn(e, acct, travel, passenger(12, network.HardSleeper, "")); err != nil {
			t.Fatalf("after midnight in Shanghai: %v", err)
		}
	})
}

// G2: cancels of one passenger count across every account; the warning
// comes at the threshold, the ban at the limit; expiries count only when
// configured.
func TestPassengerLimitAcrossAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e, gov := govEnv(t, s, nil)
		accts := e.accounts(t, 7)
		travel := day0.AddDays(2)
		p := passenger(1, network.HardSleeper, "")
		for i := range 3 {
			o, err := bookOn(e, accts[i], travel, p)
			if err != nil {
				t.Fatalf("booking via account %d: %v", i+1, err)
			}
			if want := i == 2; want != (len(o.Warnings) == 1 && o.Warnings[0].Code == "passenger_cancels") {
				t.Fatalf("booking %d warnings %+v", i+1, o.Warnings)
			}
			c, err := e.svc.Cancel(context.Background(), o.ID, accts[i])
			if err != nil {
				t.Fatal(err)
			}
			if want := i >= 1; want != (len(c.Warnings) == 1 && c.Warnings[0].Code == "passenger_cancels") {
				t.Fatalf("cancel %d warnings %+v", i+1, c.Warnings)
			}
		}
		// A fresh account does not help: the passenger is banned for today.
		_, err := bookOn(e, accts[3], travel, p)
		if !hasReason(err, "passenger_cancel_limit") || fault.CodeOf(err) != fault.LimitReached {
			t.Fatalf("fourth account: %v", err)
		}
		if _, err := bookOn(e, accts[3], travel, passenger(2, network.HardSleeper, "")); err != nil {
			t.Fatalf("another passenger on that account: %v", err)
		}
		got, err := gov.DayCounts(context.Background(), day0, governance.DocumentSubject(p.DocType, p.DocNumber))
		if err != nil || got.Manual != 3 || got.Expired != 0 {
			t.Fatalf("counts %+v %v", got, err)
		}

		// Expiries are counted separately and do not ban by default…
		q := passenger(3, network.HardSleeper, "")
		for i := range 3 {
			if _, err := bookOn(e, accts[4], travel.AddDays(i), q); err != nil {
				t.Fatalf("booking %d for expiry: %v", i+1, err)
			}
			e.clock.Advance(31 * time.Minute)
			if n, err := e.svc.ExpireDue(context.Background()); err != nil || n < 1 {
				t.Fatalf("expire: %d %v", n, err)
			}
		}
		if _, err := bookOn(e, accts[5], travel, q); err != nil {
			t.Fatalf("three expiries should not ban by default: %v", err)
		}
		// …and do once the rules say so.
		r := governance.DefaultRules()
		r.CountExpiries = true
		if err := gov.SetRules(context.Background(), r, "test", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := bookOn(e, accts[6], travel.AddDays(1), q); !hasReason(err, "passenger_cancel_limit") {
			t.Fatalf("with count_expiries: %v", err)
		}
		got, _ = gov.DayCounts(context.Background(), day0, governance.DocumentSubject(q.DocType, q.DocNumber))
		if got.Expired != 3 || got.Manual != 0 {
			t.Fatalf("expiry counts %+v", got)
		}
	})
}

// Two kinds of race at the limit. Many accounts cancel the same
// passenger's holds at once: every cancel counts. One account at its last
// cancel books from many goroutines, cancelling whatever it gets: exactly
// one booking gets through, because the cancel that uses the limit and
// every later booking are ordered by the account lock.
func TestCancelsRacingTheLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e, gov := govEnv(t, s, nil)
		ctx := context.Background()
		const n = 12
		accts := e.accounts(t, n+1)
		p := passenger(7, network.HardSleeper, "")
		orders := make([]booking.Order, n)
		for i := range n { // one passenger, n train dates, n accounts
			o, err := bookOn(e, accts[i], day0.AddDays(1+i), p)
			if err != nil {
				t.Fatalf("hold %d: %v", i, err)
			}
			orders[i] = o
		}
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if _, err := e.svc.Cancel(ctx, orders[i].ID, accts[i]); err != nil {
					t.Errorf("cancel %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		got, err := gov.DayCounts(ctx, day0, governance.DocumentSubject(p.DocType, p.DocNumber))
		if err != nil || got.Manual != n {
			t.Fatalf("after %d concurrent cancels the passenger's count is %+v (%v)", n, got, err)
		}

		// The last account has two cancels; eight goroutines race to book
		// and cancel with it.
		acct := accts[n]
		for i := range 2 {
			o, err := bookOn(e, acct, day0.AddDays(2), passenger(100+i, network.HardSleeper, ""))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Cancel(ctx, o.ID, acct); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		booked, reasons := 0, map[string]int{}
		for g := range 8 {
			wg.Go(func() {
				// Each goroutine tries until the limit refuses it: under load
				// the one booking that got through may stay unpaid (refusing
				// the others with unpaid_order_exists) for many tries.
				deadline := time.Now().Add(30 * time.Second)
				for try := 0; time.Now().Before(deadline); try++ {
					o, err := bookOn(e, acct, day0.AddDays(3), passenger(200+g*20+try%20, network.HardSleeper, ""))
					if err != nil {
						mu.Lock()
						reasons[fault.As(err).Reason]++
						mu.Unlock()
						if hasReason(err, "account_cancel_limit") {
							return
						}
						runtime.Gosched()
						continue
					}
					mu.Lock()
					booked++
					mu.Unlock()
					if _, err := e.svc.Cancel(ctx, o.ID, acct); err != nil {
						t.Errorf("cancel: %v", err)
					}
				}
			})
		}
		wg.Wait()
		if booked != 1 || reasons["account_cancel_limit"] != 8 {
			t.Fatalf("%d bookings got through (want 1); refusals %v", booked, reasons)
		}
		for r := range reasons {
			if r != "account_cancel_limit" && r != "unpaid_order_exists" {
				t.Fatalf("unexpected refusal %q: %v", r, reasons)
			}
		}
		got, _ = gov.DayCounts(ctx, day0, governance.AccountSubject(acct))
		if got.Manual != 3 {
			t.Fatalf("account cancels %d, want 3", got.Manual)
		}
		mustCheck(t, e.svc)
	})
}

// G3 effects at booking: the restricted list shortens the hold and slows
// the booking; the suspected-malicious list refuses it until it expires.
func TestListEffectsAtBooking(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		r := governance.DefaultRules()
		r.Lists.Effects[governance.Restricted] = governance.Effect{HoldMinutes: 10, DelayMillis: 150}
		e, gov := govEnv(t, s, &r)
		ctx := context.Background()
		accts := e.accounts(t, 3)
		if _, err := gov.Add(ctx, governance.Restricted, governance.AccountSubject(accts[0]), "反复占座 seat hoarding", 7, "test"); err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		o, err := bookOn(e, accts[0], day0.AddDays(1), passenger(1, network.HardSleeper, ""))
		if err != nil {
			t.Fatal(err)
		}
		if took := time.Since(began); took < 150*time.Millisecond {
			t.Errorf("slow lane: the booking took %v, want ≥ 150 ms", took)
		}
		if hold := o.HoldExpiresAt.Sub(o.CreatedAt); hold != 10*time.Minute {
			t.Errorf("restricted hold %v, want 10m", hold)
		}
		bad := passenger(2, network.HardSleeper, "")
		m, err := gov.Add(ctx, governance.Malicious, governance.DocumentSubject(bad.DocType, bad.DocNumber), "101 次手工取消", 30, "test")
		if err != nil {
			t.Fatal(err)
		}
		_, err = bookOn(e, accts[1], day0.AddDays(1), bad)
		if fe := fault.As(err); fe.Reason != "listed_blocked" || fe.Code != fault.Forbidden || !fe.RetryAt.Equal(m.Expires) {
			t.Fatalf("malicious passenger: %v", err)
		}
		if _, err := gov.Lift(ctx, m.ID, "申诉成功 appeal upheld", "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := bookOn(e, accts[1], day0.AddDays(1), bad); err != nil {
			t.Fatalf("after lifting: %v", err)
		}
		o, err = bookOn(e, accts[2], day0.AddDays(1), passenger(3, network.HardSleeper, ""))
		if err != nil || o.HoldExpiresAt.Sub(o.CreatedAt) != 30*time.Minute {
			t.Fatalf("unlisted account: hold %v, %v", o.HoldExpiresAt.Sub(o.CreatedAt), err)
		}
	})
}
