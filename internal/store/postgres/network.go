package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"piao/internal/fault"
	"piao/internal/network"
)

// networkStore keeps network data in PostgreSQL.
type networkStore struct{ *DB }

// networkTables are the per-feed tables that imports report and CountRows counts.
var networkTables = []string{
	"agencies", "stations", "lines", "line_stations", "calendars", "calendar_exceptions",
	"services", "service_stops", "service_cars", "transfers", "fares", "fare_bands",
	"gtfs_fares", "gtfs_fare_rules",
}

// countFeedRowsSQL counts every per-feed table in one statement so the
// counts come from one snapshot; columns follow networkTables.
const countFeedRowsSQL = `SELECT
	(SELECT count(*) FROM agencies WHERE feed_id = $1),
	(SELECT count(*) FROM stations WHERE feed_id = $1),
	(SELECT count(*) FROM lines WHERE feed_id = $1),
	(SELECT count(*) FROM line_stations WHERE line_id IN (SELECT id FROM lines WHERE feed_id = $1)),
	(SELECT count(*) FROM calendars WHERE feed_id = $1),
	(SELECT count(*) FROM calendar_exceptions WHERE calendar_id IN (SELECT id FROM calendars WHERE feed_id = $1)),
	(SELECT count(*) FROM services WHERE feed_id = $1),
	(SELECT count(*) FROM service_stops WHERE service_id IN (SELECT id FROM services WHERE feed_id = $1)),
	(SELECT count(*) FROM service_cars WHERE service_id IN (SELECT id FROM services WHERE feed_id = $1)),
	(SELECT count(*) FROM transfers WHERE feed_id = $1),
	(SELECT count(*) FROM fares WHERE service_id IN (SELECT id FROM services WHERE feed_id = $1)),
	(SELECT count(*) FROM fare_bands WHERE feed_id = $1),
	(SELECT count(*) FROM gtfs_fares WHERE feed_id = $1),
	(SELECT count(*) FROM gtfs_fare_rules WHERE fare_id IN (SELECT id FROM gtfs_fares WHERE feed_id = $1))`

// deleteFeedSQL empties a feed, children before parents so foreign keys hold.
var deleteFeedSQL = []string{
	`DELETE FROM fares WHERE service_id IN (SELECT id FROM services WHERE feed_id = $1)`,
	`DELETE FROM service_cars WHERE service_id IN (SELECT id FROM services WHERE feed_id = $1)`,
	`DELETE FROM service_stops WHERE service_id IN (SELECT id FROM services WHERE feed_id = $1)`,
	`DELETE FROM services WHERE feed_id = $1`,
	`DELETE FROM calendar_exceptions WHERE calendar_id IN (SELECT id FROM calendars WHERE feed_id = $1)`,
	`DELETE FROM calendars WHERE feed_id = $1`,
	`DELETE FROM line_stations WHERE line_id IN (SELECT id FROM lines WHERE feed_id = $1)`,
	`DELETE FROM lines WHERE feed_id = $1`,
	`DELETE FROM transfers WHERE feed_id = $1`,
	`DELETE FROM gtfs_fare_rules WHERE fare_id IN (SELECT id FROM gtfs_fares WHERE feed_id = $1)`,
	`DELETE FROM gtfs_fares WHERE feed_id = $1`,
	`DELETE FROM fare_bands WHERE feed_id = $1`,
	`DELETE FROM stations WHERE feed_id = $1`,
	`DELETE FROM agencies WHERE feed_id = $1`,
}

// ImportBundle replaces the feed's data with the bundle's in one transaction.
func (s *networkStore) ImportBundle(ctx context.Context, b *network.Bundle) (network.ImportResult, error) {
	if err := b.Validate(); err != nil {
		if b == nil {
			return network.ImportResult{}, err
		}
		return network.ImportResult{FeedID: b.Feed.ID}, err
	}
	res := network.ImportResult{FeedID: b.Feed.ID}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// FOR UPDATE serialises concurrent imports of the same feed.
		var digest string
		err := tx.QueryRow(ctx, `SELECT digest FROM feeds WHERE id = $1 FOR UPDATE`, b.Feed.ID).Scan(&digest)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fault.Wrap(err, "read feed digest")
		}
		if err == nil && digest != "" && digest == b.Feed.Digest {
			res.Unchanged = true
			res.Rows, err = countFeedRows(ctx, tx, b.Feed.ID)
			return err
		}
		im := &feedImport{ctx: ctx, tx: tx, b: b, rows: map[string]int{}}
		if err := im.run(); err != nil {
			return err
		}
		res.Rows = im.rows
		return nil
	})
	if err != nil {
		return network.ImportResult{FeedID: b.Feed.ID}, fault.Wrap(err, "import feed")
	}
	return res, nil
}

// feedImport is the state of one ImportBundle transaction.
type feedImport struct {
	ctx     context.Context
	tx      pgx.Tx
	b       *network.Bundle
	rows    map[string]int
	written int64
}

// copyStep is one table's rows, written with COPY.
type copyStep struct {
	table   string
	columns []string
	rows    [][]any
}

// run writes the whole bundle; the caller's transaction makes it atomic.
func (im *feedImport) run() error {
	ctx, tx, b := im.ctx, im.tx, im.b
	feedID := b.Feed.ID
	for _, t := range networkTables {
		im.rows[t] = 0
	}
	importedAt := b.Feed.ImportedAt
	if importedAt.IsZero() {
		importedAt = time.Now()
	}
	_, err := tx.Exec(ctx, `INSERT INTO feeds (id, name, mode, timezone, digest, imported_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, mode = excluded.mode,
			timezone = excluded.timezone, digest = excluded.digest, imported_at = excluded.imported_at`,
		feedID, b.Feed.Name, string(b.Feed.Mode), b.Feed.Timezone, b.Feed.Digest, importedAt.UTC())
	if err != nil {
		return fault.Wrap(err, "upsert feed")
	}
	for _, q := range deleteFeedSQL {
		if _, err := tx.Exec(ctx, q, feedID); err != nil {
			return fault.Wrap(err, "clear feed")
		}
	}
	for _, ct := range b.CarTypes {
		if err := putCarType(ctx, tx, ct); err != nil {
			return err
		}
	}
	if err := im.checkCarTypesExist(); err != nil {
		return err
	}

	var (
		agencies, stations, lines, lineStations, calendars, exceptions       [][]any
		services, stops, cars, transfers, fares, bands, gtfsFares, gtfsRules [][]any
	)
	for _, a := range b.Agencies {
		agencies = append(agencies, []any{a.ID, feedID, a.Name, a.URL, a.Timezone, a.Lang, a.Phone})
	}
	for _, st := range b.Stations {
		stations = append(stations, []any{st.ID, feedID, st.Code, st.NameZH, st.NameEN, st.Pinyin, st.City, st.Lat, st.Lon, st.ParentID, st.URL, st.Wheelchair,
			strings.ToLower(st.Code), network.SearchPinyin(st.Pinyin), network.PinyinInitials(st.Pinyin), strings.ToLower(st.NameEN)})
	}
	for _, l := range b.Lines {
		lines = append(lines, []any{l.ID, feedID, l.AgencyID, l.Code, l.NameZH, l.NameEN, l.RouteType, l.Color, l.TextColor})
		for _, ls := range l.Stations {
			lineStations = append(lineStations, []any{l.ID, ls.Seq, ls.StationID, ls.Metres})
		}
	}
	for _, c := range b.Calendars {
		calendars = append(calendars, []any{c.ID, feedID, weekdaysText(c.Weekdays), c.Start.String(), c.End.String()})
		for _, e := range c.Exceptions {
			exceptions = append(exceptions, []any{c.ID, e.Date.String(), e.Added})
		}
	}
	for _, sv := range b.Services {
		services = append(services, []any{sv.ID, feedID, sv.LineID, sv.Number, sv.CalendarID, sv.Headsign, sv.DirectionID, sv.ShapeID})
		for _, st := range sv.Stops {
			stops = append(stops, []any{sv.ID, st.Seq, st.StationID, st.Arrive, st.Depart, st.Metres, st.Pickup, st.DropOff})
		}
		for _, c := range sv.Cars {
			cars = append(cars, []any{sv.ID, c.No, c.CarType})
		}
	}
	for i, t := range b.Transfers {
		transfers = append(transfers, []any{feedID, i, t.FromStationID, t.ToStationID, t.FromLineID, t.ToLineID, t.FromServiceID, t.ToServiceID, t.Type, t.MinSeconds})
	}
	for _, f := range b.Fares {
		fares = append(fares, []any{f.ServiceID, f.FromStationID, f.ToStationID, string(f.SeatClass), string(f.Berth), f.Fen})
	}
	for _, fb := range b.FareBands {
		bands = append(bands, []any{feedID, fb.UpToMetres, fb.Fen})
	}
	for _, g := range b.GTFSFares {
		gtfsFares = append(gtfsFares, []any{g.ID, feedID, g.PriceMinor, g.Currency, g.PaymentMethod, g.Transfers, g.AgencyID, g.TransferDuration})
		for i, r := range g.Rules {
			gtfsRules = append(gtfsRules, []any{g.ID, i, r.LineID, r.OriginID, r.DestinationID, r.ContainsID})
		}
	}
	steps := []copyStep{
		{"agencies", []string{"id", "feed_id", "name", "url", "timezone", "lang", "phone"}, agencies},
		{"stations", []string{"id", "feed_id", "code", "name_zh", "name_en", "pinyin", "city", "lat", "lon", "parent_id", "url", "wheelchair",
			"search_code", "search_pinyin", "search_initials", "search_en"}, stations},
		{"lines", []string{"id", "feed_id", "agency_id", "code", "name_zh", "name_en", "route_type", "color", "text_color"}, lines},
		{"line_stations", []string{"line_id", "seq", "station_id", "metres"}, lineStations},
		{"calendars", []string{"id", "feed_id", "weekdays", "start_on", "end_on"}, calendars},
		{"calendar_exceptions", []string{"calendar_id", "on_date", "added"}, exceptions},
		{"services", []string{"id", "feed_id", "line_id", "number", "calendar_id", "headsign", "direction_id", "shape_id"}, services},
		{"service_stops", []string{"service_id", "seq", "station_id", "arrive", "depart", "metres", "pickup", "drop_off"}, stops},
		{"service_cars", []string{"service_id", "car_no", "car_type"}, cars},
		{"transfers", []string{"feed_id", "ord", "from_station_id", "to_station_id", "from_line_id", "to_line_id",
			"from_service_id", "to_service_id", "transfer_type", "min_seconds"}, transfers},
		{"fares", []string{"service_id", "from_station_id", "to_station_id", "seat_class", "berth", "fen"}, fares},
		{"fare_bands", []string{"feed_id", "up_to_metres", "fen"}, bands},
		{"gtfs_fares", []string{"id", "feed_id", "price_minor", "currency", "payment_method", "transfers", "agency_id", "transfer_duration"}, gtfsFares},
		{"gtfs_fare_rules", []string{"fare_id", "ord", "line_id", "origin_id", "destination_id", "contains_id"}, gtfsRules},
	}
	for _, st := range steps {
		if err := im.copy(st); err != nil {
			return err
		}
	}
	if b.Progress != nil {
		b.Progress(im.written)
	}
	return nil
}

// copy writes one table's rows with COPY, which keeps a national feed's
// ~23k stops to one round trip.
func (im *feedImport) copy(st copyStep) error {
	if len(st.rows) == 0 {
		return nil
	}
	src := pgx.CopyFromSlice(len(st.rows), func(i int) ([]any, error) {
		im.written++
		if im.b.Progress != nil && im.written%2000 == 0 {
			im.b.Progress(im.written)
		}
		return st.rows[i], nil
	})
	n, err := im.tx.CopyFrom(im.ctx, pgx.Identifier{st.table}, st.columns, src)
	if err != nil {
		return bundleInsertError(err, st.table)
	}
	im.rows[st.table] = int(n)
	return nil
}

// checkCarTypesExist rejects service cars whose car type is neither in the
// bundle nor already stored, before the foreign key would fail opaquely.
func (im *feedImport) checkCarTypesExist() error {
	inBundle := map[string]bool{}
	for _, ct := range im.b.CarTypes {
		inBundle[ct.Code] = true
	}
	checked := map[string]bool{}
	for _, sv := range im.b.Services {
		for _, c := range sv.Cars {
			if inBundle[c.CarType] || checked[c.CarType] {
				continue
			}
			var exists bool
			if err := im.tx.QueryRow(im.ctx, `SELECT EXISTS (SELECT 1 FROM car_types WHERE code = $1)`, c.CarType).Scan(&exists); err != nil {
				return fault.Wrap(err, "check car type")
			}
			if !exists {
				return fault.Newf(fault.Invalid, "invalid_bundle", "车次 %[1]s 使用了不存在的车厢类型 %[2]s", "service %[1]s uses unknown car type %[2]s", sv.ID, c.CarType)
			}
			checked[c.CarType] = true
		}
	}
	return nil
}

// bundleInsertError turns a constraint violation (SQLSTATE class 23,
// typically an ID that already belongs to another feed) into an
// invalid-bundle error instead of a 500.
func bundleInsertError(err error, table string) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && strings.HasPrefix(pe.Code, "23") {
		fe := fault.Newf(fault.Invalid, "bundle_conflict", "导入数据与已有数据冲突（%s）", "the bundle conflicts with stored data (%s)", table)
		fe.Err = err
		return fe
	}
	return fault.Wrap(err, "copy into "+table)
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

// putCarType upserts a car type and replaces its seats.
func putCarType(ctx context.Context, tx pgx.Tx, ct network.CarType) error {
	_, err := tx.Exec(ctx, `INSERT INTO car_types (code, seat_class, name_zh, name_en) VALUES ($1, $2, $3, $4)
		ON CONFLICT (code) DO UPDATE SET seat_class = excluded.seat_class, name_zh = excluded.name_zh, name_en = excluded.name_en`,
		ct.Code, string(ct.SeatClass), ct.NameZH, ct.NameEN)
	if err != nil {
		return fault.Wrap(err, "upsert car type")
	}
	if _, err := tx.Exec(ctx, `DELETE FROM car_type_seats WHERE car_type = $1`, ct.Code); err != nil {
		return fault.Wrap(err, "clear car type seats")
	}
	seats := make([][]any, len(ct.Seats))
	for i, seat := range ct.Seats {
		seats[i] = []any{ct.Code, i, seat.Label, seat.Compartment, string(seat.Berth), seat.Row, seat.Letter}
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"car_type_seats"},
		[]string{"car_type", "ord", "label", "compartment", "berth", "row_no", "letter"}, pgx.CopyFromRows(seats))
	return fault.Wrap(err, "insert car type seats")
}

// Feeds lists the feeds by ID.
func (s *networkStore) Feeds(ctx context.Context) ([]network.Feed, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, mode, timezone, digest, imported_at FROM feeds ORDER BY id COLLATE "C"`)
	if err != nil {
		return nil, fault.Wrap(err, "list feeds")
	}
	defer rows.Close()
	out := []network.Feed{}
	for rows.Next() {
		var f network.Feed
		var mode string
		if err := rows.Scan(&f.ID, &f.Name, &mode, &f.Timezone, &f.Digest, &f.ImportedAt); err != nil {
			return nil, fault.Wrap(err, "scan feed")
		}
		f.Mode = network.Mode(mode)
		f.ImportedAt = f.ImportedAt.UTC()
		out = append(out, f)
	}
	return out, fault.Wrap(rows.Err(), "list feeds")
}

// CountRows counts the feed's rows per table.
func (s *networkStore) CountRows(ctx context.Context, feedID string) (map[string]int, error) {
	return countFeedRows(ctx, s.pool, feedID)
}

// feedCountQuerier is what countFeedRows needs: the pool or a transaction.
type feedCountQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// countFeedRows runs countFeedRowsSQL and names its columns.
func countFeedRows(ctx context.Context, q feedCountQuerier, feedID string) (map[string]int, error) {
	counts := make([]int, len(networkTables))
	dest := make([]any, len(counts))
	for i := range counts {
		dest[i] = &counts[i]
	}
	if err := q.QueryRow(ctx, countFeedRowsSQL, feedID).Scan(dest...); err != nil {
		return nil, fault.Wrap(err, "count feed rows")
	}
	out := make(map[string]int, len(counts))
	for i, t := range networkTables {
		out[t] = counts[i]
	}
	return out, nil
}

// escapeLike makes s match literally inside a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

const stationColumns = `id, feed_id, code, name_zh, name_en, pinyin, city, lat, lon, parent_id, url, wheelchair`

// scanStation reads stationColumns.
func scanStation(row pgx.Row) (network.Station, error) {
	var st network.Station
	err := row.Scan(&st.ID, &st.FeedID, &st.Code, &st.NameZH, &st.NameEN, &st.Pinyin, &st.City, &st.Lat, &st.Lon, &st.ParentID, &st.URL, &st.Wheelchair)
	return st, err
}

// SearchStations finds stations by code, pinyin, initials or name.
func (s *networkStore) SearchStations(ctx context.Context, query string, limit int) ([]network.Station, error) {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return nil, fault.New(fault.Invalid, "empty_query", "请输入车站名称、拼音或电报码", "enter a station name, pinyin or telecode")
	}
	switch {
	case limit <= 0:
		limit = 20
	case limit > 100:
		limit = 100
	}
	prefix := escapeLike(q) + "%"
	pinyinPrefix := escapeLike(network.SearchPinyin(q)) + "%"
	contains := "%" + escapeLike(q) + "%"
	// Rank 0 is an exact code, 1 a prefix match, 2 a name containing the
	// query; COLLATE "C" orders names as SQLite does, whatever the server locale.
	rows, err := s.pool.Query(ctx, `SELECT `+stationColumns+` FROM stations
		WHERE search_code LIKE $2 ESCAPE '\' OR search_pinyin LIKE $3 ESCAPE '\' OR search_initials LIKE $3 ESCAPE '\'
			OR lower(name_zh) LIKE $4 ESCAPE '\' OR search_en LIKE $4 ESCAPE '\'
		ORDER BY CASE WHEN search_code = $1 THEN 0
				WHEN search_code LIKE $2 ESCAPE '\' OR search_pinyin LIKE $3 ESCAPE '\' OR search_initials LIKE $3 ESCAPE '\' THEN 1
				ELSE 2 END,
			name_zh COLLATE "C", name_en COLLATE "C", id COLLATE "C"
		LIMIT $5`, q, prefix, pinyinPrefix, contains, limit)
	if err != nil {
		return nil, fault.Wrap(err, "search stations")
	}
	defer rows.Close()
	out := []network.Station{}
	for rows.Next() {
		st, err := scanStation(rows)
		if err != nil {
			return nil, fault.Wrap(err, "scan station")
		}
		out = append(out, st)
	}
	return out, fault.Wrap(rows.Err(), "search stations")
}

// Station returns one station.
func (s *networkStore) Station(ctx context.Context, id string) (network.Station, error) {
	st, err := scanStation(s.pool.QueryRow(ctx, `SELECT `+stationColumns+` FROM stations WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return network.Station{}, fault.Newf(fault.NotFound, "station_not_found", "车站 %s 不存在", "station %s not found", id)
	}
	return st, fault.Wrap(err, "read station")
}

const lineColumns = `id, feed_id, agency_id, code, name_zh, name_en, route_type, color, text_color`

// lineOrder sorts lines by feed, code and ID in byte order on every server locale.
const lineOrder = `feed_id COLLATE "C", code COLLATE "C", id COLLATE "C"`

// scanLine reads lineColumns.
func scanLine(row pgx.Row) (network.Line, error) {
	var l network.Line
	err := row.Scan(&l.ID, &l.FeedID, &l.AgencyID, &l.Code, &l.NameZH, &l.NameEN, &l.RouteType, &l.Color, &l.TextColor)
	return l, err
}

// Lines lists lines without their stations.
func (s *networkStore) Lines(ctx context.Context, feedID string) ([]network.Line, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+lineColumns+` FROM lines WHERE $1 = '' OR feed_id = $1 ORDER BY `+lineOrder, feedID)
	if err != nil {
		return nil, fault.Wrap(err, "list lines")
	}
	defer rows.Close()
	out := []network.Line{}
	for rows.Next() {
		l, err := scanLine(rows)
		if err != nil {
			return nil, fault.Wrap(err, "scan line")
		}
		out = append(out, l)
	}
	return out, fault.Wrap(rows.Err(), "list lines")
}

// Line returns a line with its ordered stations.
func (s *networkStore) Line(ctx context.Context, id string) (network.Line, error) {
	var l network.Line
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		l, err = scanLine(tx.QueryRow(ctx, `SELECT `+lineColumns+` FROM lines WHERE id = $1`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return fault.Newf(fault.NotFound, "line_not_found", "线路 %s 不存在", "line %s not found", id)
		}
		if err != nil {
			return fault.Wrap(err, "read line")
		}
		stations, err := lineStations(ctx, tx, `line_id = $1`, id)
		l.Stations = stations[id]
		return err
	})
	if err != nil {
		return network.Line{}, err
	}
	return l, nil
}

// MetroLines returns the feed's lines that have stations, with their stations.
func (s *networkStore) MetroLines(ctx context.Context, feedID string) ([]network.Line, error) {
	out := []network.Line{}
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+lineColumns+` FROM lines
			WHERE ($1 = '' OR feed_id = $1) AND EXISTS (SELECT 1 FROM line_stations ls WHERE ls.line_id = lines.id)
			ORDER BY `+lineOrder, feedID)
		if err != nil {
			return fault.Wrap(err, "list metro lines")
		}
		for rows.Next() {
			l, err := scanLine(rows)
			if err != nil {
				rows.Close()
				return fault.Wrap(err, "scan line")
			}
			out = append(out, l)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fault.Wrap(err, "list metro lines")
		}
		stations, err := lineStations(ctx, tx, `line_id IN (SELECT id FROM lines WHERE $1 = '' OR feed_id = $1)`, feedID)
		for i := range out {
			out[i].Stations = stations[out[i].ID]
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// lineStations loads the ordered stations of the lines matching where, by line.
func lineStations(ctx context.Context, tx pgx.Tx, where string, arg any) (map[string][]network.LineStation, error) {
	rows, err := tx.Query(ctx, `SELECT line_id, seq, station_id, metres FROM line_stations WHERE `+where+` ORDER BY line_id, seq`, arg)
	if err != nil {
		return nil, fault.Wrap(err, "read line stations")
	}
	defer rows.Close()
	out := map[string][]network.LineStation{}
	for rows.Next() {
		var lineID string
		var ls network.LineStation
		if err := rows.Scan(&lineID, &ls.Seq, &ls.StationID, &ls.Metres); err != nil {
			return nil, fault.Wrap(err, "scan line station")
		}
		out[lineID] = append(out[lineID], ls)
	}
	return out, fault.Wrap(rows.Err(), "read line stations")
}

// ServicesByNumber returns the services with that train number, any case.
func (s *networkStore) ServicesByNumber(ctx context.Context, number string) ([]network.Service, error) {
	var out []network.Service
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = loadServices(ctx, tx, `lower(number) = lower($1)`, strings.TrimSpace(number))
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ServicesAt returns every service calling at a station, with stops and cars.
func (s *networkStore) ServicesAt(ctx context.Context, stationID string) ([]network.Service, error) {
	var out []network.Service
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = loadServices(ctx, tx, `id IN (SELECT service_id FROM service_stops WHERE station_id = $1)`, stationID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Service returns one service with stops and cars.
func (s *networkStore) Service(ctx context.Context, id string) (network.Service, error) {
	var out []network.Service
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = loadServices(ctx, tx, `id = $1`, id)
		return err
	})
	if err != nil {
		return network.Service{}, err
	}
	if len(out) == 0 {
		return network.Service{}, fault.Newf(fault.NotFound, "service_not_found", "车次 %s 不存在", "service %s not found", id)
	}
	return out[0], nil
}

// loadServices reads the services matching where (a fixed fragment over the
// services table with one parameter) with their stops and cars.
func loadServices(ctx context.Context, tx pgx.Tx, where string, arg any) ([]network.Service, error) {
	rows, err := tx.Query(ctx, `SELECT id, feed_id, line_id, number, calendar_id, headsign, direction_id, shape_id
		FROM services WHERE `+where+` ORDER BY feed_id COLLATE "C", id COLLATE "C"`, arg)
	if err != nil {
		return nil, fault.Wrap(err, "read services")
	}
	out := []network.Service{}
	index := map[string]int{}
	for rows.Next() {
		var sv network.Service
		if err := rows.Scan(&sv.ID, &sv.FeedID, &sv.LineID, &sv.Number, &sv.CalendarID, &sv.Headsign, &sv.DirectionID, &sv.ShapeID); err != nil {
			rows.Close()
			return nil, fault.Wrap(err, "scan service")
		}
		sv.Stops = []network.Stop{}
		index[sv.ID] = len(out)
		out = append(out, sv)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fault.Wrap(err, "read services")
	}
	if len(out) == 0 {
		return out, nil
	}

	rows, err = tx.Query(ctx, `SELECT service_id, seq, station_id, arrive, depart, metres, pickup, drop_off
		FROM service_stops WHERE service_id IN (SELECT id FROM services WHERE `+where+`) ORDER BY service_id, seq`, arg)
	if err != nil {
		return nil, fault.Wrap(err, "read service stops")
	}
	for rows.Next() {
		var id string
		var st network.Stop
		if err := rows.Scan(&id, &st.Seq, &st.StationID, &st.Arrive, &st.Depart, &st.Metres, &st.Pickup, &st.DropOff); err != nil {
			rows.Close()
			return nil, fault.Wrap(err, "scan service stop")
		}
		i := index[id]
		out[i].Stops = append(out[i].Stops, st)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fault.Wrap(err, "read service stops")
	}

	rows, err = tx.Query(ctx, `SELECT service_id, car_no, car_type
		FROM service_cars WHERE service_id IN (SELECT id FROM services WHERE `+where+`) ORDER BY service_id, car_no`, arg)
	if err != nil {
		return nil, fault.Wrap(err, "read service cars")
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var c network.Car
		if err := rows.Scan(&id, &c.No, &c.CarType); err != nil {
			return nil, fault.Wrap(err, "scan service car")
		}
		i := index[id]
		out[i].Cars = append(out[i].Cars, c)
	}
	return out, fault.Wrap(rows.Err(), "read service cars")
}

// Calendar returns a calendar with its exceptions in date order.
func (s *networkStore) Calendar(ctx context.Context, id string) (network.Calendar, error) {
	var c network.Calendar
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		var weekdays, start, end string
		err := tx.QueryRow(ctx, `SELECT id, feed_id, weekdays, start_on, end_on FROM calendars WHERE id = $1`, id).
			Scan(&c.ID, &c.FeedID, &weekdays, &start, &end)
		if errors.Is(err, pgx.ErrNoRows) {
			return fault.Newf(fault.NotFound, "calendar_not_found", "日历 %s 不存在", "calendar %s not found", id)
		}
		if err != nil {
			return fault.Wrap(err, "read calendar")
		}
		for i := 0; i < len(weekdays) && i < 7; i++ {
			c.Weekdays[i] = weekdays[i] == '1'
		}
		if c.Start, err = parseStoredDate(start); err != nil {
			return err
		}
		if c.End, err = parseStoredDate(end); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT on_date, added FROM calendar_exceptions WHERE calendar_id = $1 ORDER BY on_date COLLATE "C"`, id)
		if err != nil {
			return fault.Wrap(err, "read calendar exceptions")
		}
		defer rows.Close()
		for rows.Next() {
			var d string
			var e network.CalendarException
			if err := rows.Scan(&d, &e.Added); err != nil {
				return fault.Wrap(err, "scan calendar exception")
			}
			if e.Date, err = parseStoredDate(d); err != nil {
				return err
			}
			c.Exceptions = append(c.Exceptions, e)
		}
		return fault.Wrap(rows.Err(), "read calendar exceptions")
	})
	if err != nil {
		return network.Calendar{}, err
	}
	return c, nil
}

// parseStoredDate parses a stored YYYY-MM-DD date; "" is the zero date.
func parseStoredDate(s string) (network.Date, error) {
	if s == "" {
		return network.Date{}, nil
	}
	d, err := network.ParseDate(s)
	return d, fault.Wrap(err, "parse stored date")
}

// Fares returns a service's fares between two stations by class and berth.
func (s *networkStore) Fares(ctx context.Context, serviceID, fromStationID, toStationID string) ([]network.Fare, error) {
	rows, err := s.pool.Query(ctx, `SELECT seat_class, berth, fen FROM fares
		WHERE service_id = $1 AND from_station_id = $2 AND to_station_id = $3
		ORDER BY seat_class COLLATE "C", berth COLLATE "C"`, serviceID, fromStationID, toStationID)
	if err != nil {
		return nil, fault.Wrap(err, "read fares")
	}
	defer rows.Close()
	out := []network.Fare{}
	for rows.Next() {
		f := network.Fare{ServiceID: serviceID, FromStationID: fromStationID, ToStationID: toStationID}
		var class, berth string
		if err := rows.Scan(&class, &berth, &f.Fen); err != nil {
			return nil, fault.Wrap(err, "scan fare")
		}
		f.SeatClass, f.Berth = network.SeatClass(class), network.Berth(berth)
		out = append(out, f)
	}
	return out, fault.Wrap(rows.Err(), "read fares")
}

// SetFare creates or changes one fare of an existing service.
func (s *networkStore) SetFare(ctx context.Context, f network.Fare) error {
	if err := f.Validate(); err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM services WHERE id = $1)`, f.ServiceID).Scan(&exists); err != nil {
			return fault.Wrap(err, "check service")
		}
		if !exists {
			return fault.Newf(fault.NotFound, "service_not_found", "车次 %s 不存在", "service %s not found", f.ServiceID)
		}
		_, err := tx.Exec(ctx, `INSERT INTO fares (service_id, from_station_id, to_station_id, seat_class, berth, fen)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (service_id, from_station_id, to_station_id, seat_class, berth) DO UPDATE SET fen = excluded.fen`,
			f.ServiceID, f.FromStationID, f.ToStationID, string(f.SeatClass), string(f.Berth), f.Fen)
		return fault.Wrap(err, "set fare")
	})
}

// CarType returns one car layout.
func (s *networkStore) CarType(ctx context.Context, code string) (network.CarType, error) {
	var out []network.CarType
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = loadCarTypes(ctx, tx, `code = $1`, code)
		return err
	})
	if err != nil {
		return network.CarType{}, err
	}
	if len(out) == 0 {
		return network.CarType{}, fault.Newf(fault.NotFound, "car_type_not_found", "车厢类型 %s 不存在", "car type %s not found", code)
	}
	return out[0], nil
}

// CarTypes lists the car layouts by code.
func (s *networkStore) CarTypes(ctx context.Context) ([]network.CarType, error) {
	var out []network.CarType
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = loadCarTypes(ctx, tx, `$1 = ''`, "")
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// loadCarTypes reads the car types matching where (a fixed fragment over
// car_types with one parameter) with their seats in order.
func loadCarTypes(ctx context.Context, tx pgx.Tx, where string, arg any) ([]network.CarType, error) {
	rows, err := tx.Query(ctx, `SELECT code, seat_class, name_zh, name_en FROM car_types WHERE `+where+` ORDER BY code COLLATE "C"`, arg)
	if err != nil {
		return nil, fault.Wrap(err, "read car types")
	}
	out := []network.CarType{}
	index := map[string]int{}
	for rows.Next() {
		var ct network.CarType
		var class string
		if err := rows.Scan(&ct.Code, &class, &ct.NameZH, &ct.NameEN); err != nil {
			rows.Close()
			return nil, fault.Wrap(err, "scan car type")
		}
		ct.SeatClass = network.SeatClass(class)
		ct.Seats = []network.Seat{}
		index[ct.Code] = len(out)
		out = append(out, ct)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fault.Wrap(err, "read car types")
	}
	rows, err = tx.Query(ctx, `SELECT car_type, label, compartment, berth, row_no, letter FROM car_type_seats
		WHERE car_type IN (SELECT code FROM car_types WHERE `+where+`) ORDER BY car_type, ord`, arg)
	if err != nil {
		return nil, fault.Wrap(err, "read car type seats")
	}
	defer rows.Close()
	for rows.Next() {
		var code, berth string
		var seat network.Seat
		if err := rows.Scan(&code, &seat.Label, &seat.Compartment, &berth, &seat.Row, &seat.Letter); err != nil {
			return nil, fault.Wrap(err, "scan car type seat")
		}
		seat.Berth = network.Berth(berth)
		i := index[code]
		out[i].Seats = append(out[i].Seats, seat)
	}
	return out, fault.Wrap(rows.Err(), "read car type seats")
}

// PutCarType creates or replaces a car layout.
func (s *networkStore) PutCarType(ctx context.Context, ct network.CarType) error {
	if err := ct.Validate(); err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error { return putCarType(ctx, tx, ct) })
}

// FareBands returns the feed's distance bands, the open-ended band last.
func (s *networkStore) FareBands(ctx context.Context, feedID string) ([]network.FareBand, error) {
	rows, err := s.pool.Query(ctx, `SELECT feed_id, up_to_metres, fen FROM fare_bands WHERE feed_id = $1
		ORDER BY up_to_metres = 0, up_to_metres`, feedID)
	if err != nil {
		return nil, fault.Wrap(err, "read fare bands")
	}
	defer rows.Close()
	out := []network.FareBand{}
	for rows.Next() {
		var fb network.FareBand
		if err := rows.Scan(&fb.FeedID, &fb.UpToMetres, &fb.Fen); err != nil {
			return nil, fault.Wrap(err, "scan fare band")
		}
		out = append(out, fb)
	}
	return out, fault.Wrap(rows.Err(), "read fare bands")
}
