package ledger

import (
	"testing"
	"time"

	"pgregory.net/rapid"

	"piao/internal/fault"
)

var t0 = time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)

func TestCheck(t *testing.T) {
	ok := Build("k", KindPurchase, "purchase:1", t0, "", Debit(GatewayClearing, "", 500), Credit(MerchantPrepaid, "merchant:1", 500))
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	for name, e := range map[string]Entry{
		"unbalanced":  Build("k", KindPurchase, "purchase:1", t0, "", Debit(GatewayClearing, "", 500), Credit(MerchantPrepaid, "merchant:1", 499)),
		"one line":    Build("k", KindPurchase, "purchase:1", t0, "", Debit(GatewayClearing, "", 0), Credit(MerchantPrepaid, "merchant:1", 0), Debit(FareRevenue, "", 5)),
		"no party":    Build("k", KindPurchase, "purchase:1", t0, "", Debit(GatewayClearing, "", 5), Credit(MerchantPrepaid, "", 5)),
		"stray party": Build("k", KindPurchase, "purchase:1", t0, "", Debit(GatewayClearing, "merchant:1", 5), Credit(MerchantPrepaid, "merchant:1", 5)),
		"no account":  Build("k", KindPurchase, "purchase:1", t0, "", Debit("9999", "", 5), Credit(FareRevenue, "", 5)),
		"no key":      Build("", KindPurchase, "purchase:1", t0, "", Debit(GatewayClearing, "", 5), Credit(FareRevenue, "", 5)),
		"both sides":  {Key: "k", Kind: KindFee, Ref: "x:1", At: t0, Postings: []Posting{{Account: GatewayClearing, Debit: 5, Credit: 5}, {Account: FareRevenue, Credit: 0}}},
	} {
		if err := e.Check(); !fault.Is(err, fault.Invalid) {
			t.Errorf("%s: got %v, want invalid", name, err)
		}
	}
}

// TestBuildNegativeSides: a negative amount lands on the other side, so a
// saving smaller than a share becomes a credit to discount expense.
func TestBuildNegativeSides(t *testing.T) {
	e := Build("k", KindRedemption, "trip:1", t0, "",
		Debit(PassengerPrepaid, "account:1", 250), Debit(DiscountExpense, "", -50), Credit(FareRevenue, "", 200))
	if err := e.Check(); err != nil {
		t.Fatal(err)
	}
	if e.Postings[1].Credit != 50 || e.Postings[1].Debit != 0 {
		t.Fatalf("negative debit became %+v", e.Postings[1])
	}
}

// TestReversalProperty: any balanced entry's reversal balances, and the two
// together leave every account and party where they were.
func TestReversalProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 6).Draw(t, "n")
		var ps []Posting
		var total int64
		for i := range n {
			fen := rapid.Int64Range(1, 1_000_000).Draw(t, "fen")
			total += fen
			ps = append(ps, Debit(PassengerPrepaid, Party("account", int64(i)), fen))
		}
		ps = append(ps, Credit(FareRevenue, "", total))
		e := Build("k", KindRedemption, "batch:1", t0, "", ps...)
		e.ID = 9
		r := Reversal(e, t0, "test")
		if err := r.Check(); err != nil {
			t.Fatal(err)
		}
		var bs []Balance
		for _, p := range append(append([]Posting{}, e.Postings...), r.Postings...) {
			bs = append(bs, Balance{Account: p.Account, Party: p.Party, Debit: p.Debit, Credit: p.Credit})
		}
		tb := TrialBalance(bs)
		for _, l := range tb.Lines {
			if l.Net != 0 {
				t.Fatalf("account %s nets %d after a reversal", l.Account.Code, l.Net)
			}
		}
	})
}

// TestShareProperty: parts always add up to the whole, and each part is
// within one fen of its exact proportion.
func TestShareProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		whole := rapid.Int64Range(0, 10_000_000).Draw(t, "whole")
		weights := rapid.SliceOfN(rapid.Int64Range(0, 1000), 1, 12).Draw(t, "weights")
		parts := Share(whole, weights)
		var sum, wsum int64
		for i, p := range parts {
			sum += p
			wsum += weights[i]
		}
		if wsum == 0 {
			if sum != 0 {
				t.Fatalf("no weight, parts %v", parts)
			}
			return
		}
		if sum != whole {
			t.Fatalf("parts %v add to %d, not %d", parts, sum, whole)
		}
		for i, p := range parts[:len(parts)-1] {
			exact := whole * weights[i] // ÷ wsum
			if d := p*wsum - exact; d > wsum || d < -wsum {
				t.Fatalf("part %d = %d is more than a fen from %d/%d", i, p, exact, wsum)
			}
		}
	})
}

func TestMulDivRound(t *testing.T) {
	for _, c := range []struct{ a, b, c, want int64 }{
		{1000, 5, 100, 50}, {15, 1, 10, 2}, {14, 1, 10, 1}, {25, 500, 10000, 1}, {1, 5000, 10000, 1}, {0, 7, 3, 0}, {-15, 1, 10, -2},
	} {
		if got := MulDivRound(c.a, c.b, c.c); got != c.want {
			t.Errorf("MulDivRound(%d,%d,%d) = %d, want %d", c.a, c.b, c.c, got, c.want)
		}
	}
}

// TestRideShareProperty: a ticket's rides use exactly its price, each within
// a fen of the even share, and Unused is what the remaining rides use.
func TestRideShareProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		paid := rapid.Int64Range(0, 1_000_000).Draw(t, "paid")
		rides := rapid.IntRange(1, 100).Draw(t, "rides")
		var sum int64
		for used := range rides {
			s := RideShare(paid, rides, used)
			if d := s*int64(rides) - paid; d > int64(rides) || d < -int64(rides) {
				t.Fatalf("ride %d uses %d of %d over %d rides", used, s, paid, rides)
			}
			if Unused(paid, rides, used) != paid-sum {
				t.Fatalf("unused after %d rides is %d, want %d", used, Unused(paid, rides, used), paid-sum)
			}
			sum += s
		}
		if sum != paid || Unused(paid, rides, rides) != 0 || RideShare(paid, rides, rides) != 0 {
			t.Fatalf("rides use %d of %d", sum, paid)
		}
	})
}

func TestParseFormatFixed(t *testing.T) {
	for in, want := range map[string]int64{"12.5": 1250, "0": 0, "0.01": 1, ".5": 50, "12": 1200, "12.": 1200, " 3.25 ": 325} {
		if got, ok := ParseFixed(in, 2); !ok || got != want {
			t.Errorf("ParseFixed(%q) = %d %v, want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", ".", "1.234", "-1", "1e3", "abc", "1.2.3", "9999999999999999"} {
		if _, ok := ParseFixed(in, 2); ok {
			t.Errorf("ParseFixed(%q) accepted", in)
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.Int64Range(0, 1e14).Draw(t, "n")
		if back, ok := ParseFixed(FormatFixed(n, 2), 2); !ok || back != n {
			t.Fatalf("%d → %q → %d", n, FormatFixed(n, 2), back)
		}
	})
	if FormatFixed(-1250, 2) != "-12.5" || FormatFixed(5, 2) != "0.05" || FormatFixed(1200, 2) != "12" {
		t.Fatal(FormatFixed(-1250, 2), FormatFixed(5, 2), FormatFixed(1200, 2))
	}
}
