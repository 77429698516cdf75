package reconcile_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"piao/internal/payment"
	"piao/internal/reconcile"
)

// planted is a difference the test put in, as Match should report it.
type planted struct {
	kind     reconcile.Kind
	typ      payment.LineType
	external string
	sides    string
}

func (p planted) String() string {
	return fmt.Sprintf("%s %s %s %s", p.kind, p.typ, p.external, p.sides)
}

func found(d reconcile.Difference) planted {
	return planted{d.Kind, d.Type, d.External, fmt.Sprint(d.Sides)}
}

// TestMatchFindsEveryPlantedDifferenceOnce: on a day where the three sides
// agree, Match finds nothing; with differences planted on distinct IDs
// (records missing from one or two sides, an amount changed on one side,
// a record repeated on one side), it reports each exactly once and nothing
// else.
func TestMatchFindsEveryPlantedDifferenceOnce(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 40).Draw(t, "records")
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, payment.Shanghai)
		var records []reconcile.Record
		for i := range n {
			typ := rapid.SampledFrom([]payment.LineType{payment.LinePayment, payment.LineRefund}).Draw(t, "type")
			amount := rapid.Int64Range(1, 1_000_000_00).Draw(t, "amount")
			ext := fmt.Sprintf("x%d", i)
			if rapid.Bool().Draw(t, "shared id") && i > 0 {
				// A refund and a payment may share an ID string: they are
				// still different movements.
				ext = fmt.Sprintf("x%d", i-1)
				typ = payment.LineRefund
				if records[len(records)-1].Type == payment.LineRefund {
					typ = payment.LinePayment
				}
			}
			for _, s := range reconcile.Sides {
				records = append(records, reconcile.Record{Side: s, Type: typ, External: ext, AmountFen: amount, At: at, Ref: string(s) + ext})
			}
		}
		if got := reconcile.Match(records); len(got) != 0 {
			t.Fatalf("a clean day gave %+v", got)
		}
		var want []planted
		// Each group of three records (one ID and type) takes at most one plant.
		var out []reconcile.Record
		for g := 0; g < len(records); g += 3 {
			group := slices.Clone(records[g : g+3])
			r := group[0]
			switch rapid.IntRange(0, 4).Draw(t, "plant") {
			case 1: // missing from one or two sides
				drop := rapid.SliceOfNDistinct(rapid.SampledFrom(reconcile.Sides), 1, 2, rapid.ID).Draw(t, "drop")
				var kept []reconcile.Record
				var gone []reconcile.Side
				for _, rec := range group {
					if slices.Contains(drop, rec.Side) {
						gone = append(gone, rec.Side)
					} else {
						kept = append(kept, rec)
					}
				}
				group = kept
				want = append(want, planted{reconcile.Missing, r.Type, r.External, fmt.Sprint(gone)})
			case 2: // an amount differs on one side
				i := rapid.IntRange(0, 2).Draw(t, "side")
				group[i].AmountFen += rapid.Int64Range(1, 100).Draw(t, "delta")
				want = append(want, planted{reconcile.AmountDiffers, r.Type, r.External, fmt.Sprint(reconcile.Sides)})
			case 3: // a duplicate on one side
				i := rapid.IntRange(0, 2).Draw(t, "side")
				group = append(group, group[i])
				want = append(want, planted{reconcile.Duplicate, r.Type, r.External, fmt.Sprint([]reconcile.Side{group[i].Side})})
			}
			out = append(out, group...)
		}
		rapidShuffle(t, out)
		var got []planted
		for _, d := range reconcile.Match(out) {
			got = append(got, found(d))
		}
		less := func(a, b planted) int {
			switch {
			case a.String() < b.String():
				return -1
			case a.String() > b.String():
				return 1
			}
			return 0
		}
		slices.SortFunc(got, less)
		slices.SortFunc(want, less)
		if !slices.Equal(got, want) {
			t.Fatalf("found\n%v\nplanted\n%v", got, want)
		}
	})
}

// rapidShuffle permutes records, so Match cannot depend on their order.
func rapidShuffle(t *rapid.T, rs []reconcile.Record) {
	for i := len(rs) - 1; i > 0; i-- {
		j := rapid.IntRange(0, i).Draw(t, "swap")
		rs[i], rs[j] = rs[j], rs[i]
	}
}

// TestDifferenceText names the kind, the ID and the amounts in both languages.
func TestDifferenceText(t *testing.T) {
	d := reconcile.Difference{Kind: reconcile.AmountDiffers, Type: payment.LinePayment, External: "pay_1",
		Sides: reconcile.Sides, Amounts: map[reconcile.Side]int64{reconcile.Statement: 1000, reconcile.Orders: 999, reconcile.Ledger: 1000}}
	if got := d.Text("en"); got != "payment pay_1 amounts differ: the statement 10.00, piao's records 9.99, the ledger 10.00" {
		t.Errorf("en: %s", got)
	}
	if got := d.Text("zh"); got != "支付 pay_1 金额不符：渠道对账单 10.00，业务记录 9.99，总账 10.00" {
		t.Errorf("zh: %s", got)
	}
}
