package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"iter"
	"slices"
	"strings"

	"piao/internal/fault"
	"piao/internal/network"
	"piao/internal/store/sqlrow"
)

// networkStore keeps network data in SQLite: writes go through the single
// writer connection, reads through the reader pool.
type networkStore struct{ *DB }

// feedRows selects the feed's rows (?1) of each table of
// sqlrow.NetworkTables, in that order: parents before children.
var feedRows = []string{
	`agencies WHERE feed_id = ?1`,
	`stations WHERE feed_id = ?1`,
	`lines WHERE feed_id = ?1`,
	`line_stations WHERE line_id IN (SELECT id FROM lines WHERE feed_id = ?1)`,
	`calendars WHERE feed_id = ?1`,
	`calendar_exceptions WHERE calendar_id IN (SELECT id FROM calendars WHERE feed_id = ?1)`,
	`services WHERE feed_id = ?1`,
	`service_stops WHERE service_id IN (SELECT id FROM services WHERE feed_id = ?1)`,
	`service_cars WHERE service_id IN (SELECT id FROM services WHERE feed_id = ?1)`,
	`transfers WHERE feed_id = ?1`,
	`fares WHERE service_id IN (SELECT id FROM services WHERE feed_id = ?1)`,
	`fare_bands WHERE feed_id = ?1`,
	`gtfs_fares WHERE feed_id = ?1`,
	`gtfs_fare_rules WHERE fare_id IN (SELECT id FROM gtfs_fares WHERE feed_id = ?1)`,
}

// countFeedRowsSQL counts the feed's rows of every table in one statement,
// so the counts come from one snapshot.
var countFeedRowsSQL = "SELECT (SELECT count(*) FROM " + strings.Join(feedRows, "), (SELECT count(*) FROM ") + ")"

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
		res.Rows, err = importFeed(ctx, tx, b)
		return err
	})
	if err != nil {
		return network.ImportResult{FeedID: b.Feed.ID}, err
	}
	return res, nil
}

// importFeed replaces the feed's rows with the bundle's, parents before
// children, and returns the rows written per table.
func importFeed(ctx context.Context, tx *sql.Tx, b *network.Bundle) (map[string]int, error) {
	_, err := tx.ExecContext(ctx, `INSERT INTO feeds (`+sqlrow.FeedColumns+`)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, mode = excluded.mode,
			timezone = excluded.timezone, digest = excluded.digest, imported_at = excluded.imported_at`,
		sqlrow.FeedValues(b.Feed)...)
	if err != nil {
		return nil, fault.Wrap(err, "upsert feed")
	}
	for _, rows := range slices.Backward(feedRows) { // children first, so foreign keys hold
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+rows, b.Feed.ID); err != nil {
			return nil, fault.Wrap(err, "clear feed")
		}
	}
	for _, ct := range b.CarTypes { // shared across feeds
		if err := putCarType(ctx, tx, ct); err != nil {
			return nil, err
		}
	}
	err = sqlrow.CheckCarTypes(b, func(code string) (bool, error) {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM car_types WHERE code = ?`, code).Scan(&n)
		return n > 0, err
	})
	if err != nil {
		return nil, err
	}
	count := sqlrow.NewImportCount(b)
	for _, t := range sqlrow.FeedTables(b) {
		n, err := insert(ctx, tx, t.Name, t.Columns, t.Rows, count)
		if err != nil {
			kind, _ := violation(err)
			return nil, sqlrow.BundleWriteError(err, kind, "insert into", t.Name)
		}
		count.Rows[t.Name] = n
	}
	return count.Done(), nil
}

// insertBatchParams bounds the parameters of one multi-row INSERT, well
// under SQLite's limit of 32766.
const insertBatchParams = 512

// insert writes rows with prepared multi-row INSERTs: fewer statement
// executions keep SQLite fast on the ~23k stops of a national feed. It
// adds every batch to count (if set) and returns the rows written.
func insert(ctx context.Context, tx *sql.Tx, table string, columns []string, rows iter.Seq[[]any], count *sqlrow.ImportCount) (int, error) {
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
	written := 0
	args := make([]any, 0, perBatch*len(columns))
	flush := func() error {
		n := len(args) / len(columns)
		if n == 0 {
			return nil
		}
		var err error
		if n < perBatch {
			_, err = tx.ExecContext(ctx, query(n), args...)
		} else if full != nil {
			_, err = full.ExecContext(ctx, args...)
		} else if full, err = tx.PrepareContext(ctx, query(n)); err == nil {
			_, err = full.ExecContext(ctx, args...)
		}
		if err != nil {
			return err
		}
		written += n
		args = args[:0]
		if count != nil {
			count.Wrote(n)
		}
		return nil
	}
	for row := range rows {
		args = append(args, row...)
		if len(args) == cap(args) {
			if err := flush(); err != nil {
				return written, err
			}
		}
	}
	return written, flush()
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
	seats := slices.Values(sqlrow.CarTypeSeatRows(ct))
	_, err = insert(ctx, tx, "car_type_seats", sqlrow.CarTypeSeatColumns, seats, nil)
	return fault.Wrap(err, "insert car type seats")
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
	return snapshot(ctx, s.DB, func(tx *sql.Tx) (network.Line, error) {
		l, err := sqlrow.ScanLine(tx.QueryRowContext(ctx, `SELECT `+sqlrow.LineColumns+` FROM lines WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return l, fault.Newf(fault.NotFound, "line_not_found", "线路 %s 不存在", "line %s not found", id)
		}
		if err != nil {
			return l, fault.Wrap(err, "read line")
		}
		stations, err := lineStations(ctx, tx, `line_id = ?1`, id)
		l.Stations = stations[id]
		return l, err
	})
}

// MetroLines returns the feed's lines that have stations, with their stations.
func (s *networkStore) MetroLines(ctx context.Context, feedID string) ([]network.Line, error) {
	return snapshot(ctx, s.DB, func(tx *sql.Tx) ([]network.Line, error) {
		out, err := list(ctx, tx, "list metro lines", sqlrow.ScanLine, `SELECT `+sqlrow.LineColumns+` FROM lines
			WHERE (?1 = '' OR feed_id = ?1) AND EXISTS (SELECT 1 FROM line_stations ls WHERE ls.line_id = lines.id)
			ORDER BY feed_id, code, id`, feedID)
		if err != nil {
			return nil, err
		}
		stations, err := lineStations(ctx, tx, `line_id IN (SELECT id FROM lines WHERE ?1 = '' OR feed_id = ?1)`, feedID)
		for i := range out {
			out[i].Stations = stations[out[i].ID]
		}
		return out, err
	})
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
	return snapshot(ctx, s.DB, func(tx *sql.Tx) ([]network.Service, error) {
		out, err := list(ctx, tx, "read services", sqlrow.ScanService,
			`SELECT `+sqlrow.ServiceColumns+` FROM services WHERE `+where+` ORDER BY feed_id, id`, arg)
		if err != nil || len(out) == 0 {
			return out, err
		}
		stops, err := list(ctx, tx, "read service stops", sqlrow.ScanServiceStop, `SELECT `+sqlrow.ServiceStopColumns+`
			FROM service_stops WHERE service_id IN (SELECT id FROM services WHERE `+where+`) ORDER BY service_id, seq`, arg)
		if err != nil {
			return nil, err
		}
		cars, err := list(ctx, tx, "read service cars", sqlrow.ScanServiceCar, `SELECT `+sqlrow.ServiceCarColumns+`
			FROM service_cars WHERE service_id IN (SELECT id FROM services WHERE `+where+`) ORDER BY service_id, car_no`, arg)
		sqlrow.AttachStopsAndCars(out, stops, cars)
		return out, err
	})
}

// Calendar returns a calendar with its exceptions in date order.
func (s *networkStore) Calendar(ctx context.Context, id string) (network.Calendar, error) {
	return snapshot(ctx, s.DB, func(tx *sql.Tx) (network.Calendar, error) {
		c, err := sqlrow.ScanCalendar(tx.QueryRowContext(ctx, `SELECT `+sqlrow.CalendarColumns+` FROM calendars WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return c, fault.Newf(fault.NotFound, "calendar_not_found", "日历 %s 不存在", "calendar %s not found", id)
		}
		if err != nil {
			return c, fault.Wrap(err, "read calendar")
		}
		ex, err := list(ctx, tx, "read calendar exceptions", sqlrow.ScanCalendarException,
			`SELECT `+sqlrow.CalendarExceptionColumns+` FROM calendar_exceptions WHERE calendar_id = ? ORDER BY on_date`, id)
		if len(ex) > 0 {
			c.Exceptions = ex
		}
		return c, err
	})
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
	return snapshot(ctx, s.DB, func(tx *sql.Tx) ([]network.CarType, error) {
		out, err := list(ctx, tx, "read car types", sqlrow.ScanCarType,
			`SELECT `+sqlrow.CarTypeColumns+` FROM car_types WHERE `+where+` ORDER BY code`, arg)
		if err != nil {
			return nil, err
		}
		seats, err := list(ctx, tx, "read car type seats", sqlrow.ScanSeat, `SELECT `+sqlrow.SeatColumns+` FROM car_type_seats
			WHERE car_type IN (SELECT code FROM car_types WHERE `+where+`) ORDER BY car_type, ord`, arg)
		sqlrow.AttachSeats(out, seats)
		return out, err
	})
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

// snapshot runs read in one read transaction and returns its result, or
// the zero value if it fails.
func snapshot[T any](ctx context.Context, db *DB, read func(*sql.Tx) (T, error)) (T, error) {
	var out T
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = read(tx)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}
