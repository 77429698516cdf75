package seats_test

import (
	"errors"
	"slices"
	"testing"

	"piao/internal/network"
	"piao/internal/seats"
)

// In the standard layouts a hard-sleeper car's compartment c holds seats
// 6(c-1)+0..5 (01L 01M 01U 02L 02M 02U for c = 1) and a second-class car's
// row r holds seats 5(r-1)+0..4 (A B C D F).

var hard = seats.Kind{Class: network.HardSleeper}

// carsTrain builds a train of cars of the standard car types, numbered from 1.
func carsTrain(t testing.TB, stops int, codes ...string) *seats.Train {
	t.Helper()
	cars := make([]network.Car, len(codes))
	for i, c := range codes {
		cars[i] = network.Car{No: i + 1, CarType: c}
	}
	info, err := seats.SeatsFromCars(cars, network.StandardCarTypes())
	if err != nil {
		t.Fatal(err)
	}
	tr, err := seats.NewTrain(stops, info)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func mark(t testing.TB, tr *seats.Train, sold map[seats.SeatID]seats.Legs) {
	t.Helper()
	for id, legs := range sold {
		if err := tr.Mark(id, legs); err != nil {
			t.Fatal(err)
		}
	}
}

// state is what a failed call must leave as it was: the sold legs of every
// seat and the counters (as Recount computes them).
type state struct {
	sold   []seats.Legs
	counts map[seats.Kind][]int32
}

func stateOf(tr *seats.Train) state {
	s := state{counts: tr.Recount()}
	for id := range tr.Len() {
		s.sold = append(s.sold, tr.Sold(seats.SeatID(id)))
	}
	return s
}

// unchanged fails the test if tr is not in state before, or inconsistent.
func unchanged(t testing.TB, tr *seats.Train, before state) {
	t.Helper()
	for id, legs := range before.sold {
		if got := tr.Sold(seats.SeatID(id)); got != legs {
			t.Errorf("seat %d sold %v, was %v", id, got, legs)
		}
	}
	for k, c := range before.counts {
		if !slices.Equal(tr.Counts(k), c) {
			t.Errorf("%v counts changed", k)
		}
	}
	mustCheck(t, tr)
}

// lowersExcept sells the whole journey of every lower berth of the first
// n hard-sleeper seats except those in keep.
func lowersExcept(tr *seats.Train, n int, keep ...seats.SeatID) map[seats.SeatID]seats.Legs {
	out := map[seats.SeatID]seats.Legs{}
	for id := range seats.SeatID(n) {
		if tr.Seat(id).Kind == lower && !slices.Contains(keep, id) {
			out[id] = seats.Span(0, tr.Stops()-1)
		}
	}
	return out
}

func TestLetterHelpers(t *testing.T) {
	for _, c := range []struct {
		class         network.SeatClass
		window, aisle string
	}{
		{network.SecondClass, "AF", "CD"},
		{network.FirstClass, "AF", "CD"},
		{network.Business, "AF", "C"},
		{network.HardSleeper, "", ""},
		{network.SoftSleeper, "", ""},
	} {
		if w, a := seats.WindowLetters(c.class), seats.AisleLetters(c.class); w != c.window || a != c.aisle {
			t.Errorf("%s: window %q aisle %q, want %q %q", c.class, w, a, c.window, c.aisle)
		}
	}
	// The helpers agree with the standard layouts.
	for _, ct := range network.StandardCarTypes() {
		for _, s := range ct.Seats {
			if s.Letter != "" && !containsLetter(seats.WindowLetters(ct.SeatClass)+seats.AisleLetters(ct.SeatClass)+"B", s.Letter) {
				t.Errorf("%s seat %s is neither window, aisle nor B", ct.Code, s.Label)
			}
		}
	}
}

func containsLetter(letters, l string) bool {
	return len(l) == 1 && slices.Contains([]byte(letters), l[0])
}

func TestLetters(t *testing.T) {
	window := seats.WindowLetters(network.SecondClass)
	for _, c := range []struct {
		name    string
		sold    map[seats.SeatID]seats.Legs
		letters string
		from    int
		want    seats.SeatID
	}{
		{"window", nil, window, 0, 0},
		{"window skips a sold A", map[seats.SeatID]seats.Legs{0: seats.Span(0, 2)}, window, 0, 4},
		{"aisle", nil, seats.AisleLetters(network.SecondClass), 0, 2},
		{"one letter", nil, "D", 0, 3},
		{"best fit among window seats", map[seats.SeatID]seats.Legs{9: seats.Span(0, 1)}, window, 1, 9},
		{"a tighter B is not a window", map[seats.SeatID]seats.Legs{1: seats.Span(0, 1)}, window, 1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := carsTrain(t, 3, "ZE")
			mark(t, tr, c.sold)
			ids, err := tr.Allocate([]seats.Request{{Kind: second, From: c.from, To: 2, Letters: c.letters}})
			if err != nil {
				t.Fatal(err)
			}
			if ids[0] != c.want {
				t.Errorf("got seat %d (%s), want %d (%s)", ids[0], tr.Seat(ids[0]).Label, c.want, tr.Seat(c.want).Label)
			}
			mustCheck(t, tr)
		})
	}
}

func TestLettersSoldOut(t *testing.T) {
	tr := carsTrain(t, 3, "ZE")
	sold := map[seats.SeatID]seats.Legs{}
	for id := range seats.SeatID(tr.Len()) {
		if l := tr.Seat(id).Letter; l == "A" || l == "F" {
			sold[id] = seats.Span(0, 1)
		}
	}
	mark(t, tr, sold)
	before := stateOf(tr)
	window := seats.Request{Kind: second, From: 0, To: 2, Letters: "AF"}
	_, err := tr.Allocate([]seats.Request{req(second, 0, 2), window})
	var so seats.SoldOutError
	if !errors.As(err, &so) || so.Index != 1 || so.Kind != second {
		t.Fatalf("err = %v, want request 1 sold out", err)
	}
	unchanged(t, tr, before)
	// Free from stop 1 on; and without the constraint there are seats.
	if ids, err := tr.Allocate([]seats.Request{{Kind: second, From: 1, To: 2, Letters: "AF"}}); err != nil || tr.Seat(ids[0]).Label != "01A" {
		t.Errorf("window from stop 1: %v, %v", ids, err)
	}
	if _, err := tr.Allocate([]seats.Request{req(second, 0, 2)}); err != nil {
		t.Error(err)
	}
	mustCheck(t, tr)
}

func TestLettersBadRequest(t *testing.T) {
	for _, c := range []struct {
		name string
		tr   *seats.Train
		reqs []seats.Request
	}{
		{"no seat E", carsTrain(t, 3, "ZE"), []seats.Request{{Kind: second, From: 0, To: 1, Letters: "E"}}},
		{"no B in first class", carsTrain(t, 3, "ZE", "ZY"), []seats.Request{req(second, 0, 1), {Kind: first, From: 0, To: 1, Letters: "B"}}},
		{"berths have no letters", carsTrain(t, 3, "YW"), []seats.Request{{Kind: hard, AnyBerth: true, From: 0, To: 1, Letters: "A"}}},
		{"seats without letters", train(t, 3, second, second), []seats.Request{{Kind: second, From: 0, To: 1, Letters: "AF"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := stateOf(c.tr)
			if _, err := c.tr.Allocate(c.reqs); !errors.Is(err, seats.ErrBadRequest) {
				t.Errorf("Allocate: %v, want ErrBadRequest", err)
			}
			if _, err := c.tr.AllocateTogether(c.reqs); !errors.Is(err, seats.ErrBadRequest) {
				t.Errorf("AllocateTogether: %v, want ErrBadRequest", err)
			}
			unchanged(t, c.tr, before)
		})
	}
}

func TestPrefer(t *testing.T) {
	elderly := func(from, to int, prefer ...network.Berth) seats.Request {
		return seats.Request{Kind: hard, AnyBerth: true, From: from, To: to, Prefer: prefer}
	}
	tr0 := carsTrain(t, 3, "YW")
	for _, c := range []struct {
		name string
		sold map[seats.SeatID]seats.Legs
		req  seats.Request
		want seats.SeatID
	}{
		{"lower first", nil, elderly(0, 2, network.Lower), 0},
		{"in the order given", nil, elderly(0, 2, network.Upper, network.Lower), 2},
		{"a lower beats a tighter middle", map[seats.SeatID]seats.Legs{1: seats.Span(1, 2)}, elderly(0, 1, network.Lower), 0},
		{"best fit among lowers", map[seats.SeatID]seats.Legs{3: seats.Span(1, 2)}, elderly(0, 1, network.Lower), 3},
		{"no lower free falls back to best fit", lowersExcept(tr0, 66), elderly(0, 2, network.Lower), 1},
		{"a lower free on part of the journey does not count", lowersExcept(tr0, 66), elderly(1, 2, network.Lower), 1},
		{"second choice before the rest", lowersExcept(tr0, 66), elderly(0, 2, network.Lower, network.Upper), 2},
		{"berths the class lacks are ignored", nil, seats.Request{Kind: seats.Kind{Class: network.SoftSleeper}, AnyBerth: true, From: 0, To: 2, Prefer: []network.Berth{network.Middle, network.Upper}}, 66 + 1},
		{"ignored without AnyBerth", nil, seats.Request{Kind: middle, From: 0, To: 2, Prefer: []network.Berth{network.Lower}}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := carsTrain(t, 3, "YW", "RW")
			mark(t, tr, c.sold)
			for _, together := range []bool{false, true} {
				tr := tr.Clone()
				var ids []seats.SeatID
				var err error
				if together {
					ids, err = tr.AllocateTogether([]seats.Request{c.req})
				} else {
					ids, err = tr.Allocate([]seats.Request{c.req})
				}
				if err != nil {
					t.Fatal(err)
				}
				if ids[0] != c.want {
					t.Errorf("together %v: got seat %d (%s), want %d (%s)", together, ids[0], tr.Seat(ids[0]).Label, c.want, tr.Seat(c.want).Label)
				}
				mustCheck(t, tr)
			}
		})
	}
}

// The elderly passenger is listed second but gets the one free lower berth.
func TestPreferInAGroup(t *testing.T) {
	tr := carsTrain(t, 3, "YW")
	mark(t, tr, lowersExcept(tr, 66, 9))
	ids, err := tr.Allocate([]seats.Request{
		{Kind: hard, AnyBerth: true, From: 0, To: 2},
		{Kind: hard, AnyBerth: true, From: 0, To: 2, Prefer: []network.Berth{network.Lower}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ids[1] != 9 || ids[0] == 9 {
		t.Errorf("ids = %v, want the elderly passenger in seat 9", ids)
	}
	mustCheck(t, tr)
}

func TestAllocateTogether(t *testing.T) {
	any3 := func(n, from, to int) []seats.Request {
		out := make([]seats.Request, n)
		for i := range out {
			out[i] = seats.Request{Kind: hard, AnyBerth: true, From: from, To: to}
		}
		return out
	}
	allSold := func(ids ...seats.SeatID) map[seats.SeatID]seats.Legs {
		out := map[seats.SeatID]seats.Legs{}
		for _, id := range ids {
			out[id] = seats.Span(0, 2)
		}
		return out
	}
	// Four berths of every compartment of car 1 sold, the two lowers left.
	fourOfSix := map[seats.SeatID]seats.Legs{}
	for c := range seats.SeatID(11) {
		for _, b := range []seats.SeatID{1, 2, 4, 5} {
			fourOfSix[6*c+b] = seats.Span(0, 2)
		}
	}
	// Car 1 full but for 02U (compartment 1) and 03L (compartment 2).
	twoLeft := allSold()
	for id := range seats.SeatID(66) {
		if id != 5 && id != 6 {
			twoLeft[id] = seats.Span(0, 2)
		}
	}
	window := seats.Request{Kind: second, From: 0, To: 2, Letters: "AF"}
	elderly := seats.Request{Kind: hard, AnyBerth: true, From: 0, To: 2, Prefer: []network.Berth{network.Lower}}
	for _, c := range []struct {
		name  string
		cars  []string
		sold  map[seats.SeatID]seats.Legs
		reqs  []seats.Request
		want  []seats.SeatID
		check func(t *testing.T, tr *seats.Train, ids []seats.SeatID)
	}{
		{name: "one compartment", cars: []string{"YW", "YW"}, reqs: any3(3, 0, 2), want: []seats.SeatID{0, 1, 2}},
		{name: "six need a whole compartment", cars: []string{"YW"}, sold: allSold(0), reqs: any3(6, 0, 2), want: []seats.SeatID{6, 7, 8, 9, 10, 11}},
		{
			name: "best-fitting compartment", cars: []string{"YW"},
			sold: map[seats.SeatID]seats.Legs{12: seats.Span(1, 2), 13: seats.Span(1, 2), 1: seats.Span(1, 2)},
			reqs: any3(2, 0, 1), want: []seats.SeatID{12, 13},
		},
		{name: "spills to the next compartment", cars: []string{"YW"}, sold: fourOfSix, reqs: any3(3, 0, 2), want: []seats.SeatID{0, 3, 6}},
		{name: "one compartment of another car beats two adjacent ones", cars: []string{"YW", "YW"}, sold: twoLeft, reqs: any3(2, 0, 2), want: []seats.SeatID{66, 67}},
		{name: "two adjacent compartments of one car", cars: []string{"YW"}, sold: twoLeft, reqs: any3(2, 0, 2), want: []seats.SeatID{5, 6}},
		{name: "window seats of a row", cars: []string{"ZE"}, reqs: []seats.Request{window, window}, want: []seats.SeatID{0, 4}},
		{name: "window seats of two rows", cars: []string{"ZE"}, reqs: []seats.Request{window, window, window}, want: []seats.SeatID{0, 4, 5}},
		{
			name: "a free lower decides the compartment", cars: []string{"YW"}, sold: allSold(0, 3),
			reqs: []seats.Request{any3(1, 0, 2)[0], elderly}, want: []seats.SeatID{7, 6},
		},
		{
			name: "prefer within the compartment", cars: []string{"YW"},
			reqs: []seats.Request{any3(1, 0, 2)[0], any3(1, 0, 2)[0], elderly}, want: []seats.SeatID{1, 2, 0},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := carsTrain(t, 3, c.cars...)
			mark(t, tr, c.sold)
			ids, err := tr.AllocateTogether(c.reqs)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids, c.want) {
				t.Errorf("ids = %v, want %v", ids, c.want)
			}
			for i, id := range ids {
				if span := seats.Span(c.reqs[i].From, c.reqs[i].To); tr.Sold(id)&span != span {
					t.Errorf("seat %d not sold for request %d", id, i)
				}
			}
			mustCheck(t, tr)
		})
	}
}

func TestNotTogether(t *testing.T) {
	info := []seats.SeatInfo{
		{Car: 1, Label: "01A", Kind: second, Group: 1, Letter: "A"},
		{Car: 2, Label: "01A", Kind: second, Group: 1, Letter: "A"},
		{Car: 3, Label: "01A", Kind: second}, // no group
		{Car: 3, Label: "02A", Kind: second},
	}
	tr, err := seats.NewTrain(3, info)
	if err != nil {
		t.Fatal(err)
	}
	before := stateOf(tr)
	two := []seats.Request{req(second, 0, 2), req(second, 0, 2)}
	_, err = tr.AllocateTogether(two)
	if !errors.Is(err, seats.ErrNotTogether) || errors.Is(err, seats.ErrSoldOut) {
		t.Fatalf("err = %v, want ErrNotTogether only", err)
	}
	unchanged(t, tr, before)
	// Window seats: only seats 0 and 1, in two cars.
	w := seats.Request{Kind: second, From: 0, To: 2, Letters: "A"}
	if _, err := tr.AllocateTogether([]seats.Request{w, w}); !errors.Is(err, seats.ErrNotTogether) {
		t.Errorf("window pair: %v", err)
	}
	_, err = tr.AllocateTogether([]seats.Request{w, req(second, 0, 1), w, w})
	var so seats.SoldOutError
	if !errors.As(err, &so) || errors.Is(err, seats.ErrNotTogether) || so.Index != 3 {
		t.Errorf("three window seats: %v, want a SoldOutError for request 3", err)
	}
	if _, err = tr.AllocateTogether(append(two, two...)); !errors.Is(err, seats.ErrNotTogether) {
		t.Errorf("four seats in three cars: %v", err)
	}
	unchanged(t, tr, before)
	// A party of one is seated as Allocate seats it, groupless seats too.
	c := tr.Clone()
	a, err1 := tr.AllocateTogether([]seats.Request{req(second, 0, 2)})
	b, err2 := c.Allocate([]seats.Request{req(second, 0, 2)})
	if err1 != nil || err2 != nil || !slices.Equal(a, b) {
		t.Errorf("party of one: %v %v, Allocate %v %v", a, err1, b, err2)
	}
}

// At the fewest adjacent groups, a full group in between is skipped.
func TestTogetherSkipsAFullGroup(t *testing.T) {
	var info []seats.SeatInfo
	for car := 1; car <= 2; car++ {
		for g := 1; g <= 3; g++ {
			info = append(info, seats.SeatInfo{Car: car, Label: "x", Kind: second, Group: g})
		}
	}
	tr, err := seats.NewTrain(2, info)
	if err != nil {
		t.Fatal(err)
	}
	mark(t, tr, map[seats.SeatID]seats.Legs{1: seats.Span(0, 1), 3: seats.Span(0, 1), 5: seats.Span(0, 1)})
	// Car 1 has groups 1 and 3 free (span 2), car 2 group 2 only.
	ids, err := tr.AllocateTogether([]seats.Request{req(second, 0, 1), req(second, 0, 1)})
	if err != nil || !slices.Equal(ids, []seats.SeatID{0, 2}) {
		t.Errorf("ids = %v, %v", ids, err)
	}
	mustCheck(t, tr)
}
