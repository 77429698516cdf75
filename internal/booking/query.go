package booking

import (
	"context"
	"sort"
	"strings"
	"time"

	"piao/internal/fault"
	"piao/internal/network"
	"piao/internal/seats"
)

// Availability is the count and fare of one kind of seat on a journey.
type Availability struct {
	SeatClass network.SeatClass `json:"seat_class"`
	Berth     network.Berth     `json:"berth,omitempty"`
	Remaining int               `json:"remaining"`
	FareFen   int64             `json:"fare_fen"`
}

// Offer is one train between two stations on a date, with what is left.
type Offer struct {
	ServiceID   string          `json:"service_id"`
	Number      string          `json:"number"`
	Date        network.Date    `json:"date"`
	From        network.Station `json:"from"`
	To          network.Station `json:"to"`
	FromIndex   int             `json:"from_index"`
	ToIndex     int             `json:"to_index"`
	Departure   time.Time       `json:"departure"`
	Arrival     time.Time       `json:"arrival"`
	DurationMin int             `json:"duration_minutes"`
	Seats       []Availability  `json:"seats"`
	// AsOf is when these counts were last known to match the database; a
	// booking re-checks them under lock.
	AsOf time.Time `json:"as_of"`
}

// Remaining answers the remaining-ticket query (余票查询): every train calling
// at a station named by from and later at one named by to on date, with
// counts per class and berth, fares and times. Stations are named by ID,
// telecode, name or pinyin.
func (s *Service) Remaining(ctx context.Context, from, to string, date network.Date) ([]Offer, error) {
	fromIDs, err := s.resolveStations(ctx, from)
	if err != nil {
		return nil, err
	}
	toIDs, err := s.resolveStations(ctx, to)
	if err != nil {
		return nil, err
	}
	var out []Offer
	seen := map[string]bool{}
	for _, f := range fromIDs {
		svcs, err := s.net.ServicesAt(ctx, f.ID)
		if err != nil {
			return nil, err
		}
		for _, svc := range svcs {
			if seen[svc.ID] {
				continue
			}
			fi, ti := -1, -1
			for i, st := range svc.Stops {
				if fi < 0 && containsStation(fromIDs, st.StationID) {
					fi = i
				} else if fi >= 0 && containsStation(toIDs, st.StationID) {
					ti = i
					break
				}
			}
			if fi < 0 || ti < 0 {
				continue
			}
			seen[svc.ID] = true
			offer, ok, err := s.offer(ctx, svc.ID, date, fi, ti)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, offer)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Departure.Before(out[j].Departure) })
	if out == nil {
		out = []Offer{}
	}
	return out, nil
}

// offer builds one train's offer, or reports false if it does not run that day.
func (s *Service) offer(ctx context.Context, serviceID string, date network.Date, fi, ti int) (Offer, bool, error) {
	si, err := s.trains.service(ctx, serviceID)
	if err != nil {
		return Offer{}, false, err
	}
	if !si.calendar.Runs(date) {
		return Offer{}, false, nil
	}
	snap, err := s.trains.current(ctx, TrainKey{ServiceID: serviceID, Date: date})
	if err != nil {
		return Offer{}, false, err
	}
	stops := si.svc.Stops
	from, err := s.net.Station(ctx, stops[fi].StationID)
	if err != nil {
		return Offer{}, false, err
	}
	to, err := s.net.Station(ctx, stops[ti].StationID)
	if err != nil {
		return Offer{}, false, err
	}
	fares, err := s.net.Fares(ctx, serviceID, from.ID, to.ID)
	if err != nil {
		return Offer{}, false, err
	}
	o := Offer{ServiceID: serviceID, Number: si.svc.Number, Date: date, From: from, To: to, FromIndex: fi, ToIndex: ti,
		Departure: at(date, si.loc, stops[fi].Depart), Arrival: at(date, si.loc, stops[ti].Arrive),
		DurationMin: (stops[ti].Arrive - stops[fi].Depart) / 60, AsOf: snap.checked}
	fareOf := map[seats.Kind]int64{}
	for _, f := range fares {
		fareOf[seats.Kind{Class: f.SeatClass, Berth: f.Berth}] = f.Fen
	}
	for _, k := range snap.train.Kinds() {
		o.Seats = append(o.Seats, Availability{SeatClass: k.Class, Berth: k.Berth, Remaining: snap.train.Available(k, fi, ti), FareFen: fareOf[k]})
	}
	return o, true, nil
}

// Availability returns the seats left of each kind on a train date between
// two stop indexes, from the in-memory inventory: the hot path of queries.
func (s *Service) Availability(ctx context.Context, k TrainKey, from, to int) ([]Availability, error) {
	snap, err := s.trains.current(ctx, k)
	if err != nil {
		return nil, err
	}
	if from < 0 || to <= from || to >= snap.train.Stops() {
		return nil, fault.New(fault.Invalid, "bad_journey", "区间无效", "invalid journey")
	}
	kinds := snap.train.Kinds()
	out := make([]Availability, len(kinds))
	for i, kind := range kinds {
		out[i] = Availability{SeatClass: kind.Class, Berth: kind.Berth, Remaining: snap.train.Available(kind, from, to)}
	}
	return out, nil
}

func containsStation(ss []network.Station, id string) bool {
	for _, s := range ss {
		if s.ID == id {
			return true
		}
	}
	return false
}

// resolveStations turns what a passenger typed into stations: an exact ID
// or telecode names one station; otherwise every station whose name, pinyin
// or initials match as the station search does (so "北京" finds 北京西 too).
func (s *Service) resolveStations(ctx context.Context, ref string) ([]network.Station, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, fault.New(fault.Invalid, "station_required", "请输入出发站和到达站", "origin and destination are required")
	}
	if st, err := s.net.Station(ctx, ref); err == nil {
		return []network.Station{st}, nil
	}
	found, err := s.net.SearchStations(ctx, ref, 20)
	if err != nil {
		return nil, err
	}
	for _, st := range found {
		if strings.EqualFold(st.Code, ref) {
			return []network.Station{st}, nil
		}
	}
	if len(found) == 0 {
		return nil, fault.Newf(fault.NotFound, "station_not_found", "没有找到车站 %q", "no station matches %q", ref)
	}
	return found, nil
}
