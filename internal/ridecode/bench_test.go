package ridecode_test

import (
	"testing"
	"time"

	"piao/internal/ridecode"
)

func BenchmarkSign(b *testing.B) {
	is := MustIssuer(b, "nb1")
	c := rideClaims(123456789)
	for b.Loop() {
		if _, err := is.Sign(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	is := MustIssuer(b, "nb1")
	v := MustVerifier(b, "nbmetro", is)
	text := MustSign(b, is, rideClaims(123456789))
	now := t0.Add(time.Second)
	for b.Loop() {
		if _, err := v.Verify(text, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGateTap is one rider's tap-in and tap-out on a gate holding many riders.
func BenchmarkGateTap(b *testing.B) {
	g := ridecode.NewGate(ridecode.GateConfig{})
	for i := range 10000 {
		g.TapIn(code(uint64(i+1), int64(i+1), t0), "NB01", t0)
	}
	serial := uint64(1 << 32)
	for b.Loop() {
		serial++
		c := code(serial, 1<<40, t0)
		if _, err := g.TapIn(c, "NB01", t0); err != nil {
			b.Fatal(err)
		}
		if _, err := g.TapOut(c, "NB02", t0); err != nil {
			b.Fatal(err)
		}
	}
}
