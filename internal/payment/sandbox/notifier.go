package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"piao/internal/payment"
)

// MaxAttempts is how many failed attempts abandon a notification.
const MaxAttempts = 20

// Notifier tuning.
const (
	// maxBackoff caps the wait between attempts.
	maxBackoff = 5 * time.Minute
	// leaseFor is how long a claimed notification is held by one notifier;
	// it outlasts an attempt (the default client times out after 10 s).
	leaseFor = time.Minute
	// claimBatch is how many notifications one pass claims.
	claimBatch = 64
	// senders bounds the notifications sent concurrently in one pass.
	senders = 16
	// pollEvery is how often Run looks for due notifications.
	pollEvery = time.Second
	// storeTimeout bounds recording an attempt's outcome.
	storeTimeout = 10 * time.Second
)

// Backoff is the wait after the n-th failed attempt (n ≥ 1): 1 s, 2 s,
// 4 s … doubling up to 5 minutes.
func Backoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > 10 { // 2^9 s already exceeds the cap
		return maxBackoff
	}
	return min(time.Duration(1<<(n-1))*time.Second, maxBackoff)
}

// Run is the notifier: it delivers due notifications until ctx is done,
// looking every second and at once when this gateway queues one. Other
// processes sharing the store may run it too: leases keep them from
// sending the same attempt twice, though delivery is at least once.
func (g *Gateway) Run(ctx context.Context) {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for ctx.Err() == nil {
		n, err := g.DeliverDue(ctx)
		if err != nil && ctx.Err() == nil {
			slog.ErrorContext(ctx, "sandbox notifier", "err", err.Error())
		}
		if n == claimBatch && err == nil {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-g.wake:
		}
	}
}

// DeliverDue makes one pass: it claims the notifications due now, POSTs
// each (with Duplicates extra copies) to its notify URL, and records the
// outcome — delivered on a 2xx answer whose body is exactly "success",
// otherwise retried after Backoff, or abandoned and logged after
// MaxAttempts. It returns how many notifications it attempted; an error
// means the store failed, not a receiver.
func (g *Gateway) DeliverDue(ctx context.Context) (int, error) {
	now := g.now()
	due, err := g.store.ClaimDue(ctx, now, now.Add(leaseFor), claimBatch)
	if err != nil {
		return 0, err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, senders)
	)
	for _, d := range due {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := g.deliver(ctx, d); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return len(due), errors.Join(errs...)
}

// deliver sends one claimed notification and records the outcome.
func (g *Gateway) deliver(ctx context.Context, d Delivery) error {
	copies := 1 + g.cfg.Duplicates
	results := make([]error, copies)
	var wg sync.WaitGroup
	for i := range copies {
		wg.Go(func() { results[i] = g.post(ctx, d) })
	}
	wg.Wait()
	var failure error
	for _, err := range results {
		if err == nil {
			failure = nil
			break
		}
		if failure == nil {
			failure = err
		}
	}
	// Record the outcome even if ctx ended meanwhile, so it is not lost.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	at := g.now()
	switch {
	case failure == nil:
		return g.store.MarkDelivered(sctx, d.ID, at)
	case ctx.Err() != nil:
		// Shutting down: release the claim without counting the attempt.
		return g.store.Retry(sctx, d.ID, d.Attempts, at, d.LastError)
	}
	attempts := d.Attempts + 1
	msg := failure.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	if attempts >= MaxAttempts {
		slog.ErrorContext(ctx, "sandbox notifier gave up a payment notification",
			"notification", d.ID, "payment", d.PaymentID, "url", d.URL, "attempts", attempts, "err", msg)
		return g.store.GiveUp(sctx, d.ID, attempts, at, msg)
	}
	return g.store.Retry(sctx, d.ID, attempts, at.Add(Backoff(attempts)), msg)
}

// post sends one signed copy of a notification; nil means the receiver
// acknowledged it.
func (g *Gateway) post(ctx context.Context, d Delivery) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return err
	}
	for k, v := range payment.SignedHeader(g.cfg.Secret, g.cfg.Now(), d.Body) {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "piao-sandbox-notifier/1")
	resp, err := g.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if string(body) != "success" {
		return fmt.Errorf("HTTP %d with body %q, want \"success\"", resp.StatusCode, body)
	}
	return nil
}
