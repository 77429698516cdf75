package behaviour

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
)

func TestWriteCSV(t *testing.T) {
	r := analyse(history("a", "CCCP"), history("b", "C"), history("c", "PP"))
	var buf bytes.Buffer
	if err := WriteCSV(&buf, r); err != nil {
		t.Fatal(err)
	}
	text, ok := strings.CutPrefix(buf.String(), "\uFEFF")
	if !ok {
		t.Fatal("no byte order mark")
	}
	rows, err := csv.NewReader(strings.NewReader(text)).ReadAll() // also checks every row has as many fields
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], csvHeader) {
		t.Errorf("header = %v", rows[0])
	}
	// 9 totals, 7 findings, open episodes, 2 × (4 statistics + 22 buckets), 11 + 5 buckets.
	if len(rows) != 1+9+7+1+2*26+11+5 {
		t.Errorf("%d rows", len(rows))
	}
	row := func(section, key string) []string {
		for _, r := range rows {
			if r[0] == section && r[1] == key {
				return r
			}
		}
		t.Fatalf("no row %s %s", section, key)
		return nil
	}
	for _, want := range [][]string{
		{"totals", "transactions", "交易笔数", "transactions", "", "", "", "7", "", ""},
		{"totals", "first_at", "最早下单时间", "first order placed", "", "", "", "2024-05-01T08:00:00Z", "", ""},
		{"finding", "F1", r.ConsecutiveCancels.Label.ZH, r.ConsecutiveCancels.Label.EN, "1", "2", "0.5", "", "有手工取消的乘车人", "passengers who cancelled"},
		{"finding", "F4a", r.CancellerSuccess.Label.ZH, r.CancellerSuccess.Label.EN, "1", "2", "0.5", "", "有手工取消的乘车人", "passengers who cancelled"},
		{"F2_success", "median", "中位数", "median", "", "", "", "3", "", ""},
		{"F2_gave_up", "1", "1 次", "1 cancel", "1", "1", "1", "", "有手工取消的放弃购票过程", "given-up episodes with a cancel"},
		{"fig1", "20-30", "(20%,30%]", "(20 %, 30 %]", "1", "3", "0.3333333333333333", "", "全部乘车人", "all passengers"},
		{"accounts", "5+", "5 个及以上", "5 or more accounts", "0", "3", "0", "", "全部乘车人", "all passengers"},
	} {
		if got := row(want[0], want[1]); !slices.Equal(got, want) {
			t.Errorf("row\n%q\nwant\n%q", got, want)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, bytes.ErrTooLarge }

func TestWriteCSVError(t *testing.T) {
	if err := WriteCSV(failingWriter{}, Report{}); err == nil {
		t.Error("no error from a failing writer")
	}
}
