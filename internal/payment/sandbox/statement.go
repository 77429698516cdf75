package sandbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sort"
	"time"

	"piao/internal/fault"
	"piao/internal/ledger"
	"piao/internal/payment"
)

var _ payment.Statements = (*Gateway)(nil)

// Fee is what the channel charges on a payment of amountFen at feeBP basis
// points, by the one rounding rule (ledger.MulDivRound, halves up).
func Fee(amountFen, feeBP int64) int64 { return ledger.MulDivRound(amountFen, feeBP, 10_000) }

// ReturnedFee is what a payment's fee gives back when its refunds reach
// refundedFen in all: the fee's share of the money refunded. Like WeChat
// Pay (and Alipay since 2023), the channel returns the fee of refunded money
// in proportion; a refund returns ReturnedFee(after) − ReturnedFee(before),
// so partial refunds never return more than the fee and a full refund
// returns exactly all of it.
func ReturnedFee(rec Record, refundedFen int64) int64 {
	return ledger.MulDivRound(Fee(rec.AmountFen, rec.FeeBP), refundedFen, rec.AmountFen)
}

// Statement returns the successful payments and refunds of the
// Asia/Shanghai day that contains day, in time order, with their fees.
func (g *Gateway) Statement(ctx context.Context, day time.Time) ([]payment.StatementLine, error) {
	return StatementOf(ctx, g.store, day)
}

// StatementOf is the statement of the day that contains day as the
// sandbox keeps it in store; it needs no secret, so a command reading the
// database (piao reconcile) reads it the same way the gateway serves it.
func StatementOf(ctx context.Context, store Store, day time.Time) ([]payment.StatementLine, error) {
	from, until := payment.DayBounds(day)
	paid, err := store.PaidBetween(ctx, from, until)
	if err != nil {
		return nil, err
	}
	refunds, err := store.RefundsBetween(ctx, from, until)
	if err != nil {
		return nil, err
	}
	lines := make([]payment.StatementLine, 0, len(paid)+len(refunds))
	for _, p := range paid {
		lines = append(lines, payment.StatementLine{
			At: p.PaidAt, OrderRef: p.OrderRef, PaymentID: p.ID, Type: payment.LinePayment,
			AmountFen: p.AmountFen, FeeFen: Fee(p.AmountFen, p.FeeBP), Status: payment.LineSucceeded,
		})
	}
	payments := map[string]Record{}
	history := map[string][]payment.Refund{}
	for _, rf := range refunds {
		if rf.Status != payment.RefundSucceeded {
			continue
		}
		rec, ok := payments[rf.PaymentID]
		if !ok {
			if rec, err = store.Payment(ctx, rf.PaymentID); err != nil {
				return nil, err
			}
			payments[rf.PaymentID] = rec
			if history[rf.PaymentID], err = store.Refunds(ctx, rf.PaymentID); err != nil {
				return nil, err
			}
		}
		// The refunds of the payment before this one, in the order the
		// gateway made them.
		var before int64
		for _, h := range history[rf.PaymentID] {
			if h.ID == rf.ID {
				break
			}
			if h.Status == payment.RefundSucceeded {
				before += h.AmountFen
			}
		}
		lines = append(lines, payment.StatementLine{
			At: rf.At, OrderRef: rec.OrderRef, PaymentID: rf.PaymentID, RefundID: rf.ID, Type: payment.LineRefund,
			AmountFen: rf.AmountFen, FeeFen: ReturnedFee(rec, before+rf.AmountFen) - ReturnedFee(rec, before), Status: payment.LineSucceeded,
		})
	}
	sort.SliceStable(lines, func(i, j int) bool {
		if !lines[i].At.Equal(lines[j].At) {
			return lines[i].At.Before(lines[j].At)
		}
		return lines[i].External() < lines[j].External()
	})
	return lines, nil
}

// StatementKey is the key that downloads the statement of day (YYYY-MM-DD)
// from GET /sandbox/statements/{day}, in header APIKeyHeader: the hex
// HMAC-SHA256 of "statement\n" and the day under the gateway's secret, as a
// channel's bill download is signed with the merchant's API key.
func StatementKey(secret []byte, day string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("statement\n" + day))
	return hex.EncodeToString(m.Sum(nil))
}

// statementFile serves GET /sandbox/statements/{day}: the day's CSV bill.
func (g *Gateway) statementFile(w http.ResponseWriter, r *http.Request) {
	day := r.PathValue("day")
	if !hexEqual(r.Header.Get(APIKeyHeader), StatementKey(g.cfg.Secret, day)) {
		writeProblem(w, r, fault.New(fault.Unauthorized, "sandbox_key_invalid", "沙箱支付密钥无效", "the sandbox key is invalid"))
		return
	}
	from, _, err := payment.ParseDay(day)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	lines, err := g.Statement(r.Context(), from)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := payment.WriteStatement(&buf, lines); err != nil {
		writeProblem(w, r, fault.Wrap(err, "write statement"))
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="sandbox-statement-`+day+`.csv"`)
	_, _ = w.Write(buf.Bytes())
}
