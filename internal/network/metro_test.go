package network_test

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"piao/internal/fault"
	"piao/internal/network"
)

// smallLines draws a few lines over a handful of stations, with repeated
// stations, parallel track, zero-length hops and many tied distances.
func smallLines(t *rapid.T) []network.Line {
	nst := rapid.IntRange(1, 7).Draw(t, "stations")
	var lines []network.Line
	for li := range rapid.IntRange(1, 4).Draw(t, "lines") {
		l := network.Line{ID: fmt.Sprintf("L%d", li)}
		m := 0
		for s := range rapid.IntRange(1, 6).Draw(t, "stops") {
			m += 500 * rapid.IntRange(0, 4).Draw(t, "hop")
			id := fmt.Sprintf("s%d", rapid.IntRange(0, nst-1).Draw(t, "station"))
			l.Stations = append(l.Stations, network.LineStation{Seq: s + 1, StationID: id, Metres: m})
		}
		lines = append(lines, l)
	}
	return lines
}

// hops is the track of the lines by hand: for each pair of stations,
// the lengths of the hops joining them, by line.
func hops(lines []network.Line) map[[2]string]map[string]int {
	out := map[[2]string]map[string]int{}
	add := func(a, b, line string, d int) {
		k := [2]string{a, b}
		if out[k] == nil {
			out[k] = map[string]int{}
		}
		if old, ok := out[k][line]; !ok || d < old {
			out[k][line] = d
		}
	}
	for _, l := range lines {
		st := slices.Clone(l.Stations)
		slices.SortFunc(st, func(a, b network.LineStation) int { return a.Seq - b.Seq })
		for i := 1; i < len(st); i++ {
			d := st[i].Metres - st[i-1].Metres
			if d < 0 {
				d = -d
			}
			add(st[i-1].StationID, st[i].StationID, l.ID, d)
			add(st[i].StationID, st[i-1].StationID, l.ID, d)
		}
	}
	return out
}

// floydWarshall is every pair's shortest distance, math.MaxInt where none.
func floydWarshall(ids []string, h map[[2]string]map[string]int) [][]int {
	n := len(ids)
	d := make([][]int, n)
	for i := range d {
		d[i] = make([]int, n)
		for j := range d[i] {
			d[i][j] = math.MaxInt
			for _, m := range h[[2]string{ids[i], ids[j]}] {
				d[i][j] = min(d[i][j], m)
			}
		}
		d[i][i] = 0
	}
	for k := range n {
		for i := range n {
			for j := range n {
				if d[i][k] != math.MaxInt && d[k][j] != math.MaxInt {
					d[i][j] = min(d[i][j], d[i][k]+d[k][j])
				}
			}
		}
	}
	return d
}

// Property: on small random networks the single-source search and the
// route query find Floyd–Warshall's distances, over real track, with the
// tie rules ShortestFrom documents.
func TestShortestPathAgreesWithFloydWarshall(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		lines := smallLines(t)
		g := network.NewGraph(lines)
		ids := g.Stations()
		h := hops(lines)
		want := floydWarshall(ids, h)
		var tree network.Tree
		for src := range int32(len(ids)) {
			g.ShortestFrom(src, &tree)
			checkTree(t, g, &tree, src, want[src], h)
			for dst := range int32(len(ids)) {
				from, to := ids[src], ids[dst]
				p, err := g.ShortestPath(from, to)
				switch {
				case !g.Has(from) || !g.Has(to):
					if !fault.Is(err, fault.NotFound) {
						t.Fatalf("%s→%s off the track: %v", from, to, err)
					}
				case want[src][dst] == math.MaxInt:
					if fault.As(err).Reason != "no_path" {
						t.Fatalf("%s→%s unconnected: %+v, %v", from, to, p, err)
					}
				case err != nil:
					t.Fatalf("%s→%s: %v", from, to, err)
				default:
					checkPath(t, p, from, to, want[src][dst], h)
					// The route is the tree's: what the fare table prices.
					if n := len(p.Stations); n > 1 && p.Stations[n-2] != g.Station(tree.Prev[dst]) {
						t.Fatalf("%s→%s arrives from %s, the tree from %s", from, to, p.Stations[n-2], g.Station(tree.Prev[dst]))
					}
				}
			}
		}
	})
}

// checkTree holds a search's result to the distances and tie rules.
func checkTree(t *rapid.T, g *network.Graph, tree *network.Tree, src int32, want []int, h map[[2]string]map[string]int) {
	rank := map[int32]int{}
	for i, v := range tree.Order {
		rank[v] = i
	}
	if len(tree.Order) == 0 || tree.Order[0] != src {
		t.Fatalf("order %v does not start at the source %d", tree.Order, src)
	}
	for v := range int32(g.Len()) {
		_, reached := rank[v]
		if want[v] == math.MaxInt {
			if reached || tree.Dist[v] != -1 || tree.Prev[v] != -1 {
				t.Fatalf("%d→%d unreachable, yet dist %d prev %d", src, v, tree.Dist[v], tree.Prev[v])
			}
			continue
		}
		if !reached || tree.Dist[v] != want[v] {
			t.Fatalf("%d→%d: dist %d, Floyd–Warshall %d", src, v, tree.Dist[v], want[v])
		}
		if v == src {
			if tree.Prev[v] != -1 {
				t.Fatalf("the source has a predecessor %d", tree.Prev[v])
			}
			continue
		}
		u := tree.Prev[v]
		hop, ok := h[[2]string{g.Station(u), g.Station(v)}][g.Line(tree.PrevLine[v])]
		if !ok || rank[u] >= rank[v] || tree.Dist[u]+hop != tree.Dist[v] {
			t.Fatalf("%d→%d: predecessor %d on line %d is not on a shortest path settled before it", src, v, u, tree.PrevLine[v])
		}
		// The earliest settled predecessor, and on it the first line given.
		for w, r := range rank {
			for line, m := range h[[2]string{g.Station(w), g.Station(v)}] {
				if r >= rank[v] || tree.Dist[w]+m != tree.Dist[v] {
					continue
				}
				if r < rank[u] || (w == u && line < g.Line(tree.PrevLine[v])) {
					t.Fatalf("%d→%d: predecessor %d line %d, but %d line %s comes first", src, v, u, tree.PrevLine[v], w, line)
				}
			}
		}
	}
	for i := 1; i < len(tree.Order); i++ {
		a, b := tree.Order[i-1], tree.Order[i]
		if tree.Dist[a] > tree.Dist[b] {
			t.Fatalf("settled %d (%d m) before %d (%d m)", a, tree.Dist[a], b, tree.Dist[b])
		}
	}
}

// checkPath holds a route to its ends, its length and real track.
func checkPath(t *rapid.T, p network.Path, from, to string, metres int, h map[[2]string]map[string]int) {
	if p.Metres != metres {
		t.Fatalf("%s→%s: %d m, Floyd–Warshall %d", from, to, p.Metres, metres)
	}
	if p.Stations[0] != from || p.Stations[len(p.Stations)-1] != to || len(p.Lines) != len(p.Stations)-1 {
		t.Fatalf("%s→%s: malformed path %+v", from, to, p)
	}
	sum, transfers := 0, 0
	for i, line := range p.Lines {
		m, ok := h[[2]string{p.Stations[i], p.Stations[i+1]}][line]
		if !ok {
			t.Fatalf("%s→%s: no track %s–%s on %s", from, to, p.Stations[i], p.Stations[i+1], line)
		}
		sum += m
		if i > 0 && line != p.Lines[i-1] {
			transfers++
		}
	}
	if sum != metres || transfers != p.Transfers {
		t.Fatalf("%s→%s: hops add to %d m with %d transfers; path says %d m, %d", from, to, sum, transfers, p.Metres, p.Transfers)
	}
}
