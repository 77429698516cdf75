package seats

import (
	"fmt"
	"math/bits"
	"slices"
)

// Recount computes the availability counters of every kind afresh from the
// sold legs of the seats, in the layout of Counts. It is the reference the
// incrementally maintained counters must equal, and what to store for a train
// loaded with Mark if its counters were lost. It costs O(seats × stops²).
func (t *Train) Recount() map[Kind][]int32 {
	out := make(map[Kind][]int32, len(t.kinds))
	for ki := range t.kinds {
		out[t.kinds[ki].kind] = t.recount(ki)
	}
	return out
}

func (t *Train) recount(ki int) []int32 {
	S := t.stops
	c := make([]int32, S*S)
	for _, id := range t.kinds[ki].seats {
		sold := t.sold[id]
		for i := 0; i < S; i++ {
			for j := i + 1; j < S && sold&Span(i, j) == 0; j++ {
				c[i*S+j]++
			}
		}
	}
	return c
}

// Check verifies the train's internal consistency: sold legs within the
// train, counters equal to Recount, and the free-run index used by Allocate
// matching the seats. It returns an error describing the first mismatch, nil
// if there is none. It is meant for tests and audits and costs
// O(seats × stops²).
func (t *Train) Check() error {
	S := t.stops
	for id, sold := range t.sold {
		if sold&^t.all != 0 {
			return fmt.Errorf("seats: seat %d has legs %v sold outside the train's legs 0..%d", id, sold, t.legs-1)
		}
	}
	for ki := range t.kinds {
		k := &t.kinds[ki]
		want := t.recount(ki)
		for i := 0; i < S; i++ {
			for j := 0; j < S; j++ {
				if got, w := k.counts[i*S+j], want[i*S+j]; got != w {
					return fmt.Errorf("seats: %v available from stop %d to %d is %d, a recount says %d", k.kind, i, j, got, w)
				}
			}
		}
		if err := t.checkRuns(k); err != nil {
			return fmt.Errorf("seats: %v free-run index: %w", k.kind, err)
		}
	}
	return nil
}

// checkRuns verifies the free-run index of a kind against its seats.
func (t *Train) checkRuns(k *kindState) error {
	S := t.stops
	members := make([]int32, S*S)
	for loc, id := range k.seats {
		for f := uint64(^t.sold[id] & t.all); f != 0; {
			l := bits.TrailingZeros64(f)
			r := l + bits.TrailingZeros64(^(f >> uint(l)))
			f &^= uint64(Span(l, r))
			s := k.slot[l*S+r]
			if s < 0 || k.bits[int(s)*k.words+loc>>6]&(1<<uint(loc&63)) == 0 {
				return fmt.Errorf("seat %d has free run %d-%d but is not indexed under it", id, l, r)
			}
			members[l*S+r]++
		}
	}
	inUse := make([]bool, len(k.setN))
	for l := 0; l < S; l++ {
		for r := 0; r < S; r++ {
			s := k.slot[l*S+r]
			has := k.nonempty[l]&(1<<uint(r)) != 0
			if (s >= 0) != has {
				return fmt.Errorf("run %d-%d: slot %d but nonempty bit %v", l, r, s, has)
			}
			if s < 0 {
				if members[l*S+r] != 0 {
					return fmt.Errorf("run %d-%d has %d seats but no set", l, r, members[l*S+r])
				}
				continue
			}
			inUse[s] = true
			set := k.bits[int(s)*k.words : int(s+1)*k.words]
			pop := 0
			for w, x := range set {
				if x != 0 && int32(w) < k.setL[s] {
					return fmt.Errorf("run %d-%d: seats below its lowest-word hint %d", l, r, k.setL[s])
				}
				pop += bits.OnesCount64(x)
			}
			if m := members[l*S+r]; pop != int(m) || k.setN[s] != m || m == 0 {
				return fmt.Errorf("run %d-%d: %d seats have it, its set holds %d and counts %d", l, r, m, pop, k.setN[s])
			}
		}
	}
	for _, s := range k.free {
		if inUse[s] {
			return fmt.Errorf("set %d is both free and in use", s)
		}
		inUse[s] = true
		if slices.ContainsFunc(k.bits[int(s)*k.words:int(s+1)*k.words], func(x uint64) bool { return x != 0 }) {
			return fmt.Errorf("free set %d is not empty", s)
		}
	}
	for s, used := range inUse {
		if !used {
			return fmt.Errorf("set %d is lost", s)
		}
	}
	return nil
}

// Clone returns an independent copy of the train: changes to either do not
// affect the other. (The copies share only data that never changes after
// NewTrain, such as seat descriptions.)
func (t *Train) Clone() *Train {
	c := *t
	c.sold = slices.Clone(t.sold)
	c.order, c.prev, c.masks = nil, nil, nil
	c.kinds = slices.Clone(t.kinds)
	for i := range c.kinds {
		k := &c.kinds[i]
		k.counts = slices.Clone(k.counts)
		k.nonempty = slices.Clone(k.nonempty)
		k.slot = slices.Clone(k.slot)
		k.setN = slices.Clone(k.setN)
		k.setL = slices.Clone(k.setL)
		k.bits = slices.Clone(k.bits)
		k.free = slices.Clone(k.free)
	}
	return &c
}
