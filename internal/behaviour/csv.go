package behaviour

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"
)

// csvHeader names the columns of WriteCSV. The two last ones say what the
// denominator counts.
var csvHeader = []string{"section", "key", "label_zh", "label_en", "numerator", "denominator", "share", "value",
	"denominator_of_zh", "denominator_of_en"}

// WriteCSV writes r as CSV for spreadsheets: a header row, then one row per
// total, finding, statistic and bucket. Sections: "totals" (value),
// "finding" (F1, F3, F4a, F4b, F5, F6, multi_account), "F2" (open
// episodes), "F2_success" and "F2_gave_up" (episodes, median, mean, p90,
// then histogram buckets), "fig1" and "accounts" (buckets). Counts of
// passengers or episodes go in numerator and denominator, with their
// share; single figures go in value.
//
// The file starts with a UTF-8 byte order mark: without one, Excel reads a
// CSV file in the system's legacy code page (GBK on Chinese Windows) and
// garbles the Chinese labels; other spreadsheets skip the mark.
func WriteCSV(w io.Writer, r Report) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	rows := [][]string{csvHeader}
	value := func(section, key string, label Text, v string) {
		rows = append(rows, []string{section, key, label.ZH, label.EN, "", "", "", v, "", ""})
	}
	counted := func(section, key string, label Text, num, den int64, share float64, of Text) {
		rows = append(rows, []string{section, key, label.ZH, label.EN, itoa(num), itoa(den),
			strconv.FormatFloat(share, 'f', -1, 64), "", of.ZH, of.EN})
	}

	t := r.Totals
	for _, f := range []struct {
		key   string
		label Text
		n     int64
	}{
		{"transactions", Text{"交易笔数", "transactions"}, t.Transactions},
		{"passengers", Text{"乘车人数", "passengers"}, t.Passengers},
		{"accounts", Text{"订票账号数", "booking accounts"}, t.Accounts},
		{"paid", Text{"支付成功", "paid"}, t.Paid},
		{"cancelled", Text{"手工取消", "cancelled by hand"}, t.Cancelled},
		{"expired", Text{"自动返库", "expired"}, t.Expired},
		{"pending", Text{"待支付", "pending"}, t.Pending},
	} {
		value("totals", f.key, f.label, itoa(f.n))
	}
	value("totals", "first_at", Text{"最早下单时间", "first order placed"}, timestamp(t.FirstAt))
	value("totals", "last_at", Text{"最晚下单时间", "last order placed"}, timestamp(t.LastAt))

	for _, s := range r.Shares() {
		counted("finding", s.Key, s.Label, s.Numerator, s.Denominator, s.Share, s.Of)
	}

	f2 := r.CancelsBefore
	value("F2", "open", Text{"未结束的购票过程", "open episodes"}, itoa(f2.Open))
	for _, g := range []struct {
		section string
		e       Episodes
		of      Text
	}{
		{"F2_success", f2.Success, Text{"有手工取消的成功购票过程", "successful episodes with a cancel"}},
		{"F2_gave_up", f2.GaveUp, Text{"有手工取消的放弃购票过程", "given-up episodes with a cancel"}},
	} {
		value(g.section, "episodes", Text{"购票过程数", "episodes"}, itoa(g.e.Episodes))
		value(g.section, "median", Text{"中位数", "median"}, itoa(g.e.Median))
		value(g.section, "mean", Text{"平均数", "mean"}, strconv.FormatFloat(g.e.Mean, 'f', -1, 64))
		value(g.section, "p90", Text{"第90百分位数", "90th percentile"}, itoa(g.e.P90))
		for _, b := range g.e.Histogram {
			counted(g.section, b.Key, b.Label, b.Count, g.e.Episodes, b.Share, g.of)
		}
	}

	for _, d := range []Distribution{r.PaidShare, r.Accounts} {
		for _, b := range d.Buckets {
			counted(d.Key, b.Key, b.Label, b.Count, d.Denominator, b.Share, d.Of)
		}
	}

	return cw.WriteAll(rows) // flushes
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// timestamp is t in RFC 3339, or "" for the zero time.
func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}
