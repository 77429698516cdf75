package network

import (
	"container/heap"
	"sort"

	"piao/internal/fault"
)

// Graph is an undirected metro network: stations joined by the track
// between consecutive stations of each line. A station on several lines is
// a transfer station and joins them.
type Graph struct {
	edges map[string][]edge
}

type edge struct {
	to     string
	metres int
	lineID string
}

// NewGraph builds the graph of the given lines' ordered stations.
func NewGraph(lines []Line) *Graph {
	g := &Graph{edges: map[string][]edge{}}
	for _, l := range lines {
		st := append([]LineStation(nil), l.Stations...)
		sort.Slice(st, func(i, j int) bool { return st[i].Seq < st[j].Seq })
		for i := 1; i < len(st); i++ {
			a, b := st[i-1], st[i]
			d := b.Metres - a.Metres
			if d < 0 {
				d = -d
			}
			g.edges[a.StationID] = append(g.edges[a.StationID], edge{b.StationID, d, l.ID})
			g.edges[b.StationID] = append(g.edges[b.StationID], edge{a.StationID, d, l.ID})
		}
	}
	return g
}

// Has reports whether a station is on the graph.
func (g *Graph) Has(stationID string) bool { _, ok := g.edges[stationID]; return ok }

// Path is a shortest route between two stations.
type Path struct {
	Stations  []string `json:"stations"`
	Lines     []string `json:"lines"` // line of each hop, len(Stations)-1
	Metres    int      `json:"metres"`
	Transfers int      `json:"transfers"`
}

type pqItem struct {
	station string
	metres  int
}

type pq []pqItem

func (q pq) Len() int           { return len(q) }
func (q pq) Less(i, j int) bool { return q[i].metres < q[j].metres }
func (q pq) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *pq) Push(x any)        { *q = append(*q, x.(pqItem)) }
func (q *pq) Pop() any          { old := *q; it := old[len(old)-1]; *q = old[:len(old)-1]; return it }

// ShortestPath returns the shortest path by distance (Dijkstra). Ties are
// broken by station ID so the result is deterministic.
func (g *Graph) ShortestPath(from, to string) (Path, error) {
	if !g.Has(from) {
		return Path{}, fault.Newf(fault.NotFound, "station_not_on_network", "车站 %s 不在该线网中", "station %s is not on this network", from)
	}
	if !g.Has(to) {
		return Path{}, fault.Newf(fault.NotFound, "station_not_on_network", "车站 %s 不在该线网中", "station %s is not on this network", to)
	}
	dist := map[string]int{from: 0}
	prev := map[string]edge{}
	done := map[string]bool{}
	q := &pq{{from, 0}}
	for q.Len() > 0 {
		it := heap.Pop(q).(pqItem)
		if done[it.station] {
			continue
		}
		done[it.station] = true
		if it.station == to {
			break
		}
		for _, e := range g.edges[it.station] {
			nd := it.metres + e.metres
			old, seen := dist[e.to]
			if !seen || nd < old || (nd == old && it.station < prev[e.to].to) {
				dist[e.to] = nd
				prev[e.to] = edge{to: it.station, metres: e.metres, lineID: e.lineID}
				heap.Push(q, pqItem{e.to, nd})
			}
		}
	}
	if !done[to] {
		return Path{}, fault.New(fault.NotFound, "no_path", "两站之间没有线路连通", "no route connects the two stations")
	}
	p := Path{Metres: dist[to]}
	for s := to; s != from; s = prev[s].to {
		p.Stations = append(p.Stations, s)
		p.Lines = append(p.Lines, prev[s].lineID)
	}
	p.Stations = append(p.Stations, from)
	reverse(p.Stations)
	reverse(p.Lines)
	for i := 1; i < len(p.Lines); i++ {
		if p.Lines[i] != p.Lines[i-1] {
			p.Transfers++
		}
	}
	return p, nil
}

func reverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

// BandFare returns the fare for a distance under the given bands (any order).
func BandFare(bands []FareBand, metres int) (int64, error) {
	if len(bands) == 0 {
		return 0, fault.New(fault.NotFound, "no_fare_bands", "该线网未配置里程票价", "this network has no distance fare bands")
	}
	bs := append([]FareBand(nil), bands...)
	sort.Slice(bs, func(i, j int) bool {
		if bs[i].UpToMetres == 0 || bs[j].UpToMetres == 0 {
			return bs[j].UpToMetres == 0 && bs[i].UpToMetres != 0
		}
		return bs[i].UpToMetres < bs[j].UpToMetres
	})
	for _, b := range bs {
		if b.UpToMetres == 0 || metres <= b.UpToMetres {
			return b.Fen, nil
		}
	}
	return 0, fault.Newf(fault.Invalid, "distance_beyond_bands", "里程 %d 米超出票价表范围", "distance of %d m is beyond the fare table", metres)
}

// ValidateBands checks that bands rise with distance and fares never fall.
func ValidateBands(bands []FareBand) error {
	last, open := -1, 0
	var lastFen int64 = -1
	for _, b := range bands {
		if b.Fen < 0 {
			return fault.New(fault.Invalid, "negative_fare", "票价不能为负", "a fare cannot be negative")
		}
		if b.UpToMetres == 0 {
			open++
			continue
		}
		if b.UpToMetres <= last || b.Fen < lastFen {
			return fault.New(fault.Invalid, "bands_not_increasing", "里程票价区段必须按里程递增且票价不减", "fare bands must rise in distance with fares that never fall")
		}
		last, lastFen = b.UpToMetres, b.Fen
	}
	if open > 1 {
		return fault.New(fault.Invalid, "bands_open_twice", "只能有一个不限里程的区段", "only one band may be open-ended")
	}
	return nil
}
