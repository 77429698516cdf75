package metro

import (
	"container/heap"
	"slices"

	"piao/internal/fault"
	"piao/internal/network"
)

// FareTable is a network's OD fare table: the fare of every ordered pair
// of stations by distance bands over the shortest path, transfers free, as
// Ningbo prices it. It is built once and read without locks; stations are
// interned to dense indices so a lookup is one slice read.
type FareTable struct {
	n        int
	ids      []string         // station index → ID, sorted by ID
	index    map[string]int32 // station ID → index
	fares    []int64          // n*n, fen
	metres   []int32          // n*n, shortest distance
	first    []int32          // n*n, line index of the shortest path's first hop (-1 same station)
	last     []int32          // n*n, line index of the shortest path's last hop (-1 same station)
	lineIDs  []string         // line index → ID, in the order given
	stLines  [][]string       // station index → IDs of its lines, in the order given
	maxFrom  []int64          // highest fare from each station
	maxTo    []int64          // highest fare to each station
	maxFare  int64
	baseFare int64
}

// NewFareTable precomputes the fare table of the given metro lines and
// distance fare bands; every station must be reachable from every other.
func NewFareTable(lines []network.Line, bands []network.FareBand) (*FareTable, error) {
	if len(bands) == 0 {
		return nil, fault.New(fault.Invalid, "no_fare_bands", "该线网未配置里程票价", "this network has no distance fare bands")
	}
	if err := network.ValidateBands(bands); err != nil {
		return nil, err
	}
	ft := &FareTable{index: map[string]int32{}}
	for _, l := range lines {
		for _, s := range l.Stations {
			if s.StationID == "" {
				return nil, fault.Newf(fault.Invalid, "line_station_empty", "线路 %s 有空的车站编号", "line %s has a station with no ID", l.ID)
			}
			if _, ok := ft.index[s.StationID]; !ok {
				ft.index[s.StationID] = 0
				ft.ids = append(ft.ids, s.StationID)
			}
		}
	}
	if len(ft.ids) == 0 {
		return nil, fault.New(fault.Invalid, "no_stations", "线网没有车站", "the network has no stations")
	}
	slices.Sort(ft.ids)
	for i, id := range ft.ids {
		ft.index[id] = int32(i)
	}
	n := len(ft.ids)
	ft.n = n
	ft.stLines = make([][]string, n)

	// Adjacency over dense indices: the track between consecutive
	// stations of each line (as network.NewGraph builds it).
	type arc struct {
		to, line int32
		metres   int
	}
	adj := make([][]arc, n)
	for li, l := range lines {
		ft.lineIDs = append(ft.lineIDs, l.ID)
		st := slices.Clone(l.Stations)
		slices.SortStableFunc(st, func(a, b network.LineStation) int { return a.Seq - b.Seq })
		for i, s := range st {
			x := ft.index[s.StationID]
			if !slices.Contains(ft.stLines[x], l.ID) {
				ft.stLines[x] = append(ft.stLines[x], l.ID)
			}
			if i == 0 {
				continue
			}
			a, b := ft.index[st[i-1].StationID], x
			d := s.Metres - st[i-1].Metres
			if d < 0 {
				d = -d
			}
			adj[a] = append(adj[a], arc{b, int32(li), d})
			adj[b] = append(adj[b], arc{a, int32(li), d})
		}
	}

	ft.fares = make([]int64, n*n)
	ft.metres = make([]int32, n*n)
	ft.first = make([]int32, n*n)
	ft.last = make([]int32, n*n)
	ft.maxFrom = make([]int64, n)
	ft.maxTo = make([]int64, n)
	base, err := network.BandFare(bands, 0)
	if err != nil {
		return nil, err
	}
	ft.baseFare = base
	fareOf := map[int]int64{} // distance → band fare, so bands are sorted once per distinct distance

	// One Dijkstra per source. The queue pops by (distance, index), so the
	// pop order is total and deterministic; each station's predecessor is
	// the earliest-popped station on a shortest path to it (lowest line
	// index among parallel tracks), which fixes the first and last lines.
	dist := make([]int, n)
	order := make([]int32, n) // pop rank, -1 not popped
	prev := make([]int32, n)
	prevLine := make([]int32, n)
	popped := make([]int32, 0, n)
	for src := range n {
		for i := range n {
			dist[i], order[i], prev[i], prevLine[i] = -1, -1, -1, -1
		}
		popped = popped[:0]
		dist[src] = 0
		q := &distQueue{{int32(src), 0}}
		for q.Len() > 0 {
			it := heap.Pop(q).(distItem)
			if order[it.st] >= 0 || it.d != dist[it.st] {
				continue
			}
			order[it.st] = int32(len(popped))
			popped = append(popped, it.st)
			for _, e := range adj[it.st] {
				nd := it.d + e.metres
				if dist[e.to] < 0 || nd < dist[e.to] {
					dist[e.to] = nd
					heap.Push(q, distItem{e.to, nd})
				}
			}
		}
		if len(popped) != n {
			for i := range n {
				if dist[i] < 0 {
					return nil, fault.Newf(fault.Invalid, "network_not_connected", "车站 %s 与 %s 之间没有线路连通", "no route joins stations %s and %s", ft.ids[src], ft.ids[i])
				}
			}
		}
		// Predecessors, in pop order: the earliest-popped neighbour on a
		// shortest path, then the lowest line index.
		for _, v := range popped[1:] {
			for _, e := range adj[v] {
				u := e.to
				if order[u] >= order[v] || dist[u]+e.metres != dist[v] {
					continue
				}
				if prev[v] < 0 || order[u] < order[prev[v]] || (u == prev[v] && e.line < prevLine[v]) {
					prev[v], prevLine[v] = u, e.line
				}
			}
		}
		row := src * n
		ft.first[row+src], ft.last[row+src] = -1, -1
		for _, v := range popped {
			k := row + int(v)
			if int(v) != src {
				ft.last[k] = prevLine[v]
				if int(prev[v]) == src {
					ft.first[k] = prevLine[v]
				} else {
					ft.first[k] = ft.first[row+int(prev[v])] // prev popped earlier: already set
				}
			}
			f, ok := fareOf[dist[v]]
			if !ok {
				if f, err = network.BandFare(bands, dist[v]); err != nil {
					return nil, err
				}
				fareOf[dist[v]] = f
			}
			ft.fares[k], ft.metres[k] = f, int32(dist[v])
			ft.maxFrom[src] = max(ft.maxFrom[src], f)
			ft.maxTo[v] = max(ft.maxTo[v], f)
			ft.maxFare = max(ft.maxFare, f)
		}
	}
	return ft, nil
}

type distItem struct {
	st int32
	d  int
}

type distQueue []distItem

func (q distQueue) Len() int { return len(q) }
func (q distQueue) Less(i, j int) bool {
	return q[i].d < q[j].d || (q[i].d == q[j].d && q[i].st < q[j].st)
}
func (q distQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *distQueue) Push(x any)   { *q = append(*q, x.(distItem)) }
func (q *distQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}

// Len is the number of stations in the table.
func (ft *FareTable) Len() int { return ft.n }

// Index returns a station's dense index, or false when it is not on the network.
func (ft *FareTable) Index(station string) (int32, bool) {
	i, ok := ft.index[station]
	return i, ok
}

// Station returns the ID of the station at a dense index.
func (ft *FareTable) Station(i int32) string { return ft.ids[i] }

// Stations returns the station IDs in index order (sorted by ID).
func (ft *FareTable) Stations() []string { return slices.Clone(ft.ids) }

// FareByIndex returns the fare in fen from station a to station b by their
// dense indices; it panics on an index out of range.
func (ft *FareTable) FareByIndex(a, b int32) int64 { return ft.fares[int(a)*ft.n+int(b)] }

// MetresByIndex returns the shortest distance in metres from a to b.
func (ft *FareTable) MetresByIndex(a, b int32) int { return int(ft.metres[int(a)*ft.n+int(b)]) }

// Fare returns the fare in fen and the shortest distance between two stations.
func (ft *FareTable) Fare(from, to string) (fare int64, metres int, err error) {
	a, ok := ft.index[from]
	if !ok {
		return 0, 0, unknownStation(from)
	}
	b, ok := ft.index[to]
	if !ok {
		return 0, 0, unknownStation(to)
	}
	k := int(a)*ft.n + int(b)
	return ft.fares[k], int(ft.metres[k]), nil
}

// BaseFare is the lowest fare on the network: the fare of the first band.
func (ft *FareTable) BaseFare() int64 { return ft.baseFare }

// MaxFare is the highest fare between any two stations of the network.
func (ft *FareTable) MaxFare() int64 { return ft.maxFare }

// MaxFareFrom is the highest fare from station a to any station.
func (ft *FareTable) MaxFareFrom(a int32) int64 { return ft.maxFrom[a] }

// MaxFareTo is the highest fare from any station to station b.
func (ft *FareTable) MaxFareTo(b int32) int64 { return ft.maxTo[b] }

// Lines returns the IDs of a station's lines, in the order the lines were given.
func (ft *FareTable) Lines(station string) []string {
	i, ok := ft.index[station]
	if !ok {
		return nil
	}
	return slices.Clone(ft.stLines[i])
}

// TripLines returns the lines a trip from a to b enters and leaves by: the
// lines of the first and last hops of the shortest path, or the station's
// first line for both when a == b.
func (ft *FareTable) TripLines(a, b int32) (fromLine, toLine string) {
	if a == b {
		l := ft.firstLine(a)
		return l, l
	}
	k := int(a)*ft.n + int(b)
	return ft.lineIDs[ft.first[k]], ft.lineIDs[ft.last[k]]
}

func (ft *FareTable) firstLine(a int32) string {
	if len(ft.stLines[a]) == 0 {
		return ""
	}
	return ft.stLines[a][0]
}

func unknownStation(id string) error {
	return fault.Newf(fault.NotFound, "station_not_on_network", "车站 %s 不在该线网中", "station %s is not on this network", id)
}
