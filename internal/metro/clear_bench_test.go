package metro_test

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"piao/internal/metro"
)

func BenchmarkFareByIndex(b *testing.B) {
	ft, _ := demoTable(b)
	r := rand.New(rand.NewPCG(1, 2))
	n := int32(ft.Len())
	pairs := make([][2]int32, 1<<16)
	for i := range pairs {
		pairs[i] = [2]int32{r.Int32N(n), r.Int32N(n)}
	}
	var sum int64
	i := 0
	for b.Loop() {
		p := pairs[i&(len(pairs)-1)]
		sum += ft.FareByIndex(p[0], p[1])
		i++
	}
	if sum < 0 {
		b.Fatal(sum)
	}
}

func BenchmarkFare(b *testing.B) {
	ft, _ := demoTable(b)
	ids := ft.Stations()
	var sum int64
	i := 0
	for b.Loop() {
		f, _, _ := ft.Fare(ids[i%len(ids)], ids[(i*7+3)%len(ids)])
		sum += f
		i++
	}
	if sum < 0 {
		b.Fatal(sum)
	}
}

// dayOfTaps is a synthetic day: accounts riding twice (out and back), with
// a few lone taps, in random order, about n taps in all.
func dayOfTaps(ft *metro.FareTable, n int) []metro.Tap {
	r := rand.New(rand.NewPCG(3, 4))
	ids := ft.Stations()
	taps := make([]metro.Tap, 0, n)
	for acct := int64(1); len(taps) < n; acct++ {
		at := t0.Add(time.Duration(r.IntN(14*3600)) * time.Second)
		for trip := 0; trip < 2 && len(taps) < n; trip++ {
			from, to := ids[r.IntN(len(ids))], ids[r.IntN(len(ids))]
			id := strconv.FormatInt(acct, 36) + "-" + strconv.Itoa(trip)
			if r.IntN(50) != 0 {
				taps = append(taps, metro.Tap{ID: id + "i", Feed: "nbmetro", Account: acct, Station: from, Dir: metro.In, At: at})
			}
			at = at.Add(time.Duration(5+r.IntN(60)) * time.Minute)
			if r.IntN(50) != 0 && len(taps) < n {
				taps = append(taps, metro.Tap{ID: id + "o", Feed: "nbmetro", Account: acct, Station: to, Dir: metro.Out, At: at})
			}
			at = at.Add(time.Duration(r.IntN(8*3600)) * time.Second)
		}
	}
	r.Shuffle(len(taps), func(i, j int) { taps[i], taps[j] = taps[j], taps[i] })
	return taps
}

func BenchmarkClear(b *testing.B) {
	cl := newClearer(b, nil)
	taps := dayOfTaps(cl.FareTable(), 1_000_000)
	b.ReportAllocs()
	b.ResetTimer()
	var trips int
	for b.Loop() {
		trips = len(cl.Clear(taps).Trips)
	}
	b.ReportMetric(float64(len(taps))*float64(b.N)/b.Elapsed().Seconds(), "taps/s")
	b.ReportMetric(float64(trips), "trips")
}
