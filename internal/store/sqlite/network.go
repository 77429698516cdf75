package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"iter"
	"strings"

	"piao/internal/fault"
	"piao/internal/network"
	"piao/internal/store/sqlrow"
)

// networkStore keeps network data in SQLite: writes go through the single
// writer connection, reads through the reader pool.
type networkStore struct{ *DB }

// countFeedRowsSQL counts every per-feed table in one statement so the
// counts come from one snapshot; columns follow sqlrow.NetworkTables.
const countFeedRowsSQL = `SELECT
	(SELECT count(*) FROM agencies WHERE feed_id = ?1),
	(SELECT count(*) FROM stations WHERE feed_id = ?1),
	(SELECT count(*) FROM lines WHERE feed_id = ?1),
	(SELECT count(*) FROM line_stations WHERE line_id IN (SELECT id FROM lines WHERE feed_id = ?1)),
	(SELECT count(*) FROM calendars WHERE feed_id = ?1),
	(SELECT count(*) FROM calendar_exceptions WHERE calendar_id IN (SELECT id FROM calendars WHERE feed_id = ?1)),
	(SELECT count(*) FROM services WHERE feed_id = ?1),
	(SELECT count(*) FROM service_stops WHERE service_id IN (SELECT id FROM services WHERE feed_id = ?1)),
	(SELECT count(*) FROM service_cars WHERE service_id IN (SELECT id FROM services WHERE feed_id = ?1)),
	(SELECT count(*) FROM transfers WHERE feed_id = ?1),
	(SELECT count(*) FROM fares WHERE service_id IN (SELECT id FROM services WHERE feed_id = ?1)),
	(SELECT count(*) FROM fare_bands WHERE feed_id = ?1),
	(SELECT count(*) FROM gtfs_fares WHERE feed_id = ?1),
	(SELECT count(*) FROM gtfs_fare_rules WHERE fare_id IN (SELECT id FROM gtfs_fares WHERE feed_id = ?1))`

// deleteFeedSQL empties a feed, children before parents so foreign keys hold.
var deleteFeedSQL = []string{
	`DELETE FROM fares WHERE service_id IN (SELECT id FROM services WHERE feed_id = ?1)`,
	`DELETE FROM service_cars WHERE service_id IN (SELECT id FROM services WHERE feed_id = ?1)`,
	`DELETE FROM service_stops WHERE service_id IN (SELECT id FROM services WHERE feed_id = ?1)`,
	`DELETE FROM services WHERE feed_id = ?1`,
	`DELETE FROM calendar_exceptions WHERE calendar_id IN (SELECT id FROM calendars WHERE feed_id = ?1)`,
	`DELETE FROM calendars WHERE feed_id = ?1`,
	`DELETE FROM line_stations WHERE line_id IN (SELECT id FROM lines WHERE feed_id = ?1)`,
	`DELETE FROM lines WHERE feed_id = ?1`,
	`DELETE FROM transfers WHERE feed_id = ?1`,
	`DELETE FROM gtfs_fare_rules WHERE fare_id IN (SELECT id FROM gtfs_fares WHERE feed_id = ?1)`,
	`DELETE FROM gtfs_fares WHERE feed_id = ?1`,
	`DELETE FROM fare_bands WHERE feed_id = ?1`,
	`DELETE FROM stations WHERE feed_id = ?1`,
	`DELETE FROM agencies WHERE feed_id = ?1`,
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
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var digest string
		err := tx.QueryRowContext(ctx, `SELECT digest FROM feeds WHERE id = ?`, b.Feed.ID).Scan(&digest)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fault.Wrap(err, "read feed digest")
		}
		if err == nil && digest != "" && digest == b.Feed.Digest {
			res.Unchanged = true
			res.Rows, err = sqlrow.ScanFeedCounts(tx.QueryRowContext(ctx, countFeedRowsSQL, b.Feed.ID))
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
		return network.ImportResult{FeedID: b.Feed.ID}, err
	}
	return res, nil
}

// feedImport is the state of one ImportBundle transaction.
type feedImport struct {
	ctx     context.Context
	tx      *sql.Tx
	b       *network.Bundle
	rows    map[string]int
	written int64
}

// run writes the whole bundle in its steps; the caller's transaction makes
// it atomic.
func (im *feedImport) run() error {
	for _, step := range []func() error{im.upsertFeed, im.clearFeed, im.putCarTypes, im.checkCarTypesExist, im.writeTables} {
		if err := step(); err != nil {
			return err
		}
	}
	if im.b.Progress != nil {
		im.b.Progress(im.written)
	}
	return nil
}

// upsertFeed creates or updates the feed's own row.
func (im *feedImport) upsertFeed() error {
	_, err := im.tx.ExecContext(im.ctx, `INSERT INTO feeds (`+sqlrow.FeedColumns+`)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, mode = excluded.mode,
			timezone = excluded.timezone, digest = excluded.digest, imported_at = excluded.imported_at`,
		sqlrow.FeedValues(im.b.Feed)...)
	return fault.Wrap(err, "upsert feed")
}

// clearFeed deletes the rows the feed's previous import wrote.
func (im *feedImport) clearFeed() error {
	for _, q := range deleteFeedSQL {
		if _, err := im.tx.ExecContext(im.ctx, q, im.b.Feed.ID); err != nil {
			return fault.Wrap(err, "clear feed")
		}
	}
	return nil
}

// putCarTypes stores the bundle's car types, which are shared across feeds.
func (im *feedImport) putCarTypes() error {
	for _, ct := range im.b.CarTypes {
		if err := putCarType(im.ctx, im.tx, ct); err != nil {
			return err
		}
	}
	return nil
}

// checkCarTypesExist rejects service cars of a car type neither in the
// bundle nor stored.
func (im *feedImport) checkCarTypesExist() error {
	return sqlrow.CheckCarTypes(im.b, func(code string) (bool, error) {
		var n int
		err := im.tx.QueryRowContext(im.ctx, `SELECT count(*) FROM car_types WHERE code = ?`, code).Scan(&n)
		return n > 0, err
	})
}

// writeTables inserts the rows of every per-feed table, parents first.
func (im *feedImport) writeTables() error {
	for _, t := range sqlrow.NetworkTables {
		im.rows[t] = 0
	}
	for _, t := range sqlrow.FeedTables(im.b) {
		if err := im.insert(t.Name, t.Columns, t.Rows); err != nil {
			return err
		}
	}
	return nil
}

// insertBatchParams bounds the parameters of one multi-row INSERT, well
// under SQLite's limit of 32766.
const insertBatchParams = 512

// insert writes rows with prepared multi-row INSERTs: fewer statement
// executions keep SQLite fast on the ~23k stops of a national feed.
func (im *feedImport) insert(table string, columns []string, rows iter.Seq[[]any]) error {
	perBatch := max(1, insertBatchParams/len(columns))
	query := func(n int) string {
		tuple := "(" + strings.Repeat("?, ", len(columns)-1) + "?)"
		return "INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES " +
			strings.Repeat(tuple+", ", n-1) + tuple
	}
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	args := make([]any, 0, perBatch*len(columns))
	flush := func() error {
		n := len(args) / len(columns)
		if n == 0 {
			return nil
		}
		var err error
		if n == perBatch {
			if full == nil {
				if full, err = im.tx.PrepareContext(im.ctx, query(n)); err != nil {
					return fault.Wrap(err, "prepare insert into "+table)
				}
			}
			_, err = full.ExecContext(im.ctx, args...)
		} else {
			_, err = im.tx.ExecContext(im.ctx, query(n), args...)
		}
		if err != nil {
			return bundleInsertError(err, table)
		}
		im.rows[table] += n
		args = args[:0]
		before := im.written
		im.written += int64(n)
		if im.b.Progress != nil && im.written/2000 > before/2000 {
			im.b.Progress(im.written)
		}
		return nil
	}
	for row := range rows {
		args = append(args, row...)
		if len(args) == cap(args) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// bundleInsertError turns a constraint violation into an invalid-bundle
// error instead of a 500.
func bundleInsertError(err error, table string) error {
	if kind, _ := violation(err); kind != sqlrow.NoViolation {
		return sqlrow.BundleConflict(err, table)
	}
	return fault.Wrap(err, "insert into "+table)
}

// putCarType upserts a car type and replaces its seats.
func putCarType(ctx context.Context, tx *sql.Tx, ct network.CarType) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO car_types (`+sqlrow.CarTypeColumns+`) VALUES (?, ?, ?, ?)
		ON CONFLICT (code) DO UPDATE SET seat_class = excluded.seat_class, name_zh = excluded.name_zh, name_en = excluded.name_en`,
		sqlrow.CarTypeValues(ct)...)
	if err != nil {
		return fault.Wrap(err, "upsert car type")
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM car_type_seats WHERE car_type = ?`, ct.Code); err != nil {
		return fault.Wrap(err, "clear car type seats")
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO car_type_seats (`+strings.Join(sqlrow.CarTypeSeatColumns, ", ")+`) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fault.Wrap(err, "prepare car type seats")
	}
	defer stmt.Close()
	for _, row := range sqlrow.CarTypeSeatRows(ct) {
		if _, err := stmt.ExecContext(ctx, row...); err != nil {
			return fault.Wrap(err, "insert car type seat")
		}
	}
	return nil
}

// Feeds lists the feeds by ID.
func (s *networkStore) Feeds(ctx context.Context) ([]network.Feed, error) {
	return list(ctx, s.read, "list feeds", sqlrow.ScanFeed, `SELECT `+sqlrow.FeedColumns+` FROM feeds ORDER BY id`)
}

// CountRows counts the feed's rows per table.
func (s *networkStore) CountRows(ctx context.Context, feedID string) (map[string]int, error) {
	return sqlrow.ScanFeedCounts(s.read.QueryRowContext(ctx, countFeedRowsSQL, feedID))
}

// SearchStations finds stations by code, pinyin, initials or name.
func (s *networkStore) SearchStations(ctx context.Context, query string, limit int) ([]network.Station, error) {
	q, err := sqlrow.NewStationSearch(query, limit)
	if err != nil {
		return nil, err
	}
	// Rank 0 is an exact code, 1 a prefix match, 2 a name containing the query.
	return list(ctx, s.read, "search stations", sqlrow.ScanStation, `SELECT `+sqlrow.StationColumns+` FROM stations
		WHERE search_code LIKE ?2 ESCAPE '\' OR search_pinyin LIKE ?3 ESCAPE '\' OR search_initials LIKE ?3 ESCAPE '\'
			OR name_zh LIKE ?4 ESCAPE '\' OR search_en LIKE ?4 ESCAPE '\'
		ORDER BY CASE WHEN search_code = ?1 THEN 0
				WHEN search_code LIKE ?2 ESCAPE '\' OR search_pinyin LIKE ?3 ESCAPE '\' OR search_initials LIKE ?3 ESCAPE '\' THEN 1
				ELSE 2 END,
			name_zh, name_en, id
		LIMIT ?5`, q.Args()...)
}

// Station returns one station.
func (s *networkStore) Station(ctx context.Context, id string) (network.Station, error) {
	st, err := sqlrow.ScanStation(s.read.QueryRowContext(ctx, `SELECT `+sqlrow.StationColumns+` FROM stations WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return network.Station{}, fault.Newf(fault.NotFound, "station_not_found", "车站 %s 不存在", "station %s not found", id)
	}
	return st, fault.Wrap(err, "read station")
}

// Lines lists lines without their stations.
func (s *networkStore) Lines(ctx context.Context, feedID string) ([]network.Line, error) {
	return list(ctx, s.read, "list lines", sqlrow.ScanLine,
		`SELECT `+sqlrow.LineColumns+` FROM lines WHERE ?1 = '' OR feed_id = ?1 ORDER BY feed_id, code, id`, feedID)
}

// Line returns a line with its ordered stations.
func (s *networkStore) Line(ctx context.Context, id string) (network.Line, error) {
	var l network.Line
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		l, err = sqlrow.ScanLine(tx.QueryRowContext(ctx, `SELECT `+sqlrow.LineColumns+` FROM lines WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fault.Newf(fault.NotFound, "line_not_found", "线路 %s 不存在", "line %s not found", id)
		}
		if err != nil {
			return fault.Wrap(err, "read line")
		}
		stations, err := lineStations(ctx, tx, `line_id = ?1`, id)
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
	var out []network.Line
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = list(ctx, tx, "list metro lines", sqlrow.ScanLine, `SELECT `+sqlrow.LineColumns+` FROM lines
			WHERE (?1 = '' OR feed_id = ?1) AND EXISTS (SELECT 1 FROM line_stations ls WHERE ls.line_id = lines.id)
			ORDER BY feed_id, code, id`, feedID)
		if err != nil {
			return err
		}
		stations, err := lineStations(ctx, tx, `line_id IN (SELECT id FROM lines WHERE ?1 = '' OR feed_id = ?1)`, feedID)
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
func lineStations(ctx context.Context, tx *sql.Tx, where string, arg any) (map[string][]network.LineStation, error) {
	rows, err := list(ctx, tx, "read line stations", sqlrow.ScanLineStation,
		`SELECT `+sqlrow.LineStationColumns+` FROM line_stations WHERE `+where+` ORDER BY line_id, seq`, arg)
	return sqlrow.ByParent(rows), err
}

// ServicesByNumber returns the services with that train number, any case.
func (s *networkStore) ServicesByNumber(ctx context.Context, number string) ([]network.Service, error) {
	return s.services(ctx, `lower(number) = lower(?1)`, strings.TrimSpace(number))
}

// ServicesAt returns every service calling at a station, with stops and cars.
func (s *networkStore) ServicesAt(ctx context.Context, stationID string) ([]network.Service, error) {
	return s.services(ctx, `id IN (SELECT service_id FROM service_stops WHERE station_id = ?1)`, stationID)
}

// Service returns one service with stops and cars.
func (s *networkStore) Service(ctx context.Context, id string) (network.Service, error) {
	out, err := s.services(ctx, `id = ?1`, id)
	if err != nil {
		return network.Service{}, err
	}
	if len(out) == 0 {
		return network.Service{}, fault.Newf(fault.NotFound, "service_not_found", "车次 %s 不存在", "service %s not found", id)
	}
	return out[0], nil
}

// services reads the services matching where (a fixed fragment over the
// services table with one parameter) with their stops and cars, in one
// read transaction.
func (s *networkStore) services(ctx context.Context, where string, arg any) ([]network.Service, error) {
	var out []network.Service
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = list(ctx, tx, "read services", sqlrow.ScanService,
			`SELECT `+sqlrow.ServiceColumns+` FROM services WHERE `+where+` ORDER BY feed_id, id`, arg)
		if err != nil || len(out) == 0 {
			return err
		}
		stops, err := list(ctx, tx, "read service stops", sqlrow.ScanServiceStop, `SELECT `+sqlrow.ServiceStopColumns+`
			FROM service_stops WHERE service_id IN (SELECT id FROM services WHERE `+where+`) ORDER BY service_id, seq`, arg)
		if err != nil {
			return err
		}
		cars, err := list(ctx, tx, "read service cars", sqlrow.ScanServiceCar, `SELECT `+sqlrow.ServiceCarColumns+`
			FROM service_cars WHERE service_id IN (SELECT id FROM services WHERE `+where+`) ORDER BY service_id, car_no`, arg)
		sqlrow.AttachStopsAndCars(out, stops, cars)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Calendar returns a calendar with its exceptions in date order.
func (s *networkStore) Calendar(ctx context.Context, id string) (network.Calendar, error) {
	var c network.Calendar
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = sqlrow.ScanCalendar(tx.QueryRowContext(ctx, `SELECT `+sqlrow.CalendarColumns+` FROM calendars WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fault.Newf(fault.NotFound, "calendar_not_found", "日历 %s 不存在", "calendar %s not found", id)
		}
		if err != nil {
			return fault.Wrap(err, "read calendar")
		}
		ex, err := list(ctx, tx, "read calendar exceptions", sqlrow.ScanCalendarException,
			`SELECT `+sqlrow.CalendarExceptionColumns+` FROM calendar_exceptions WHERE calendar_id = ? ORDER BY on_date`, id)
		if len(ex) > 0 {
			c.Exceptions = ex
		}
		return err
	})
	if err != nil {
		return network.Calendar{}, err
	}
	return c, nil
}

// Fares returns a service's fares between two stations by class and berth.
func (s *networkStore) Fares(ctx context.Context, serviceID, fromStationID, toStationID string) ([]network.Fare, error) {
	return list(ctx, s.read, "read fares", sqlrow.ScanFare, `SELECT `+sqlrow.FareColumns+` FROM fares
		WHERE service_id = ? AND from_station_id = ? AND to_station_id = ?
		ORDER BY seat_class, berth`, serviceID, fromStationID, toStationID)
}

// SetFare creates or changes one fare of an existing service.
func (s *networkStore) SetFare(ctx context.Context, f network.Fare) error {
	if err := f.Validate(); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM services WHERE id = ?`, f.ServiceID).Scan(&n); err != nil {
			return fault.Wrap(err, "check service")
		}
		if n == 0 {
			return fault.Newf(fault.NotFound, "service_not_found", "车次 %s 不存在", "service %s not found", f.ServiceID)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO fares (`+sqlrow.FareColumns+`) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (service_id, from_station_id, to_station_id, seat_class, berth) DO UPDATE SET fen = excluded.fen`,
			sqlrow.FareValues(f)...)
		return fault.Wrap(err, "set fare")
	})
}

// CarType returns one car layout.
func (s *networkStore) CarType(ctx context.Context, code string) (network.CarType, error) {
	out, err := s.carTypes(ctx, `code = ?1`, code)
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
	return s.carTypes(ctx, `?1 = ''`, "")
}

// carTypes reads the car types matching where (a fixed fragment over
// car_types with one parameter) with their seats in order, in one read
// transaction.
func (s *networkStore) carTypes(ctx context.Context, where string, arg any) ([]network.CarType, error) {
	var out []network.CarType
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = list(ctx, tx, "read car types", sqlrow.ScanCarType,
			`SELECT `+sqlrow.CarTypeColumns+` FROM car_types WHERE `+where+` ORDER BY code`, arg)
		if err != nil {
			return err
		}
		seats, err := list(ctx, tx, "read car type seats", sqlrow.ScanSeat, `SELECT `+sqlrow.SeatColumns+` FROM car_type_seats
			WHERE car_type IN (SELECT code FROM car_types WHERE `+where+`) ORDER BY car_type, ord`, arg)
		sqlrow.AttachSeats(out, seats)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PutCarType creates or replaces a car layout.
func (s *networkStore) PutCarType(ctx context.Context, ct network.CarType) error {
	if err := ct.Validate(); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error { return putCarType(ctx, tx, ct) })
}

// FareBands returns the feed's distance bands, the open-ended band last.
func (s *networkStore) FareBands(ctx context.Context, feedID string) ([]network.FareBand, error) {
	return list(ctx, s.read, "read fare bands", sqlrow.ScanFareBand, `SELECT `+sqlrow.FareBandColumns+` FROM fare_bands
		WHERE feed_id = ? ORDER BY up_to_metres = 0, up_to_metres`, feedID)
}
