package metro

import (
	"cmp"
	"hash/maphash"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"piao/internal/fault"
)

// The clearing engine. A million taps go through four passes, each split
// across the CPUs by disjoint ranges so the result never depends on how
// many there are:
//
//  1. dedup: hash every ID, sort the hashes by bucket, keep one tap per ID;
//  2. index: check each kept tap, intern its station and sort it into a
//     shard by account range;
//  3. plan: sort each shard by (account, at, ID) and pair its taps into
//     plans (which taps make a trip), small and pointer-free;
//  4. fill: write the trips in place, shard after shard, in account order.

// rec is a tap in the pairing sort: small, so sorting a million is quick.
type rec struct {
	account int64
	at      int64 // unix ns
	tap     int32 // index into the input
	station int32
	in      bool
}

// plan is one trip to be: its tap-in and tap-out as indices into a shard's
// recs, -1 for a missing end.
type plan struct{ in, out int32 }

// minParallel is the fewest taps worth spreading over several CPUs.
const minParallel = 1 << 15

func workers(n int) int {
	if n < minParallel {
		return 1
	}
	return max(1, min(runtime.GOMAXPROCS(0), 16))
}

// parallel runs f(0) … f(p-1), concurrently when p > 1.
func parallel(p int, f func(w int)) {
	if p == 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	for w := range p {
		wg.Go(func() { f(w) })
	}
	wg.Wait()
}

// span is worker w's part of n items.
func span(n, p, w int) (lo, hi int) { return n * w / p, n * (w + 1) / p }

// part is what one worker's index pass found.
type part struct {
	shards   [][]rec
	rejected []Rejected
	pending  []Tap
}

func (c *Clearer) clear(taps []Tap, until int64) Cleared {
	return c.clearOn(taps, until, workers(len(taps)))
}

// clearOn clears on p workers.
func (c *Clearer) clearOn(taps []Tap, until int64, p int) Cleared {
	kept, noID := dedup(taps, p)
	splits := accountSplits(taps, p)

	// Index: check each kept tap and file it under its account's shard.
	lo, hi := minTime(), maxTime()
	parts := make([]part, p)
	parallel(p, func(w int) {
		pt := &parts[w]
		pt.shards = make([][]rec, p)
		a, b := span(len(taps), p, w)
		for s := range pt.shards {
			pt.shards[s] = make([]rec, 0, (b-a)/p+(b-a)/8+1)
		}
		for i := a; i < b; i++ {
			if !kept[i] {
				continue
			}
			t := &taps[i]
			st, ok := c.ft.Index(t.Station)
			switch {
			case t.Dir != In && t.Dir != Out:
				pt.rejected = append(pt.rejected, Rejected{*t, fault.Newf(fault.Invalid, "tap_direction_unknown", "闸机记录 %s 的方向 %q 未知", "tap %s has an unknown direction %q", t.ID, string(t.Dir))})
			case t.At.IsZero() || t.At.Before(lo) || !t.At.Before(hi):
				pt.rejected = append(pt.rejected, Rejected{*t, fault.Newf(fault.Invalid, "tap_no_time", "闸机记录 %s 缺少时间", "tap %s has no time (or one out of range)", t.ID)})
			case !ok:
				pt.rejected = append(pt.rejected, Rejected{*t, fault.Newf(fault.NotFound, "station_not_on_network", "闸机记录 %s 的车站 %s 不在该线网中", "tap %s is at station %s, which is not on this network", t.ID, t.Station)})
			case t.At.UnixNano() > until:
				pt.pending = append(pt.pending, *t)
			default:
				s := shardOf(splits, t.Account)
				pt.shards[s] = append(pt.shards[s], rec{account: t.Account, at: t.At.UnixNano(), tap: int32(i), station: st, in: t.Dir == In})
			}
		}
	})
	var out Cleared
	for _, i := range noID {
		out.Rejected = append(out.Rejected, Rejected{taps[i], fault.New(fault.Invalid, "tap_no_id", "闸机记录缺少编号", "a tap has no ID")})
	}
	for w := range parts {
		out.Rejected = append(out.Rejected, parts[w].rejected...)
		out.Pending = append(out.Pending, parts[w].pending...)
	}

	// Plan: sort each shard and pair its taps.
	shards := make([][]rec, p)
	plans := make([][]plan, p)
	open := make([][]int32, p) // recs of lone tap-ins still pending
	parallel(p, func(s int) {
		n := 0
		for w := range parts {
			n += len(parts[w].shards[s])
		}
		recs := make([]rec, 0, n)
		for w := range parts {
			recs = append(recs, parts[w].shards[s]...)
			parts[w].shards[s] = nil
		}
		slices.SortFunc(recs, func(a, b rec) int {
			if a.account != b.account {
				return cmp.Compare(a.account, b.account)
			}
			if a.at != b.at {
				return cmp.Compare(a.at, b.at)
			}
			return strings.Compare(taps[a.tap].ID, taps[b.tap].ID)
		})
		shards[s] = recs
		plans[s], open[s] = pairRecs(recs, until, int64(c.rules.Window()))
	})

	// Fill: the trips in place, each shard its own range.
	off := make([]int, p+1)
	for s := range plans {
		off[s+1] = off[s] + len(plans[s])
	}
	out.Trips = make([]Trip, off[p])
	parallel(p, func(s int) { c.fill(out.Trips[off[s]:off[s+1]], taps, shards[s], plans[s]) })

	for s := range open {
		for _, k := range open[s] {
			out.Pending = append(out.Pending, taps[shards[s][k].tap])
		}
	}
	slices.SortFunc(out.Pending, compareAccountTaps)
	slices.SortFunc(out.Rejected, func(a, b Rejected) int { return compareAccountTaps(a.Tap, b.Tap) })
	return out
}

// shardOf is the shard of an account: the number of split points at or
// below it.
func shardOf(splits []int64, account int64) int {
	s := 0
	for s < len(splits) && splits[s] <= account {
		s++
	}
	return s
}

// accountSplits returns p-1 account numbers cutting the taps into p shards
// of about equal size, from a sample of the input. Any split gives the
// same trips; a good one only balances the work.
func accountSplits(taps []Tap, p int) []int64 {
	if p == 1 || len(taps) == 0 {
		return nil
	}
	const samples = 1024
	sample := make([]int64, 0, samples)
	for i := range samples {
		sample = append(sample, taps[i*len(taps)/samples].Account)
	}
	slices.Sort(sample)
	splits := make([]int64, 0, p-1)
	for s := 1; s < p; s++ {
		splits = append(splits, sample[s*len(sample)/p])
	}
	return splits
}

// pairRecs pairs one shard's sorted taps into trip plans: an account's
// tap-in with its next tap when that is a tap-out within the window; a
// tap-in followed by another, or by nothing once the window has passed by
// until, has no exit; a tap-out with no open tap-in before it has no entry.
// It also returns the lone tap-ins still pending.
func pairRecs(recs []rec, until, window int64) (plans []plan, pending []int32) {
	plans = make([]plan, 0, len(recs)/2+1)
	open := int32(-1)
	closeOpen := func() {
		if until == math.MaxInt64 || until-recs[open].at > window {
			plans = append(plans, plan{open, -1})
		} else {
			pending = append(pending, open)
		}
	}
	for k := range recs {
		x := &recs[k]
		if open >= 0 && recs[open].account != x.account {
			closeOpen()
			open = -1
		}
		if x.in {
			if open >= 0 {
				plans = append(plans, plan{open, -1})
			}
			open = int32(k)
			continue
		}
		if open >= 0 && x.at-recs[open].at <= window {
			plans = append(plans, plan{open, int32(k)})
			open = -1
			continue
		}
		if open >= 0 {
			plans = append(plans, plan{open, -1})
			open = -1
		}
		plans = append(plans, plan{-1, int32(k)})
	}
	if open >= 0 {
		closeOpen()
	}
	return plans, pending
}

// fill writes the planned trips into dst. Trip IDs are cut from one
// string per shard, so a million trips cost one allocation for their IDs,
// not a million.
func (c *Clearer) fill(dst []Trip, taps []Tap, recs []rec, plans []plan) {
	opener := func(pl plan) *Tap {
		if pl.in >= 0 {
			return &taps[recs[pl.in].tap]
		}
		return &taps[recs[pl.out].tap]
	}
	size := 0
	for _, pl := range plans {
		size += len("t-") + len(opener(pl).ID)
	}
	var b strings.Builder
	b.Grow(size)
	for _, pl := range plans {
		b.WriteString("t-")
		b.WriteString(opener(pl).ID)
	}
	ids := b.String()
	at := 0
	r := &c.rules
	for j, pl := range plans {
		t := &dst[j]
		o := opener(pl)
		n := len("t-") + len(o.ID)
		t.ID, at = ids[at:at+n], at+n
		t.Feed, t.Account = o.Feed, o.Account
		switch {
		case pl.out < 0: // no exit
			x := &recs[pl.in]
			t.Status, t.From, t.FromLine, t.InTap, t.Entered = NoExit, o.Station, c.ft.firstLine(x.station), o.ID, o.At
			t.Fare = r.NoExit.amount(c.ft, x.station, true)
		case pl.in < 0: // no entry
			x := &recs[pl.out]
			t.Status, t.To, t.ToLine, t.OutTap, t.Exited = NoEntry, o.Station, c.ft.firstLine(x.station), o.ID, o.At
			t.Fare = r.NoEntry.amount(c.ft, x.station, false)
		default:
			c.pair(t, o, &taps[recs[pl.out].tap], &recs[pl.in], &recs[pl.out])
		}
	}
}

// pair prices a tap-in and its tap-out into t.
func (c *Clearer) pair(t *Trip, ti, to *Tap, in, x *rec) {
	t.From, t.To, t.InTap, t.OutTap, t.Entered, t.Exited = ti.Station, to.Station, ti.ID, to.ID, ti.At, to.At
	t.FromLine, t.ToLine = c.ft.TripLines(in.station, x.station)
	d := time.Duration(x.at - in.at)
	r := &c.rules
	if in.station == x.station {
		t.Status = SameStation
		if r.SameStationFreeWithin > 0 && d <= r.SameStationFreeWithin {
			return
		}
		t.Fare = r.SameStation.amount(c.ft, in.station, true)
	} else {
		t.Status = Complete
		k := int(in.station)*c.ft.n + int(x.station)
		t.Fare, t.Metres = c.ft.fares[k], int(c.ft.metres[k])
	}
	if d > r.MaxTrip {
		t.Status = Overtime
		t.Fare += r.Overtime.amount(c.ft, in.station, true)
	}
}

// hashed is a tap's index under the hash of its ID.
type hashed struct {
	h   uint64
	tap int32
}

// dedup marks one tap per distinct ID — the smallest of those sharing it
// by CompareTaps — and returns the indices of taps with no ID. It sorts
// the IDs' hashes rather than filling a map: a million map inserts cost
// cache misses each, a sort of 16-byte keys does not. Which taps are kept
// does not depend on the hash seed or the number of workers.
func dedup(taps []Tap, p int) (kept []bool, noID []int32) {
	seed := maphash.MakeSeed()
	kept = make([]bool, len(taps))
	// Hash: worker w files its range's keys into p buckets by hash.
	local := make([][][]hashed, p)
	noIDs := make([][]int32, p)
	parallel(p, func(w int) {
		a, b := span(len(taps), p, w)
		local[w] = make([][]hashed, p)
		for q := range local[w] {
			local[w][q] = make([]hashed, 0, (b-a)/p+(b-a)/8+1)
		}
		for i := a; i < b; i++ {
			if taps[i].ID == "" {
				noIDs[w] = append(noIDs[w], int32(i))
				continue
			}
			h := maphash.String(seed, taps[i].ID)
			q := int(h % uint64(p))
			local[w][q] = append(local[w][q], hashed{h, int32(i)})
		}
	})
	// Keep: each bucket sorted by hash; within a run of equal hashes, one
	// tap per ID (equal IDs always share a bucket and a run).
	parallel(p, func(q int) {
		n := 0
		for w := range local {
			n += len(local[w][q])
		}
		keys := make([]hashed, 0, n)
		for w := range local {
			keys = append(keys, local[w][q]...)
			local[w][q] = nil
		}
		slices.SortFunc(keys, func(a, b hashed) int { return cmp.Compare(a.h, b.h) })
		var run []int32
		for lo := 0; lo < len(keys); {
			hi := lo + 1
			for hi < len(keys) && keys[hi].h == keys[lo].h {
				hi++
			}
			if hi == lo+1 {
				kept[keys[lo].tap] = true
				lo = hi
				continue
			}
			run = run[:0]
		next:
			for _, k := range keys[lo:hi] {
				t := &taps[k.tap]
				for j, r := range run {
					if taps[r].ID == t.ID {
						if CompareTaps(*t, taps[r]) < 0 {
							run[j] = k.tap
						}
						continue next
					}
				}
				run = append(run, k.tap)
			}
			for _, r := range run {
				kept[r] = true
			}
			lo = hi
		}
	})
	for w := range noIDs {
		noID = append(noID, noIDs[w]...)
	}
	return kept, noID
}
