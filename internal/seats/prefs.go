package seats

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"unicode/utf8"

	"piao/internal/network"
)

// WindowLetters returns the letters of the window seats of a seated class in
// the standard layouts (network.StandardCarTypes): "AF" for second, first and
// business class, "" (no constraint, as Letters) for any other class.
func WindowLetters(class network.SeatClass) string {
	switch class {
	case network.SecondClass, network.FirstClass, network.Business:
		return "AF"
	}
	return ""
}

// AisleLetters returns the letters of the aisle seats of a seated class in
// the standard layouts: "CD" for second and first class, "C" for business
// class, "" (no constraint, as Letters) for any other class.
func AisleLetters(class network.SeatClass) string {
	switch class {
	case network.SecondClass, network.FirstClass:
		return "CD"
	case network.Business:
		return "C"
	}
	return ""
}

// constrained reports whether r has a preference, so its group must take
// the slower path.
func (r *Request) constrained() bool {
	return r.Letters != "" || r.AnyBerth && len(r.Prefer) > 0
}

// letterOK reports whether a seat with the given letter meets a request's
// Letters.
func letterOK(letters, letter string) bool {
	return letters == "" || letter != "" && utf8.RuneCountInString(letter) == 1 && strings.Contains(letters, letter)
}

// tier returns how far down r's Prefer the berth of seat id is: its index
// there, len(r.Prefer) if it is not there, 0 for a request that is not
// AnyBerth.
func (t *Train) tier(r *Request, id SeatID) int {
	if !r.AnyBerth {
		return 0
	}
	b := t.info[id].Kind.Berth
	for i, p := range r.Prefer {
		if p == b {
			return i
		}
	}
	return len(r.Prefer)
}

// fitOf returns how seat id, which must be free on [from,to), fits that
// journey.
func (t *Train) fitOf(id SeatID, from, to int) fit {
	sold := t.sold[id]
	l := 64 - bits.LeadingZeros64(uint64(sold)&(uint64(1)<<uint(from)-1))
	r := t.nextSold(sold, to)
	f := fit{length: r - l, id: id}
	if l == from {
		f.touch++
	}
	if r == to {
		f.touch++
	}
	return f
}

// cand is a seat a request can take: its tier in the request's Prefer and
// its fit.
type cand struct {
	tier int
	fit
}

// better reports whether a suits its request better than b: a more
// preferred berth, then a better fit.
func (a cand) better(b cand) bool {
	if a.tier != b.tier {
		return a.tier < b.tier
	}
	return a.fit.better(b.fit)
}

// choice is what one request of a group can take.
type choice struct {
	top   []cand // the best min(n, count) candidates, best first
	count int    // number of candidates
	tier  int    // best tier among them
	best  int    // number of candidates of that tier
}

// add records candidate x, keeping the best n.
func (c *choice) add(x cand, n int) {
	c.count++
	switch {
	case c.count == 1 || x.tier < c.tier:
		c.tier, c.best = x.tier, 1
	case x.tier == c.tier:
		c.best++
	}
	switch {
	case len(c.top) < n:
		c.top = append(c.top, x)
	case x.better(c.top[n-1]):
		c.top[n-1] = x
	default:
		return
	}
	for i := len(c.top) - 1; i > 0 && c.top[i].better(c.top[i-1]); i-- {
		c.top[i], c.top[i-1] = c.top[i-1], c.top[i]
	}
}

// score rates the seats found for a group: the sum of their tiers (how many
// preferences were missed, and by how far), then the sum of their free-run
// lengths, then of their touching ends (more is better), then the lowest
// seat.
type score struct {
	tier, length, touch int
	low                 SeatID
}

// better reports whether a is a better score than b.
func (a score) better(b score) bool {
	switch {
	case a.tier != b.tier:
		return a.tier < b.tier
	case a.length != b.length:
		return a.length < b.length
	case a.touch != b.touch:
		return a.touch > b.touch
	}
	return a.low < b.low
}

// consider adds seat id to request r's choice if it may take it.
func (t *Train) consider(c *choice, r *Request, id SeatID, n int) {
	if t.sold[id]&Span(r.From, r.To) != 0 || !letterOK(r.Letters, t.info[id].Letter) {
		return
	}
	c.add(cand{tier: t.tier(r, id), fit: t.fitOf(id, r.From, r.To)}, n)
}

// plan finds distinct seats for a group among pool, or among all seats of
// the kinds asked for if pool is nil, without selling them; masks are the
// kinds each request accepts, as validate returns them. It returns the seats
// in request order and their score, or fail ≥ 0: the first request without
// any candidate if there is one, else the first request i such that requests
// 0..i cannot all be seated (which is what Allocate reports, whatever the
// path).
//
// Requests choose greedily, the one with the fewest candidates of its best
// tier first (then the fewest candidates, then request order), each taking
// its best candidate still untaken; if that fails, a bipartite matching that
// tries each request's better candidates first decides.
func (t *Train) plan(reqs []Request, masks []uint16, pool []SeatID) (ids []SeatID, sc score, fail int) {
	n := len(reqs)
	ch := make([]choice, n)
	for i := range reqs {
		r, c := &reqs[i], &ch[i]
		if pool != nil {
			for _, id := range pool {
				if masks[i]&(1<<uint(t.kindOf[id])) != 0 {
					t.consider(c, r, id, n)
				}
			}
			continue
		}
		for m := masks[i]; m != 0; m &= m - 1 {
			for _, id := range t.kinds[bits.TrailingZeros16(m)].seats {
				t.consider(c, r, id, n)
			}
		}
	}
	for i := range ch {
		if ch[i].count == 0 {
			return nil, score{}, i
		}
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if d := ch[a].best - ch[b].best; d != 0 {
			return d
		}
		return ch[a].count - ch[b].count
	})
	// A request's top n candidates always hold one the others have not
	// taken, unless it has fewer than n candidates in all.
	pick := make([]int, n)
	taken := make(map[SeatID]bool, n)
	greedy := true
	for _, i := range order {
		k := slices.IndexFunc(ch[i].top, func(c cand) bool { return !taken[c.id] })
		if k < 0 {
			greedy = false
			break
		}
		pick[i] = k
		taken[ch[i].top[k].id] = true
	}
	if !greedy {
		if pick, fail = matchTop(ch); fail >= 0 {
			return nil, score{}, fail
		}
	}
	ids = make([]SeatID, n)
	for i := range ch {
		c := ch[i].top[pick[i]]
		ids[i] = c.id
		sc.tier += c.tier
		sc.length += c.length
		sc.touch += c.touch
		if i == 0 || c.id < sc.low {
			sc.low = c.id
		}
	}
	return ids, sc, -1
}

// matchTop assigns distinct candidates to the requests by bipartite matching
// in request order, trying better candidates first. It returns, per request,
// the index of its candidate in its top list, or the first request i such
// that requests 0..i cannot all be seated. A request with n candidates can be
// seated whatever the other n-1 take, so the top n are enough.
func matchTop(ch []choice) (pick []int, fail int) {
	pick = make([]int, len(ch))
	owner := map[SeatID]int{}
	var augment func(i int, seen map[SeatID]bool) bool
	augment = func(i int, seen map[SeatID]bool) bool {
		for k, c := range ch[i].top {
			if seen[c.id] {
				continue
			}
			seen[c.id] = true
			if j, taken := owner[c.id]; !taken || augment(j, seen) {
				owner[c.id] = i
				pick[i] = k
				return true
			}
		}
		return false
	}
	for i := range ch {
		if !augment(i, map[SeatID]bool{}) {
			return nil, i
		}
	}
	return pick, -1
}

// checkLetters fails with ErrBadRequest for the first request whose Letters
// no seat of the kinds it accepts has, free or not.
func (t *Train) checkLetters(reqs []Request, masks []uint16) error {
	for i := range reqs {
		r := &reqs[i]
		if r.Letters == "" || t.hasLetter(masks[i], r.Letters) {
			continue
		}
		what := r.Kind.String()
		if r.AnyBerth {
			what = string(r.Kind.Class)
		}
		return fmt.Errorf("%w: request %d: the train has no %s seat lettered one of %q", ErrBadRequest, i, what, r.Letters)
	}
	return nil
}

// hasLetter reports whether some seat of the kinds in mask meets letters.
func (t *Train) hasLetter(mask uint16, letters string) bool {
	for ; mask != 0; mask &= mask - 1 {
		for _, id := range t.kinds[bits.TrailingZeros16(mask)].seats {
			if letterOK(letters, t.info[id].Letter) {
				return true
			}
		}
	}
	return false
}

// sell sells each request's journey on its seat in ids.
func (t *Train) sell(reqs []Request, ids []SeatID) {
	for i, id := range ids {
		t.set(id, t.sold[id]|Span(reqs[i].From, reqs[i].To))
	}
}

// allocateSlow is Allocate for a group with preferences; masks are the
// validated kinds of its requests.
func (t *Train) allocateSlow(reqs []Request, masks []uint16) ([]SeatID, error) {
	if err := t.checkLetters(reqs, masks); err != nil {
		return nil, err
	}
	ids, _, fail := t.plan(reqs, masks, nil)
	if fail >= 0 {
		return nil, soldOut(fail, reqs[fail])
	}
	t.sell(reqs, ids)
	return ids, nil
}

// carGroups lists the seats of one car that have a Group, group by group.
type carGroups struct {
	car    int
	groups []int    // group numbers, ascending
	off    []int    // the seats of groups[i] are seats[off[i]:off[i+1]]
	seats  []SeatID // by group, ascending within a group
}

// groupCars indexes the seats that have a Group by car and group.
func groupCars(info []SeatInfo) []carGroups {
	var ids []SeatID
	for i, s := range info {
		if s.Group > 0 {
			ids = append(ids, SeatID(i))
		}
	}
	slices.SortStableFunc(ids, func(a, b SeatID) int {
		if d := info[a].Car - info[b].Car; d != 0 {
			return d
		}
		return info[a].Group - info[b].Group
	})
	var out []carGroups
	start := 0
	for n, id := range ids {
		s := info[id]
		if len(out) == 0 || out[len(out)-1].car != s.Car {
			start = n
			out = append(out, carGroups{car: s.Car})
		}
		c := &out[len(out)-1]
		if len(c.groups) == 0 || c.groups[len(c.groups)-1] != s.Group {
			c.groups = append(c.groups, s.Group)
			c.off = append(c.off, n-start)
		}
		c.seats = ids[start : n+1 : n+1]
	}
	for i := range out {
		out[i].off = append(out[i].off, len(out[i].seats))
	}
	return out
}

// AllocateTogether seats a party like Allocate — the same requests, hard
// constraints, soft preferences and errors, atomically — and keeps it
// together: every seat in one car and one Group (a compartment of berths, a
// row of seats), or, if no single group can take the whole party, in groups
// g..g+k of one car for the smallest k possible.
//
// Among the places that can take the party it picks the one where the
// Prefer requests miss the fewest preferred berths, then the best fit (the
// shortest total of the free runs around the journeys, then the most
// touching ends), then the one with the lowest SeatID; within it the seats
// are chosen as Allocate's slower path chooses them. If the party can be
// seated but not together, it fails, changing nothing, with an error that
// matches ErrNotTogether (not ErrSoldOut); if it cannot be seated at all,
// with the SoldOutError Allocate would return. A party of one is seated
// exactly as Allocate seats it.
//
// It costs O(seats × passengers) plus O(seats of a car × passengers) for
// each of the O(groups) windows of groups tried.
func (t *Train) AllocateTogether(reqs []Request) ([]SeatID, error) {
	if len(reqs) <= 1 {
		return t.Allocate(reqs)
	}
	n := len(reqs)
	masks := make([]uint16, n)
	for i := range reqs {
		m, err := t.validate(i, &reqs[i])
		if err != nil {
			return nil, err
		}
		masks[i] = m
	}
	if err := t.checkLetters(reqs, masks); err != nil {
		return nil, err
	}
	if _, _, fail := t.plan(reqs, masks, nil); fail >= 0 {
		return nil, soldOut(fail, reqs[fail])
	}
	// For each car and each first group i, find the fewest groups i..j that
	// can take the party. A window that can take it still can when widened,
	// so j never has to move back when i moves on (two pointers), and the
	// windows of the smallest span are among those found.
	var best []SeatID
	var bestSc score
	bestSpan := -1
	for ci := range t.cars {
		c := &t.cars[ci]
		if len(c.seats) < n {
			continue
		}
		if _, _, fail := t.plan(reqs, masks, c.seats); fail >= 0 {
			continue
		}
		m, j := len(c.groups), 0
		for i := 0; i < m; i++ {
			j = max(j, i)
			for ; j < m; j++ {
				span := c.groups[j] - c.groups[i]
				if bestSpan >= 0 && span > bestSpan {
					break
				}
				ids, sc, fail := t.plan(reqs, masks, c.seats[c.off[i]:c.off[j+1]])
				if fail < 0 {
					if bestSpan < 0 || span < bestSpan || sc.better(bestSc) {
						best, bestSc, bestSpan = ids, sc, span
					}
					break
				}
			}
			if j == m {
				break
			}
		}
	}
	if best == nil {
		return nil, fmt.Errorf("%w: no car can take all %d passengers in one compartment or row, or in adjacent ones", ErrNotTogether, n)
	}
	t.sell(reqs, best)
	return best, nil
}
