package network_test

import (
	"testing"

	"piao/internal/demo"
	"piao/internal/network"
)

// BenchmarkShortestPath is one route query on the demo metro, graph built
// as MetroFare builds it.
func BenchmarkShortestPath(b *testing.B) {
	m := demo.Metro()
	for b.Loop() {
		if _, err := network.NewGraph(m.Lines).ShortestPath("nbmetro:XP", "nbmetro:LSJC"); err != nil {
			b.Fatal(err)
		}
	}
}
