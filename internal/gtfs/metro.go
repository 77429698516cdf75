package gtfs

import (
	"math"

	"piao/internal/network"
)

// deriveMetroLines gives every metro line (route_type 1) its ordered
// stations, so metro fares can be priced over the network graph: GTFS has no
// line station list, so the line's longest trip stands for it. Distances come
// from shape_dist_traveled when the feed's unit is known, else from the
// great-circle distance between consecutive stops.
func deriveMetroLines(b *network.Bundle) {
	longest := map[string]*network.Service{}
	for i := range b.Services {
		s := &b.Services[i]
		cur := longest[s.LineID]
		if cur == nil || len(s.Stops) > len(cur.Stops) || len(s.Stops) == len(cur.Stops) && s.ID < cur.ID {
			longest[s.LineID] = s
		}
	}
	coords := make(map[string][2]float64, len(b.Stations))
	for _, st := range b.Stations {
		coords[st.ID] = [2]float64{st.Lat, st.Lon}
	}
	for i := range b.Lines {
		l := &b.Lines[i]
		svc := longest[l.ID]
		if l.RouteType != 1 || svc == nil {
			continue
		}
		measured := svc.Stops[len(svc.Stops)-1].Metres > 0
		metres := 0
		for j, st := range svc.Stops {
			if j > 0 {
				if measured {
					metres = st.Metres
				} else {
					metres += haversineMetres(coords[svc.Stops[j-1].StationID], coords[st.StationID])
				}
			}
			l.Stations = append(l.Stations, network.LineStation{Seq: j + 1, StationID: st.StationID, Metres: metres})
		}
	}
}

// haversineMetres is the great-circle distance between two points, rounded to metres.
func haversineMetres(a, b [2]float64) int {
	const earthRadius = 6371008.8 // mean radius, metres
	rad := math.Pi / 180
	dLat := (b[0] - a[0]) * rad
	dLon := (b[1] - a[1]) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a[0]*rad)*math.Cos(b[0]*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return int(math.Round(2 * earthRadius * math.Asin(math.Sqrt(h))))
}
