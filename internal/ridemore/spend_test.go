package ridemore_test

import (
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/ridemore"
)

func beijing() ridemore.SpendRule { return *ridemore.Beijing("bj", 8).Spend }

func TestSpendDiscount(t *testing.T) {
	s := beijing()
	tests := []struct {
		name             string
		spent, fare      int64
		wantOff, wantNew int64
	}{
		{"nothing spent", 0, 500, 0, 500},
		{"just below ¥100: full fare", 99_99, 500, 0, 104_99},
		{"exactly ¥100: 20 % off", 100_00, 500, 100, 104_00},
		{"just below ¥150: 20 % off", 149_99, 500, 100, 153_99},
		{"exactly ¥150: 50 % off", 150_00, 500, 250, 152_50},
		{"just below ¥400: 50 % off", 399_99, 500, 250, 402_49},
		{"exactly ¥400: no discount", 400_00, 500, 0, 405_00},
		{"rounded down", 150_00, 333, 166, 151_67},
		{"20 % of 9 fen", 100_00, 9, 1, 100_08},
		{"1 fen at 50 %", 150_00, 1, 0, 150_01},
		{"zero fare", 150_00, 0, 0, 150_00},
		{"negative fare", 150_00, -5, 0, 150_00},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			off, next := s.Discount(tt.spent, tt.fare)
			if off != tt.wantOff || next != tt.wantNew {
				t.Fatalf("Discount(%d, %d) = %d, %d; want %d, %d", tt.spent, tt.fare, off, next, tt.wantOff, tt.wantNew)
			}
		})
	}
}

// A month of ¥6 rides: the ride that crosses ¥100 pays in full, the next is 20 % off.
func TestSpendBoundaryRide(t *testing.T) {
	s := beijing()
	st := ridemore.SpendState{}
	start := at("2024-07-01 08:00:00")
	var offs []int64
	for i := range 40 {
		var off int64
		off, st = s.Step(st, start.Add(time.Duration(i)*12*time.Hour), 600)
		offs = append(offs, off)
	}
	// Rides 1–17 pay 600: ride 17 crosses ¥100 (96_00 → 102_00) and
	// pays in full. Rides 18–27 pay 480: 102_00 + 10 × 480 = 150_00, so
	// ride 27 reaches ¥150 exactly, and ride 28 on are 50 % off.
	for i, off := range offs {
		want := int64(0)
		switch n := i + 1; {
		case n >= 28:
			want = 300
		case n >= 18:
			want = 120
		}
		if off != want {
			t.Fatalf("ride %d: off %d, want %d (all %v)", i+1, off, want, offs)
		}
	}
}

func TestSpendStepMonthReset(t *testing.T) {
	s := beijing()
	st := ridemore.SpendState{Month: ridemore.MustMonth("2024-07"), Spent: 200_00}
	// 23:59:59 on 31 July in Shanghai: still July.
	off, st2 := s.Step(st, at("2024-07-31 23:59:59"), 400)
	if off != 200 || st2.Spent != 202_00 || st2.Month != st.Month {
		t.Fatalf("end of July: %d %+v", off, st2)
	}
	// 16:00 UTC on 31 July is midnight in Shanghai: August starts again.
	off, st3 := s.Step(st2, time.Date(2024, 7, 31, 16, 0, 0, 0, time.UTC), 400)
	if off != 0 || st3.Spent != 400 || st3.Month.String() != "2024-08" {
		t.Fatalf("start of August: %d %+v", off, st3)
	}
}

func TestSpendBenefit(t *testing.T) {
	s := beijing()
	jul := ridemore.MustMonth("2024-07")
	if _, ok := s.Benefit(8, jul, 99_99); ok {
		t.Fatal("benefit below ¥100")
	}
	if _, ok := s.Benefit(8, jul, 400_00); ok {
		t.Fatal("benefit at ¥400")
	}
	b, ok := s.Benefit(8, jul, 150_00)
	if !ok || b.TicketID != 0 || b.CampaignID != 8 || b.Kind != benefits.Percentage || b.Terms.PercentOff != 50 || b.Terms.Exclusive {
		t.Fatalf("benefit %+v", b)
	}
	ride := benefits.Ride{ID: "r", Fare: 600, EnteredAt: at("2024-07-20 09:00:00")}
	if sel := benefits.Select(ride, sh, []benefits.Benefit{b}); sel.Net != 300 {
		t.Fatalf("alone: %+v", sel)
	}
	// Combined with a held amount-off coupon: 600 → 500 → 250.
	coupon := benefits.Benefit{TicketID: 1, Kind: benefits.AmountOff, Terms: benefits.Terms{AmountOff: 100}, Window: jul.Window(), RidesLeft: 1}
	if sel := benefits.Select(ride, sh, []benefits.Benefit{b, coupon}); sel.Net != 250 || len(sel.Applied) != 2 {
		t.Fatalf("with a coupon: %+v", sel)
	}
	// Against a held 30 % coupon (one percentage per ride), the 50 % wins and the coupon is kept.
	pct := benefits.Benefit{TicketID: 2, Kind: benefits.Percentage, Terms: benefits.Terms{PercentOff: 30}, Window: jul.Window(), RidesLeft: 1}
	if sel := benefits.Select(ride, sh, []benefits.Benefit{b, pct}); sel.Net != 300 || sel.Applied[0].TicketID != 0 {
		t.Fatalf("with a percentage coupon: %+v", sel)
	}
	// Outside its month it is not eligible.
	ride.EnteredAt = at("2024-08-01 00:00:00")
	if sel := benefits.Select(ride, sh, []benefits.Benefit{b}); sel.Net != 600 {
		t.Fatalf("next month: %+v", sel)
	}
}

func TestSpendAllocationFree(t *testing.T) {
	s := beijing()
	st := ridemore.SpendState{}
	now := at("2024-07-10 08:00:00")
	if n := testing.AllocsPerRun(1000, func() {
		_, st = s.Step(st, now, 500)
		_, _ = s.Discount(st.Spent, 500)
	}); n != 0 {
		t.Fatalf("%v allocations per ride", n)
	}
}

var sinkOff, sinkSpent int64

func BenchmarkSpendDiscount(b *testing.B) {
	s := beijing()
	b.ReportAllocs()
	var spent int64
	for i := 0; b.Loop(); i++ {
		if i%100 == 0 {
			spent = 0 // a new month every hundred rides
		}
		sinkOff, spent = s.Discount(spent, 300+int64(i%7)*100)
	}
	sinkSpent = spent
}

func BenchmarkSpendStep(b *testing.B) {
	s := beijing()
	b.ReportAllocs()
	st := ridemore.SpendState{}
	start := at("2024-07-01 08:00:00")
	for i := 0; b.Loop(); i++ {
		sinkOff, st = s.Step(st, start.Add(time.Duration(i%2000)*20*time.Minute), 300+int64(i%7)*100)
	}
	sinkSpent = st.Spent
}

func BenchmarkSpendBenefitSelect(b *testing.B) {
	s := beijing()
	jul := ridemore.MustMonth("2024-07")
	ride := benefits.Ride{ID: "r", Fare: 600, EnteredAt: at("2024-07-20 09:00:00")}
	b.ReportAllocs()
	var spent int64 = 120_00
	for b.Loop() {
		var cands [1]benefits.Benefit
		bs := cands[:0]
		if bn, ok := s.Benefit(8, jul, spent); ok {
			bs = append(bs, bn)
		}
		sinkOff = benefits.Select(ride, sh, bs).Net
	}
}
