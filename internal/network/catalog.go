package network

import (
	"context"
	"strings"
	"time"

	"piao/internal/audit"
	"piao/internal/fault"
)

// Catalog answers questions about the network: timetables for a date, fares
// between stations, metro fares over the shortest path. It is also what the
// console and the API read the network through (feeds, stations, lines,
// trains, car layouts) and how operators edit car layouts and fares. It
// reads through a Store and keeps no state of its own.
type Catalog struct {
	Store Store
	// Audit records the changes of car layouts and fares (nil: no trail).
	Audit *audit.Log
}

// Feeds lists the imported feeds.
func (c *Catalog) Feeds(ctx context.Context) ([]Feed, error) { return c.Store.Feeds(ctx) }

// SearchStations finds at most limit stations by telecode, name or pinyin
// prefix.
func (c *Catalog) SearchStations(ctx context.Context, query string, limit int) ([]Station, error) {
	return c.Store.SearchStations(ctx, query, limit)
}

// Station returns one station.
func (c *Catalog) Station(ctx context.Context, id string) (Station, error) {
	return c.Store.Station(ctx, id)
}

// Lines lists lines, of one feed if feedID is not empty, without stations.
func (c *Catalog) Lines(ctx context.Context, feedID string) ([]Line, error) {
	return c.Store.Lines(ctx, feedID)
}

// Line returns a line with its ordered stations.
func (c *Catalog) Line(ctx context.Context, id string) (Line, error) { return c.Store.Line(ctx, id) }

// ServicesByNumber returns every service with that train number, with
// stops and cars.
func (c *Catalog) ServicesByNumber(ctx context.Context, number string) ([]Service, error) {
	return c.Store.ServicesByNumber(ctx, number)
}

// CarTypes lists the car layouts.
func (c *Catalog) CarTypes(ctx context.Context) ([]CarType, error) { return c.Store.CarTypes(ctx) }

// CarType returns a car layout.
func (c *Catalog) CarType(ctx context.Context, code string) (CarType, error) {
	return c.Store.CarType(ctx, code)
}

// PutCarType creates or replaces a car layout; reason is why, for the
// audit trail.
func (c *Catalog) PutCarType(ctx context.Context, ct CarType, reason string) error {
	var before any
	if old, err := c.Store.CarType(ctx, ct.Code); err == nil {
		before = old
	} else if !fault.Is(err, fault.NotFound) {
		return err
	}
	if err := c.Store.PutCarType(ctx, ct); err != nil {
		return err
	}
	return c.Audit.Record(ctx, "network.car_type.put", "car_type:"+ct.Code, before, ct, reason)
}

// SetFare creates or changes one fare; reason is why, for the audit trail.
func (c *Catalog) SetFare(ctx context.Context, f Fare, reason string) error {
	var before any
	if c.Audit != nil {
		old, err := c.Store.Fares(ctx, f.ServiceID, f.FromStationID, f.ToStationID)
		if err != nil {
			return err
		}
		for _, o := range old {
			if o.SeatClass == f.SeatClass && o.Berth == f.Berth {
				before = o
			}
		}
	}
	if err := c.Store.SetFare(ctx, f); err != nil {
		return err
	}
	subject := "fare:" + f.ServiceID + "/" + f.FromStationID + "-" + f.ToStationID + "/" + string(f.SeatClass)
	if f.Berth != "" {
		subject += "/" + string(f.Berth)
	}
	return c.Audit.Record(ctx, "network.fare.set", subject, before, f, reason)
}

// TimetableStop is one call of a train on a given date, with local times.
type TimetableStop struct {
	Seq       int        `json:"seq"`
	Station   Station    `json:"station"`
	Arrive    *time.Time `json:"arrive,omitempty"` // nil at the origin
	Depart    *time.Time `json:"depart,omitempty"` // nil at the destination
	DayOffset int        `json:"day_offset"`       // days after the service date at arrival (departure at the origin)
	StopMins  int        `json:"stop_minutes"`
	Km        float64    `json:"km"`
}

// Timetable is a train's run on one service date.
type Timetable struct {
	ServiceID   string          `json:"service_id"`
	Number      string          `json:"number"`
	Date        Date            `json:"date"`
	Headsign    string          `json:"headsign,omitempty"`
	DurationMin int             `json:"duration_minutes"`
	Stops       []TimetableStop `json:"stops"`
}

// Timetables returns the timetable of every service numbered number that
// runs on date. A number unknown on every date is not found; a known train
// that does not run that day is a not-found with its own reason.
func (c *Catalog) Timetables(ctx context.Context, number string, date Date) ([]Timetable, error) {
	number = strings.TrimSpace(number)
	if number == "" || len(number) > 32 {
		return nil, fault.New(fault.Invalid, "bad_train_number", "车次格式错误", "invalid train number")
	}
	svcs, err := c.Store.ServicesByNumber(ctx, number)
	if err != nil {
		return nil, err
	}
	if len(svcs) == 0 {
		return nil, fault.Newf(fault.NotFound, "train_not_found", "没有车次 %s", "there is no train %s", number)
	}
	var out []Timetable
	stations := map[string]Station{}
	for _, svc := range svcs {
		cal, err := c.Store.Calendar(ctx, svc.CalendarID)
		if err != nil {
			return nil, err
		}
		if !cal.Runs(date) {
			continue
		}
		loc, err := c.Location(ctx, svc.FeedID)
		if err != nil {
			return nil, err
		}
		for _, st := range svc.Stops {
			if _, ok := stations[st.StationID]; !ok {
				s, err := c.Store.Station(ctx, st.StationID)
				if err != nil {
					return nil, err
				}
				stations[st.StationID] = s
			}
		}
		out = append(out, BuildTimetable(svc, date, loc, stations))
	}
	if len(out) == 0 {
		return nil, fault.Newf(fault.NotFound, "train_not_running", "车次 %s 在 %s 不开行", "train %s does not run on %s", number, date)
	}
	return out, nil
}

// BuildTimetable lays a service's stops onto a date in a time zone.
func BuildTimetable(svc Service, date Date, loc *time.Location, stations map[string]Station) Timetable {
	midnight := date.In(loc)
	at := func(secs int) *time.Time {
		// Count days and seconds separately so DST days in other zones keep wall times.
		t := midnight.AddDate(0, 0, secs/86400).Add(time.Duration(secs%86400) * time.Second)
		return &t
	}
	tt := Timetable{ServiceID: svc.ID, Number: svc.Number, Date: date, Headsign: svc.Headsign}
	for i, st := range svc.Stops {
		row := TimetableStop{Seq: st.Seq, Station: stations[st.StationID], Km: float64(st.Metres) / 1000}
		if i > 0 {
			row.Arrive = at(st.Arrive)
			row.DayOffset = st.ArriveDay()
		} else {
			row.DayOffset = st.DepartDay()
		}
		if i < len(svc.Stops)-1 {
			row.Depart = at(st.Depart)
		}
		if i > 0 && i < len(svc.Stops)-1 {
			row.StopMins = (st.Depart - st.Arrive) / 60
		}
		tt.Stops = append(tt.Stops, row)
	}
	if n := len(svc.Stops); n > 1 {
		tt.DurationMin = (svc.Stops[n-1].Arrive - svc.Stops[0].Depart) / 60
	}
	return tt
}

// Location returns a feed's time zone, Asia/Shanghai when it names none.
func (c *Catalog) Location(ctx context.Context, feedID string) (*time.Location, error) {
	feeds, err := c.Store.Feeds(ctx)
	if err != nil {
		return nil, err
	}
	for _, f := range feeds {
		if f.ID == feedID && f.Timezone != "" {
			if loc, err := time.LoadLocation(f.Timezone); err == nil {
				return loc, nil
			}
		}
	}
	return shanghai, nil
}

var shanghai = mustLoad("Asia/Shanghai")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		// The binary embeds tzdata (cmd/piao imports time/tzdata), so this cannot fail there.
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}

// FareQuote lists a train's fares between two of its stations.
type FareQuote struct {
	ServiceID string  `json:"service_id"`
	Number    string  `json:"number"`
	From      Station `json:"from"`
	To        Station `json:"to"`
	Km        float64 `json:"km"`
	Fares     []Fare  `json:"fares"`
}

// TrainFares returns a train's fares between two stations it calls at in
// that order. Stations are given by ID or telecode.
func (c *Catalog) TrainFares(ctx context.Context, number, from, to string) ([]FareQuote, error) {
	svcs, err := c.Store.ServicesByNumber(ctx, strings.TrimSpace(number))
	if err != nil {
		return nil, err
	}
	if len(svcs) == 0 {
		return nil, fault.Newf(fault.NotFound, "train_not_found", "没有车次 %s", "there is no train %s", number)
	}
	var out []FareQuote
	for _, svc := range svcs {
		fi, ti := -1, -1
		for i, st := range svc.Stops {
			if matchStation(st.StationID, from) && fi < 0 {
				fi = i
			}
			if matchStation(st.StationID, to) && fi >= 0 && i > fi {
				ti = i
			}
		}
		if fi < 0 || ti < 0 {
			continue
		}
		a, b := svc.Stops[fi], svc.Stops[ti]
		fares, err := c.Store.Fares(ctx, svc.ID, a.StationID, b.StationID)
		if err != nil {
			return nil, err
		}
		fs, err := c.Store.Station(ctx, a.StationID)
		if err != nil {
			return nil, err
		}
		ts, err := c.Store.Station(ctx, b.StationID)
		if err != nil {
			return nil, err
		}
		out = append(out, FareQuote{ServiceID: svc.ID, Number: svc.Number, From: fs, To: ts, Km: float64(b.Metres-a.Metres) / 1000, Fares: fares})
	}
	if len(out) == 0 {
		return nil, fault.Newf(fault.NotFound, "stations_not_on_train", "车次 %s 不按此顺序经停 %s 和 %s", "train %s does not call at %s then %s", number, from, to)
	}
	return out, nil
}

// matchStation reports whether a station ID is named by ref: the ID itself
// or its telecode (the part after the feed prefix), case-insensitively.
func matchStation(id, ref string) bool {
	if strings.EqualFold(id, ref) {
		return true
	}
	if i := strings.IndexByte(id, ':'); i >= 0 {
		return strings.EqualFold(id[i+1:], ref)
	}
	return false
}

// MetroQuote is the fare of a metro journey over the shortest path.
type MetroQuote struct {
	FeedID string `json:"feed_id"`
	Path   Path   `json:"path"`
	Fen    int64  `json:"fen"`
}

// MetroFare prices a metro journey by distance band over the shortest path.
func (c *Catalog) MetroFare(ctx context.Context, feedID, from, to string) (MetroQuote, error) {
	lines, err := c.Store.MetroLines(ctx, feedID)
	if err != nil {
		return MetroQuote{}, err
	}
	if len(lines) == 0 {
		return MetroQuote{}, fault.Newf(fault.NotFound, "metro_network_not_found", "没有地铁线网 %s", "there is no metro network %s", feedID)
	}
	bands, err := c.Store.FareBands(ctx, feedID)
	if err != nil {
		return MetroQuote{}, err
	}
	g := NewGraph(lines)
	p, err := g.ShortestPath(from, to)
	if err != nil {
		return MetroQuote{}, err
	}
	fen, err := BandFare(bands, p.Metres)
	if err != nil {
		return MetroQuote{}, err
	}
	return MetroQuote{FeedID: feedID, Path: p, Fen: fen}, nil
}
