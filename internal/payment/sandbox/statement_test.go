package sandbox_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"piao/internal/payment"
	"piao/internal/payment/sandbox"
)

// TestStatementFees: the day's statement lists the payments paid and the
// refunds made that Asia/Shanghai day, each payment with its fee at 0.6 %
// rounded halves up, each refund returning its share of the fee, and a
// payment's refunds together return exactly its fee.
func TestStatementFees(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	big := e.create(t, "order:1", 10_001) // fee 60.006 → 60
	small := e.create(t, "order:2", 250)  // fee 1.5 → 2
	e.create(t, "order:3", 999)           // never paid: not on the statement
	for _, p := range []payment.Payment{big, small} {
		if _, err := e.g.Pay(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.g.Refund(ctx, payment.RefundRequest{RefundID: "ticket-1", PaymentID: big.ID, AmountFen: 5_000}); err != nil {
		t.Fatal(err)
	}
	day := e.clock.Now()
	e.clock.Advance(24 * time.Hour)
	if _, err := e.g.Refund(ctx, payment.RefundRequest{RefundID: "ticket-2", PaymentID: big.ID, AmountFen: 5_001}); err != nil {
		t.Fatal(err)
	}
	lines, err := e.g.Statement(ctx, day)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 {
		t.Fatalf("statement of the first day: %+v", lines)
	}
	fees := map[string]int64{}
	for _, l := range lines {
		fees[l.External()] = l.FeeFen
	}
	// 5000 of 10001 returns MulDivRound(60, 5000, 10001) = 30.
	if fees[big.ID] != 60 || fees[small.ID] != 2 || fees["ticket-1"] != 30 {
		t.Fatalf("fees %v", fees)
	}
	next, err := e.g.Statement(ctx, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(next) != 1 || next[0].RefundID != "ticket-2" || next[0].FeeFen != 30 || next[0].OrderRef != "order:1" {
		t.Fatalf("statement of the second day: %+v", next)
	}
	if s := payment.Summarize(lines); s.FeeFen != 60+2-30 || s.PaymentFen != 10_251 || s.RefundFen != 5_000 {
		t.Fatalf("summary %+v", s)
	}

	// The same lines come from the download route, for the right key only.
	dayText := day.In(payment.Shanghai).Format(payment.DayLayout)
	req, _ := http.NewRequest(http.MethodGet, e.site.URL+"/sandbox/statements/"+dayText, nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without a key: %v %v", resp, err)
	}
	req.Header.Set(sandbox.APIKeyHeader, sandbox.StatementKey(secret, dayText))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("download: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	got, err := payment.ParseStatement(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(lines) || payment.Summarize(got) != payment.Summarize(lines) {
		t.Fatalf("downloaded %+v, want %+v", got, lines)
	}
}

// TestFeeRate: the configured rate applies to new payments; a negative rate
// charges nothing; more than 100 % is refused.
func TestFeeRate(t *testing.T) {
	e := newEnv(t, 0)
	g, err := sandbox.New(e.store, sandbox.Config{Secret: secret, BaseURL: "http://sandbox.test", Now: e.clock.Now, FeeBasisPoints: -1})
	if err != nil {
		t.Fatal(err)
	}
	p, err := g.Create(context.Background(), payment.CreateRequest{OrderRef: "free", AmountFen: 10_000, NotifyURL: "http://127.0.0.1:9/n", ExpiresAt: e.clock.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Pay(context.Background(), p.ID); err != nil {
		t.Fatal(err)
	}
	lines, err := g.Statement(context.Background(), e.clock.Now())
	if err != nil || len(lines) != 1 || lines[0].FeeFen != 0 {
		t.Fatalf("free payment: %v %+v", err, lines)
	}
	if _, err := sandbox.New(e.store, sandbox.Config{Secret: secret, BaseURL: "http://sandbox.test", FeeBasisPoints: 10_001}); err == nil {
		t.Fatal("a rate above 100 % was accepted")
	}
	if got := sandbox.Fee(250, 60); got != 2 {
		t.Fatalf("Fee(250, 60) = %d", got)
	}
}
