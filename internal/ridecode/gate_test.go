package ridecode_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"piao/internal/fault"
	"piao/internal/ridecode"
)

// code returns claims as a verifier would, valid for 60 s from at.
func code(serial uint64, account int64, at time.Time) ridecode.Claims {
	return ridecode.Claims{Kind: ridecode.KindRide, Issuer: "nb1", Network: "nbmetro", Serial: serial, Account: account, IssuedAt: at, ExpiresAt: at.Add(time.Minute)}
}

func paper(serial uint64, account, ticket int64, at time.Time) ridecode.Claims {
	return ridecode.Claims{Kind: ridecode.KindPaper, Issuer: "nb1", Network: "nbmetro", Serial: serial, Account: account, Ticket: ticket, IssuedAt: at, ExpiresAt: at.Add(30 * 24 * time.Hour)}
}

func TestGateDefaults(t *testing.T) {
	cfg := ridecode.NewGate(ridecode.GateConfig{}).Config()
	if cfg.TripLimit != 4*time.Hour || cfg.StaleAfter != 4*time.Hour || cfg.CodeValidity != time.Minute || cfg.Skew != ridecode.DefaultSkew {
		t.Errorf("defaults %+v", cfg)
	}
}

// step is one tap of a scenario and the reason expected ("" passes).
type step struct {
	out     bool
	c       ridecode.Claims
	station string
	at      time.Duration // after t0
	reason  string
}

func TestGateRules(t *testing.T) {
	in := func(c ridecode.Claims, at time.Duration, reason string) step {
		return step{c: c, station: "NB01", at: at, reason: reason}
	}
	out := func(c ridecode.Claims, at time.Duration, reason string) step {
		return step{out: true, c: c, station: "NB09", at: at, reason: reason}
	}
	a1 := code(1, 100, t0)
	a2 := code(2, 100, t0.Add(20*time.Minute))
	a3 := code(3, 100, t0.Add(40*time.Minute))
	b1 := code(11, 200, t0)
	other := a2
	other.Network = "hzmetro"
	other.Serial = 99
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"in then out with a fresh code", []step{in(a1, 0, ""), out(a2, 20*time.Minute, "")}},
		{"same code twice in", []step{in(a1, 0, ""), out(code(2, 100, t0), 20*time.Second, ""), in(a1, 40*time.Second, ridecode.ReasonReplayed)}},
		{"same code in while inside", []step{in(a1, 0, ""), in(a1, 10*time.Second, ridecode.ReasonReplayed)}},
		{"same code in and out", []step{in(a1, 0, ""), out(a1, 50*time.Second, "")}},
		{"same code out twice", []step{in(a1, 0, ""), out(a1, 10*time.Second, ""), in(code(2, 100, t0), 20*time.Second, ""), out(a1, 30*time.Second, ridecode.ReasonReplayed)}},
		{"mark forgotten after expiry plus skew", []step{in(a1, 0, ""), out(code(2, 100, t0), 20*time.Second, ""), in(a1, time.Minute+ridecode.DefaultSkew+time.Second, "")}},
		{"out without in", []step{out(a1, 0, ridecode.ReasonNoEntry)}},
		{"out twice", []step{in(a1, 0, ""), out(a2, 20*time.Minute, ""), out(a3, 40*time.Minute, ridecode.ReasonNoEntry)}},
		{"already inside", []step{in(a1, 0, ""), in(a2, 20*time.Minute, ridecode.ReasonInside)}},
		{"in, out, in again", []step{in(a1, 0, ""), out(a2, 20*time.Minute, ""), in(a3, 40*time.Minute, "")}},
		{"another account is not blocked", []step{in(a1, 0, ""), in(b1, 0, ""), out(a2, 20*time.Minute, "")}},
		{"out in another network", []step{in(a1, 0, ""), out(other, 20*time.Minute, ridecode.ReasonNoEntry)}},
		{"stale entry replaced", []step{in(a1, 0, ""), in(code(4, 100, t0.Add(4*time.Hour)), 4*time.Hour, "")}},
		{"entry just short of stale", []step{in(a1, 0, ""), in(code(4, 100, t0.Add(4*time.Hour)), 4*time.Hour-time.Second, ridecode.ReasonInside)}},
		{"overtime exit passes", []step{in(a1, 0, ""), out(code(5, 100, t0.Add(4*time.Hour)), 4*time.Hour+30*time.Second, "")}},
		{"forgotten entry", []step{in(a1, 0, ""), out(code(6, 100, t0.Add(5*time.Hour)), 4*time.Hour+time.Minute, ridecode.ReasonNoEntry)}},
		{"paper ticket rides again", []step{in(paper(7, 300, 1, t0), 0, ""), out(paper(7, 300, 1, t0), 10*time.Minute, ""), in(paper(7, 300, 1, t0), 2*time.Hour, ""), out(paper(7, 300, 1, t0), 3*time.Hour, "")}},
		{"paper ticket no passback", []step{in(paper(7, 300, 1, t0), 0, ""), in(paper(7, 300, 1, t0), time.Minute, ridecode.ReasonInside)}},
		{"paper tickets of one buyer ride together", []step{in(paper(7, 300, 1, t0), 0, ""), in(paper(8, 300, 2, t0), 0, ""), out(paper(8, 300, 2, t0), 30*time.Minute, ""), out(paper(7, 300, 1, t0), 30*time.Minute, "")}},
		{"paper out without in", []step{out(paper(7, 300, 1, t0), 0, ridecode.ReasonNoEntry)}},
		{"no station", []step{{c: a1, at: 0, reason: ridecode.ReasonClaims}, {out: true, c: a1, at: 0, reason: ridecode.ReasonClaims}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := ridecode.NewGate(ridecode.GateConfig{})
			for i, s := range tc.steps {
				var err error
				if s.out {
					_, err = g.TapOut(s.c, s.station, t0.Add(s.at))
				} else {
					_, err = g.TapIn(s.c, s.station, t0.Add(s.at))
				}
				if got := reasonOf(err); got != s.reason {
					t.Fatalf("step %d (out=%v serial %d at %s): reason %q (%v), want %q", i, s.out, s.c.Serial, s.at, got, err, s.reason)
				}
				if err != nil {
					fe := fault.As(err)
					if fe.ZH == "" || fe.EN == "" || (fe.Code != fault.Conflict && fe.Reason != ridecode.ReasonClaims) {
						t.Errorf("step %d: error %#v", i, fe)
					}
				}
			}
		})
	}
}

func TestGateResults(t *testing.T) {
	g := ridecode.NewGate(ridecode.GateConfig{TripLimit: time.Hour})
	a1 := code(1, 100, t0)
	if stale, err := g.TapIn(a1, "NB01", t0); err != nil || stale != nil {
		t.Fatalf("TapIn: %v %v", stale, err)
	}
	if e, ok := g.Inside(a1, t0.Add(time.Minute)); !ok || e.Station != "NB01" || !e.At.Equal(t0) || e.Code != a1.CodeID() || e.Account != 100 {
		t.Errorf("Inside = %+v, %v", e, ok)
	}
	a2 := code(2, 100, t0.Add(30*time.Minute))
	x, err := g.TapOut(a2, "NB09", t0.Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if x.In.Station != "NB01" || x.Station != "NB09" || x.Code != a2.CodeID() || x.In.Code != a1.CodeID() || x.Overtime || !x.At.Equal(t0.Add(30*time.Minute)) {
		t.Errorf("exit %+v", x)
	}
	if _, ok := g.Inside(a1, t0.Add(31*time.Minute)); ok {
		t.Error("still inside after tap-out")
	}
	// Overtime: over the trip limit, within the forgetting horizon.
	a3 := code(3, 100, t0.Add(2*time.Hour))
	if _, err := g.TapIn(a3, "NB01", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	a4 := code(4, 100, t0.Add(3*time.Hour))
	x, err = g.TapOut(a4, "NB01", t0.Add(3*time.Hour+time.Second))
	if err != nil || !x.Overtime {
		t.Errorf("overtime exit %+v, %v", x, err)
	}
	// A stale entry is returned when replaced.
	a5 := code(5, 100, t0.Add(5*time.Hour))
	if _, err := g.TapIn(a5, "NB03", t0.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	a6 := code(6, 100, t0.Add(6*time.Hour))
	stale, err := g.TapIn(a6, "NB04", t0.Add(6*time.Hour))
	if err != nil || stale == nil || stale.Station != "NB03" || stale.Code != a5.CodeID() {
		t.Errorf("stale = %+v, %v", stale, err)
	}
	if e, _ := g.Inside(a6, t0.Add(6*time.Hour)); e.Station != "NB04" {
		t.Errorf("after replacing: %+v", e)
	}
}

// TestGateMemoryBounded: after a day of traffic only what is still within
// its horizon is remembered, and a sweep leaves nothing once all is old.
func TestGateMemoryBounded(t *testing.T) {
	g := ridecode.NewGate(ridecode.GateConfig{TripLimit: time.Hour})
	horizon := time.Hour + time.Minute
	var serial uint64
	for m := range 24 * 60 { // a tap-in of a new account every minute, half of them tap out
		at := t0.Add(time.Duration(m) * time.Minute)
		serial++
		c := code(serial, int64(m+1), at)
		if _, err := g.TapIn(c, "NB01", at); err != nil {
			t.Fatal(err)
		}
		if m%2 == 0 {
			if _, err := g.TapOut(c, "NB02", at.Add(30*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		codes, entries := g.Len()
		// Marks live 65 s and sweeps run every 60 s; entries live horizon.
		if codes > 3 || entries > int(horizon/time.Minute)+2 {
			t.Fatalf("minute %d: %d marks, %d entries remembered", m, codes, entries)
		}
	}
	end := t0.Add(24*time.Hour + horizon)
	g.Sweep(end)
	if codes, entries := g.Len(); codes != 0 || entries != 0 {
		t.Errorf("after the horizon: %d marks, %d entries", codes, entries)
	}
}

// TestGateClockBack: a clock set back far re-sweeps instead of stalling.
func TestGateClockBack(t *testing.T) {
	g := ridecode.NewGate(ridecode.GateConfig{})
	if _, err := g.TapIn(code(1, 1, t0), "NB01", t0); err != nil {
		t.Fatal(err)
	}
	back := t0.Add(-24 * time.Hour)
	if _, err := g.TapIn(code(2, 2, back), "NB01", back); err != nil {
		t.Fatal(err)
	}
	// The first rider is still inside at t0 + 1 min.
	if _, ok := g.Inside(code(1, 1, t0), t0.Add(time.Minute)); !ok {
		t.Error("entry lost when the clock went back")
	}
}

// TestGateConcurrent: many goroutines tap one code in at once; exactly one
// passes. Run with -race.
func TestGateConcurrent(t *testing.T) {
	g := ridecode.NewGate(ridecode.GateConfig{})
	const workers = 32
	var passed, replayed, inside atomic.Int32
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := g.TapIn(code(1, 100, t0), fmt.Sprintf("G%02d", w), t0)
			switch reasonOf(err) {
			case "":
				passed.Add(1)
			case ridecode.ReasonReplayed:
				replayed.Add(1)
			case ridecode.ReasonInside:
				inside.Add(1)
			}
			// Other accounts all pass, and tap out.
			c := code(uint64(1000+w), int64(1000+w), t0)
			if _, err := g.TapIn(c, "NB01", t0); err != nil {
				t.Error(err)
			}
			if _, err := g.TapOut(c, "NB02", t0.Add(time.Second)); err != nil {
				t.Error(err)
			}
			g.Len()
		}()
	}
	wg.Wait()
	if passed.Load() != 1 || replayed.Load() != workers-1 {
		t.Errorf("passed %d, replayed %d, inside %d", passed.Load(), replayed.Load(), inside.Load())
	}
	if codes, entries := g.Len(); entries != 1 || codes != workers+1 {
		t.Errorf("%d marks, %d entries", codes, entries)
	}
}

// TestGateWithVerifier: the gate forgets a code's mark only when the
// verifier refuses the code anyway, so at no second can it enter twice.
func TestGateWithVerifier(t *testing.T) {
	is := MustIssuer(t, "nb1")
	v := MustVerifier(t, "nbmetro", is)
	g := ridecode.NewGate(ridecode.GateConfig{Skew: v.Skew()})
	text := MustSign(t, is, rideClaims(100))
	c, err := v.Verify(text, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.TapIn(c, "NB01", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := g.TapOut(c, "NB02", t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	for s := time.Duration(0); s <= 3*time.Minute; s += 500 * time.Millisecond {
		now := t0.Add(2*time.Second + s)
		c, err := v.Verify(text, now)
		if err != nil {
			continue
		}
		if _, err := g.TapIn(c, "NB01", now); err == nil {
			t.Fatalf("the code entered twice, again at %s", now.Sub(t0))
		}
	}
}
