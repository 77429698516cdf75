package seats_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"piao/internal/network"
	"piao/internal/seats"
)

// layoutLetters are the seat letters of each seated class's standard layout.
var layoutLetters = map[network.SeatClass]string{
	network.SecondClass: "ABCDF",
	network.FirstClass:  "ACDF",
	network.Business:    "ACF",
}

var classes = []network.SeatClass{network.HardSleeper, network.SoftSleeper, network.SecondClass, network.FirstClass, network.Business}

// genCarTrain draws a train of 1-4 cars, each of one class: sleeper cars of
// compartments of 1-2 berths of each position, seated cars of rows of some of
// the layout's letters. Group numbers sometimes skip one, and a few seats
// have no group or letter.
func genCarTrain(t *rapid.T) (*seats.Train, *model, []seats.SeatInfo) {
	stops := rapid.IntRange(2, 8).Draw(t, "stops")
	ncars := rapid.IntRange(1, 4).Draw(t, "cars")
	var info []seats.SeatInfo
	for car := 1; car <= ncars; car++ {
		class := rapid.SampledFrom(classes).Draw(t, "class")
		groups := rapid.IntRange(1, 4).Draw(t, "groups")
		g := 0
		for range groups {
			g += rapid.IntRange(1, 2).Draw(t, "groupStep")
			if letters, seated := layoutLetters[class]; seated {
				for _, l := range letters {
					if rapid.IntRange(0, 3).Draw(t, "skipLetter") == 0 {
						continue
					}
					s := seats.SeatInfo{Car: car, Label: fmt.Sprintf("%02d%c", g, l), Kind: seats.Kind{Class: class}, Group: g, Letter: string(l)}
					if rapid.IntRange(0, 15).Draw(t, "unknown") == 0 {
						s.Group, s.Letter = 0, ""
					}
					info = append(info, s)
				}
				continue
			}
			for _, b := range class.Berths() {
				for range rapid.IntRange(0, 2).Draw(t, "berths") {
					s := seats.SeatInfo{Car: car, Label: fmt.Sprintf("%02d%s", g, b), Kind: seats.Kind{Class: class, Berth: b}, Group: g}
					if rapid.IntRange(0, 15).Draw(t, "unknown") == 0 {
						s.Group = 0
					}
					info = append(info, s)
				}
			}
		}
	}
	tr, err := seats.NewTrain(stops, info)
	if err != nil {
		t.Fatal(err)
	}
	m := &model{stops: stops}
	for _, s := range info {
		m.kinds = append(m.kinds, s.Kind)
	}
	return tr, m, info
}

// prefModel is the model of a train with seat positions.
type prefModel struct {
	*model
	info []seats.SeatInfo
}

// letterMatches reports whether seat s meets r's Letters.
func letterMatches(r seats.Request, s seats.SeatInfo) bool {
	return r.Letters == "" || len(s.Letter) == 1 && strings.IndexByte(r.Letters, s.Letter[0]) >= 0
}

// suits reports whether seat id meets r's hard constraints.
func (m *prefModel) suits(masks []seats.Legs, r seats.Request, id seats.SeatID) bool {
	return matches(r, m.kinds[id]) && letterMatches(r, m.info[id]) && m.free(masks, id, r.From, r.To)
}

// badLetters reports whether some request's Letters no seat of its kinds has.
func (m *prefModel) badLetters(reqs []seats.Request) bool {
	for _, r := range reqs {
		if r.Letters != "" && !slices.ContainsFunc(m.info, func(s seats.SeatInfo) bool { return matches(r, s.Kind) && letterMatches(r, s) }) {
			return true
		}
	}
	return false
}

// feasible reports whether distinct seats meeting the hard constraints exist
// for every request among the seats in for which in says true (exhaustive
// search).
func (m *prefModel) feasible(masks []seats.Legs, reqs []seats.Request, in func(seats.SeatID) bool) bool {
	cand := make([][]seats.SeatID, len(reqs))
	for i, r := range reqs {
		for id := range m.info {
			if in(seats.SeatID(id)) && m.suits(masks, r, seats.SeatID(id)) {
				cand[i] = append(cand[i], seats.SeatID(id))
			}
		}
	}
	return distinct(cand)
}

func anySeat(seats.SeatID) bool { return true }

// minSpan returns the smallest k such that the party fits in groups g..g+k
// of one car, or -1.
func (m *prefModel) minSpan(masks []seats.Legs, reqs []seats.Request) int {
	best := -1
	for _, a := range m.info {
		for _, b := range m.info {
			if a.Car != b.Car || a.Group == 0 || b.Group < a.Group || best >= 0 && b.Group-a.Group >= best {
				continue
			}
			in := func(id seats.SeatID) bool {
				s := m.info[id]
				return s.Car == a.Car && s.Group >= a.Group && s.Group <= b.Group
			}
			if m.feasible(masks, reqs, in) {
				best = b.Group - a.Group
			}
		}
	}
	return best
}

// tierOf is how far down r's Prefer seat id's berth is.
func (m *prefModel) tierOf(r seats.Request, id seats.SeatID) int {
	if !r.AnyBerth {
		return 0
	}
	if i := slices.Index(r.Prefer, m.kinds[id].Berth); i >= 0 {
		return i
	}
	return len(r.Prefer)
}

func genPrefRequest(t *rapid.T, m *model, kinds []seats.Kind) seats.Request {
	r := genRequest(t, m, kinds)
	if berths := r.Kind.Class.Berths(); len(berths) > 1 {
		if rapid.Bool().Draw(t, "prefer") {
			r.Prefer = rapid.SliceOfNDistinct(rapid.SampledFrom([]network.Berth{network.Lower, network.Middle, network.Upper}), 1, 3, func(b network.Berth) network.Berth { return b }).Draw(t, "berths")
		}
		return r
	}
	switch rapid.IntRange(0, 4).Draw(t, "letters") {
	case 0:
		r.Letters = seats.WindowLetters(r.Kind.Class)
	case 1:
		r.Letters = seats.AisleLetters(r.Kind.Class)
	case 2:
		r.Letters = rapid.StringOfN(rapid.SampledFrom([]rune("ABCDEF")), 1, 3, -1).Draw(t, "someLetters")
	}
	return r
}

// checkSeats fails unless ids are distinct seats meeting reqs' hard
// constraints on the model's masks, and records them as sold.
func (m *prefModel) checkSeats(t *rapid.T, masks []seats.Legs, reqs []seats.Request, ids []seats.SeatID) {
	if len(ids) != len(reqs) {
		t.Fatalf("%d seats for %d requests", len(ids), len(reqs))
	}
	for i, id := range ids {
		if id < 0 || int(id) >= len(m.info) || slices.Contains(ids[:i], id) || !m.suits(masks, reqs[i], id) {
			t.Fatalf("request %+v got unsuitable or repeated seat %d in %v", reqs[i], id, ids)
		}
	}
	for i, id := range ids {
		m.tickets = append(m.tickets, ticket{id, seats.Span(reqs[i].From, reqs[i].To)})
	}
}

// TestPreferenceProperties drives random trains with cars, groups and
// letters through Allocate and AllocateTogether with preferences, releases
// and loads, comparing every result with a brute-force model.
func TestPreferenceProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tr, base, info := genCarTrain(t)
		m := &prefModel{model: base, info: info}
		kinds := tr.Kinds()
		m.compare(t, tr)
		if len(kinds) == 0 {
			return
		}
		for range rapid.IntRange(1, 60).Draw(t, "steps") {
			switch op := rapid.IntRange(0, 9).Draw(t, "op"); {
			case op < 7:
				together := op >= 3
				reqs := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) seats.Request { return genPrefRequest(t, m.model, kinds) }), 1, 4).Draw(t, "group")
				if rapid.Bool().Draw(t, "sameJourney") {
					for i := range reqs {
						reqs[i].From, reqs[i].To = reqs[0].From, reqs[0].To
					}
				}
				masks := m.masks()
				var ids []seats.SeatID
				var err error
				if together {
					ids, err = tr.AllocateTogether(reqs)
				} else {
					ids, err = tr.Allocate(reqs)
				}
				seatable := m.feasible(masks, reqs, anySeat)
				span := 0
				if together && len(reqs) > 1 && seatable {
					span = m.minSpan(masks, reqs)
				}
				switch {
				case m.badLetters(reqs):
					if !errors.Is(err, seats.ErrBadRequest) {
						t.Fatalf("%+v with letters no seat has: %v, %v", reqs, ids, err)
					}
				case !seatable:
					var so seats.SoldOutError
					if !errors.As(err, &so) || errors.Is(err, seats.ErrNotTogether) || so.Index < 0 || so.Index >= len(reqs) {
						t.Fatalf("unseatable %+v: %v, %v", reqs, ids, err)
					}
				case span < 0:
					if !errors.Is(err, seats.ErrNotTogether) || errors.Is(err, seats.ErrSoldOut) {
						t.Fatalf("%+v cannot be seated together: %v, %v", reqs, ids, err)
					}
				default:
					if err != nil {
						t.Fatalf("%+v (together %v) failed: %v", reqs, together, err)
					}
					if together && len(reqs) > 1 {
						first := m.info[ids[0]]
						lo, hi := first.Group, first.Group
						for _, id := range ids {
							s := m.info[id]
							if s.Car != first.Car || s.Group == 0 {
								t.Fatalf("together %+v got seats %v in cars/groups %+v", reqs, ids, s)
							}
							lo, hi = min(lo, s.Group), max(hi, s.Group)
						}
						if hi-lo != span {
							t.Fatalf("together %+v got groups %d..%d, %d..%d would do", reqs, lo, hi, lo, lo+span)
						}
					}
					if len(reqs) == 1 {
						// A preferred berth whenever one is free, then best fit.
						r, got := reqs[0], ids[0]
						gt := m.tierOf(r, got)
						gl, gc := m.run(masks, got, r.From, r.To)
						for id := range m.info {
							c := seats.SeatID(id)
							if !m.suits(masks, r, c) {
								continue
							}
							ct := m.tierOf(r, c)
							cl, cc := m.run(masks, c, r.From, r.To)
							if ct < gt || ct == gt && (cl < gl || cl == gl && (cc > gc || cc == gc && c < got)) {
								t.Fatalf("request %+v got seat %d (tier %d run %d touch %d), seat %d is better (tier %d run %d touch %d)", r, got, gt, gl, gc, c, ct, cl, cc)
							}
						}
					}
					m.checkSeats(t, masks, reqs, ids)
				}
			case op < 9:
				if len(m.tickets) == 0 {
					break
				}
				i := rapid.IntRange(0, len(m.tickets)-1).Draw(t, "ticket")
				tk := m.tickets[i]
				if err := tr.Release(tk.seat, tk.legs); err != nil {
					t.Fatalf("Release(%d, %v): %v", tk.seat, tk.legs, err)
				}
				m.tickets = slices.Delete(m.tickets, i, i+1)
			default:
				if len(m.kinds) == 0 {
					break
				}
				id := seats.SeatID(rapid.IntRange(0, len(m.kinds)-1).Draw(t, "seat"))
				legs := seats.Legs(rapid.Uint64Range(1, uint64(seats.Span(0, m.stops-1))).Draw(t, "legs"))
				if tr.Mark(id, legs) == nil {
					m.tickets = append(m.tickets, ticket{id, legs})
				}
			}
			// Counters match a recount, no leg is sold twice, and a failed
			// call changed nothing (the model did not change either).
			m.compare(t, tr)
		}
	})
}
