package seats_test

import (
	"errors"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"piao/internal/seats"
)

// kindsBySeat returns, per seat, its kind: drawing a random entry picks kinds
// in proportion to their seats.
func kindsBySeat(t *seats.Train) []seats.Kind {
	out := make([]seats.Kind, t.Len())
	for i := range out {
		out[i] = t.Seat(seats.SeatID(i)).Kind
	}
	return out
}

func BenchmarkAllocateZ66(b *testing.B) {
	empty := seats.SampleZ66()
	tr := empty.Clone()
	kinds := kindsBySeat(tr)
	rnd := rand.New(rand.NewPCG(1, 2))
	reqs := make([]seats.Request, 1)
	b.ReportAllocs()
	for b.Loop() {
		reqs[0] = seats.Request{Kind: kinds[rnd.IntN(len(kinds))], From: 0, To: 1}
		if _, err := tr.Allocate(reqs); err != nil {
			if !errors.Is(err, seats.ErrSoldOut) {
				b.Fatal(err)
			}
			tr = empty.Clone() // timed, but only once per ~1 000 seats sold
		}
	}
}

// BenchmarkAllocateT168 sells single seats of random kinds for random
// journeys on a T168-sized train; when a kind sells out for a journey the
// train starts again empty (the reset is timed, amortised over the fill).
func BenchmarkAllocateT168(b *testing.B) {
	empty := seats.SampleT168()
	tr := empty.Clone()
	kinds := kindsBySeat(tr)
	rnd := rand.New(rand.NewPCG(1, 2))
	stops := tr.Stops()
	reqs := make([]seats.Request, 1)
	sold, fills := 0, 0
	b.ReportAllocs()
	for b.Loop() {
		from := rnd.IntN(stops - 1)
		to := from + 1 + rnd.IntN(stops-1-from)
		reqs[0] = seats.Request{Kind: kinds[rnd.IntN(len(kinds))], From: from, To: to}
		if _, err := tr.Allocate(reqs); err != nil {
			if !errors.Is(err, seats.ErrSoldOut) {
				b.Fatal(err)
			}
			tr = empty.Clone()
			fills++
			continue
		}
		sold++
	}
	if fills > 0 {
		b.ReportMetric(float64(sold)/float64(fills), "sold/fill")
	}
}

func BenchmarkAvailable(b *testing.B) {
	tr := seats.SampleT168()
	rnd := rand.New(rand.NewPCG(3, 4))
	if _, err := seats.MixedOps(tr, 20000, rnd); err != nil { // sell part of the train
		b.Fatal(err)
	}
	kinds := kindsBySeat(tr)
	type q struct {
		k        seats.Kind
		from, to int
	}
	qs := make([]q, 1024)
	for i := range qs {
		from := rnd.IntN(tr.Stops() - 1)
		qs[i] = q{kinds[rnd.IntN(len(kinds))], from, from + 1 + rnd.IntN(tr.Stops()-1-from)}
	}
	sum, i := 0, 0
	b.ReportAllocs()
	for b.Loop() {
		x := &qs[i&1023]
		sum += tr.Available(x.k, x.from, x.to)
		i++
	}
	if sum < 0 {
		b.Fatal(sum)
	}
}

// BenchmarkMixed runs the standard mix (seats.Mix: 60 % Available, 30 %
// Allocate, 10 % Release) on a T168-sized train, one operation per iteration.
func BenchmarkMixed(b *testing.B) {
	m := seats.NewMix(seats.SampleT168(), rand.New(rand.NewPCG(5, 6)))
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Run(1); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkMixedParallel runs the mix on one train per goroutine
// (GOMAXPROCS of them), as a server with one serialised train per date would.
func BenchmarkMixedParallel(b *testing.B) {
	var seed atomic.Uint64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		m := seats.NewMix(seats.SampleT168(), rand.New(rand.NewPCG(7, seed.Add(1))))
		for pb.Next() {
			if err := m.Run(1); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}
