package seats

import "math/bits"

// kindState is the inventory of one kind of seat of a train.
//
// Besides the availability counters it indexes every seat by its free runs:
// a free run of a seat is a maximal stretch of consecutive free legs, from
// stop l to stop r. A seat is free for a journey [from,to) exactly when one of
// its free runs contains it, and that run is what best fit minimises. For
// every run (l,r) that some seat has, a bit set over the kind's seats says
// which seats have it, and nonempty[l] has bit r set; so the tightest run
// containing a journey is found in O(stops) with bit tricks, and the lowest
// seat in it by scanning a few words.
type kindState struct {
	kind   Kind
	seats  []SeatID // local index → SeatID, ascending; immutable
	stride int      // stops
	words  int      // uint64 words per seat bit set

	// counts[from*stride+to] is the number of seats free on [from,to).
	counts []int32

	// nonempty[l] has bit r set iff some seat has the free run (l,r).
	nonempty []uint64
	// slot[l*stride+r] is the index of the bit set of run (l,r), -1 if no
	// seat has that run. Sets are recycled through free when they empty.
	slot []int32
	setN []int32  // per set: number of seats in it
	setL []int32  // per set: no word below this one has a bit set
	bits []uint64 // per set: words words, set s at bits[s*words:]
	free []int32  // sets not in use, all bits zero
}

// init sets up a kind whose seats are all free on a train of stops stops.
func (k *kindState) init(stops int) {
	n := len(k.seats)
	legs := stops - 1
	k.stride = stops
	k.words = (n + 63) / 64
	k.counts = make([]int32, stops*stops)
	for i := 0; i < stops; i++ {
		for j := i + 1; j < stops; j++ {
			k.counts[i*stops+j] = int32(n)
		}
	}
	k.nonempty = make([]uint64, stops)
	k.slot = make([]int32, stops*stops)
	for i := range k.slot {
		k.slot[i] = -1
	}
	s := k.newSet()
	k.slot[legs] = s // run (0, legs)
	k.nonempty[0] = 1 << uint(legs)
	k.setN[s] = int32(n)
	k.setL[s] = 0
	for i := 0; i < n; i++ {
		k.bits[i>>6] |= 1 << uint(i&63)
	}
}

// newSet returns an empty bit set, reusing a freed one if there is one.
func (k *kindState) newSet() int32 {
	if n := len(k.free); n > 0 {
		s := k.free[n-1]
		k.free = k.free[:n-1]
		k.setL[s] = int32(k.words)
		return s
	}
	s := int32(len(k.setN))
	k.setN = append(k.setN, 0)
	k.setL = append(k.setL, int32(k.words))
	for range k.words {
		k.bits = append(k.bits, 0)
	}
	return s
}

// add records that seat loc has the free run (l,r).
func (k *kindState) add(loc int32, l, r int) {
	key := l*k.stride + r
	s := k.slot[key]
	if s < 0 {
		s = k.newSet()
		k.slot[key] = s
		k.nonempty[l] |= 1 << uint(r)
	}
	w := loc >> 6
	k.bits[int(s)*k.words+int(w)] |= 1 << uint(loc&63)
	k.setN[s]++
	if w < k.setL[s] {
		k.setL[s] = w
	}
}

// remove records that seat loc no longer has the free run (l,r).
func (k *kindState) remove(loc int32, l, r int) {
	key := l*k.stride + r
	s := k.slot[key]
	k.bits[int(s)*k.words+int(loc>>6)] &^= 1 << uint(loc&63)
	k.setN[s]--
	if k.setN[s] == 0 {
		k.slot[key] = -1
		k.nonempty[l] &^= 1 << uint(r)
		k.free = append(k.free, s)
	}
}

// lowest returns the lowest seat (local index) with the free run (l,r),
// which some seat must have.
func (k *kindState) lowest(l, r int) int32 {
	s := k.slot[l*k.stride+r]
	base := int(s) * k.words
	for w := k.setL[s]; ; w++ {
		if x := k.bits[base+int(w)]; x != 0 {
			k.setL[s] = w
			return w<<6 + int32(bits.TrailingZeros64(x))
		}
	}
}

// isRun reports whether legs [l,r) are a maximal run of free legs in free.
func isRun(free Legs, l, r int) bool {
	span := Span(l, r)
	return free&(span|span<<1|span>>1) == span
}

// moveRuns re-indexes seat loc after its free legs changed from oldFree to
// newFree (both within the train's legs).
func (k *kindState) moveRuns(loc int32, oldFree, newFree Legs, legs int) {
	for f := uint64(oldFree); f != 0; {
		l := bits.TrailingZeros64(f)
		r := l + bits.TrailingZeros64(^(f >> uint(l)))
		f &^= uint64(Span(l, r))
		if !isRun(newFree, l, r) {
			k.remove(loc, l, r)
		}
	}
	for f := uint64(newFree); f != 0; {
		l := bits.TrailingZeros64(f)
		r := l + bits.TrailingZeros64(^(f >> uint(l)))
		f &^= uint64(Span(l, r))
		if !isRun(oldFree, l, r) {
			k.add(loc, l, r)
		}
	}
}

// fit is a candidate seat for a journey: the length of the free run that
// contains the journey, how many of the journey's ends touch a sold leg or an
// end of the train, and the seat.
type fit struct {
	length int
	touch  int
	id     SeatID
}

// better reports whether f is a better fit than g: a shorter run, then more
// touching ends, then a lower seat.
func (f fit) better(g fit) bool {
	if f.length != g.length {
		return f.length < g.length
	}
	if f.touch != g.touch {
		return f.touch > g.touch
	}
	return f.id < g.id
}

// best returns the best-fitting seat of the kind for the journey [from,to),
// if it is better than cur (pass fit{length: maxInt} for none); ok says
// whether it is.
func (k *kindState) best(from, to int, cur fit) (fit, bool) {
	found := false
	for l := from; l >= 0; l-- {
		if to-l > cur.length {
			break // every run starting at l or before is longer
		}
		m := k.nonempty[l] >> uint(to) // runs (l, r) with r ≥ to
		if m == 0 {
			continue
		}
		r := to + bits.TrailingZeros64(m)
		f := fit{length: r - l}
		if l == from {
			f.touch++
		}
		if r == to {
			f.touch++
		}
		if f.length > cur.length || (f.length == cur.length && f.touch < cur.touch) {
			continue
		}
		f.id = k.seats[k.lowest(l, r)]
		if f.better(cur) {
			cur, found = f, true
		}
	}
	return cur, found
}
