package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"piao/internal/booking"
	"piao/internal/network"
	"piao/internal/payment/sandbox"
	"piao/internal/realname"
	"piao/internal/store/sqlite"
)

// waitEntry is a waitlist entry as the API answers it.
type waitEntry struct {
	ID         int64  `json:"id"`
	Status     string `json:"status"`
	PrepaidFen int64  `json:"prepaid_fen"`
	OrderID    int64  `json:"order_id"`
	RefundFen  int64  `json:"refund_fen"`
	RefundSent bool   `json:"refund_sent"`
	PaymentID  string `json:"payment_id"`
	Position   int    `json:"position"`
}

// TestKillNineDuringWaitlistFulfilment fills T168's 72 soft-sleeper berths
// with held orders, queues 50 prepaid waitlist entries for them, then
// cancels the holds from many workers and kills `piao serve` with SIGKILL
// while freed berths are being turned into waitlist tickets. After a
// restart every acknowledged cancel is there, the holds left expire, and
// every entry ends served exactly once: one paid order with its
// passenger's berth, the prepaid difference refunded, no berth sold twice.
func TestKillNineDuringWaitlistFulfilment(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	keyFlag, keys := testKeys(t)
	global := append([]string{"--data-dir", dir}, keyFlag...)
	if out, err := runPiao(t, append(global, "migrate")...); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	const holders, waiters, berths = 72, 50, 72
	db, err := sqlite.Open(filepath.Join(dir, "piao.db"), keys)
	if err != nil {
		t.Fatal(err)
	}
	accts := createAccounts(t, db.Identity(), "wk", holders+waiters)
	// The sandbox's secret, made before the server starts, so this test can
	// pay through the sandbox's machine endpoint as a payer's app would.
	secret, err := booking.SharedSecret(context.Background(), db.Booking(), "sandbox_payment_secret")
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	const hold = 15 * time.Second
	// The demo trains without the simulated month of bookings: the month is
	// not what this test is about, and seeding it takes minutes under -race
	// on busy cores.
	srv := startServe(t, "first", global, "--demo", "--no-demo-month", "--hold", hold.String())
	client := newClient(16)
	defer client.close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	date := shanghaiToday(t).AddDays(1).String()

	// Hold every soft-sleeper berth NCG → BXP.
	orders := make([]order, holders)
	parallel(t, holders, 8, func(i int) error {
		var out booked
		req := bookReq{Train: "T168", Date: date, From: "NCG", To: "BXP", Passengers: []passengerReq{passenger(20000+i, network.SoftSleeper, "")}}
		status, p, err := client.call(ctx, "POST", srv.base+"/api/v1/orders", accts[i].Token, req, &out)
		if err != nil || status != 200 {
			return fmt.Errorf("hold %d: %d %+v %v", i, status, p, err)
		}
		orders[i] = out.Order
		return nil
	})
	var sold booked
	if status, p, _ := client.call(ctx, "POST", srv.base+"/api/v1/orders", accts[holders].Token,
		bookReq{Train: "T168", Date: date, From: "NCG", To: "BXP", Passengers: []passengerReq{passenger(29999, network.SoftSleeper, "")}}, &sold); status != 409 || p.Reason != "sold_out" {
		t.Fatalf("a 73rd soft sleeper: %d %+v, want sold out", status, p)
	}

	// Queue the waiters and prepay them through the sandbox.
	entries := make([]waitEntry, waiters)
	parallel(t, waiters, 8, func(i int) error {
		a := accts[holders+i]
		p := passenger(30000+i, network.SoftSleeper, "")
		req := map[string]any{
			"options":    []map[string]string{{"train": "T168", "date": date, "from": "NCG", "to": "BXP", "seat_class": "soft_sleeper"}},
			"passengers": []map[string]string{{"name": p.Name, "doc_type": p.DocType, "doc_number": p.DocNumber}},
		}
		var e waitEntry
		if status, pr, err := client.call(ctx, "POST", srv.base+"/api/v1/waitlist", a.Token, req, &e); err != nil || status != 200 {
			return fmt.Errorf("join %d: %d %+v %v", i, status, pr, err)
		}
		var pay struct {
			ID string `json:"id"`
		}
		if status, pr, err := client.call(ctx, "POST", fmt.Sprintf("%s/api/v1/waitlist/%d/payment", srv.base, e.ID), a.Token, nil, &pay); err != nil || status != 200 {
			return fmt.Errorf("prepay %d: %d %+v %v", i, status, pr, err)
		}
		if err := sandboxPay(ctx, client, srv.base, secret, pay.ID); err != nil {
			return err
		}
		entries[i] = e
		return nil
	})
	if !waitFor(30*time.Second, 200*time.Millisecond, func() bool {
		for i, e := range entries {
			var got waitEntry
			if status, _, err := client.call(ctx, "GET", fmt.Sprintf("%s/api/v1/waitlist/%d", srv.base, e.ID), accts[holders+i].Token, nil, &got); err != nil || status != 200 || got.Status != "waiting" {
				return false
			}
		}
		return true
	}) {
		t.Fatal("the waiters' prepayments did not all arrive within 30 s")
	}

	// Cancel the holds from many workers; kill once some are acknowledged.
	var (
		mu        sync.Mutex
		cancelled = map[int64]bool{}
		next      atomic.Int64
		stop      atomic.Bool
		wg        sync.WaitGroup
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				i := int(next.Add(1)) - 1
				if i >= holders {
					return
				}
				status, _, err := client.call(ctx, "POST", fmt.Sprintf("%s/api/v1/orders/%d/cancel", srv.base, orders[i].ID), accts[i].Token, nil, nil)
				if err == nil && status == 200 {
					mu.Lock()
					cancelled[orders[i].ID] = true
					mu.Unlock()
				}
			}
		}()
	}
	acked := func() int { mu.Lock(); defer mu.Unlock(); return len(cancelled) }
	if !waitFor(30*time.Second, time.Millisecond, func() bool { return acked() >= 12 }) {
		t.Fatalf("only %d cancels acknowledged", acked())
	}
	stop.Store(true)
	srv.kill()
	wg.Wait()
	t.Logf("killed after %d acknowledged cancels of %d started", acked(), min(next.Load(), holders))
	if acked() >= waiters {
		t.Errorf("every waiter could be served before the kill: it proves less")
	}

	srv2 := startServe(t, "restarted", global, "--sandbox-payments", "--hold", hold.String())
	for i, o := range orders {
		if !cancelled[o.ID] {
			continue
		}
		var got order
		client.mustCall(t, "GET", fmt.Sprintf("%s/api/v1/orders/%d", srv2.base, o.ID), accts[i].Token, nil, &got)
		if got.Status != "cancelled" {
			t.Errorf("order %d: cancel acknowledged, %s after the restart", o.ID, got.Status)
		}
	}

	// The holds left run out (15 s after booking) and free their berths
	// too: every entry ends served, each exactly once, refunds sent.
	final := make([]waitEntry, waiters)
	served := waitFor(hold+45*time.Second, 500*time.Millisecond, func() bool {
		for i, e := range entries {
			if status, _, err := client.call(ctx, "GET", fmt.Sprintf("%s/api/v1/waitlist/%d", srv2.base, e.ID), accts[holders+i].Token, nil, &final[i]); err != nil || status != 200 {
				return false
			}
			if final[i].Status != "fulfilled" || final[i].RefundFen > 0 && !final[i].RefundSent {
				return false
			}
		}
		return true
	})
	if !served {
		for i, e := range final {
			t.Logf("entry %d: %+v", entries[i].ID, e)
		}
		t.Fatal("not every waitlist entry was served and refunded within the holds' end and 45 s")
	}
	for i, e := range final {
		a := accts[holders+i]
		var os struct {
			Orders []order `json:"orders"`
		}
		client.mustCall(t, "GET", srv2.base+"/api/v1/orders", a.Token, nil, &os)
		if len(os.Orders) != 1 || os.Orders[0].ID != e.OrderID || os.Orders[0].Status != "paid" {
			t.Errorf("waiter %d (entry %d, order %d) has orders %+v, want its one paid order", i, e.ID, e.OrderID, os.Orders)
			continue
		}
		o := os.Orders[0]
		var total int64
		for _, tk := range o.Tickets {
			if tk.SeatClass != "soft_sleeper" || tk.DocNumber != realname.MaskDocument(passenger(30000+i, network.SoftSleeper, "").DocNumber) { // answers show it masked
				t.Errorf("waiter %d ticket %+v", i, tk)
			}
			total += tk.FareFen
		}
		if len(o.Tickets) != 1 || e.RefundFen != e.PrepaidFen-total {
			t.Errorf("waiter %d: prepaid %d, ticket %d, refund %d", i, e.PrepaidFen, total, e.RefundFen)
		}
	}
	// Serving every waiter needs only some of the holds to have ended; the
	// sweeper ends the rest in its own batches, so wait for them too.
	left := 0
	waitFor(hold+45*time.Second, 500*time.Millisecond, func() bool {
		left = remainingByClass(t, client, srv2.base, "NCG", "BXP", date, "T168")["soft_sleeper"]
		return left == berths-waiters
	})
	if left != berths-waiters {
		t.Errorf("%d soft sleepers left after all holds ended, want %d (72 less the %d served)", left, berths-waiters, waiters)
	}
	srv2.stop()
	checkInventory(t, global...)
}

// sandboxPay pays a payment through the sandbox's machine endpoint.
func sandboxPay(ctx context.Context, c *apiClient, base string, secret []byte, paymentID string) error {
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/sandbox/api/pay/"+paymentID, strings.NewReader(`{"action":"pay"}`))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(sandbox.APIKeyHeader, sandbox.APIKey(secret, paymentID))
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		return fmt.Errorf("sandbox pay %s: %d", paymentID, res.StatusCode)
	}
	return nil
}

// parallel runs fn(0..n-1) on workers goroutines and fails the test on
// the first error.
func parallel(t *testing.T, n, workers int, fn func(i int) error) {
	t.Helper()
	next := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
