package storetest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"piao/internal/fault"
	"piao/internal/payment"
	"piao/internal/payment/sandbox"
	"piao/internal/store/storetest"
)

// sbT0 is a fixed instant to the microsecond (PostgreSQL's precision), not
// in UTC so the stores must normalise zones.
var sbT0 = time.Date(2026, 5, 1, 10, 0, 0, 123456000, time.FixedZone("CST", 8*3600))

func sbRecord(id, orderRef string, amount int64) sandbox.Record {
	return sandbox.Record{
		Payment: payment.Payment{
			ID: id, OrderRef: orderRef, AmountFen: amount, Status: payment.Pending,
			CreatedAt: sbT0, ExpiresAt: sbT0.Add(30 * time.Minute),
		},
		Subject: "G1 2026-05-01", NotifyURL: "http://127.0.0.1:9/notify", ReturnURL: "http://127.0.0.1:9/orders/1",
	}
}

func sbDelivery(id, paymentID string, at time.Time) sandbox.Delivery {
	return sandbox.Delivery{
		ID: id, PaymentID: paymentID, URL: "http://127.0.0.1:9/notify",
		Body: []byte(`{"id":"` + id + `"}`), CreatedAt: at, NextAttemptAt: at,
	}
}

func sbSameRecord(t *testing.T, got, want sandbox.Record) {
	t.Helper()
	if got.ID != want.ID || got.OrderRef != want.OrderRef || got.AmountFen != want.AmountFen ||
		got.RefundedFen != want.RefundedFen || got.Status != want.Status || got.Subject != want.Subject ||
		got.NotifyURL != want.NotifyURL || got.ReturnURL != want.ReturnURL ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) || !got.PaidAt.Equal(want.PaidAt) {
		t.Errorf("payment = %+v\nwant      %+v", got, want)
	}
	for _, tm := range []time.Time{got.CreatedAt, got.ExpiresAt, got.PaidAt} {
		if !tm.IsZero() && tm.Location() != time.UTC {
			t.Errorf("time %v is not in UTC", tm)
		}
	}
}

func sbWant(t *testing.T, err error, want *fault.Error) {
	t.Helper()
	if !fault.Is(err, want.Code) || fault.As(err).Reason != want.Reason {
		t.Errorf("err = %v, want %s/%s", err, want.Code, want.Reason)
	}
}

// sbPaid creates and pays a payment.
func sbPaid(t *testing.T, st sandbox.Store, id string, amount int64) sandbox.Record {
	t.Helper()
	ctx := context.Background()
	if _, _, err := st.CreatePayment(ctx, sbRecord(id, "order-"+id, amount), sbT0); err != nil {
		t.Fatal(err)
	}
	rec, err := st.Settle(ctx, id, payment.Paid, sbT0.Add(time.Minute), sbDelivery("ntf-"+id, id, sbT0.Add(time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// TestSandboxPayments checks creating payments, one open payment per
// order, and reading them back on every engine.
func TestSandboxPayments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		st := s.Sandbox

		want := sbRecord("pay_1", "order-1", 1250)
		got, created, err := st.CreatePayment(ctx, want, sbT0)
		if err != nil || !created {
			t.Fatalf("CreatePayment = %v, %v", created, err)
		}
		sbSameRecord(t, got, want)
		got, err = st.Payment(ctx, "pay_1")
		if err != nil {
			t.Fatal(err)
		}
		sbSameRecord(t, got, want)

		// The same order while the payment is open gets it back.
		again, created, err := st.CreatePayment(ctx, sbRecord("pay_2", "order-1", 1250), sbT0.Add(time.Minute))
		if err != nil || created {
			t.Fatalf("second CreatePayment = %v, %v", created, err)
		}
		sbSameRecord(t, again, want)
		if _, err := st.Payment(ctx, "pay_2"); !fault.Is(err, fault.NotFound) {
			t.Errorf("pay_2 was stored: %v", err)
		}
		_, err = st.Payment(ctx, "nope")
		sbWant(t, err, sandbox.ErrPaymentNotFound)

		// After it expires, the order gets a new payment and the old one is closed.
		late := sbT0.Add(31 * time.Minute)
		next := sbRecord("pay_3", "order-1", 1250)
		next.CreatedAt, next.ExpiresAt = late, late.Add(30*time.Minute)
		got, created, err = st.CreatePayment(ctx, next, late)
		if err != nil || !created {
			t.Fatalf("CreatePayment after expiry = %v, %v", created, err)
		}
		sbSameRecord(t, got, next)
		old, _ := st.Payment(ctx, "pay_1")
		if old.Status != payment.Closed {
			t.Errorf("expired payment status = %s, want closed", old.Status)
		}

		// A failed payment leaves the order free; a paid one stays its payment.
		if _, err := st.Settle(ctx, "pay_3", payment.Failed, late.Add(time.Minute), sbDelivery("n3", "pay_3", late)); err != nil {
			t.Fatal(err)
		}
		fourth := sbRecord("pay_4", "order-1", 1250)
		fourth.CreatedAt, fourth.ExpiresAt = late, late.Add(30*time.Minute)
		if _, created, err := st.CreatePayment(ctx, fourth, late.Add(2*time.Minute)); err != nil || !created {
			t.Fatalf("CreatePayment after failure = %v, %v", created, err)
		}
		paid, err := st.Settle(ctx, "pay_4", payment.Paid, late.Add(3*time.Minute), sbDelivery("n4", "pay_4", late))
		if err != nil {
			t.Fatal(err)
		}
		got, created, err = st.CreatePayment(ctx, sbRecord("pay_5", "order-1", 1250), late.Add(time.Hour))
		if err != nil || created || got.ID != "pay_4" {
			t.Fatalf("CreatePayment after payment = %s, %v, %v; want pay_4", got.ID, created, err)
		}
		sbSameRecord(t, got, paid)
	})
}

// TestSandboxSettle checks the pending → paid/failed transition with its
// outbox row, and its refusals, on every engine.
func TestSandboxSettle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		st := s.Sandbox
		want := sbRecord("pay_1", "order-1", 1250)
		if _, _, err := st.CreatePayment(ctx, want, sbT0); err != nil {
			t.Fatal(err)
		}
		at := sbT0.Add(5 * time.Minute)
		d := sbDelivery("ntf_1", "pay_1", at)
		got, err := st.Settle(ctx, "pay_1", payment.Paid, at, d)
		if err != nil {
			t.Fatal(err)
		}
		want.Status, want.PaidAt = payment.Paid, at
		sbSameRecord(t, got, want)
		got, _ = st.Payment(ctx, "pay_1")
		sbSameRecord(t, got, want)

		ds, err := st.Deliveries(ctx, "pay_1")
		if err != nil || len(ds) != 1 {
			t.Fatalf("Deliveries = %+v, %v", ds, err)
		}
		if g := ds[0]; g.ID != d.ID || g.URL != d.URL || string(g.Body) != string(d.Body) || !g.CreatedAt.Equal(at) ||
			!g.NextAttemptAt.Equal(at) || g.Attempts != 0 || !g.LeaseUntil.IsZero() || !g.DeliveredAt.IsZero() || !g.GaveUpAt.IsZero() {
			t.Errorf("delivery = %+v, want %+v", g, d)
		}

		_, err = st.Settle(ctx, "pay_1", payment.Failed, at, sbDelivery("ntf_2", "pay_1", at))
		sbWant(t, err, sandbox.ErrNotPending)
		_, err = st.Settle(ctx, "nope", payment.Paid, at, sbDelivery("ntf_3", "nope", at))
		sbWant(t, err, sandbox.ErrPaymentNotFound)
		if ds, _ := st.Deliveries(ctx, "pay_1"); len(ds) != 1 {
			t.Errorf("refused settles enqueued: %d deliveries", len(ds))
		}

		// Expiry is exclusive: at ExpiresAt it is too late.
		if _, _, err := st.CreatePayment(ctx, sbRecord("pay_2", "order-2", 100), sbT0); err != nil {
			t.Fatal(err)
		}
		_, err = st.Settle(ctx, "pay_2", payment.Paid, sbT0.Add(30*time.Minute), sbDelivery("ntf_4", "pay_2", at))
		sbWant(t, err, sandbox.ErrPaymentExpired)
		if _, err := st.Settle(ctx, "pay_2", payment.Pending, at, sbDelivery("ntf_5", "pay_2", at)); !fault.Is(err, fault.Invalid) {
			t.Errorf("settle to pending: %v, want invalid", err)
		}
		if _, err := st.Settle(ctx, "pay_2", payment.Failed, sbT0.Add(30*time.Minute-time.Microsecond), sbDelivery("ntf_6", "pay_2", at)); err != nil {
			t.Errorf("settle just before expiry: %v", err)
		}
	})
}

// TestSandboxSettleConcurrent checks that of concurrent settles exactly one
// wins and enqueues, on every engine.
func TestSandboxSettleConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		st := s.Sandbox
		if _, _, err := st.CreatePayment(ctx, sbRecord("pay_1", "order-1", 1250), sbT0); err != nil {
			t.Fatal(err)
		}
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				_, errs[i] = st.Settle(ctx, "pay_1", payment.Paid, sbT0.Add(time.Minute), sbDelivery(fmt.Sprintf("ntf_%d", i), "pay_1", sbT0))
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case fault.As(err).Reason != sandbox.ErrNotPending.Reason:
				t.Errorf("settle: %v", err)
			}
		}
		if ds, _ := st.Deliveries(ctx, "pay_1"); won != 1 || len(ds) != 1 {
			t.Errorf("%d settles won, %d deliveries; want 1 and 1", won, len(ds))
		}
	})
}

// TestSandboxCreateConcurrent checks that concurrent creates for one order
// store one payment, on every engine.
func TestSandboxCreateConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		st := s.Sandbox
		const n = 8
		var wg sync.WaitGroup
		ids := make([]string, n)
		for i := range n {
			wg.Go(func() {
				rec, _, err := st.CreatePayment(ctx, sbRecord(fmt.Sprintf("pay_%d", i), "order-1", 1250), sbT0)
				if err != nil {
					t.Error(err)
				}
				ids[i] = rec.ID
			})
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("concurrent creates returned different payments: %v", ids)
			}
		}
	})
}

// TestSandboxRefunds checks idempotent refunds bounded by the amount paid,
// on every engine.
func TestSandboxRefunds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		st := s.Sandbox
		at := sbT0.Add(time.Hour)
		rf := func(id, pay string, amount int64) payment.Refund {
			return payment.Refund{ID: id, PaymentID: pay, AmountFen: amount, Status: payment.RefundSucceeded, At: at}
		}

		if _, _, err := st.CreatePayment(ctx, sbRecord("pay_u", "order-u", 100), sbT0); err != nil {
			t.Fatal(err)
		}
		_, err := st.Refund(ctx, rf("r0", "pay_u", 50))
		sbWant(t, err, sandbox.ErrNotPaid)
		_, err = st.Refund(ctx, rf("r0", "nope", 50))
		sbWant(t, err, sandbox.ErrPaymentNotFound)

		sbPaid(t, st, "pay_1", 1000)
		first, err := st.Refund(ctx, rf("r1", "pay_1", 600))
		if err != nil {
			t.Fatal(err)
		}
		if first.ID != "r1" || first.PaymentID != "pay_1" || first.AmountFen != 600 || first.Status != payment.RefundSucceeded || !first.At.Equal(at) {
			t.Errorf("refund = %+v", first)
		}
		// A repeat returns the first result and refunds nothing more.
		later := rf("r1", "pay_1", 600)
		later.At = at.Add(time.Hour)
		again, err := st.Refund(ctx, later)
		if err != nil || !again.At.Equal(at) || again.AmountFen != 600 || again.Status != payment.RefundSucceeded {
			t.Errorf("repeated refund = %+v, %v; want the first", again, err)
		}
		_, err = st.Refund(ctx, rf("r1", "pay_1", 500))
		sbWant(t, err, sandbox.ErrRefundIDReused)
		_, err = st.Refund(ctx, rf("r2", "pay_1", 401))
		sbWant(t, err, sandbox.ErrRefundExceeds)
		if _, err := st.Refund(ctx, rf("r3", "pay_1", 400)); err != nil {
			t.Fatal(err)
		}
		_, err = st.Refund(ctx, rf("r4", "pay_1", 1))
		sbWant(t, err, sandbox.ErrRefundExceeds)

		rec, _ := st.Payment(ctx, "pay_1")
		if rec.RefundedFen != 1000 || rec.Status != payment.Paid {
			t.Errorf("payment after refunds = %+v", rec)
		}
		list, err := st.Refunds(ctx, "pay_1")
		if err != nil || len(list) != 2 || list[0].ID != "r1" || list[1].ID != "r3" || list[0].At.Location() != time.UTC {
			t.Errorf("Refunds = %+v, %v", list, err)
		}
	})
}

// TestSandboxRefundsConcurrent checks that concurrent refunds never exceed
// the amount paid and that one ID refunds once, on every engine.
func TestSandboxRefundsConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		st := s.Sandbox
		sbPaid(t, st, "pay_1", 1000)
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Go(func() {
				// Five distinct IDs, each tried twice, of 300 fen: three fit.
				_, err := st.Refund(ctx, payment.Refund{ID: fmt.Sprintf("r%d", i%5), PaymentID: "pay_1", AmountFen: 300, Status: payment.RefundSucceeded, At: sbT0})
				if err != nil && fault.As(err).Reason != sandbox.ErrRefundExceeds.Reason {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		rec, _ := st.Payment(ctx, "pay_1")
		list, _ := st.Refunds(ctx, "pay_1")
		if rec.RefundedFen != 900 || len(list) != 3 {
			t.Errorf("refunded %d fen in %d refunds, want 900 in 3", rec.RefundedFen, len(list))
		}
	})
}

// TestSandboxOutbox checks claiming with leases, retries, delivery and
// giving up, on every engine.
func TestSandboxOutbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		st := s.Sandbox
		if _, _, err := st.CreatePayment(ctx, sbRecord("pay_1", "order-1", 1250), sbT0); err != nil {
			t.Fatal(err)
		}
		at := sbT0.Add(time.Minute)
		if _, err := st.Settle(ctx, "pay_1", payment.Paid, at, sbDelivery("ntf_1", "pay_1", at)); err != nil {
			t.Fatal(err)
		}
		claim := func(now time.Time) []sandbox.Delivery {
			t.Helper()
			ds, err := st.ClaimDue(ctx, now, now.Add(time.Minute), 10)
			if err != nil {
				t.Fatal(err)
			}
			return ds
		}

		if ds := claim(at.Add(-time.Second)); len(ds) != 0 {
			t.Fatalf("claimed %d before due", len(ds))
		}
		ds := claim(at)
		if len(ds) != 1 || ds[0].ID != "ntf_1" || !ds[0].LeaseUntil.Equal(at.Add(time.Minute)) || ds[0].PaymentID != "pay_1" {
			t.Fatalf("ClaimDue = %+v", ds)
		}
		if ds := claim(at.Add(30 * time.Second)); len(ds) != 0 {
			t.Fatalf("claimed %d under lease", len(ds))
		}
		// A lapsed lease (a crashed notifier) lets it be claimed again.
		if ds := claim(at.Add(time.Minute)); len(ds) != 1 {
			t.Fatalf("claimed %d after the lease lapsed, want 1", len(ds))
		}

		next := at.Add(2 * time.Minute)
		if err := st.Retry(ctx, "ntf_1", 1, next, "HTTP 500"); err != nil {
			t.Fatal(err)
		}
		if ds := claim(next.Add(-time.Microsecond)); len(ds) != 0 {
			t.Fatalf("claimed %d before the retry is due", len(ds))
		}
		ds = claim(next)
		if len(ds) != 1 || ds[0].Attempts != 1 || ds[0].LastError != "HTTP 500" || !ds[0].NextAttemptAt.Equal(next) {
			t.Fatalf("retried delivery = %+v", ds)
		}
		done := next.Add(time.Second)
		if err := st.MarkDelivered(ctx, "ntf_1", done); err != nil {
			t.Fatal(err)
		}
		if err := st.MarkDelivered(ctx, "ntf_1", done.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		// A late failure report of another notifier changes nothing.
		if err := st.Retry(ctx, "ntf_1", 2, done, "late"); err != nil {
			t.Fatal(err)
		}
		if ds := claim(done.Add(time.Hour)); len(ds) != 0 {
			t.Fatalf("claimed %d delivered", len(ds))
		}
		got, _ := st.Deliveries(ctx, "pay_1")
		if len(got) != 1 || !got[0].DeliveredAt.Equal(done) || got[0].Attempts != 1 || !got[0].LeaseUntil.IsZero() {
			t.Errorf("delivered = %+v", got)
		}

		sbWant(t, st.MarkDelivered(ctx, "nope", done), sandbox.ErrDeliveryNotFound)
		sbWant(t, st.Retry(ctx, "nope", 1, done, ""), sandbox.ErrDeliveryNotFound)
		sbWant(t, st.GiveUp(ctx, "nope", 1, done, ""), sandbox.ErrDeliveryNotFound)

		// Giving up stops it for good.
		if _, _, err := st.CreatePayment(ctx, sbRecord("pay_2", "order-2", 100), sbT0); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Settle(ctx, "pay_2", payment.Failed, at, sbDelivery("ntf_2", "pay_2", at)); err != nil {
			t.Fatal(err)
		}
		if err := st.GiveUp(ctx, "ntf_2", 20, done, "connection refused"); err != nil {
			t.Fatal(err)
		}
		if ds := claim(done.Add(time.Hour)); len(ds) != 0 {
			t.Fatalf("claimed %d abandoned", len(ds))
		}
		got, _ = st.Deliveries(ctx, "pay_2")
		if len(got) != 1 || !got[0].GaveUpAt.Equal(done) || got[0].Attempts != 20 || got[0].LastError != "connection refused" {
			t.Errorf("abandoned = %+v", got)
		}
	})
}

// TestSandboxClaimOrder checks that claims respect the limit and take the
// earliest due first, on every engine.
func TestSandboxClaimOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		st := s.Sandbox
		for i := range 5 {
			id := fmt.Sprintf("pay_%d", i)
			if _, _, err := st.CreatePayment(ctx, sbRecord(id, "order-"+id, 100), sbT0); err != nil {
				t.Fatal(err)
			}
			due := sbT0.Add(time.Duration(5-i) * time.Second)
			if _, err := st.Settle(ctx, id, payment.Paid, sbT0, sbDelivery("ntf_"+id, id, due)); err != nil {
				t.Fatal(err)
			}
		}
		now := sbT0.Add(time.Minute)
		ds, err := st.ClaimDue(ctx, now, now.Add(time.Minute), 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 3 || ds[0].ID != "ntf_pay_4" || ds[1].ID != "ntf_pay_3" || ds[2].ID != "ntf_pay_2" {
			t.Errorf("ClaimDue = %v, want ntf_pay_4, 3, 2", sbIDs(ds))
		}
	})
}

// TestSandboxClaimConcurrent checks that concurrent claimers never get the
// same delivery under one lease, on every engine.
func TestSandboxClaimConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		st := s.Sandbox
		const n = 30
		for i := range n {
			id := fmt.Sprintf("pay_%02d", i)
			if _, _, err := st.CreatePayment(ctx, sbRecord(id, "order-"+id, 100), sbT0); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Settle(ctx, id, payment.Paid, sbT0, sbDelivery("ntf_"+id, id, sbT0)); err != nil {
				t.Fatal(err)
			}
		}
		now := sbT0.Add(time.Minute)
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				for {
					ds, err := st.ClaimDue(ctx, now, now.Add(time.Minute), 4)
					if err != nil {
						t.Error(err)
						return
					}
					if len(ds) == 0 {
						return
					}
					mu.Lock()
					for _, d := range ds {
						seen[d.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(seen) != n {
			t.Errorf("claimed %d distinct deliveries, want %d", len(seen), n)
		}
		for id, k := range seen {
			if k != 1 {
				t.Errorf("%s claimed %d times", id, k)
			}
		}
	})
}

func sbIDs(ds []sandbox.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}
