package payment_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"piao/internal/fault"
	"piao/internal/payment"
)

func sampleLines() []payment.StatementLine {
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, payment.Shanghai)
	return []payment.StatementLine{
		{At: at, OrderRef: "order:12", PaymentID: "pay_a", Type: payment.LinePayment, AmountFen: 12345, FeeFen: 74, Status: payment.LineSucceeded},
		{At: at.Add(time.Hour), OrderRef: "=HYPERLINK(1)", PaymentID: "pay_b", Type: payment.LinePayment, AmountFen: 1, FeeFen: 0, Status: payment.LineSucceeded},
		{At: at.Add(2 * time.Hour), OrderRef: "order:12", PaymentID: "pay_a", RefundID: "ticket-5", Type: payment.LineRefund, AmountFen: 5000, FeeFen: 30, Status: payment.LineSucceeded},
	}
}

func TestStatementRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	lines := sampleLines()
	if err := payment.WriteStatement(&buf, lines); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "`=HYPERLINK(1)") {
		t.Fatalf("a field is not quoted as text:\n%s", buf.String())
	}
	got, err := payment.ParseStatement(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(lines) {
		t.Fatalf("read %d lines, wrote %d", len(got), len(lines))
	}
	for i := range lines {
		if !got[i].At.Equal(lines[i].At) || got[i].AmountFen != lines[i].AmountFen || got[i].FeeFen != lines[i].FeeFen ||
			got[i].External() != lines[i].External() || got[i].OrderRef != lines[i].OrderRef || got[i].Type != lines[i].Type {
			t.Fatalf("line %d: read %+v, wrote %+v", i, got[i], lines[i])
		}
	}
	s := payment.Summarize(got)
	if s.Payments != 2 || s.Refunds != 1 || s.PaymentFen != 12346 || s.RefundFen != 5000 || s.FeeFen != 44 {
		t.Fatalf("summary %+v", s)
	}
}

func TestStatementRefusals(t *testing.T) {
	var buf bytes.Buffer
	if err := payment.WriteStatement(&buf, sampleLines()); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	for name, c := range map[string]struct{ text, want string }{
		"summary total": {strings.Replace(good, "`123.46", "`123.47", 1), "line 6"},
		"amount":        {strings.Replace(good, "`123.45", "`123.4", 1), "line 2, column 金额(元)"},
		"type":          {strings.Replace(good, "`refund", "`chargeback", 1), "line 4, column 交易类型"},
		"no summary":    {good[:strings.Index(good, "总笔数")], "summary is missing"},
		"header":        {strings.Replace(good, "交易时间", "时间", 1), "line 1"},
		"trailing":      {good + "x,y\n", "nothing may follow"},
		"refund no id":  {strings.Replace(good, "`ticket-5", "`", 1), "line 4, column 退款单号"},
		"fee too large": {strings.Replace(good, "`0.74", "`999.00", 1), "column 手续费(元)"},
	} {
		_, err := payment.ParseStatement(strings.NewReader(c.text))
		if err == nil || !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an invalid error naming %q", name, err, c.want)
		}
	}
}

func TestYuan(t *testing.T) {
	for fen, s := range map[int64]string{0: "0.00", 5: "0.05", -5: "-0.05", 12345: "123.45", -100: "-1.00"} {
		if got := payment.Yuan(fen); got != s {
			t.Errorf("Yuan(%d) = %s, want %s", fen, got, s)
		}
		if back, err := payment.ParseYuan(s); err != nil || back != fen {
			t.Errorf("ParseYuan(%s) = %d, %v", s, back, err)
		}
	}
	for _, bad := range []string{"1", "1.2", "1.234", ".12", "1e2.00", "--1.00", "+1.00", "1.-2", ""} {
		if _, err := payment.ParseYuan(bad); err == nil {
			t.Errorf("ParseYuan(%q) accepted", bad)
		}
	}
}

// FuzzParseStatement: any input is refused with a fault or read into lines
// that write back into a statement reading the same.
func FuzzParseStatement(f *testing.F) {
	var buf bytes.Buffer
	_ = payment.WriteStatement(&buf, sampleLines())
	f.Add(buf.String())
	buf.Reset()
	_ = payment.WriteStatement(&buf, nil)
	f.Add(buf.String())
	f.Add("交易时间\n")
	f.Fuzz(func(t *testing.T, text string) {
		lines, err := payment.ParseStatement(strings.NewReader(text))
		if err != nil {
			if fault.As(err) == nil {
				t.Fatalf("refusal is not a fault: %v", err)
			}
			return
		}
		var out bytes.Buffer
		if err := payment.WriteStatement(&out, lines); err != nil {
			t.Fatal(err)
		}
		again, err := payment.ParseStatement(&out)
		if err != nil {
			t.Fatalf("a statement read back is refused: %v\n%s", err, out.String())
		}
		if len(again) != len(lines) || payment.Summarize(again) != payment.Summarize(lines) {
			t.Fatalf("written again it reads differently")
		}
		for i := range lines {
			a, b := lines[i], again[i]
			if !a.At.Equal(b.At) || a.OrderRef != b.OrderRef || a.PaymentID != b.PaymentID || a.RefundID != b.RefundID || a.AmountFen != b.AmountFen || a.FeeFen != b.FeeFen {
				t.Fatalf("line %d: %+v became %+v", i, a, b)
			}
		}
	})
}
