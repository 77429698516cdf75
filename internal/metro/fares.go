package metro

import (
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
	g        *network.Graph // station and line indices; stations sorted by ID
	fares    []int64        // n*n, fen
	metres   []int32        // n*n, shortest distance
	first    []int32        // n*n, line index of the shortest path's first hop (-1 same station)
	last     []int32        // n*n, line index of the shortest path's last hop (-1 same station)
	stLines  [][]string     // station index → IDs of its lines, in the order given
	maxFrom  []int64        // highest fare from each station
	maxTo    []int64        // highest fare to each station
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
	if err := checkStationIDs(lines); err != nil {
		return nil, err
	}
	g := network.NewGraph(lines)
	if g.Len() == 0 {
		return nil, fault.New(fault.Invalid, "no_stations", "线网没有车站", "the network has no stations")
	}
	ft := newFareTable(g, lines)
	fares := bandFares{bands: bands, memo: map[int]int64{}}
	base, err := fares.of(0)
	if err != nil {
		return nil, err
	}
	ft.baseFare = base
	// One shortest-path search per source fills that source's row; the
	// tree's storage is reused from one source to the next.
	var t network.Tree
	for src := range int32(ft.n) {
		g.ShortestFrom(src, &t)
		if i := slices.Index(t.Dist, -1); i >= 0 {
			return nil, fault.Newf(fault.Invalid, "network_not_connected", "车站 %s 与 %s 之间没有线路连通", "no route joins stations %s and %s", g.Station(src), g.Station(int32(i)))
		}
		if err := ft.fillRow(src, &t, &fares); err != nil {
			return nil, err
		}
	}
	return ft, nil
}

// checkStationIDs refuses a line naming a station with no ID.
func checkStationIDs(lines []network.Line) error {
	for _, l := range lines {
		for _, s := range l.Stations {
			if s.StationID == "" {
				return fault.Newf(fault.Invalid, "line_station_empty", "线路 %s 有空的车站编号", "line %s has a station with no ID", l.ID)
			}
		}
	}
	return nil
}

// newFareTable allocates the table of a graph's stations, with each
// station's lines, and no fares yet.
func newFareTable(g *network.Graph, lines []network.Line) *FareTable {
	n := g.Len()
	ft := &FareTable{
		n: n, g: g,
		fares: make([]int64, n*n), metres: make([]int32, n*n),
		first: make([]int32, n*n), last: make([]int32, n*n),
		stLines: make([][]string, n),
		maxFrom: make([]int64, n), maxTo: make([]int64, n),
	}
	for _, l := range lines {
		for _, s := range l.Stations {
			x, _ := g.Index(s.StationID)
			if !slices.Contains(ft.stLines[x], l.ID) {
				ft.stLines[x] = append(ft.stLines[x], l.ID)
			}
		}
	}
	return ft
}

// fillRow records the fares, distances and first and last lines from src
// to every station, from src's shortest-path tree, and raises the maxima.
func (ft *FareTable) fillRow(src int32, t *network.Tree, fares *bandFares) error {
	row := int(src) * ft.n
	ft.first[row+int(src)], ft.last[row+int(src)] = -1, -1
	for _, v := range t.Order { // settling order: a station's Prev is done before it
		k := row + int(v)
		if v != src {
			ft.last[k] = t.PrevLine[v]
			if p := t.Prev[v]; p == src {
				ft.first[k] = t.PrevLine[v]
			} else {
				ft.first[k] = ft.first[row+int(p)]
			}
		}
		f, err := fares.of(t.Dist[v])
		if err != nil {
			return err
		}
		ft.fares[k], ft.metres[k] = f, int32(t.Dist[v])
		ft.maxFrom[src] = max(ft.maxFrom[src], f)
		ft.maxTo[v] = max(ft.maxTo[v], f)
		ft.maxFare = max(ft.maxFare, f)
	}
	return nil
}

// bandFares prices distances by the bands, remembering each distance's
// fare so the bands are sorted once per distinct distance, not per pair.
type bandFares struct {
	bands []network.FareBand
	memo  map[int]int64
}

// of returns the band fare of a distance in metres.
func (b *bandFares) of(metres int) (int64, error) {
	if f, ok := b.memo[metres]; ok {
		return f, nil
	}
	f, err := network.BandFare(b.bands, metres)
	if err != nil {
		return 0, err
	}
	b.memo[metres] = f
	return f, nil
}

// Len is the number of stations in the table.
func (ft *FareTable) Len() int { return ft.n }

// Index returns a station's dense index, or false when it is not on the network.
func (ft *FareTable) Index(station string) (int32, bool) { return ft.g.Index(station) }

// Station returns the ID of the station at a dense index.
func (ft *FareTable) Station(i int32) string { return ft.g.Station(i) }

// Stations returns the station IDs in index order (sorted by ID).
func (ft *FareTable) Stations() []string { return ft.g.Stations() }

// FareByIndex returns the fare in fen from station a to station b by their
// dense indices; it panics on an index out of range.
func (ft *FareTable) FareByIndex(a, b int32) int64 { return ft.fares[int(a)*ft.n+int(b)] }

// MetresByIndex returns the shortest distance in metres from a to b.
func (ft *FareTable) MetresByIndex(a, b int32) int { return int(ft.metres[int(a)*ft.n+int(b)]) }

// Fare returns the fare in fen and the shortest distance between two stations.
func (ft *FareTable) Fare(from, to string) (fare int64, metres int, err error) {
	a, ok := ft.g.Index(from)
	if !ok {
		return 0, 0, unknownStation(from)
	}
	b, ok := ft.g.Index(to)
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
	i, ok := ft.g.Index(station)
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
	return ft.g.Line(ft.first[k]), ft.g.Line(ft.last[k])
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
