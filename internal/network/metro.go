package network

import (
	"container/heap"
	"slices"
	"sort"

	"piao/internal/fault"
)

// Graph is an undirected metro network: stations joined by the track
// between consecutive stations of each line. A station on several lines is
// a transfer station and joins them. Stations are interned to dense
// indices in ID order, lines to indices in the order given.
type Graph struct {
	ids   []string         // station index → ID, sorted by ID
	index map[string]int32 // station ID → index
	lines []string         // line index → ID, in the order given
	adj   [][]arc          // station index → track to its neighbours, in line order
}

// arc is one direction of the track between two consecutive stations of a line.
type arc struct {
	to, line int32
	metres   int
}

// NewGraph builds the graph of the given lines' ordered stations.
func NewGraph(lines []Line) *Graph {
	g := &Graph{index: map[string]int32{}}
	for _, l := range lines {
		for _, s := range l.Stations {
			if _, ok := g.index[s.StationID]; !ok {
				g.index[s.StationID] = 0
				g.ids = append(g.ids, s.StationID)
			}
		}
	}
	slices.Sort(g.ids)
	for i, id := range g.ids {
		g.index[id] = int32(i)
	}
	g.adj = make([][]arc, len(g.ids))
	for li, l := range lines {
		g.lines = append(g.lines, l.ID)
		st := slices.Clone(l.Stations)
		slices.SortStableFunc(st, func(a, b LineStation) int { return a.Seq - b.Seq })
		for i := 1; i < len(st); i++ {
			a, b := g.index[st[i-1].StationID], g.index[st[i].StationID]
			d := st[i].Metres - st[i-1].Metres
			if d < 0 {
				d = -d
			}
			g.adj[a] = append(g.adj[a], arc{b, int32(li), d})
			g.adj[b] = append(g.adj[b], arc{a, int32(li), d})
		}
	}
	return g
}

// Has reports whether a station is on the graph's track, joined to at
// least one other station.
func (g *Graph) Has(stationID string) bool {
	i, ok := g.index[stationID]
	return ok && len(g.adj[i]) > 0
}

// Len is the number of stations the lines name, joined by track or not.
func (g *Graph) Len() int { return len(g.ids) }

// Index returns a station's dense index, or false when no line names it.
func (g *Graph) Index(stationID string) (int32, bool) {
	i, ok := g.index[stationID]
	return i, ok
}

// Station returns the ID of the station at a dense index.
func (g *Graph) Station(i int32) string { return g.ids[i] }

// Stations returns the station IDs in index order (sorted by ID).
func (g *Graph) Stations() []string { return slices.Clone(g.ids) }

// Line returns the ID of the line at an index (the lines' order given to NewGraph).
func (g *Graph) Line(i int32) string { return g.lines[i] }

// Tree is the shortest-path tree from one station, as Graph.ShortestFrom
// leaves it; its slices are indexed by station and reused from one search
// to the next.
type Tree struct {
	// Dist is the shortest distance in metres from the source, -1 where
	// the station cannot be reached.
	Dist []int
	// Prev is the station before each one on its shortest path, -1 for the
	// source and for unreached stations.
	Prev []int32
	// PrevLine is the line of the hop from Prev, -1 where Prev is.
	PrevLine []int32
	// Order lists the reached stations in the order the search settled
	// them, nearest first and the source first: every station's Prev
	// comes before it.
	Order []int32
	rank  []int32 // station → position in Order, -1 unreached
	queue distQueue
}

// ShortestFrom fills t with the shortest paths from station src to every
// station (Dijkstra). Ties are broken so the result is deterministic: the
// search takes stations from its queue by (distance, index), a station's predecessor is
// the earliest settled station on a shortest path to it, and among parallel
// tracks from there the line given first.
func (g *Graph) ShortestFrom(src int32, t *Tree) { g.shortestFrom(src, -1, t) }

// shortestFrom is ShortestFrom stopping once station stop (-1: none) is
// settled; Dist, Prev and PrevLine hold only for the stations in Order.
func (g *Graph) shortestFrom(src, stop int32, t *Tree) {
	t.reset(len(g.ids))
	t.Dist[src] = 0
	t.queue = append(t.queue, queued{src, 0})
	for t.queue.Len() > 0 {
		it := heap.Pop(&t.queue).(queued)
		if t.rank[it.st] >= 0 || it.d != t.Dist[it.st] {
			continue // settled already, or a stale entry
		}
		t.rank[it.st] = int32(len(t.Order))
		t.Order = append(t.Order, it.st)
		if it.st == stop {
			break
		}
		for _, e := range g.adj[it.st] {
			if nd := it.d + e.metres; t.Dist[e.to] < 0 || nd < t.Dist[e.to] {
				t.Dist[e.to] = nd
				heap.Push(&t.queue, queued{e.to, nd})
			}
		}
	}
	// Predecessors, in settling order: the earliest settled neighbour on
	// a shortest path, then the lowest line index. Choosing them after the
	// search, rather than while relaxing, keeps the choice independent of
	// the order the queue happened to offer equal distances in.
	for _, v := range t.Order[1:] {
		for _, e := range g.adj[v] {
			u := e.to
			if t.rank[u] < 0 || t.rank[u] >= t.rank[v] || t.Dist[u]+e.metres != t.Dist[v] {
				continue
			}
			if p := t.Prev[v]; p < 0 || t.rank[u] < t.rank[p] || (u == p && e.line < t.PrevLine[v]) {
				t.Prev[v], t.PrevLine[v] = u, e.line
			}
		}
	}
}

// reset sizes a tree's slices for n stations, nothing reached.
func (t *Tree) reset(n int) {
	t.Dist, t.Prev, t.PrevLine, t.rank = filled(t.Dist, n, -1), filled(t.Prev, n, -1), filled(t.PrevLine, n, -1), filled(t.rank, n, -1)
	t.Order, t.queue = t.Order[:0], t.queue[:0]
}

// filled returns s resized to n elements, all v, reusing its storage when it can.
func filled[T any](s []T, n int, v T) []T {
	if cap(s) < n {
		s = make([]T, n)
	}
	s = s[:n]
	for i := range s {
		s[i] = v
	}
	return s
}

// queued is a station waiting in the search queue at a tentative distance.
type queued struct {
	st int32
	d  int
}

// distQueue orders the search by (distance, station index), so the order
// stations settle in is total and deterministic.
type distQueue []queued

func (q distQueue) Len() int { return len(q) }
func (q distQueue) Less(i, j int) bool {
	return q[i].d < q[j].d || (q[i].d == q[j].d && q[i].st < q[j].st)
}
func (q distQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *distQueue) Push(x any)   { *q = append(*q, x.(queued)) }
func (q *distQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}

// Path is a shortest route between two stations.
type Path struct {
	Stations  []string `json:"stations"`
	Lines     []string `json:"lines"` // line of each hop, len(Stations)-1
	Metres    int      `json:"metres"`
	Transfers int      `json:"transfers"`
}

// ShortestPath returns the shortest path by distance, with ties broken as
// ShortestFrom breaks them (so the fare table prices the same route).
func (g *Graph) ShortestPath(from, to string) (Path, error) {
	if !g.Has(from) {
		return Path{}, fault.Newf(fault.NotFound, "station_not_on_network", "车站 %s 不在该线网中", "station %s is not on this network", from)
	}
	if !g.Has(to) {
		return Path{}, fault.Newf(fault.NotFound, "station_not_on_network", "车站 %s 不在该线网中", "station %s is not on this network", to)
	}
	src, dst := g.index[from], g.index[to]
	var t Tree
	g.shortestFrom(src, dst, &t)
	if t.rank[dst] < 0 {
		return Path{}, fault.New(fault.NotFound, "no_path", "两站之间没有线路连通", "no route connects the two stations")
	}
	p := Path{Metres: t.Dist[dst]}
	for s := dst; s != src; s = t.Prev[s] {
		p.Stations = append(p.Stations, g.ids[s])
		p.Lines = append(p.Lines, g.lines[t.PrevLine[s]])
	}
	p.Stations = append(p.Stations, from)
	slices.Reverse(p.Stations)
	slices.Reverse(p.Lines)
	for i := 1; i < len(p.Lines); i++ {
		if p.Lines[i] != p.Lines[i-1] {
			p.Transfers++
		}
	}
	return p, nil
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
