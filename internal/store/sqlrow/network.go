package sqlrow

import (
	"iter"
	"strings"
	"time"

	"piao/internal/fault"
	"piao/internal/network"
)

// NetworkTables are the per-feed tables that imports report and CountRows
// counts, in the order of each engine's count query.
var NetworkTables = []string{
	"agencies", "stations", "lines", "line_stations", "calendars", "calendar_exceptions",
	"services", "service_stops", "service_cars", "transfers", "fares", "fare_bands",
	"gtfs_fares", "gtfs_fare_rules",
}

// ScanFeedCounts reads a row of one count per table of NetworkTables.
func ScanFeedCounts(r Row) (map[string]int, error) {
	counts := make([]int, len(NetworkTables))
	dest := make([]any, len(counts))
	for i := range counts {
		dest[i] = &counts[i]
	}
	if err := r.Scan(dest...); err != nil {
		return nil, fault.Wrap(err, "count feed rows")
	}
	out := make(map[string]int, len(counts))
	for i, t := range NetworkTables {
		out[t] = counts[i]
	}
	return out, nil
}

// FeedColumns are a feed's columns, read and written in this order.
const FeedColumns = `id, name, mode, timezone, digest, imported_at`

// FeedValues are a feed's FeedColumns; a feed never imported before is
// stamped now.
func FeedValues(f network.Feed) []any {
	if f.ImportedAt.IsZero() {
		f.ImportedAt = time.Now()
	}
	return []any{f.ID, f.Name, string(f.Mode), f.Timezone, f.Digest, At(f.ImportedAt)}
}

// ScanFeed reads FeedColumns.
func ScanFeed(r Row) (network.Feed, error) {
	var f network.Feed
	var at Time
	err := r.Scan(&f.ID, &f.Name, (*string)(&f.Mode), &f.Timezone, &f.Digest, &at)
	f.ImportedAt = at.Time
	return f, err
}

// Child is a row that belongs to a parent row (a stop of a service, a
// seat of a car type) with the parent's key.
type Child[T any] struct {
	Parent string
	Value  T
}

// StationColumns are the stored fields of a station (not its search keys).
const StationColumns = `id, feed_id, code, name_zh, name_en, pinyin, city, lat, lon, parent_id, url, wheelchair`

// ScanStation reads StationColumns.
func ScanStation(r Row) (network.Station, error) {
	var st network.Station
	err := r.Scan(&st.ID, &st.FeedID, &st.Code, &st.NameZH, &st.NameEN, &st.Pinyin, &st.City, &st.Lat, &st.Lon, &st.ParentID, &st.URL, &st.Wheelchair)
	return st, err
}

// StationSearch is a station query as the search SQL of both engines
// takes it: the lower-case query and its LIKE patterns.
type StationSearch struct {
	Query        string // matches a code exactly
	Prefix       string // a code prefix
	PinyinPrefix string // a pinyin or initials prefix
	Contains     string // within a name
	Limit        int
}

// NewStationSearch prepares query for a station search; limit is clamped
// to 1–100 (20 if unset).
func NewStationSearch(query string, limit int) (StationSearch, error) {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return StationSearch{}, fault.New(fault.Invalid, "empty_query", "请输入车站名称、拼音或电报码", "enter a station name, pinyin or telecode")
	}
	switch {
	case limit <= 0:
		limit = 20
	case limit > 100:
		limit = 100
	}
	return StationSearch{
		Query:        q,
		Prefix:       escapeLike(q) + "%",
		PinyinPrefix: escapeLike(network.SearchPinyin(q)) + "%",
		Contains:     "%" + escapeLike(q) + "%",
		Limit:        limit,
	}, nil
}

// Args are the search's query arguments, $1–$5 (?1–?5) in field order.
func (s StationSearch) Args() []any {
	return []any{s.Query, s.Prefix, s.PinyinPrefix, s.Contains, s.Limit}
}

// escapeLike makes s match literally inside a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// LineColumns are a line's columns without its stations.
const LineColumns = `id, feed_id, agency_id, code, name_zh, name_en, route_type, color, text_color`

// ScanLine reads LineColumns.
func ScanLine(r Row) (network.Line, error) {
	var l network.Line
	err := r.Scan(&l.ID, &l.FeedID, &l.AgencyID, &l.Code, &l.NameZH, &l.NameEN, &l.RouteType, &l.Color, &l.TextColor)
	return l, err
}

// LineStationColumns are a line's station with the line's ID first.
const LineStationColumns = `line_id, seq, station_id, metres`

// ScanLineStation reads LineStationColumns.
func ScanLineStation(r Row) (Child[network.LineStation], error) {
	var c Child[network.LineStation]
	err := r.Scan(&c.Parent, &c.Value.Seq, &c.Value.StationID, &c.Value.Metres)
	return c, err
}

// ByParent groups child rows, read in order, by their parent's key.
func ByParent[T any](rows []Child[T]) map[string][]T {
	out := map[string][]T{}
	for _, c := range rows {
		out[c.Parent] = append(out[c.Parent], c.Value)
	}
	return out
}

// ServiceColumns are a service's columns without its stops and cars.
const ServiceColumns = `id, feed_id, line_id, number, calendar_id, headsign, direction_id, shape_id`

// ScanService reads ServiceColumns; the service starts with no stops.
func ScanService(r Row) (network.Service, error) {
	sv := network.Service{Stops: []network.Stop{}}
	err := r.Scan(&sv.ID, &sv.FeedID, &sv.LineID, &sv.Number, &sv.CalendarID, &sv.Headsign, &sv.DirectionID, &sv.ShapeID)
	return sv, err
}

// ServiceStopColumns are a stop with its service's ID first.
const ServiceStopColumns = `service_id, seq, station_id, arrive, depart, metres, pickup, drop_off`

// ScanServiceStop reads ServiceStopColumns.
func ScanServiceStop(r Row) (Child[network.Stop], error) {
	var c Child[network.Stop]
	st := &c.Value
	err := r.Scan(&c.Parent, &st.Seq, &st.StationID, &st.Arrive, &st.Depart, &st.Metres, &st.Pickup, &st.DropOff)
	return c, err
}

// ServiceCarColumns are a car with its service's ID first.
const ServiceCarColumns = `service_id, car_no, car_type`

// ScanServiceCar reads ServiceCarColumns.
func ScanServiceCar(r Row) (Child[network.Car], error) {
	var c Child[network.Car]
	err := r.Scan(&c.Parent, &c.Value.No, &c.Value.CarType)
	return c, err
}

// AttachStopsAndCars appends each stop and car, read in order, to its
// service in services.
func AttachStopsAndCars(services []network.Service, stops []Child[network.Stop], cars []Child[network.Car]) {
	stopsOf, carsOf := ByParent(stops), ByParent(cars)
	for i, sv := range services {
		services[i].Stops = append(sv.Stops, stopsOf[sv.ID]...)
		services[i].Cars = append(sv.Cars, carsOf[sv.ID]...)
	}
}

// CalendarColumns are a calendar's columns without its exceptions.
const CalendarColumns = `id, feed_id, weekdays, start_on, end_on`

// ScanCalendar reads CalendarColumns; weekdays are stored as seven 0/1
// characters, Monday first, and dates as YYYY-MM-DD.
func ScanCalendar(r Row) (network.Calendar, error) {
	var c network.Calendar
	var weekdays, start, end string
	if err := r.Scan(&c.ID, &c.FeedID, &weekdays, &start, &end); err != nil {
		return c, err
	}
	for i := 0; i < len(weekdays) && i < 7; i++ {
		c.Weekdays[i] = weekdays[i] == '1'
	}
	var err error
	if c.Start, err = parseStoredDate(start); err != nil {
		return c, err
	}
	c.End, err = parseStoredDate(end)
	return c, err
}

// weekdaysText stores a calendar's weekdays as seven 0/1 characters, Monday first.
func weekdaysText(w [7]bool) string {
	var b [7]byte
	for i, on := range w {
		b[i] = '0'
		if on {
			b[i] = '1'
		}
	}
	return string(b[:])
}

// CalendarExceptionColumns are an exception's columns without its calendar.
const CalendarExceptionColumns = `on_date, added`

// ScanCalendarException reads CalendarExceptionColumns.
func ScanCalendarException(r Row) (network.CalendarException, error) {
	var e network.CalendarException
	var d string
	if err := r.Scan(&d, &e.Added); err != nil {
		return e, err
	}
	var err error
	e.Date, err = parseStoredDate(d)
	return e, err
}

// parseStoredDate parses a stored YYYY-MM-DD date; "" is the zero date.
func parseStoredDate(s string) (network.Date, error) {
	if s == "" {
		return network.Date{}, nil
	}
	d, err := network.ParseDate(s)
	return d, fault.Wrap(err, "parse stored date")
}

// FareColumns are a fare's columns, read and written in this order.
const FareColumns = `service_id, from_station_id, to_station_id, seat_class, berth, fen`

// FareValues are a fare's FareColumns.
func FareValues(f network.Fare) []any {
	return []any{f.ServiceID, f.FromStationID, f.ToStationID, string(f.SeatClass), string(f.Berth), f.Fen}
}

// ScanFare reads FareColumns.
func ScanFare(r Row) (network.Fare, error) {
	var f network.Fare
	err := r.Scan(&f.ServiceID, &f.FromStationID, &f.ToStationID, (*string)(&f.SeatClass), (*string)(&f.Berth), &f.Fen)
	return f, err
}

// FareBandColumns are a fare band's columns.
const FareBandColumns = `feed_id, up_to_metres, fen`

// ScanFareBand reads FareBandColumns.
func ScanFareBand(r Row) (network.FareBand, error) {
	var fb network.FareBand
	err := r.Scan(&fb.FeedID, &fb.UpToMetres, &fb.Fen)
	return fb, err
}

// CarTypeColumns are a car type's columns without its seats, read and
// written in this order.
const CarTypeColumns = `code, seat_class, name_zh, name_en`

// CarTypeValues are a car type's CarTypeColumns.
func CarTypeValues(ct network.CarType) []any {
	return []any{ct.Code, string(ct.SeatClass), ct.NameZH, ct.NameEN}
}

// ScanCarType reads CarTypeColumns; the car type starts with no seats.
func ScanCarType(r Row) (network.CarType, error) {
	ct := network.CarType{Seats: []network.Seat{}}
	err := r.Scan(&ct.Code, (*string)(&ct.SeatClass), &ct.NameZH, &ct.NameEN)
	return ct, err
}

// CarTypeSeatColumns are the columns a car type's seat is written to.
var CarTypeSeatColumns = []string{"car_type", "ord", "label", "compartment", "berth", "row_no", "letter"}

// CarTypeSeatRows are the car type's seats as rows of CarTypeSeatColumns.
func CarTypeSeatRows(ct network.CarType) [][]any {
	rows := make([][]any, len(ct.Seats))
	for i, seat := range ct.Seats {
		rows[i] = []any{ct.Code, i, seat.Label, seat.Compartment, string(seat.Berth), seat.Row, seat.Letter}
	}
	return rows
}

// SeatColumns are a seat read back, with its car type's code first, in
// seat order.
const SeatColumns = `car_type, label, compartment, berth, row_no, letter`

// ScanSeat reads SeatColumns.
func ScanSeat(r Row) (Child[network.Seat], error) {
	var c Child[network.Seat]
	s := &c.Value
	err := r.Scan(&c.Parent, &s.Label, &s.Compartment, (*string)(&s.Berth), &s.Row, &s.Letter)
	return c, err
}

// AttachSeats appends each seat, read in order, to its car type in types.
func AttachSeats(types []network.CarType, seats []Child[network.Seat]) {
	seatsOf := ByParent(seats)
	for i, ct := range types {
		types[i].Seats = append(ct.Seats, seatsOf[ct.Code]...)
	}
}

// CheckCarTypes rejects a bundle whose service cars use a car type that is
// neither in the bundle nor stored (stored says whether it is), before a
// foreign key would fail opaquely.
func CheckCarTypes(b *network.Bundle, stored func(code string) (bool, error)) error {
	known := map[string]bool{}
	for _, ct := range b.CarTypes {
		known[ct.Code] = true
	}
	for _, sv := range b.Services {
		for _, c := range sv.Cars {
			if known[c.CarType] {
				continue
			}
			ok, err := stored(c.CarType)
			if err != nil {
				return fault.Wrap(err, "check car type")
			}
			if !ok {
				return fault.Newf(fault.Invalid, "invalid_bundle", "车次 %[1]s 使用了不存在的车厢类型 %[2]s", "service %[1]s uses unknown car type %[2]s", sv.ID, c.CarType)
			}
			known[c.CarType] = true
		}
	}
	return nil
}

// BundleWriteError is err from writing table's rows (op says how, e.g.
// "insert into"): a constraint violation of any kind is an invalid bundle
// (typically an ID that already belongs to another feed), not a 500.
func BundleWriteError(err error, kind Violation, op, table string) error {
	if kind == NoViolation {
		return fault.Wrap(err, op+" "+table)
	}
	fe := fault.Newf(fault.Invalid, "bundle_conflict", "导入数据与已有数据冲突（%s）", "the bundle conflicts with stored data (%s)", table)
	fe.Err = err
	return fe
}

// ImportCount counts the rows an import writes: Rows per table of
// NetworkTables, and in all for the bundle's Progress (if set), which hears
// the total every 2,000 rows and when done.
type ImportCount struct {
	Rows     map[string]int
	written  int64
	progress func(int64)
}

// NewImportCount counts an import of b, every table at zero rows.
func NewImportCount(b *network.Bundle) *ImportCount {
	c := &ImportCount{Rows: make(map[string]int, len(NetworkTables)), progress: b.Progress}
	for _, t := range NetworkTables {
		c.Rows[t] = 0
	}
	return c
}

// Wrote adds n rows written to the total (not to Rows: engines count rows
// per table as their bulk writes report them).
func (c *ImportCount) Wrote(n int) {
	before := c.written
	c.written += int64(n)
	if c.progress != nil && c.written/2000 > before/2000 {
		c.progress(c.written)
	}
}

// Done reports the total to Progress and returns Rows.
func (c *ImportCount) Done() map[string]int {
	if c.progress != nil {
		c.progress(c.written)
	}
	return c.Rows
}

// FeedTable is one per-feed table of an import: its columns and the
// bundle's rows for it.
type FeedTable struct {
	Name    string
	Columns []string
	Rows    iter.Seq[[]any]
}

// FeedTables are the bundle's per-feed tables in the order they are
// written (parents before children), each with its rows.
func FeedTables(b *network.Bundle) []FeedTable {
	feedID := b.Feed.ID
	return []FeedTable{
		{"agencies", []string{"id", "feed_id", "name", "url", "timezone", "lang", "phone"},
			rowPer(b.Agencies, func(_ int, a network.Agency) []any {
				return []any{a.ID, feedID, a.Name, a.URL, a.Timezone, a.Lang, a.Phone}
			})},
		{"stations", columns(StationColumns + ", search_code, search_pinyin, search_initials, search_en"),
			rowPer(b.Stations, func(_ int, st network.Station) []any {
				return []any{st.ID, feedID, st.Code, st.NameZH, st.NameEN, st.Pinyin, st.City, st.Lat, st.Lon, st.ParentID, st.URL, st.Wheelchair,
					strings.ToLower(st.Code), network.SearchPinyin(st.Pinyin), network.PinyinInitials(st.Pinyin), strings.ToLower(st.NameEN)}
			})},
		{"lines", columns(LineColumns),
			rowPer(b.Lines, func(_ int, l network.Line) []any {
				return []any{l.ID, feedID, l.AgencyID, l.Code, l.NameZH, l.NameEN, l.RouteType, l.Color, l.TextColor}
			})},
		{"line_stations", columns(LineStationColumns),
			rowPerChild(b.Lines, func(l network.Line) []network.LineStation { return l.Stations },
				func(l network.Line, _ int, ls network.LineStation) []any {
					return []any{l.ID, ls.Seq, ls.StationID, ls.Metres}
				})},
		{"calendars", columns(CalendarColumns),
			rowPer(b.Calendars, func(_ int, c network.Calendar) []any {
				return []any{c.ID, feedID, weekdaysText(c.Weekdays), c.Start.String(), c.End.String()}
			})},
		{"calendar_exceptions", []string{"calendar_id", "on_date", "added"},
			rowPerChild(b.Calendars, func(c network.Calendar) []network.CalendarException { return c.Exceptions },
				func(c network.Calendar, _ int, e network.CalendarException) []any {
					return []any{c.ID, e.Date.String(), e.Added}
				})},
		{"services", columns(ServiceColumns),
			rowPer(b.Services, func(_ int, sv network.Service) []any {
				return []any{sv.ID, feedID, sv.LineID, sv.Number, sv.CalendarID, sv.Headsign, sv.DirectionID, sv.ShapeID}
			})},
		{"service_stops", columns(ServiceStopColumns),
			rowPerChild(b.Services, func(sv network.Service) []network.Stop { return sv.Stops },
				func(sv network.Service, _ int, st network.Stop) []any {
					return []any{sv.ID, st.Seq, st.StationID, st.Arrive, st.Depart, st.Metres, st.Pickup, st.DropOff}
				})},
		{"service_cars", columns(ServiceCarColumns),
			rowPerChild(b.Services, func(sv network.Service) []network.Car { return sv.Cars },
				func(sv network.Service, _ int, c network.Car) []any { return []any{sv.ID, c.No, c.CarType} })},
		{"transfers", []string{"feed_id", "ord", "from_station_id", "to_station_id", "from_line_id", "to_line_id",
			"from_service_id", "to_service_id", "transfer_type", "min_seconds"},
			rowPer(b.Transfers, func(i int, t network.Transfer) []any {
				return []any{feedID, i, t.FromStationID, t.ToStationID, t.FromLineID, t.ToLineID, t.FromServiceID, t.ToServiceID, t.Type, t.MinSeconds}
			})},
		{"fares", columns(FareColumns),
			rowPer(b.Fares, func(_ int, f network.Fare) []any { return FareValues(f) })},
		{"fare_bands", columns(FareBandColumns),
			rowPer(b.FareBands, func(_ int, fb network.FareBand) []any { return []any{feedID, fb.UpToMetres, fb.Fen} })},
		{"gtfs_fares", []string{"id", "feed_id", "price_minor", "currency", "payment_method", "transfers", "agency_id", "transfer_duration"},
			rowPer(b.GTFSFares, func(_ int, g network.GTFSFare) []any {
				return []any{g.ID, feedID, g.PriceMinor, g.Currency, g.PaymentMethod, g.Transfers, g.AgencyID, g.TransferDuration}
			})},
		{"gtfs_fare_rules", []string{"fare_id", "ord", "line_id", "origin_id", "destination_id", "contains_id"},
			rowPerChild(b.GTFSFares, func(g network.GTFSFare) []network.FareRule { return g.Rules },
				func(g network.GTFSFare, i int, r network.FareRule) []any {
					return []any{g.ID, i, r.LineID, r.OriginID, r.DestinationID, r.ContainsID}
				})},
	}
}

// columns splits a column list such as LineColumns into its names.
func columns(list string) []string { return strings.Split(list, ", ") }

// rowPer yields row(i, item) for each item, with its index.
func rowPer[T any](items []T, row func(int, T) []any) iter.Seq[[]any] {
	return func(yield func([]any) bool) {
		for i, item := range items {
			if !yield(row(i, item)) {
				return
			}
		}
	}
}

// rowPerChild yields row(item, i, child) for each child of each item, with
// the child's index among its siblings.
func rowPerChild[T, C any](items []T, children func(T) []C, row func(T, int, C) []any) iter.Seq[[]any] {
	return func(yield func([]any) bool) {
		for _, item := range items {
			for i, child := range children(item) {
				if !yield(row(item, i, child)) {
					return
				}
			}
		}
	}
}
