package booking

import (
	"context"
	"sort"
	"strings"
	"sync"
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
// telecode, name or pinyin. Which trains serve the pair, with their stations
// and fares, is read from the network once and kept for a few seconds; the
// counts always come from the live inventory.
func (s *Service) Remaining(ctx context.Context, from, to string, date network.Date) ([]Offer, error) {
	key := strings.ToLower(strings.TrimSpace(from)) + "\x00" + strings.ToLower(strings.TrimSpace(to))
	plan, err := s.plans.get(key, func() (*plannedSearch, error) { return s.planSearch(ctx, from, to) })
	if err != nil {
		return nil, err
	}
	out := []Offer{}
	for _, pt := range plan.trains {
		si, err := s.trains.service(ctx, pt.serviceID)
		if err != nil {
			return nil, err
		}
		if !si.calendar.Runs(date) {
			continue
		}
		snap, err := s.trains.current(ctx, TrainKey{ServiceID: pt.serviceID, Date: date})
		if err != nil {
			return nil, err
		}
		stops := si.svc.Stops
		o := Offer{ServiceID: pt.serviceID, Number: si.svc.Number, Date: date, From: pt.from, To: pt.to, FromIndex: pt.fi, ToIndex: pt.ti,
			Departure: at(date, si.loc, stops[pt.fi].Depart), Arrival: at(date, si.loc, stops[pt.ti].Arrive),
			DurationMin: (stops[pt.ti].Arrive - stops[pt.fi].Depart) / 60, AsOf: snap.checked}
		for _, k := range snap.kinds {
			o.Seats = append(o.Seats, Availability{SeatClass: k.Class, Berth: k.Berth, Remaining: snap.train.Available(k, pt.fi, pt.ti), FareFen: pt.fares[k]})
		}
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Departure.Before(out[j].Departure) })
	return out, nil
}

// plannedSearch is a station pair resolved against the network: the trains
// calling at both in order, with the stations and fares of each.
type plannedSearch struct {
	at     time.Time
	trains []plannedTrain
}

type plannedTrain struct {
	serviceID string
	fi, ti    int
	from, to  network.Station
	fares     map[seats.Kind]int64
}

// planCache keeps resolved searches for a short time, so that repeated
// queries for a pair do not read the network each time.
type planCache struct {
	ttl     time.Duration
	now     func() time.Time
	mu      sync.Mutex
	entries map[string]*plannedSearch
}

func (c *planCache) get(key string, build func() (*plannedSearch, error)) (*plannedSearch, error) {
	now := c.now()
	c.mu.Lock()
	p := c.entries[key]
	c.mu.Unlock()
	if p != nil && now.Sub(p.at) < c.ttl {
		return p, nil
	}
	p, err := build()
	if err != nil {
		return nil, err
	}
	p.at = now
	c.mu.Lock()
	if len(c.entries) >= 10000 { // a bound on memory: start again from empty
		c.entries = map[string]*plannedSearch{}
	}
	c.entries[key] = p
	c.mu.Unlock()
	return p, nil
}

// planSearch resolves a station pair against the network.
func (s *Service) planSearch(ctx context.Context, from, to string) (*plannedSearch, error) {
	fromIDs, err := s.resolveStations(ctx, from)
	if err != nil {
		return nil, err
	}
	toIDs, err := s.resolveStations(ctx, to)
	if err != nil {
		return nil, err
	}
	plan := &plannedSearch{}
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
			pt := plannedTrain{serviceID: svc.ID, fi: fi, ti: ti, fares: map[seats.Kind]int64{}}
			if pt.from, err = s.net.Station(ctx, svc.Stops[fi].StationID); err != nil {
				return nil, err
			}
			if pt.to, err = s.net.Station(ctx, svc.Stops[ti].StationID); err != nil {
				return nil, err
			}
			fares, err := s.net.Fares(ctx, svc.ID, pt.from.ID, pt.to.ID)
			if err != nil {
				return nil, err
			}
			for _, f := range fares {
				pt.fares[seats.Kind{Class: f.SeatClass, Berth: f.Berth}] = f.Fen
			}
			plan.trains = append(plan.trains, pt)
		}
	}
	return plan, nil
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
	kinds := snap.kinds
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
