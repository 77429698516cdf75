package fees_test

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"pgregory.net/rapid"

	"piao/internal/fault"
	"piao/internal/fees"
)

const (
	sec  = time.Second
	hour = time.Hour
	day  = 24 * time.Hour
)

func reason(t testing.TB, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	if !fault.Is(err, fault.Invalid) {
		t.Fatalf("error %v is not fault.Invalid", err)
	}
	fe := fault.As(err)
	if fe.ZH == "" || fe.EN == "" {
		t.Fatalf("error %q lacks a bilingual message", fe.Reason)
	}
	return fe.Reason
}

func TestRefundBoundaries(t *testing.T) {
	refund := fees.DefaultRefund()
	tests := []struct {
		before time.Duration
		want   int64 // fee on ¥100
		reason string
	}{
		{30 * day, 0, ""},
		{8*day + sec, 0, ""},
		{8 * day, 0, ""},
		{8*day - sec, 500, ""},
		{48*hour + sec, 500, ""},
		{48 * hour, 500, ""},
		{48*hour - sec, 1000, ""},
		{24*hour + sec, 1000, ""},
		{24 * hour, 1000, ""},
		{24*hour - sec, 2000, ""},
		{sec, 2000, ""},
		{time.Nanosecond, 2000, ""},
		{0, 0, "train_departed"},
		{-sec, 0, "train_departed"},
		{-day, 0, "train_departed"},
	}
	for _, tc := range tests {
		got, err := refund.Fee(10000, tc.before)
		if r := reason(t, err); r != tc.reason {
			t.Errorf("%v: reason %q, want %q", tc.before, r, tc.reason)
			continue
		}
		if got != tc.want {
			t.Errorf("%v: fee %d, want %d", tc.before, got, tc.want)
		}
	}
}

func TestRefundRounding(t *testing.T) {
	refund := fees.DefaultRefund()
	tests := []struct {
		price  int64
		before time.Duration
		want   int64
	}{
		{26100, 3 * day, 1300},    // 5 % of ¥261 = ¥13.05 → ¥13.0
		{26500, 3 * day, 1350},    // 5 % of ¥265 = ¥13.25 → ¥13.5 (halves up)
		{26400, 3 * day, 1300},    // ¥13.20 → ¥13.0
		{26600, 3 * day, 1350},    // ¥13.30 → ¥13.5
		{27500, 3 * day, 1400},    // ¥13.75 → ¥14.0 (halves up)
		{12345, 30 * hour, 1250},  // 10 % = ¥12.345 → ¥12.5
		{12245, 30 * hour, 1200},  // 10 % = ¥12.245 → ¥12.0
		{300, hour, 200},          // 20 % of ¥3 = ¥0.60 → minimum ¥2
		{1000, hour, 200},         // 20 % of ¥10 = ¥2.00 exactly
		{1100, hour, 200},         // ¥2.20 → ¥2.0
		{1200, hour, 250},         // ¥2.40 → ¥2.5
		{4000, 3 * day, 200},      // 5 % of ¥40 = ¥2.00
		{3000, 3 * day, 200},      // ¥1.50 → minimum ¥2
		{100, hour, 100},          // minimum capped at the price
		{150, 3 * day, 150},       // likewise
		{0, hour, 0},              // free ticket
		{100, 9 * day, 0},         // free tier stays free, no minimum
		{155300, 2 * hour, 31050}, // 20 % of ¥1553 = ¥310.60 → ¥310.5
		{fees.MaxPriceFen, hour, fees.MaxPriceFen / 5},
	}
	for _, tc := range tests {
		got, err := refund.Fee(tc.price, tc.before)
		if err != nil {
			t.Errorf("%d fen at %v: %v", tc.price, tc.before, err)
		} else if got != tc.want {
			t.Errorf("%d fen at %v: fee %d, want %d", tc.price, tc.before, got, tc.want)
		}
	}
	for _, price := range []int64{-1, fees.MaxPriceFen + 1, math.MaxInt64} {
		if _, err := refund.Fee(price, day); reason(t, err) != "bad_price" {
			t.Errorf("price %d: %v", price, err)
		}
	}
}

func TestRate(t *testing.T) {
	refund := fees.DefaultRefund()
	for before, want := range map[time.Duration]int{9 * day: 0, 3 * day: 500, 30 * hour: 1000, hour: 2000} {
		if got, err := refund.Rate(before); err != nil || got != want {
			t.Errorf("Rate(%v) = %d, %v; want %d", before, got, err, want)
		}
	}
	if _, err := refund.Rate(0); reason(t, err) != "train_departed" {
		t.Errorf("Rate(0): %v", err)
	}
	if _, err := (fees.Table{}).Rate(hour); reason(t, err) != "bad_fee_table" {
		t.Errorf("empty table: %v", err)
	}
}

func TestChangeBoundaries(t *testing.T) {
	change := fees.DefaultChange()
	for _, tc := range []struct {
		before time.Duration
		want   int64
	}{
		{10 * day, 0}, {48 * hour, 0}, {48*hour - sec, 500}, {24 * hour, 500}, {24*hour - sec, 1000}, {sec, 1000},
	} {
		if got, err := change.Fee(10000, tc.before); err != nil || got != tc.want {
			t.Errorf("%v: fee %d, %v; want %d", tc.before, got, err, tc.want)
		}
	}
}

func TestTooCloseToDeparture(t *testing.T) {
	table := fees.Table{
		Tiers:      []fees.Tier{{MinHoursBefore: 24, BasisPoints: 0}, {MinHoursBefore: 0.5, BasisPoints: 2000}},
		MinimumFen: 200,
		RoundToFen: 50,
	}
	if got, err := table.Fee(10000, 30*time.Minute); err != nil || got != 2000 {
		t.Errorf("at 30 min: %d, %v", got, err)
	}
	if _, err := table.Fee(10000, 30*time.Minute-sec); reason(t, err) != "too_close_to_departure" {
		t.Errorf("under 30 min: %v", err)
	}
	if _, err := table.Fee(10000, 0); reason(t, err) != "train_departed" {
		t.Errorf("departed: %v", err)
	}
}

func TestChangeQuote(t *testing.T) {
	change := fees.DefaultChange()
	tests := []struct {
		name             string
		oldFare, newFare int64
		before           time.Duration
		pay, refund, fee int64
		reason           string
	}{
		{"dearer train, early", 10000, 15350, 5 * day, 5350, 0, 0, ""},
		{"dearer train, late", 10000, 15350, hour, 5350, 0, 0, ""},
		{"same fare", 10000, 10000, hour, 0, 0, 0, ""},
		{"cheaper, free tier", 15350, 10000, 3 * day, 0, 5350, 0, ""},
		{"cheaper, 5 %", 15350, 10000, 30 * hour, 0, 5100, 250, ""},     // 5 % of ¥53.50 = ¥2.675 → ¥2.5
		{"cheaper, 10 %", 15350, 10000, hour, 0, 4800, 550, ""},         // 10 % of ¥53.50 = ¥5.35 → ¥5.5
		{"cheaper, minimum", 11000, 10000, hour, 0, 800, 200, ""},       // 10 % of ¥10 = ¥1 → ¥2
		{"cheaper, tiny difference", 10100, 10000, hour, 0, 0, 100, ""}, // minimum capped at the difference
		{"departed, dearer", 10000, 20000, 0, 0, 0, 0, "train_departed"},
		{"departed, cheaper", 20000, 10000, -hour, 0, 0, 0, "train_departed"},
		{"negative fare", -1, 10000, day, 0, 0, 0, "bad_price"},
		{"huge fare", 10000, fees.MaxPriceFen + 1, day, 0, 0, 0, "bad_price"},
	}
	for _, tc := range tests {
		pay, refund, fee, err := fees.ChangeQuote(tc.oldFare, tc.newFare, tc.before, change)
		if r := reason(t, err); r != tc.reason {
			t.Errorf("%s: reason %q, want %q", tc.name, r, tc.reason)
			continue
		}
		if pay != tc.pay || refund != tc.refund || fee != tc.fee {
			t.Errorf("%s: pay %d refund %d fee %d; want %d %d %d", tc.name, pay, refund, fee, tc.pay, tc.refund, tc.fee)
		}
	}
	if _, _, _, err := fees.ChangeQuote(10000, 20000, day, fees.Table{}); reason(t, err) != "bad_fee_table" {
		t.Errorf("bad table: %v", err)
	}
}

func TestValidateTable(t *testing.T) {
	for _, tb := range []fees.Table{fees.DefaultRefund(), fees.DefaultChange()} {
		if err := tb.Validate(); err != nil {
			t.Errorf("default table: %v", err)
		}
	}
	mod := func(f func(*fees.Table)) fees.Table {
		tb := fees.DefaultRefund()
		f(&tb)
		return tb
	}
	bad := map[string]fees.Table{
		"no tiers":          {RoundToFen: 50},
		"ascending":         mod(func(t *fees.Table) { t.Tiers[0], t.Tiers[1] = t.Tiers[1], t.Tiers[0] }),
		"repeated time":     mod(func(t *fees.Table) { t.Tiers[1].MinHoursBefore = 192 }),
		"same second":       mod(func(t *fees.Table) { t.Tiers[1].MinHoursBefore = 192 - 0.1/3600 }),
		"negative hours":    mod(func(t *fees.Table) { t.Tiers[3].MinHoursBefore = -1 }),
		"NaN hours":         mod(func(t *fees.Table) { t.Tiers[3].MinHoursBefore = math.NaN() }),
		"infinite hours":    mod(func(t *fees.Table) { t.Tiers[0].MinHoursBefore = math.Inf(1) }),
		"too many hours":    mod(func(t *fees.Table) { t.Tiers[0].MinHoursBefore = fees.MaxHoursBefore + 1 }),
		"rate over 100 %":   mod(func(t *fees.Table) { t.Tiers[3].BasisPoints = 10001 }),
		"negative rate":     mod(func(t *fees.Table) { t.Tiers[0].BasisPoints = -1 }),
		"falling rate":      mod(func(t *fees.Table) { t.Tiers[2].BasisPoints = 400 }),
		"negative minimum":  mod(func(t *fees.Table) { t.MinimumFen = -1 }),
		"zero rounding":     mod(func(t *fees.Table) { t.RoundToFen = 0 }),
		"negative rounding": mod(func(t *fees.Table) { t.RoundToFen = -50 }),
	}
	for name, tb := range bad {
		if r := reason(t, tb.Validate()); r != "bad_fee_table" {
			t.Errorf("%s: reason %q", name, r)
		}
		if _, err := tb.Fee(10000, hour); reason(t, err) != "bad_fee_table" {
			t.Errorf("%s: Fee used an invalid table: %v", name, err)
		}
	}
	ok := map[string]fees.Table{
		"single tier":  {Tiers: []fees.Tier{{MinHoursBefore: 0, BasisPoints: 1000}}, RoundToFen: 1},
		"whole price":  {Tiers: []fees.Tier{{MinHoursBefore: 0, BasisPoints: 10000}}, RoundToFen: 1},
		"flat rates":   {Tiers: []fees.Tier{{MinHoursBefore: 2, BasisPoints: 500}, {MinHoursBefore: 1, BasisPoints: 500}}, RoundToFen: 10},
		"fractional h": {Tiers: []fees.Tier{{MinHoursBefore: 0.25, BasisPoints: 0}}, RoundToFen: 50},
	}
	for name, tb := range ok {
		if err := tb.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestJSON(t *testing.T) {
	b, err := json.Marshal(fees.DefaultRefund())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"tiers":[{"min_hours_before":192,"basis_points":0},{"min_hours_before":48,"basis_points":500},` +
		`{"min_hours_before":24,"basis_points":1000},{"min_hours_before":0,"basis_points":2000}],"minimum_fen":200,"round_to_fen":50}`
	if string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
	var back fees.Table
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, fees.DefaultRefund()) {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	var half fees.Table
	if err := json.Unmarshal([]byte(`{"tiers":[{"min_hours_before":0.5,"basis_points":2000}],"minimum_fen":0,"round_to_fen":1}`), &half); err != nil {
		t.Fatal(err)
	}
	if got := half.Tiers[0].MinBefore(); got != 30*time.Minute {
		t.Errorf("0.5 h = %v", got)
	}
}

func TestDefaultsAreCopies(t *testing.T) {
	a := fees.DefaultRefund()
	a.Tiers[0].BasisPoints = 9999
	if fees.DefaultRefund().Tiers[0].BasisPoints != 0 {
		t.Error("DefaultRefund shares its tiers")
	}
	c := fees.DefaultChange()
	c.Tiers[0].BasisPoints = 9999
	if fees.DefaultChange().Tiers[0].BasisPoints != 0 {
		t.Error("DefaultChange shares its tiers")
	}
}

// Property: for the default tables, 0 ≤ fee ≤ price; the fee is a multiple
// of ¥0.5 or the whole price; it never falls closer to departure nor for a
// dearer ticket; and a change quote never pays and refunds at once.
func TestFeeProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		table := fees.DefaultRefund()
		if rapid.Bool().Draw(t, "change") {
			table = fees.DefaultChange()
		}
		price := rapid.Int64Range(0, 5_000_000).Draw(t, "price")
		b1 := time.Duration(rapid.Int64Range(1, int64(30*day)).Draw(t, "b1"))
		b2 := time.Duration(rapid.Int64Range(1, int64(b1)).Draw(t, "b2")) // b2 ≤ b1: closer to departure
		fee1, err := table.Fee(price, b1)
		if err != nil {
			t.Fatal(err)
		}
		fee2, err := table.Fee(price, b2)
		if err != nil {
			t.Fatal(err)
		}
		for _, fee := range []int64{fee1, fee2} {
			if fee < 0 || fee > price {
				t.Fatalf("fee %d outside 0..%d", fee, price)
			}
			if fee%50 != 0 && fee != price {
				t.Fatalf("fee %d on %d is neither a multiple of 50 nor the price", fee, price)
			}
		}
		if fee2 < fee1 {
			t.Fatalf("fee fell from %d to %d as departure neared (%v → %v)", fee1, fee2, b1, b2)
		}
		dearer := price + rapid.Int64Range(0, 100_000).Draw(t, "extra")
		fee3, err := table.Fee(dearer, b1)
		if err != nil {
			t.Fatal(err)
		}
		if fee3 < fee1 {
			t.Fatalf("fee fell from %d to %d as price rose %d → %d", fee1, fee3, price, dearer)
		}

		newFare := rapid.Int64Range(0, 5_000_000).Draw(t, "newFare")
		pay, refund, fee, err := fees.ChangeQuote(price, newFare, b2, table)
		if err != nil {
			t.Fatal(err)
		}
		if pay < 0 || refund < 0 || fee < 0 || (pay > 0 && (refund > 0 || fee > 0)) {
			t.Fatalf("quote %d→%d: pay %d refund %d fee %d", price, newFare, pay, refund, fee)
		}
		if price-newFare != refund+fee-pay {
			t.Fatalf("quote %d→%d does not balance: pay %d refund %d fee %d", price, newFare, pay, refund, fee)
		}
	})
}
