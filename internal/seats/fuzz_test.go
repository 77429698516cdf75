package seats_test

import (
	"errors"
	"testing"

	"piao/internal/network"
	"piao/internal/seats"
)

// FuzzAllocate drives a train with operations read from the input: the
// engine must never panic, must keep Check() passing, and must only fail with
// its documented errors.
func FuzzAllocate(f *testing.F) {
	f.Add([]byte{5, 20, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte{2, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1})
	f.Add([]byte{64, 3, 0x13, 0x27, 0x3b, 0x4f, 0x63, 0x77, 0x8b, 0x9f, 0xb3, 0xc7, 0xdb, 0xef, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		next := func() int {
			if len(data) == 0 {
				return 0
			}
			b := data[0]
			data = data[1:]
			return int(b)
		}
		stops := 2 + next()%63
		n := next() % 80
		info := make([]seats.SeatInfo, n)
		for i := range info {
			b := next()
			info[i] = seats.SeatInfo{Car: 1 + b/8%2, Kind: allKinds[b%len(allKinds)], Group: b / 16 % 4}
			if info[i].Kind.Berth == network.NoBerth {
				info[i].Letter = string("ABCDF"[i%5])
			}
		}
		tr, err := seats.NewTrain(stops, info)
		if err != nil {
			t.Fatal(err)
		}
		var held []ticket
		for len(data) > 0 {
			switch op := next(); op % 4 {
			case 0, 1: // a group; stops may be out of range on purpose
				reqs := make([]seats.Request, 1+op/4%5)
				for i := range reqs {
					from := next() % (stops + 1)
					reqs[i] = seats.Request{Kind: allKinds[next()%len(allKinds)], AnyBerth: next()%3 == 0, From: from, To: from + 1 + next()%8}
					if op&32 != 0 {
						reqs[i].Letters = []string{"AF", "C", "BE"}[next()%3]
					}
					if op&64 != 0 {
						reqs[i].Prefer = []network.Berth{network.Lower}
					}
				}
				var ids []seats.SeatID
				if op&128 != 0 {
					ids, err = tr.AllocateTogether(reqs)
				} else {
					ids, err = tr.Allocate(reqs)
				}
				switch {
				case err == nil:
					for i, id := range ids {
						held = append(held, ticket{id, seats.Span(reqs[i].From, reqs[i].To)})
					}
				case !errors.Is(err, seats.ErrSoldOut) && !errors.Is(err, seats.ErrBadRequest) && !errors.Is(err, seats.ErrNotTogether):
					t.Fatalf("Allocate(%v): %v", reqs, err)
				}
			case 2: // release a held ticket, or garbage
				if len(held) > 0 && op&4 == 0 {
					i := next() % len(held)
					if err := tr.Release(held[i].seat, held[i].legs); err != nil {
						t.Fatalf("Release of a held ticket: %v", err)
					}
					held = append(held[:i], held[i+1:]...)
					break
				}
				err := tr.Release(seats.SeatID(next()-8), seats.Legs(next())<<uint(next()%64))
				if err != nil && !errors.Is(err, seats.ErrNotSold) && !errors.Is(err, seats.ErrBadRequest) {
					t.Fatalf("Release: %v", err)
				}
			case 3: // mark arbitrary legs
				id := seats.SeatID(next() - 8)
				legs := seats.Legs(next()) << uint(next()%64)
				err := tr.Mark(id, legs)
				switch {
				case err == nil:
					held = append(held, ticket{id, legs})
				case !errors.Is(err, seats.ErrAlreadySold) && !errors.Is(err, seats.ErrBadRequest):
					t.Fatalf("Mark: %v", err)
				}
			}
			if err := tr.Check(); err != nil {
				t.Fatal(err)
			}
		}
		for _, k := range tr.Kinds() {
			_ = tr.Available(k, -1, stops+3)
		}
	})
}
