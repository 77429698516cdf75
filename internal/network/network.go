// Package network holds piao's model of a transport network: stations, lines,
// train services with their timetables and running calendars, car layouts,
// fare tables, and the metro graph with its distance-band fares.
//
// It is pure domain code: types, validation, timetable and fare rules, and the
// Store interface that storage engines implement. It must never do I/O itself.
package network

import (
	"context"
	"time"
)

// Mode says what kind of network a feed describes.
type Mode string

// Network modes.
const (
	ModeRail  Mode = "rail"
	ModeMetro Mode = "metro"
)

// Feed is one imported or seeded body of network data (a GTFS feed, the demo).
// Every other record belongs to exactly one feed; IDs are "<feed>:<source id>".
type Feed struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Mode       Mode      `json:"mode"`
	Timezone   string    `json:"timezone"`
	Digest     string    `json:"digest"` // SHA-256 of the source, hex
	ImportedAt time.Time `json:"imported_at"`
}

// Agency is an operator of lines in a feed.
type Agency struct {
	ID       string `json:"id"`
	FeedID   string `json:"feed_id"`
	Name     string `json:"name"`
	URL      string `json:"url,omitempty"`
	Timezone string `json:"timezone,omitempty"`
	Lang     string `json:"lang,omitempty"`
	Phone    string `json:"phone,omitempty"`
}

// Station is a place where trains call. Code is the railway telecode (NCG,
// BXP) or the feed's public stop code.
type Station struct {
	ID       string  `json:"id"`
	FeedID   string  `json:"feed_id"`
	Code     string  `json:"code,omitempty"`
	NameZH   string  `json:"name_zh,omitempty"`
	NameEN   string  `json:"name_en,omitempty"`
	Pinyin   string  `json:"pinyin,omitempty"` // full pinyin, lower case, no spaces: "nanchang"
	City     string  `json:"city,omitempty"`
	Lat      float64 `json:"lat"`
	Lon      float64 `json:"lon"`
	ParentID string  `json:"parent_id,omitempty"`
	URL      string  `json:"url,omitempty"`
	// Wheelchair is GTFS wheelchair_boarding: 0 unknown, 1 accessible, 2 not.
	Wheelchair int `json:"wheelchair,omitempty"`
}

// PinyinInitials returns the initials of the station's pinyin syllables
// ("nan chang" → "nc"); stations store pinyin with syllables separated by
// spaces so initials can be derived.
func PinyinInitials(pinyin string) string {
	var b []byte
	start := true
	for i := 0; i < len(pinyin); i++ {
		c := pinyin[i]
		if c == ' ' || c == '\'' || c == '-' {
			start = true
			continue
		}
		if start {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
			start = false
		}
	}
	return string(b)
}

// Line is a GTFS route: a named group of services (a railway line, a metro line).
type Line struct {
	ID        string `json:"id"`
	FeedID    string `json:"feed_id"`
	AgencyID  string `json:"agency_id,omitempty"`
	Code      string `json:"code,omitempty"` // short name, e.g. "1" for metro line 1
	NameZH    string `json:"name_zh,omitempty"`
	NameEN    string `json:"name_en,omitempty"`
	RouteType int    `json:"route_type"` // GTFS route_type: 1 metro, 2 rail, 3 bus, …
	Color     string `json:"color,omitempty"`
	TextColor string `json:"text_color,omitempty"`
	// Stations is the ordered station list of a metro line with cumulative
	// distances; empty for rail lines, whose order lives in each service.
	Stations []LineStation `json:"stations,omitempty"`
}

// LineStation is a station on a metro line at a cumulative distance in metres.
type LineStation struct {
	Seq       int    `json:"seq"`
	StationID string `json:"station_id"`
	Metres    int    `json:"metres"`
}

// Service is one scheduled train (a GTFS trip): a number such as Z66, its
// ordered stops, the calendar it runs on and its cars.
type Service struct {
	ID          string `json:"id"`
	FeedID      string `json:"feed_id"`
	LineID      string `json:"line_id,omitempty"`
	Number      string `json:"number"` // train number (trip_short_name), e.g. "Z66"
	CalendarID  string `json:"calendar_id"`
	Headsign    string `json:"headsign,omitempty"`
	DirectionID int    `json:"direction_id"`
	ShapeID     string `json:"shape_id,omitempty"`
	Stops       []Stop `json:"stops"`
	Cars        []Car  `json:"cars,omitempty"`
}

// Stop is a call of a service at a station. Times are seconds after midnight
// of the service day and may pass 24:00 (86400) for overnight trains.
type Stop struct {
	Seq       int    `json:"seq"`
	StationID string `json:"station_id"`
	Arrive    int    `json:"arrive"`
	Depart    int    `json:"depart"`
	Metres    int    `json:"metres"` // cumulative distance from the first stop, 0 if unknown
	Pickup    int    `json:"pickup_type"`
	DropOff   int    `json:"drop_off_type"`
}

// ArriveDay is the number of days after the service day on which the train arrives.
func (s Stop) ArriveDay() int { return s.Arrive / 86400 }

// DepartDay is the number of days after the service day on which the train departs.
func (s Stop) DepartDay() int { return s.Depart / 86400 }

// Car is one coach of a service, of a given car type.
type Car struct {
	No      int    `json:"no"`
	CarType string `json:"car_type"`
}

// Calendar says on which dates services run: a weekly pattern between two
// dates, plus dates added or removed.
type Calendar struct {
	ID         string              `json:"id"`
	FeedID     string              `json:"feed_id"`
	Weekdays   [7]bool             `json:"weekdays"` // Monday first
	Start      Date                `json:"start"`
	End        Date                `json:"end"`
	Exceptions []CalendarException `json:"exceptions,omitempty"`
}

// CalendarException adds (Added) or removes a single date.
type CalendarException struct {
	Date  Date `json:"date"`
	Added bool `json:"added"`
}

// Transfer is a GTFS transfer between two stations.
type Transfer struct {
	FeedID        string `json:"feed_id"`
	FromStationID string `json:"from_station_id"`
	ToStationID   string `json:"to_station_id"`
	FromLineID    string `json:"from_line_id,omitempty"`
	ToLineID      string `json:"to_line_id,omitempty"`
	FromServiceID string `json:"from_service_id,omitempty"`
	ToServiceID   string `json:"to_service_id,omitempty"`
	Type          int    `json:"transfer_type"`
	MinSeconds    int    `json:"min_transfer_time,omitempty"`
}

// SeatClass is a class of accommodation.
type SeatClass string

// Seat classes.
const (
	HardSleeper SeatClass = "hard_sleeper"
	SoftSleeper SeatClass = "soft_sleeper"
	SecondClass SeatClass = "second"
	FirstClass  SeatClass = "first"
	Business    SeatClass = "business"
)

// Berth is a sleeper berth position; seats have no berth ("").
type Berth string

// Berth positions.
const (
	NoBerth Berth = ""
	Upper   Berth = "upper"
	Middle  Berth = "middle"
	Lower   Berth = "lower"
)

// CarType is an editable coach layout.
type CarType struct {
	Code      string    `json:"code"`
	SeatClass SeatClass `json:"seat_class"`
	NameZH    string    `json:"name_zh"`
	NameEN    string    `json:"name_en"`
	Seats     []Seat    `json:"seats"`
}

// Seat is one seat or berth in a car layout. Label is what is printed on the
// ticket: "01L" (compartment-side 01, lower berth) or "05A" (row 5, seat A).
type Seat struct {
	Label       string `json:"label"`
	Compartment int    `json:"compartment,omitempty"`
	Berth       Berth  `json:"berth,omitempty"`
	Row         int    `json:"row,omitempty"`
	Letter      string `json:"letter,omitempty"`
}

// Fare is the price in fen of a journey on a service between two of its
// stations, in a class and berth position.
type Fare struct {
	ServiceID     string    `json:"service_id"`
	FromStationID string    `json:"from_station_id"`
	ToStationID   string    `json:"to_station_id"`
	SeatClass     SeatClass `json:"seat_class"`
	Berth         Berth     `json:"berth"`
	Fen           int64     `json:"fen"`
}

// FareBand prices metro journeys by distance: journeys up to UpToMetres cost
// Fen. The last band of a feed has UpToMetres 0, meaning "any distance".
type FareBand struct {
	FeedID     string `json:"feed_id"`
	UpToMetres int    `json:"up_to_metres"`
	Fen        int64  `json:"fen"`
}

// GTFSFare is a GTFS fare_attributes row with its fare_rules.
type GTFSFare struct {
	ID               string     `json:"id"`
	FeedID           string     `json:"feed_id"`
	PriceMinor       int64      `json:"price_minor"` // in the currency's minor unit
	Currency         string     `json:"currency"`
	PaymentMethod    int        `json:"payment_method"`
	Transfers        int        `json:"transfers"` // -1 unlimited
	AgencyID         string     `json:"agency_id,omitempty"`
	TransferDuration int        `json:"transfer_duration,omitempty"`
	Rules            []FareRule `json:"rules,omitempty"`
}

// FareRule is a GTFS fare_rules row.
type FareRule struct {
	LineID        string `json:"line_id,omitempty"`
	OriginID      string `json:"origin_id,omitempty"`
	DestinationID string `json:"destination_id,omitempty"`
	ContainsID    string `json:"contains_id,omitempty"`
}

// Bundle is everything a feed holds; imports and the demo seed write one
// bundle atomically.
type Bundle struct {
	Feed      Feed        `json:"feed"`
	Agencies  []Agency    `json:"agencies"`
	Stations  []Station   `json:"stations"`
	Lines     []Line      `json:"lines"`
	Calendars []Calendar  `json:"calendars"`
	Services  []Service   `json:"services"`
	Transfers []Transfer  `json:"transfers"`
	CarTypes  []CarType   `json:"car_types"`
	Fares     []Fare      `json:"fares"`
	FareBands []FareBand  `json:"fare_bands"`
	GTFSFares []GTFSFare  `json:"gtfs_fares"`
	Progress  func(int64) `json:"-"` // called with the number of rows written so far
}

// ImportResult counts what an import changed, per table.
type ImportResult struct {
	FeedID    string         `json:"feed_id"`
	Unchanged bool           `json:"unchanged"` // the feed's digest matched: nothing written
	Rows      map[string]int `json:"rows"`      // rows in the feed, per table
}

// Store keeps network data. Each method is one transaction.
type Store interface {
	// ImportBundle replaces the feed's data with the bundle's, atomically:
	// on error nothing changes. A bundle whose digest equals the stored
	// feed's digest writes nothing and reports Unchanged.
	ImportBundle(ctx context.Context, b *Bundle) (ImportResult, error)
	// Feeds lists the feeds.
	Feeds(ctx context.Context) ([]Feed, error)
	// CountRows counts the rows of a feed per table (for checks and tests).
	CountRows(ctx context.Context, feedID string) (map[string]int, error)

	// SearchStations finds stations by telecode, name or pinyin prefix.
	SearchStations(ctx context.Context, query string, limit int) ([]Station, error)
	// Station returns one station.
	Station(ctx context.Context, id string) (Station, error)
	// Lines lists lines, of one feed if feedID is not empty, without stations.
	Lines(ctx context.Context, feedID string) ([]Line, error)
	// Line returns a line with its ordered stations.
	Line(ctx context.Context, id string) (Line, error)
	// ServicesByNumber returns every service with that train number, with stops and cars.
	ServicesByNumber(ctx context.Context, number string) ([]Service, error)
	// ServicesAt returns every service calling at a station, with stops and cars.
	ServicesAt(ctx context.Context, stationID string) ([]Service, error)
	// Service returns one service with stops and cars.
	Service(ctx context.Context, id string) (Service, error)
	// Calendar returns a calendar with its exceptions.
	Calendar(ctx context.Context, id string) (Calendar, error)
	// Fares returns the fares of a service between two stations, all classes and berths.
	Fares(ctx context.Context, serviceID, fromStationID, toStationID string) ([]Fare, error)
	// SetFare creates or changes one fare.
	SetFare(ctx context.Context, f Fare) error
	// CarType returns a car layout.
	CarType(ctx context.Context, code string) (CarType, error)
	// CarTypes lists car layouts.
	CarTypes(ctx context.Context) ([]CarType, error)
	// PutCarType creates or replaces a car layout.
	PutCarType(ctx context.Context, ct CarType) error
	// FareBands returns a metro feed's distance bands, shortest first.
	FareBands(ctx context.Context, feedID string) ([]FareBand, error)
	// MetroLines returns the lines of a feed with their ordered stations.
	MetroLines(ctx context.Context, feedID string) ([]Line, error)
}
