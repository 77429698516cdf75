package seats

import (
	"errors"
	"math/rand/v2"

	"piao/internal/network"
)

// SampleT168 returns an empty train of the size of T168: 9 stops, 2
// soft-sleeper, 10 hard-sleeper and 4 second-class cars of the standard
// layouts (1 092 seats, 6 kinds). Benchmarks and `piao bench engine` use it.
func SampleT168() *Train { return sample(9, 2, 10, 4) }

// SampleZ66 returns an empty train of the size of Z66, non-stop: 2 stops (one
// leg), 4 soft-sleeper, 13 hard-sleeper and 2 second-class cars (19 cars,
// 1 182 seats).
func SampleZ66() *Train { return sample(2, 4, 13, 2) }

func sample(stops, rw, yw, ze int) *Train {
	var cars []network.Car
	for _, c := range []struct {
		code string
		n    int
	}{{"RW", rw}, {"YW", yw}, {"ZE", ze}} {
		for range c.n {
			cars = append(cars, network.Car{No: len(cars) + 1, CarType: c.code})
		}
	}
	seats, err := SeatsFromCars(cars, network.StandardCarTypes())
	if err != nil {
		panic(err) // the standard layouts have these codes
	}
	t, err := NewTrain(stops, seats)
	if err != nil {
		panic(err)
	}
	return t
}

// MixStats counts what a Mix did.
type MixStats struct {
	Ops       int   `json:"ops"`       // operations run: the sum of the next four
	Queries   int   `json:"queries"`   // Available calls
	Allocated int   `json:"allocated"` // successful single-passenger Allocate calls
	SoldOut   int   `json:"sold_out"`  // Allocate calls that found the kind sold out
	Released  int   `json:"released"`  // Release calls
	Resets    int   `json:"resets"`    // times every held ticket was released after a sell-out
	Seats     int64 `json:"seats"`     // sum of Available results (keeps the work observable)
}

// Mix runs the standard engine workload on a train: 60 % Available for a
// random kind and journey, 30 % Allocate of one seat of a random kind (drawn
// in proportion to the seats of each kind) for a random journey, 10 %
// Release of a random ticket it holds (an Available if it holds none). When
// an Allocate finds its kind sold out, the Mix releases every ticket it holds
// (not counted as operations) so the train never stays full. The Go
// benchmarks and `piao bench engine` share this definition.
//
// A Mix owns its train while it runs; like the Train it is not safe for
// concurrent use. Run one Mix per train to use several cores.
type Mix struct {
	t     *Train
	rnd   *rand.Rand
	trips [][2]int // every journey (from, to) on the train
	held  []held
	reqs  [1]Request
	Stats MixStats
}

type held struct {
	id   SeatID
	legs Legs
}

// NewMix returns a Mix on train t drawing from rnd.
func NewMix(t *Train, rnd *rand.Rand) *Mix {
	m := &Mix{t: t, rnd: rnd}
	for i := 0; i < t.stops; i++ {
		for j := i + 1; j < t.stops; j++ {
			m.trips = append(m.trips, [2]int{i, j})
		}
	}
	return m
}

// Run performs n operations. It returns an error only if the train rejects
// an operation it should accept, which would be a bug.
func (m *Mix) Run(n int) error {
	t := m.t
	if len(t.info) == 0 {
		return nil
	}
	for range n {
		m.Stats.Ops++
		op := m.rnd.IntN(10)
		if op == 9 && len(m.held) > 0 {
			i := m.rnd.IntN(len(m.held))
			h := m.held[i]
			m.held[i] = m.held[len(m.held)-1]
			m.held = m.held[:len(m.held)-1]
			if err := t.Release(h.id, h.legs); err != nil {
				return err
			}
			m.Stats.Released++
			continue
		}
		trip := m.trips[m.rnd.IntN(len(m.trips))]
		kind := t.kinds[t.kindOf[m.rnd.IntN(len(t.info))]].kind
		if op < 6 || op == 9 {
			m.Stats.Queries++
			m.Stats.Seats += int64(t.Available(kind, trip[0], trip[1]))
			continue
		}
		m.reqs[0] = Request{Kind: kind, From: trip[0], To: trip[1]}
		ids, err := t.Allocate(m.reqs[:])
		switch {
		case err == nil:
			m.Stats.Allocated++
			m.held = append(m.held, held{ids[0], Span(trip[0], trip[1])})
		case errors.Is(err, ErrSoldOut):
			m.Stats.SoldOut++
			m.Stats.Resets++
			for _, h := range m.held {
				if err := t.Release(h.id, h.legs); err != nil {
					return err
				}
			}
			m.held = m.held[:0]
		default:
			return err
		}
	}
	return nil
}

// MixedOps runs n operations of the standard mix (see Mix) on t with a fresh
// Mix and returns what it did. Tickets it sold stay sold.
func MixedOps(t *Train, n int, rnd *rand.Rand) (MixStats, error) {
	m := NewMix(t, rnd)
	err := m.Run(n)
	return m.Stats, err
}
