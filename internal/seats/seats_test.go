package seats_test

import (
	"errors"
	"slices"
	"testing"

	"piao/internal/network"
	"piao/internal/seats"
)

var (
	second = seats.Kind{Class: network.SecondClass}
	first  = seats.Kind{Class: network.FirstClass}
	lower  = seats.Kind{Class: network.HardSleeper, Berth: network.Lower}
	middle = seats.Kind{Class: network.HardSleeper, Berth: network.Middle}
	upper  = seats.Kind{Class: network.HardSleeper, Berth: network.Upper}
)

// train builds a train of the given kinds, one seat each, labelled by index.
func train(t testing.TB, stops int, kinds ...seats.Kind) *seats.Train {
	t.Helper()
	info := make([]seats.SeatInfo, len(kinds))
	for i, k := range kinds {
		info[i] = seats.SeatInfo{Car: 1, Label: string(rune('A' + i)), Kind: k}
	}
	tr, err := seats.NewTrain(stops, info)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func mustCheck(t testing.TB, tr *seats.Train) {
	t.Helper()
	if err := tr.Check(); err != nil {
		t.Fatal(err)
	}
}

func req(k seats.Kind, from, to int) seats.Request {
	return seats.Request{Kind: k, From: from, To: to}
}

func TestSpan(t *testing.T) {
	for _, c := range []struct {
		from, to int
		want     seats.Legs
	}{
		{0, 1, 0b1}, {0, 3, 0b111}, {2, 4, 0b1100}, {1, 1, 0}, {3, 2, 0}, {-1, 2, 0}, {0, 63, 1<<63 - 1}, {62, 63, 1 << 62}, {0, 64, 0},
	} {
		if got := seats.Span(c.from, c.to); got != c.want {
			t.Errorf("Span(%d, %d) = %b, want %b", c.from, c.to, got, c.want)
		}
	}
	if s := seats.Legs(0b1011101).String(); s != "{0,2-4,6}" {
		t.Errorf("String = %s", s)
	}
}

func TestNewTrain(t *testing.T) {
	for _, c := range []struct {
		name  string
		stops int
		info  []seats.SeatInfo
		ok    bool
	}{
		{"one stop", 1, nil, false},
		{"64 stops", 64, []seats.SeatInfo{{Kind: second}}, true},
		{"65 stops", 65, []seats.SeatInfo{{Kind: second}}, false},
		{"no seats", 3, nil, true},
		{"bad class", 3, []seats.SeatInfo{{Kind: seats.Kind{Class: "third"}}}, false},
		{"berth on a seat", 3, []seats.SeatInfo{{Kind: seats.Kind{Class: network.SecondClass, Berth: network.Lower}}}, false},
		{"sleeper without berth", 3, []seats.SeatInfo{{Kind: seats.Kind{Class: network.HardSleeper}}}, false},
		{"soft sleeper has no middle", 3, []seats.SeatInfo{{Kind: seats.Kind{Class: network.SoftSleeper, Berth: network.Middle}}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr, err := seats.NewTrain(c.stops, c.info)
			if (err == nil) != c.ok {
				t.Fatalf("err = %v, want ok %v", err, c.ok)
			}
			if err != nil {
				if !errors.Is(err, seats.ErrBadRequest) {
					t.Errorf("err %v is not ErrBadRequest", err)
				}
				return
			}
			mustCheck(t, tr)
			if tr.Stops() != c.stops || tr.Len() != len(c.info) {
				t.Errorf("Stops %d Len %d", tr.Stops(), tr.Len())
			}
		})
	}
}

// Nanchang(0) → Jiujiang(1) → Beijing West(2): a seat sold Nanchang→Jiujiang
// is free again from Jiujiang.
func TestNanchangJiujiang(t *testing.T) {
	tr := train(t, 3, second)
	ids, err := tr.Allocate([]seats.Request{req(second, 0, 1)})
	if err != nil || !slices.Equal(ids, []seats.SeatID{0}) {
		t.Fatalf("Allocate = %v, %v", ids, err)
	}
	if got := tr.Sold(0); got != seats.Span(0, 1) {
		t.Errorf("Sold = %v", got)
	}
	for _, c := range []struct{ from, to, want int }{{0, 1, 0}, {0, 2, 0}, {1, 2, 1}} {
		if got := tr.Available(second, c.from, c.to); got != c.want {
			t.Errorf("Available(%d→%d) = %d, want %d", c.from, c.to, got, c.want)
		}
	}
	if !tr.Free(0, 1, 2) || tr.Free(0, 0, 2) {
		t.Error("Free is wrong")
	}
	if _, err := tr.Allocate([]seats.Request{req(second, 0, 2)}); !errors.Is(err, seats.ErrSoldOut) {
		t.Errorf("Nanchang→Beijing: err = %v, want sold out", err)
	}
	ids, err = tr.Allocate([]seats.Request{req(second, 1, 2)})
	if err != nil || !slices.Equal(ids, []seats.SeatID{0}) {
		t.Fatalf("Jiujiang→Beijing = %v, %v", ids, err)
	}
	if tr.Sold(0) != seats.Span(0, 2) || tr.Available(second, 1, 2) != 0 {
		t.Errorf("Sold = %v", tr.Sold(0))
	}
	mustCheck(t, tr)
	if err := tr.Release(0, seats.Span(0, 1)); err != nil {
		t.Fatal(err)
	}
	if tr.Available(second, 0, 1) != 1 || tr.Available(second, 0, 2) != 0 {
		t.Error("release of Nanchang→Jiujiang not counted")
	}
	mustCheck(t, tr)
}

func TestBestFit(t *testing.T) {
	for _, c := range []struct {
		name  string
		stops int
		kinds []seats.Kind
		sold  map[seats.SeatID]seats.Legs
		req   seats.Request
		want  seats.SeatID
	}{
		{
			name: "exact fit beats longer runs", stops: 4, kinds: []seats.Kind{second, second, second},
			sold: map[seats.SeatID]seats.Legs{1: seats.Span(2, 3), 2: seats.Span(1, 2)},
			req:  req(second, 0, 1), want: 2,
		},
		{
			name: "shorter run beats a free seat", stops: 4, kinds: []seats.Kind{second, second, second},
			sold: map[seats.SeatID]seats.Legs{1: seats.Span(2, 3), 2: seats.Span(1, 2)},
			req:  req(second, 0, 2), want: 1,
		},
		{
			name: "free seat when nothing partly sold fits", stops: 4, kinds: []seats.Kind{second, second, second},
			sold: map[seats.SeatID]seats.Legs{1: seats.Span(2, 3), 2: seats.Span(1, 2)},
			req:  req(second, 1, 3), want: 0,
		},
		{
			// Both runs are three legs; seat 1's starts where the journey does.
			name: "touching beats not touching", stops: 5, kinds: []seats.Kind{second, second},
			sold: map[seats.SeatID]seats.Legs{0: seats.Span(3, 4), 1: seats.Span(0, 1)},
			req:  req(second, 1, 2), want: 1,
		},
		{
			name: "lowest seat on a tie", stops: 5, kinds: []seats.Kind{second, second, second},
			sold: map[seats.SeatID]seats.Legs{1: seats.Span(2, 3), 2: seats.Span(2, 3)},
			req:  req(second, 0, 1), want: 1,
		},
		{
			name: "other kinds are ignored", stops: 3, kinds: []seats.Kind{second, first, second},
			sold: map[seats.SeatID]seats.Legs{1: seats.Span(1, 2)},
			req:  req(second, 0, 1), want: 0,
		},
		{
			name: "any berth takes the tightest berth", stops: 4, kinds: []seats.Kind{lower, middle, upper},
			sold: map[seats.SeatID]seats.Legs{0: seats.Span(0, 1), 2: seats.Span(0, 1) | seats.Span(2, 3)},
			req:  seats.Request{Kind: seats.Kind{Class: network.HardSleeper}, AnyBerth: true, From: 1, To: 2}, want: 2,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := train(t, c.stops, c.kinds...)
			for id, legs := range c.sold {
				if err := tr.Mark(id, legs); err != nil {
					t.Fatal(err)
				}
			}
			ids, err := tr.Allocate([]seats.Request{c.req})
			if err != nil {
				t.Fatal(err)
			}
			if ids[0] != c.want {
				t.Errorf("got seat %d, want %d", ids[0], c.want)
			}
			mustCheck(t, tr)
		})
	}
}

func TestAllocateAtomic(t *testing.T) {
	for _, c := range []struct {
		name  string
		kinds []seats.Kind
		reqs  []seats.Request
		index int
		kind  seats.Kind
	}{
		{"last passenger has no seat", []seats.Kind{second, second}, []seats.Request{req(second, 0, 2), req(second, 0, 1), req(second, 1, 2)}, 2, second},
		{"last passenger's class is sold out", []seats.Kind{second, second, first}, []seats.Request{req(second, 0, 2), req(first, 0, 2), req(first, 0, 1)}, 2, first},
		{"any berth sold out", []seats.Kind{lower, upper}, []seats.Request{req(lower, 0, 1), {Kind: lower, AnyBerth: true, From: 0, To: 2}, {Kind: upper, AnyBerth: true, From: 1, To: 2}}, 2, seats.Kind{Class: network.HardSleeper}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := train(t, 3, c.kinds...)
			before := tr.Recount()
			_, err := tr.Allocate(c.reqs)
			var so seats.SoldOutError
			if !errors.Is(err, seats.ErrSoldOut) || !errors.As(err, &so) {
				t.Fatalf("err = %v, want a SoldOutError", err)
			}
			if so.Index != c.index || so.Kind != c.kind {
				t.Errorf("SoldOutError = %+v, want index %d kind %v", so, c.index, c.kind)
			}
			for id := range tr.Len() {
				if tr.Sold(seats.SeatID(id)) != 0 {
					t.Errorf("seat %d left sold: %v", id, tr.Sold(seats.SeatID(id)))
				}
			}
			for _, k := range tr.Kinds() {
				if !slices.Equal(tr.Counts(k), before[k]) {
					t.Errorf("%v counts changed", k)
				}
			}
			mustCheck(t, tr)
		})
	}
}

func TestAllocateGroup(t *testing.T) {
	tr := train(t, 3, second, second, second, first)
	ids, err := tr.Allocate([]seats.Request{req(second, 0, 2), req(first, 0, 1), req(second, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []seats.SeatID{0, 3, 1}) {
		t.Errorf("ids = %v", ids)
	}
	mustCheck(t, tr)
}

// The greedy pass seats the first passenger in seat 0 (a tie broken by
// SeatID), which is the only seat the second can use; the matching fallback
// swaps them.
func TestAllocateNeedsMatching(t *testing.T) {
	tr := train(t, 5, second, second)
	if err := tr.Mark(0, seats.Span(3, 4)); err != nil {
		t.Fatal(err)
	}
	if err := tr.Mark(1, seats.Span(0, 1)); err != nil {
		t.Fatal(err)
	}
	ids, err := tr.Allocate([]seats.Request{req(second, 1, 3), req(second, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []seats.SeatID{1, 0}) {
		t.Errorf("ids = %v, want [1 0]", ids)
	}
	mustCheck(t, tr)
}

func TestAnyBerth(t *testing.T) {
	tr := train(t, 3, lower, middle, upper, lower)
	hard := seats.Kind{Class: network.HardSleeper}
	if got := tr.AvailableClass(network.HardSleeper, 0, 2); got != 4 {
		t.Errorf("AvailableClass = %d", got)
	}
	ids, err := tr.Allocate([]seats.Request{req(lower, 0, 2), req(lower, 0, 2)})
	if err != nil || !slices.Equal(ids, []seats.SeatID{0, 3}) {
		t.Fatalf("lowers = %v, %v", ids, err)
	}
	if _, err := tr.Allocate([]seats.Request{req(lower, 0, 1)}); !errors.Is(err, seats.ErrSoldOut) {
		t.Errorf("third lower: %v", err)
	}
	ids, err = tr.Allocate([]seats.Request{{Kind: lower, AnyBerth: true, From: 0, To: 1}, {Kind: hard, AnyBerth: true, From: 1, To: 2}})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if k := tr.Seat(id).Kind; k.Class != network.HardSleeper || k.Berth == network.Lower {
			t.Errorf("any berth got seat %d %v", id, k)
		}
	}
	if got := tr.AvailableClass(network.HardSleeper, 0, 2); got != 0 {
		t.Errorf("AvailableClass = %d", got)
	}
	if _, err := tr.Allocate([]seats.Request{{Kind: seats.Kind{Class: network.SoftSleeper}, AnyBerth: true, From: 0, To: 1}}); !errors.Is(err, seats.ErrBadRequest) {
		t.Errorf("soft sleeper on a train without: %v", err)
	}
	mustCheck(t, tr)
}

func TestAllocateBadRequest(t *testing.T) {
	tr := train(t, 3, second)
	for _, r := range [][]seats.Request{
		nil,
		{req(second, 1, 1)},
		{req(second, 2, 1)},
		{req(second, -1, 1)},
		{req(second, 0, 3)},
		{req(first, 0, 1)},
		{req(second, 0, 1), req(lower, 0, 1)},
	} {
		if _, err := tr.Allocate(r); !errors.Is(err, seats.ErrBadRequest) {
			t.Errorf("Allocate(%v) = %v, want ErrBadRequest", r, err)
		}
	}
	if tr.Sold(0) != 0 {
		t.Error("a bad request sold a seat")
	}
}

func TestMarkRelease(t *testing.T) {
	tr := train(t, 4, second, second)
	steps := []struct {
		name    string
		release bool
		id      seats.SeatID
		legs    seats.Legs
		err     error
	}{
		{"sell", false, 0, seats.Span(0, 2), nil},
		{"double sell", false, 0, seats.Span(1, 3), seats.ErrAlreadySold},
		{"sell the rest", false, 0, seats.Span(2, 3), nil},
		{"sell apart", false, 1, seats.Span(0, 1) | seats.Span(2, 3), nil},
		{"release unsold", true, 1, seats.Span(0, 2), seats.ErrNotSold},
		{"release part", true, 0, seats.Span(1, 2), nil},
		{"release again", true, 0, seats.Span(1, 2), seats.ErrNotSold},
		{"no legs", false, 0, 0, seats.ErrBadRequest},
		{"legs beyond the train", false, 1, seats.Span(3, 4), seats.ErrBadRequest},
		{"no such seat", false, 2, seats.Span(0, 1), seats.ErrBadRequest},
		{"negative seat", true, -1, seats.Span(0, 1), seats.ErrBadRequest},
	}
	want := map[seats.SeatID]seats.Legs{}
	for _, s := range steps {
		var err error
		if s.release {
			err = tr.Release(s.id, s.legs)
		} else {
			err = tr.Mark(s.id, s.legs)
		}
		if s.err == nil && err != nil || s.err != nil && !errors.Is(err, s.err) {
			t.Fatalf("%s: err = %v, want %v", s.name, err, s.err)
		}
		if err == nil {
			if s.release {
				want[s.id] &^= s.legs
			} else {
				want[s.id] |= s.legs
			}
		}
		for id := seats.SeatID(0); id < 2; id++ {
			if tr.Sold(id) != want[id] {
				t.Fatalf("%s: seat %d sold %v, want %v", s.name, id, tr.Sold(id), want[id])
			}
		}
		mustCheck(t, tr)
	}
}

func TestClone(t *testing.T) {
	tr := train(t, 3, second, second)
	if _, err := tr.Allocate([]seats.Request{req(second, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	c := tr.Clone()
	if _, err := c.Allocate([]seats.Request{req(second, 0, 2), req(second, 1, 2)}); err != nil {
		t.Fatal(err)
	}
	if tr.Available(second, 1, 2) != 2 || c.Available(second, 1, 2) != 0 {
		t.Errorf("clone shares state: %d %d", tr.Available(second, 1, 2), c.Available(second, 1, 2))
	}
	if tr.Sold(1) != 0 {
		t.Error("clone sold a seat of the original")
	}
	mustCheck(t, tr)
	mustCheck(t, c)
}

func TestCountsLayout(t *testing.T) {
	tr := train(t, 3, second, second)
	if err := tr.Mark(0, seats.Span(1, 2)); err != nil {
		t.Fatal(err)
	}
	want := []int32{0, 2, 1, 0, 0, 1, 0, 0, 0}
	if got := tr.Counts(second); !slices.Equal(got, want) {
		t.Errorf("Counts = %v, want %v", got, want)
	}
	if got := tr.Recount()[second]; !slices.Equal(got, want) {
		t.Errorf("Recount = %v, want %v", got, want)
	}
	if tr.Counts(first) != nil {
		t.Error("Counts of an absent kind")
	}
	if got := tr.Kinds(); !slices.Equal(got, []seats.Kind{second}) {
		t.Errorf("Kinds = %v", got)
	}
}

func TestSeatsFromCars(t *testing.T) {
	info, err := seats.SeatsFromCars([]network.Car{{No: 5, CarType: "RW"}, {No: 6, CarType: "ZE"}}, network.StandardCarTypes())
	if err != nil {
		t.Fatal(err)
	}
	if len(info) != 36+90 {
		t.Fatalf("%d seats", len(info))
	}
	for i, want := range map[int]seats.SeatInfo{
		0:       {Car: 5, Label: "01L", Kind: seats.Kind{Class: network.SoftSleeper, Berth: network.Lower}, Group: 1},
		4:       {Car: 5, Label: "03L", Kind: seats.Kind{Class: network.SoftSleeper, Berth: network.Lower}, Group: 2},
		35:      {Car: 5, Label: "18U", Kind: seats.Kind{Class: network.SoftSleeper, Berth: network.Upper}, Group: 9},
		36:      {Car: 6, Label: "01A", Kind: second, Group: 1, Letter: "A"},
		36 + 9:  {Car: 6, Label: "02F", Kind: second, Group: 2, Letter: "F"},
		36 + 89: {Car: 6, Label: "18F", Kind: second, Group: 18, Letter: "F"},
	} {
		if info[i] != want {
			t.Errorf("seat %d = %+v, want %+v", i, info[i], want)
		}
	}
	if _, err := seats.SeatsFromCars([]network.Car{{No: 1, CarType: "XX"}}, network.StandardCarTypes()); err == nil {
		t.Error("unknown car type accepted")
	}
}
