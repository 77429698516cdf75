package seats

import (
	"fmt"
	"math"
	"math/bits"

	"piao/internal/network"
)

// Request asks for one seat for one passenger from stop From to stop To.
type Request struct {
	// Kind is the kind of seat wanted.
	Kind Kind `json:"kind"`
	// AnyBerth says any berth position of Kind.Class will do (Kind.Berth is
	// then ignored). It is meant for sleeper classes; for seated classes it
	// changes nothing.
	AnyBerth bool `json:"any_berth,omitempty"`
	// From and To are the stop indexes of the journey, From < To.
	From int `json:"from"`
	To   int `json:"to"`
	// Letters, if not empty, is a hard constraint: only a seat whose Letter
	// is one of its characters will do ("AF", a window seat in second class;
	// see WindowLetters and AisleLetters).
	Letters string `json:"letters,omitempty"`
	// Prefer is a soft constraint for an AnyBerth request: berth positions
	// to try first, best first (network.Lower for a passenger aged 60 or
	// more). If none of them is free the request takes any berth of its
	// class; positions its class does not have are ignored, and so is Prefer
	// for a request that is not AnyBerth.
	Prefer []network.Berth `json:"prefer,omitempty"`
}

// SoldOutError is the error Allocate returns when a group cannot be seated:
// Index is the first request (in the order given) found without a seat, Kind
// what it asked for (with Berth "" if it accepted any berth). It matches
// ErrSoldOut under errors.Is.
type SoldOutError struct {
	Index int
	Kind  Kind
}

// Error describes the request that could not be seated.
func (e SoldOutError) Error() string {
	return fmt.Sprintf("seats: sold out: request %d (%v)", e.Index, e.Kind)
}

// Is reports whether target is ErrSoldOut.
func (e SoldOutError) Is(target error) bool { return target == ErrSoldOut }

func soldOut(i int, r Request) error {
	k := r.Kind
	if r.AnyBerth {
		k.Berth = ""
	}
	return SoldOutError{Index: i, Kind: k}
}

// accepts returns the kinds of the train request r accepts, as a bit mask
// over t.kinds.
func (t *Train) accepts(r *Request) uint16 {
	if r.AnyBerth {
		return t.classMask(r.Kind.Class)
	}
	if ki := t.kindIndex(r.Kind); ki >= 0 {
		return 1 << uint(ki)
	}
	return 0
}

// validate checks request i against the train and returns the kinds it
// accepts.
func (t *Train) validate(i int, r *Request) (uint16, error) {
	if r.From < 0 || r.From >= r.To || r.To >= t.stops {
		return 0, fmt.Errorf("%w: request %d: journey from stop %d to %d on a train with stops 0..%d", ErrBadRequest, i, r.From, r.To, t.stops-1)
	}
	m := t.accepts(r)
	if m != 0 {
		return m, nil
	}
	if r.AnyBerth {
		return 0, fmt.Errorf("%w: request %d: the train has no %s", ErrBadRequest, i, r.Kind.Class)
	}
	return 0, fmt.Errorf("%w: request %d: the train has no %v", ErrBadRequest, i, r.Kind)
}

// available returns how many seats of the kinds in mask are free on
// [from,to).
func (t *Train) available(mask uint16, from, to int) int {
	n := 0
	for ; mask != 0; mask &= mask - 1 {
		n += int(t.kinds[bits.TrailingZeros16(mask)].counts[from*t.stops+to])
	}
	return n
}

// bestSeat returns the best-fitting seat of the kinds in mask free on
// [from,to), if there is one.
func (t *Train) bestSeat(mask uint16, from, to int) (SeatID, bool) {
	cur, ok := fit{length: math.MaxInt, id: -1}, false
	for ; mask != 0; mask &= mask - 1 {
		if f, better := t.kinds[bits.TrailingZeros16(mask)].best(from, to, cur); better {
			cur, ok = f, true
		}
	}
	return cur.id, ok
}

// Allocate seats a group of passengers, one seat per request, atomically:
// either every request gets a distinct seat free on its whole journey and
// those legs are sold, or nothing changes and the error says why — a
// SoldOutError (errors.Is ErrSoldOut) naming the first request that could not
// be seated, or ErrBadRequest for a journey or kind the train does not have.
// The returned seats are in request order.
//
// Each passenger gets the best-fitting seat: of the seats free on the
// journey, the one whose free run containing the journey (the maximal stretch
// of free legs around it) is shortest, so long free stretches stay whole for
// long journeys; then one whose journey starts and ends at a sold leg or an
// end of the train (an exact fit is always shortest, so this separates runs
// of equal length that the journey touches on one side from those it
// touches on none); then the lowest SeatID. A completely free seat has the
// longest run, so partly sold seats that fit are used first. A group is
// seated most constrained first (specific berths before any-berth requests,
// longer journeys before shorter). If that greedy pass fails but distinct
// seats exist, a bipartite matching finds them (seats then are not chosen
// by fit); so Allocate fails only if no assignment exists.
//
// Finding a seat costs O(stops) and selling it O(stops) plus the number of
// counters that change, whatever the number of seats.
//
// If any request has Letters, or an AnyBerth request has Prefer, the group
// takes a slower path, O(seats of the kinds asked for) per request, with the
// same guarantees: every seat has one of its request's Letters; an AnyBerth
// request gets a berth of the first position in Prefer that is free on its
// journey, else any berth, and best fit among those; requests with the
// fewest best candidates choose first, and a matching that tries better
// candidates first backs up the greedy pass, so Allocate still fails only if
// no assignment meeting the Letters exists. Letters that no seat of the kinds
// asked for has, free or not, are ErrBadRequest.
func (t *Train) Allocate(reqs []Request) ([]SeatID, error) {
	if len(reqs) == 0 {
		return nil, fmt.Errorf("%w: no passengers", ErrBadRequest)
	}
	if len(reqs) == 1 {
		r := &reqs[0]
		mask, err := t.validate(0, r)
		if err != nil {
			return nil, err
		}
		if r.constrained() {
			return t.allocateSlow(reqs, []uint16{mask})
		}
		id, ok := t.bestSeat(mask, r.From, r.To)
		if !ok {
			return nil, soldOut(0, *r)
		}
		t.set(id, t.sold[id]|Span(r.From, r.To))
		return []SeatID{id}, nil
	}

	masks := t.masks[:0]
	slow := false
	for i := range reqs {
		m, err := t.validate(i, &reqs[i])
		if err != nil {
			return nil, err
		}
		masks = append(masks, m)
		slow = slow || reqs[i].constrained()
	}
	t.masks = masks
	if slow {
		return t.allocateSlow(reqs, masks)
	}
	for i := range reqs {
		if t.available(masks[i], reqs[i].From, reqs[i].To) == 0 {
			return nil, soldOut(i, reqs[i])
		}
	}
	// Most constrained first: specific kinds, then longer journeys; ties keep
	// request order (insertion sort, groups are small).
	order := t.order[:0]
	for i := range reqs {
		order = append(order, i)
		for j := len(order) - 1; j > 0 && harder(&reqs[order[j]], &reqs[order[j-1]]); j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	t.order = order
	// Each chosen seat is held on every leg until the group is seated, so no
	// two passengers share a seat even on disjoint journeys.
	out := make([]SeatID, len(reqs))
	prev := t.prev[:0]
	for n, i := range order {
		id, ok := t.bestSeat(masks[i], reqs[i].From, reqs[i].To)
		if !ok {
			for m, j := range order[:n] {
				t.set(out[j], prev[m])
			}
			t.prev = prev
			return t.match(reqs, masks)
		}
		prev = append(prev, t.sold[id])
		t.set(id, t.all)
		out[i] = id
	}
	for m, i := range order {
		t.set(out[i], prev[m]|Span(reqs[i].From, reqs[i].To))
	}
	t.prev = prev
	return out, nil
}

// harder reports whether a must be seated before b.
func harder(a, b *Request) bool {
	if a.AnyBerth != b.AnyBerth {
		return !a.AnyBerth
	}
	return a.To-a.From > b.To-b.From
}

// match seats a group the greedy pass could not, by bipartite matching of
// requests to free seats, and sells them; or reports the first request that
// cannot be seated. It is only reached when seats are short, so it favours
// simplicity over speed.
func (t *Train) match(reqs []Request, masks []uint16) ([]SeatID, error) {
	n := len(reqs)
	// A request with n candidates can always be seated whatever the others
	// take, so n candidates per request are enough.
	cand := make([][]SeatID, n)
	for i := range reqs {
		r := &reqs[i]
		span := Span(r.From, r.To)
	kinds:
		for m := masks[i]; m != 0; m &= m - 1 {
			for _, id := range t.kinds[bits.TrailingZeros16(m)].seats {
				if t.sold[id]&span == 0 {
					cand[i] = append(cand[i], id)
					if len(cand[i]) == n {
						break kinds
					}
				}
			}
		}
	}
	owner := map[SeatID]int{}
	var augment func(i int, seen map[SeatID]bool) bool
	augment = func(i int, seen map[SeatID]bool) bool {
		for _, id := range cand[i] {
			if seen[id] {
				continue
			}
			seen[id] = true
			if j, taken := owner[id]; !taken || augment(j, seen) {
				owner[id] = i
				return true
			}
		}
		return false
	}
	for i := range reqs {
		if !augment(i, map[SeatID]bool{}) {
			return nil, soldOut(i, reqs[i])
		}
	}
	out := make([]SeatID, n)
	for id, i := range owner {
		out[i] = id
	}
	for i, id := range out {
		t.set(id, t.sold[id]|Span(reqs[i].From, reqs[i].To))
	}
	return out, nil
}
