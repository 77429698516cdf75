package metro_test

import (
	"fmt"
	"testing"

	"piao/internal/demo"
	"piao/internal/metro"
	"piao/internal/network"
)

// gridLines is a synthetic metro of k east–west and k north–south lines
// crossing on a grid, with a station between every two crossings:
// k*k transfer stations and 2*k*(k-1) others.
func gridLines(k int) []network.Line {
	var lines []network.Line
	for dir, name := range []string{"EW", "NS"} {
		for i := range k {
			l := network.Line{ID: fmt.Sprintf("%s%d", name, i)}
			seq, m := 0, 0
			for j := range k {
				x, y := i, j
				if dir == 1 {
					x, y = j, i
				}
				if j > 0 {
					seq++
					m += 700 + 37*((i+j)%5)
					l.Stations = append(l.Stations, network.LineStation{Seq: seq, StationID: fmt.Sprintf("%s%d-%d", name, i, j), Metres: m})
				}
				seq++
				m += 800 + 53*((i*j)%7)
				l.Stations = append(l.Stations, network.LineStation{Seq: seq, StationID: fmt.Sprintf("x%d-%d", x, y), Metres: m})
			}
			lines = append(lines, l)
		}
	}
	return lines
}

func BenchmarkNewFareTable(b *testing.B) {
	bands := demo.Metro().FareBands
	for _, c := range []struct {
		name  string
		lines []network.Line
	}{{"demo", demo.Metro().Lines}, {"grid12", gridLines(12)}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := metro.NewFareTable(c.lines, bands); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
