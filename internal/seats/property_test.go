package seats_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"piao/internal/network"
	"piao/internal/seats"
)

var allKinds = []seats.Kind{
	{Class: network.HardSleeper, Berth: network.Lower},
	{Class: network.HardSleeper, Berth: network.Middle},
	{Class: network.HardSleeper, Berth: network.Upper},
	{Class: network.SoftSleeper, Berth: network.Lower},
	{Class: network.SoftSleeper, Berth: network.Upper},
	{Class: network.SecondClass},
	{Class: network.FirstClass},
	{Class: network.Business},
}

// ticket is one sale in the model: legs of a seat.
type ticket struct {
	seat seats.SeatID
	legs seats.Legs
}

// model is an independent account of what is sold: a list of tickets.
// Everything the engine reports is recomputed from it by brute force.
type model struct {
	stops   int
	kinds   []seats.Kind // per seat
	tickets []ticket
}

func (m *model) masks() []seats.Legs {
	out := make([]seats.Legs, len(m.kinds))
	for _, tk := range m.tickets {
		out[tk.seat] |= tk.legs
	}
	return out
}

// free reports whether seat id is free on every leg of [from,to), leg by leg.
func (m *model) free(masks []seats.Legs, id seats.SeatID, from, to int) bool {
	for leg := from; leg < to; leg++ {
		if masks[id]&(1<<uint(leg)) != 0 {
			return false
		}
	}
	return true
}

func matches(r seats.Request, k seats.Kind) bool {
	if r.AnyBerth {
		return k.Class == r.Kind.Class
	}
	return k == r.Kind
}

func (m *model) candidates(masks []seats.Legs, r seats.Request) []seats.SeatID {
	var out []seats.SeatID
	for id, k := range m.kinds {
		if matches(r, k) && m.free(masks, seats.SeatID(id), r.From, r.To) {
			out = append(out, seats.SeatID(id))
		}
	}
	return out
}

// seatable reports whether distinct free seats exist for every request
// (exhaustive search with the most constrained request first).
func (m *model) seatable(masks []seats.Legs, reqs []seats.Request) bool {
	cand := make([][]seats.SeatID, len(reqs))
	for i, r := range reqs {
		cand[i] = m.candidates(masks, r)
	}
	return distinct(cand)
}

// distinct reports whether each request can have a different one of its
// candidate seats (exhaustive search, the most constrained request first).
func distinct(cand [][]seats.SeatID) bool {
	idx := make([]int, len(cand))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return len(cand[a]) - len(cand[b]) })
	used := map[seats.SeatID]bool{}
	var try func(n int) bool
	try = func(n int) bool {
		if n == len(idx) {
			return true
		}
		for _, id := range cand[idx[n]] {
			if !used[id] {
				used[id] = true
				if try(n + 1) {
					return true
				}
				delete(used, id)
			}
		}
		return false
	}
	return try(0)
}

// run is the free run of a seat around [from,to): its length, and how many
// ends of the journey touch a sold leg or an end of the train.
func (m *model) run(masks []seats.Legs, id seats.SeatID, from, to int) (length, touch int) {
	l, r := from, to
	for l > 0 && m.free(masks, id, l-1, l) {
		l--
	}
	for r < m.stops-1 && m.free(masks, id, r, r+1) {
		r++
	}
	if l == from {
		touch++
	}
	if r == to {
		touch++
	}
	return r - l, touch
}

func (m *model) compare(t *rapid.T, tr *seats.Train) {
	masks := m.masks()
	// No leg sold twice.
	var seen = make([]seats.Legs, len(m.kinds))
	for _, tk := range m.tickets {
		if seen[tk.seat]&tk.legs != 0 {
			t.Fatalf("model sold seat %d legs %v twice", tk.seat, seen[tk.seat]&tk.legs)
		}
		seen[tk.seat] |= tk.legs
	}
	for id, want := range masks {
		if got := tr.Sold(seats.SeatID(id)); got != want {
			t.Fatalf("seat %d: engine has %v sold, model %v", id, got, want)
		}
	}
	if err := tr.Check(); err != nil {
		t.Fatal(err)
	}
	for _, k := range tr.Kinds() {
		for i := 0; i < m.stops; i++ {
			for j := i + 1; j < m.stops; j++ {
				n := len(m.candidates(masks, seats.Request{Kind: k, From: i, To: j}))
				if got := tr.Available(k, i, j); got != n {
					t.Fatalf("Available(%v, %d, %d) = %d, model says %d", k, i, j, got, n)
				}
			}
		}
	}
	for _, c := range []network.SeatClass{network.HardSleeper, network.SecondClass} {
		n := len(m.candidates(masks, seats.Request{Kind: seats.Kind{Class: c}, AnyBerth: true, From: 0, To: m.stops - 1}))
		if got := tr.AvailableClass(c, 0, m.stops-1); got != n {
			t.Fatalf("AvailableClass(%s) = %d, model says %d", c, got, n)
		}
	}
}

func genTrain(t *rapid.T) (*seats.Train, *model) {
	stops := rapid.IntRange(2, 20).Draw(t, "stops")
	kinds := rapid.SliceOfNDistinct(rapid.SampledFrom(allKinds), 1, 4, func(k seats.Kind) seats.Kind { return k }).Draw(t, "kinds")
	n := rapid.IntRange(0, 60).Draw(t, "seats")
	m := &model{stops: stops}
	var info []seats.SeatInfo
	for i := range n {
		k := rapid.SampledFrom(kinds).Draw(t, "kind")
		m.kinds = append(m.kinds, k)
		info = append(info, seats.SeatInfo{Car: 1 + i/10, Label: fmt.Sprint(i), Kind: k})
	}
	tr, err := seats.NewTrain(stops, info)
	if err != nil {
		t.Fatal(err)
	}
	return tr, m
}

func genRequest(t *rapid.T, m *model, kinds []seats.Kind) seats.Request {
	from := rapid.IntRange(0, m.stops-2).Draw(t, "from")
	to := rapid.IntRange(from+1, m.stops-1).Draw(t, "to")
	// Short journeys are drawn more often so trains fill unevenly.
	if rapid.Bool().Draw(t, "short") {
		to = from + 1
	}
	return seats.Request{
		Kind:     rapid.SampledFrom(kinds).Draw(t, "kind"),
		AnyBerth: rapid.IntRange(0, 3).Draw(t, "anyBerth") == 0,
		From:     from, To: to,
	}
}

func TestProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tr, m := genTrain(t)
		kinds := tr.Kinds()
		m.compare(t, tr)
		if len(kinds) == 0 {
			return
		}
		steps := rapid.IntRange(1, 120).Draw(t, "steps")
		for range steps {
			switch op := rapid.IntRange(0, 9).Draw(t, "op"); {
			case op < 6: // allocate a group
				reqs := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) seats.Request { return genRequest(t, m, kinds) }), 1, 5).Draw(t, "group")
				if rapid.Bool().Draw(t, "sameJourney") {
					for i := range reqs {
						reqs[i].From, reqs[i].To = reqs[0].From, reqs[0].To
					}
				}
				masks := m.masks()
				want := m.seatable(masks, reqs)
				ids, err := tr.Allocate(reqs)
				if err != nil {
					var so seats.SoldOutError
					if !errors.Is(err, seats.ErrSoldOut) || !errors.As(err, &so) {
						t.Fatalf("Allocate(%v): %v", reqs, err)
					}
					if want {
						t.Fatalf("Allocate(%v) sold out, but the model seats them", reqs)
					}
					if so.Index < 0 || so.Index >= len(reqs) {
						t.Fatalf("SoldOutError index %d of %d", so.Index, len(reqs))
					}
					if len(reqs) == 1 && len(m.candidates(masks, reqs[0])) != 0 {
						t.Fatalf("single request %v sold out with free seats", reqs[0])
					}
					break
				}
				if !want {
					t.Fatalf("Allocate(%v) = %v, but the model cannot seat them", reqs, ids)
				}
				if len(ids) != len(reqs) {
					t.Fatalf("%d seats for %d requests", len(ids), len(reqs))
				}
				if len(reqs) == 1 {
					// Best fit: no free seat has a shorter run, more touching
					// ends, or a lower id on a tie.
					r := reqs[0]
					gl, gt := m.run(masks, ids[0], r.From, r.To)
					for _, c := range m.candidates(masks, r) {
						cl, ct := m.run(masks, c, r.From, r.To)
						if cl < gl || cl == gl && (ct > gt || ct == gt && c < ids[0]) {
							t.Fatalf("request %v got seat %d (run %d, touch %d), seat %d fits better (run %d, touch %d)", r, ids[0], gl, gt, c, cl, ct)
						}
					}
				}
				for i, id := range ids {
					r := reqs[i]
					if slices.Contains(ids[:i], id) {
						t.Fatalf("seat %d given twice in %v", id, ids)
					}
					if id < 0 || int(id) >= len(m.kinds) || !matches(r, m.kinds[id]) || !m.free(masks, id, r.From, r.To) {
						t.Fatalf("request %v got unsuitable seat %d", r, id)
					}
					m.tickets = append(m.tickets, ticket{id, seats.Span(r.From, r.To)})
				}
			case op < 8: // release a ticket
				if len(m.tickets) == 0 {
					break
				}
				i := rapid.IntRange(0, len(m.tickets)-1).Draw(t, "ticket")
				tk := m.tickets[i]
				if err := tr.Release(tk.seat, tk.legs); err != nil {
					t.Fatalf("Release(%d, %v): %v", tk.seat, tk.legs, err)
				}
				m.tickets = slices.Delete(m.tickets, i, i+1)
			case op == 8: // mark arbitrary legs, as a load from storage would
				if len(m.kinds) == 0 {
					break
				}
				id := seats.SeatID(rapid.IntRange(0, len(m.kinds)-1).Draw(t, "seat"))
				legs := seats.Legs(rapid.Uint64Range(1, uint64(seats.Span(0, m.stops-1))).Draw(t, "legs"))
				err := tr.Mark(id, legs)
				if overlap := m.masks()[id]&legs != 0; overlap != errors.Is(err, seats.ErrAlreadySold) || !overlap && err != nil {
					t.Fatalf("Mark(%d, %v) on %v: %v", id, legs, m.masks()[id], err)
				}
				if err == nil {
					m.tickets = append(m.tickets, ticket{id, legs})
				}
			default: // release legs that are not all sold, on a clone
				if len(m.kinds) == 0 {
					break
				}
				c := tr.Clone()
				id := seats.SeatID(rapid.IntRange(0, len(m.kinds)-1).Draw(t, "seat"))
				legs := seats.Legs(rapid.Uint64Range(1, uint64(seats.Span(0, m.stops-1))).Draw(t, "legs"))
				err := c.Release(id, legs)
				if unsold := legs&^m.masks()[id] != 0; unsold != errors.Is(err, seats.ErrNotSold) || !unsold && err != nil {
					t.Fatalf("Release(%d, %v) on %v: %v", id, legs, m.masks()[id], err)
				}
				if err := c.Check(); err != nil {
					t.Fatal(err)
				}
				// Whatever happened to the clone, the train is untouched.
			}
			m.compare(t, tr)
		}
	})
}
