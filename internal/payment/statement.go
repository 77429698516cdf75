package payment

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"piao/internal/fault"
)

// LineType says what moved the money of a statement line.
type LineType string

// Statement line types.
const (
	LinePayment LineType = "payment" // the payer paid
	LineRefund  LineType = "refund"  // money went back to the payer
)

// LineSucceeded is the status of every statement line: a channel's daily
// bill lists successful payments and refunds only.
const LineSucceeded = "SUCCESS"

// StatementLine is one successful payment or refund of a channel's daily
// statement (对账单), as WeChat Pay and Alipay list them in their bills.
type StatementLine struct {
	At        time.Time `json:"at"`                  // when the money moved
	OrderRef  string    `json:"order_ref"`           // the merchant's order reference of the payment
	PaymentID string    `json:"payment_id"`          // the channel's payment ID
	RefundID  string    `json:"refund_id,omitempty"` // the refund's ID; empty on a payment
	Type      LineType  `json:"type"`                // payment or refund
	AmountFen int64     `json:"amount_fen"`          // the money moved, in fen; positive
	// FeeFen is the channel's fee: on a payment what it charged, on a
	// refund what it returned of the payment's fee (never negative).
	FeeFen int64  `json:"fee_fen"`
	Status string `json:"status"` // LineSucceeded
}

// External is the channel's transaction ID the line is matched by: the
// refund ID of a refund, the payment ID of a payment.
func (l StatementLine) External() string {
	if l.Type == LineRefund {
		return l.RefundID
	}
	return l.PaymentID
}

// StatementSummary is a statement's closing lines: counts and totals.
type StatementSummary struct {
	Lines      int   `json:"lines"`
	Payments   int   `json:"payments"`
	Refunds    int   `json:"refunds"`
	PaymentFen int64 `json:"payment_fen"`
	RefundFen  int64 `json:"refund_fen"`
	// FeeFen is the day's net fee: fees charged less fees returned; it
	// may be negative on a day of refunds only.
	FeeFen int64 `json:"fee_fen"`
}

// Summarize counts and totals lines.
func Summarize(lines []StatementLine) StatementSummary {
	s := StatementSummary{Lines: len(lines)}
	for _, l := range lines {
		if l.Type == LineRefund {
			s.Refunds++
			s.RefundFen += l.AmountFen
			s.FeeFen -= l.FeeFen
		} else {
			s.Payments++
			s.PaymentFen += l.AmountFen
			s.FeeFen += l.FeeFen
		}
	}
	return s
}

// Statements is what a gateway that issues daily statements offers besides
// Gateway: the successful payments and refunds of one day.
type Statements interface {
	// Statement returns the lines of the Asia/Shanghai calendar day that
	// contains day, in time order.
	Statement(ctx context.Context, day time.Time) ([]StatementLine, error)
}

// Shanghai is the time zone of statement days and of their times.
var Shanghai = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}()

// DayLayout is how a statement day is written.
const DayLayout = "2006-01-02"

var errDay = fault.New(fault.Invalid, "statement_day_invalid", "日期格式应为 YYYY-MM-DD", "the day must be written YYYY-MM-DD")

// ParseDay reads a day written YYYY-MM-DD and returns its bounds: midnight
// Asia/Shanghai and the next midnight.
func ParseDay(s string) (from, until time.Time, err error) {
	d, err := time.ParseInLocation(DayLayout, s, Shanghai)
	if err != nil {
		return time.Time{}, time.Time{}, errDay
	}
	from, until = DayBounds(d)
	return from, until, nil
}

// DayBounds returns the Asia/Shanghai calendar day that contains t: its
// midnight and the next.
func DayBounds(t time.Time) (from, until time.Time) {
	t = t.In(Shanghai)
	from = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, Shanghai)
	return from, from.AddDate(0, 0, 1)
}

// statementHeader and summaryHeader are the column names of a statement
// file, in Chinese as the channels write them.
var (
	statementHeader = []string{"交易时间", "商户订单号", "支付单号", "退款单号", "交易类型", "金额(元)", "手续费(元)", "交易状态"}
	summaryHeader   = []string{"总笔数", "支付笔数", "退款笔数", "支付总金额(元)", "退款总金额(元)", "手续费总金额(元)"}
)

// timeLayout is how a line's time is written (Asia/Shanghai, seconds).
const timeLayout = "2006-01-02 15:04:05"

// WriteStatement writes lines as a channel's CSV bill: a header, one row a
// line, then a summary header and the summary. Like WeChat Pay's bills,
// every data field starts with a backquote, so a spreadsheet reads each as
// text (a reference starting with "=" is never a formula, an ID never a
// number); amounts are yuan with two decimals.
func WriteStatement(w io.Writer, lines []StatementLine) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(statementHeader)
	for _, l := range lines {
		_ = cw.Write([]string{
			"`" + l.At.In(Shanghai).Format(timeLayout), "`" + l.OrderRef, "`" + l.PaymentID, "`" + l.RefundID,
			"`" + string(l.Type), "`" + Yuan(l.AmountFen), "`" + Yuan(l.FeeFen), "`" + l.Status,
		})
	}
	s := Summarize(lines)
	_ = cw.Write(summaryHeader)
	_ = cw.Write([]string{
		"`" + strconv.Itoa(s.Lines), "`" + strconv.Itoa(s.Payments), "`" + strconv.Itoa(s.Refunds),
		"`" + Yuan(s.PaymentFen), "`" + Yuan(s.RefundFen), "`" + Yuan(s.FeeFen),
	})
	cw.Flush()
	return cw.Error()
}

// Yuan writes fen as yuan with two decimals ("12.34", "-0.05").
func Yuan(fen int64) string {
	sign := ""
	u := uint64(fen)
	if fen < 0 {
		sign, u = "-", uint64(-fen)
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// ParseYuan reads yuan with exactly two decimals ("12.34", "-0.05") as fen,
// without floating point.
func ParseYuan(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	digits := strings.TrimPrefix(s, "-")
	whole, frac, ok := strings.Cut(digits, ".")
	if !ok || len(frac) != 2 || whole == "" || len(whole) > 13 || !allDigits(whole) || !allDigits(frac) {
		return 0, errors.New("not an amount in yuan with two decimals")
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt(frac, 10, 64)
	fen := w*100 + f
	if neg {
		fen = -fen
	}
	return fen, nil
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// maxStatementLines bounds what ParseStatement reads, so a hostile file
// cannot exhaust memory.
const maxStatementLines = 1_000_000

// ParseStatement reads a statement written by WriteStatement (or by a
// channel in the same form). It checks the header, every field of every
// line and that the summary agrees with the lines; an error names the line
// (counting from 1) and the column.
func ParseStatement(r io.Reader) ([]StatementLine, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	rec, err := cr.Read()
	if err != nil {
		return nil, statementErr(1, "", "缺少表头", "the header is missing")
	}
	if !sameFields(rec, statementHeader) {
		return nil, statementErr(1, "", "表头不是对账单的表头", "the header is not a statement's header")
	}
	var lines []StatementLine
	for n := 2; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil, statementErr(n, "", "缺少汇总行", "the summary is missing")
		}
		if err != nil {
			return nil, statementErr(n, "", "不是有效的 CSV", "not valid CSV")
		}
		if sameFields(rec, summaryHeader) {
			return lines, parseSummary(cr, n+1, lines)
		}
		if len(lines) >= maxStatementLines {
			return nil, statementErr(n, "", "对账单行数过多", "the statement has too many lines")
		}
		l, err := parseLine(rec, n)
		if err != nil {
			return nil, err
		}
		lines = append(lines, l)
	}
}

// parseLine reads data line n.
func parseLine(rec []string, n int) (StatementLine, error) {
	if len(rec) != len(statementHeader) {
		return StatementLine{}, statementErr(n, "", fmt.Sprintf("应有 %d 列", len(statementHeader)), fmt.Sprintf("a line has %d columns", len(statementHeader)))
	}
	f := make([]string, len(rec))
	for i, v := range rec {
		f[i] = strings.TrimPrefix(v, "`")
	}
	var l StatementLine
	at, err := time.ParseInLocation(timeLayout, f[0], Shanghai)
	if err != nil {
		return l, statementErr(n, statementHeader[0], "时间格式应为 YYYY-MM-DD HH:MM:SS", "the time must be YYYY-MM-DD HH:MM:SS")
	}
	l.At, l.OrderRef, l.PaymentID, l.RefundID, l.Type, l.Status = at, f[1], f[2], f[3], LineType(f[4]), f[7]
	if l.PaymentID == "" {
		return l, statementErr(n, statementHeader[2], "缺少支付单号", "the payment ID is missing")
	}
	switch {
	case l.Type == LinePayment && l.RefundID != "":
		return l, statementErr(n, statementHeader[3], "支付行不应有退款单号", "a payment line has no refund ID")
	case l.Type == LineRefund && l.RefundID == "":
		return l, statementErr(n, statementHeader[3], "退款行缺少退款单号", "a refund line needs its refund ID")
	case l.Type != LinePayment && l.Type != LineRefund:
		return l, statementErr(n, statementHeader[4], "交易类型应为 payment 或 refund", "the type must be payment or refund")
	}
	if l.AmountFen, err = ParseYuan(f[5]); err != nil || l.AmountFen <= 0 {
		return l, statementErr(n, statementHeader[5], "金额应为正数，两位小数", "the amount must be positive, with two decimals")
	}
	if l.FeeFen, err = ParseYuan(f[6]); err != nil || l.FeeFen < 0 || l.FeeFen > l.AmountFen {
		return l, statementErr(n, statementHeader[6], "手续费应为不大于金额的非负数，两位小数", "the fee must be between zero and the amount, with two decimals")
	}
	if l.Status != LineSucceeded {
		return l, statementErr(n, statementHeader[7], "交易状态应为 SUCCESS", "the status must be SUCCESS")
	}
	return l, nil
}

// parseSummary reads the summary values at line n and checks them against
// lines; nothing may follow.
func parseSummary(cr *csv.Reader, n int, lines []StatementLine) error {
	rec, err := cr.Read()
	if err != nil || len(rec) != len(summaryHeader) {
		return statementErr(n, "", "汇总行不完整", "the summary is incomplete")
	}
	f := make([]string, len(rec))
	for i, v := range rec {
		f[i] = strings.TrimPrefix(v, "`")
	}
	want := Summarize(lines)
	counts := []int{want.Lines, want.Payments, want.Refunds}
	for i, c := range counts {
		got, err := strconv.Atoi(f[i])
		if err != nil || got != c {
			return statementErr(n, summaryHeader[i], fmt.Sprintf("汇总为 %s，明细为 %d", f[i], c), fmt.Sprintf("the summary says %s, the lines make %d", f[i], c))
		}
	}
	sums := []int64{want.PaymentFen, want.RefundFen, want.FeeFen}
	for i, s := range sums {
		got, err := ParseYuan(f[3+i])
		if err != nil || got != s {
			return statementErr(n, summaryHeader[3+i], fmt.Sprintf("汇总为 %s，明细合计 %s", f[3+i], Yuan(s)), fmt.Sprintf("the summary says %s, the lines add up to %s", f[3+i], Yuan(s)))
		}
	}
	if _, err := cr.Read(); err != io.EOF {
		return statementErr(n+1, "", "汇总行之后不应再有内容", "nothing may follow the summary")
	}
	return nil
}

func sameFields(rec, want []string) bool {
	if len(rec) != len(want) {
		return false
	}
	for i := range want {
		if strings.TrimPrefix(strings.TrimSpace(rec[i]), "\ufeff") != want[i] {
			return false
		}
	}
	return true
}

// statementErr is a refusal of a statement file naming the line and, when
// known, the column.
func statementErr(line int, column, zh, en string) error {
	if column != "" {
		return fault.New(fault.Invalid, "statement_invalid", fmt.Sprintf("对账单第 %d 行「%s」列：%s", line, column, zh), fmt.Sprintf("statement line %d, column %s: %s", line, column, en))
	}
	return fault.New(fault.Invalid, "statement_invalid", fmt.Sprintf("对账单第 %d 行：%s", line, zh), fmt.Sprintf("statement line %d: %s", line, en))
}
