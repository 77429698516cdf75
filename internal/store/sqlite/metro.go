package sqlite

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"piao/internal/fault"
	"piao/internal/ledger"
	"piao/internal/metro"
	"piao/internal/store/sqlrow"
)

// metroStore implements metro.Store on SQLite.
type metroStore struct{ *DB }

var _ metro.Store = (*metroStore)(nil)

// AddTaps stores new taps and ignores ones already stored.
func (s *metroStore) AddTaps(ctx context.Context, taps []metro.Tap) (int, error) {
	added := int64(0)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		ins := &bulk{tx: tx, head: `INSERT INTO metro_taps (id, feed, account, station, gate, dir, at, code) VALUES `, tail: ` ON CONFLICT (id) DO NOTHING`, cols: 8}
		defer ins.close()
		values := make([]any, 0, 8*len(taps))
		for _, t := range taps {
			values = append(values, t.ID, t.Feed, t.Account, t.Station, t.Gate, string(t.Dir), sqlrow.Milli(t.At), t.Code)
		}
		var err error
		added, err = ins.exec(ctx, values)
		return fault.Wrap(err, "insert taps")
	})
	return int(added), err
}

// OpenTaps returns uncleared taps of whole accounts after afterAccount.
func (s *metroStore) OpenTaps(ctx context.Context, feed string, afterAccount int64, limit int) ([]metro.Tap, error) {
	page, err := list(ctx, s.read, "list taps", sqlrow.ScanTap, `SELECT `+sqlrow.TapColumns+` FROM metro_taps
		WHERE feed = ? AND cleared = 0 AND account > ? ORDER BY account, at, id LIMIT ?`, feed, afterAccount, limit)
	return sqlrow.WholeAccounts(page, err, limit, sqlrow.TapAccount, func(account int64) ([]metro.Tap, error) {
		return list(ctx, s.read, "list taps", sqlrow.ScanTap, `SELECT `+sqlrow.TapColumns+` FROM metro_taps
			WHERE feed = ? AND cleared = 0 AND account = ? ORDER BY at, id`, feed, account)
	})
}

// AddTrips stores new trips and marks their taps cleared.
func (s *metroStore) AddTrips(ctx context.Context, trips []metro.Trip, cleared []string) (int, error) {
	added := int64(0)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		ins := &bulk{tx: tx, head: `INSERT INTO metro_trips (id, feed, account, status, from_station, to_station, from_line, to_line, in_tap, out_tap, entered, exited, metres, fare) VALUES `,
			tail: ` ON CONFLICT (id) DO NOTHING`, cols: tripInsertCols}
		defer ins.close()
		args := make([]any, 0, bulkRows*tripInsertCols)
		for chunk := range slices.Chunk(trips, bulkRows) {
			args = args[:0]
			for _, t := range chunk {
				args = append(args, t.ID, t.Feed, t.Account, string(t.Status), t.From, t.To, t.FromLine, t.ToLine, t.InTap, t.OutTap,
					sqlrow.Milli(t.Entered), sqlrow.Milli(t.Exited), t.Metres, t.Fare)
			}
			n, err := ins.exec(ctx, args)
			if err != nil {
				return fault.Wrap(err, "insert trips")
			}
			added += n
		}
		ids := make([]any, len(cleared))
		for i, id := range cleared {
			ids[i] = id
		}
		up := &bulk{tx: tx, head: `UPDATE metro_taps SET cleared = 1 WHERE id IN (`, tail: `)`, cols: 1}
		defer up.close()
		_, err := up.exec(ctx, ids)
		return fault.Wrap(err, "mark taps cleared")
	})
	return int(added), err
}

// bulkRows is how many rows one INSERT statement of a bulk write carries:
// SQLite parses and steps one statement for many rows, which is most of
// the gain of a bulk load.
const bulkRows = 100

const tripInsertCols = 14

// bulk runs a multi-row statement, head, rows of cols values, then tail,
// in a transaction, prepared once per number of rows.
type bulk struct {
	tx         *sql.Tx
	head, tail string
	cols       int
	stmts      map[int]*sql.Stmt
}

// exec runs the statement over the rows of values, bulkRows rows at a
// time, and returns how many rows it changed.
func (b *bulk) exec(ctx context.Context, values []any) (int64, error) {
	if b.stmts == nil {
		b.stmts = map[int]*sql.Stmt{}
	}
	total := int64(0)
	for chunk := range slices.Chunk(values, bulkRows*b.cols) {
		n := len(chunk) / b.cols
		st := b.stmts[n]
		if st == nil {
			row := "(" + strings.Repeat("?,", b.cols-1) + "?)"
			var err error
			if st, err = b.tx.PrepareContext(ctx, b.head+strings.Repeat(row+",", n-1)+row+b.tail); err != nil {
				return total, fault.Wrap(err, "prepare bulk statement")
			}
			b.stmts[n] = st
		}
		res, err := st.ExecContext(ctx, chunk...)
		if err != nil {
			return total, err
		}
		k, _ := res.RowsAffected()
		total += k
	}
	return total, nil
}

func (b *bulk) close() {
	for _, st := range b.stmts {
		st.Close()
	}
}

// Trip returns a trip by ID.
func (s *metroStore) Trip(ctx context.Context, id string) (metro.Trip, error) {
	t, err := sqlrow.ScanTrip(s.read.QueryRowContext(ctx, `SELECT `+sqlrow.TripColumns+` FROM metro_trips WHERE id = ?`, id))
	return t, sqlrow.NoRowsAs(fault.Wrap(err, "scan trip"), metro.ErrTripNotFound)
}

// AccountTrips returns an account's trips begun in [from, until).
func (s *metroStore) AccountTrips(ctx context.Context, account int64, from, until time.Time) ([]metro.Trip, error) {
	// A trip with no entry sorts by its exit: both are looked at.
	return list(ctx, s.read, "list trips", sqlrow.ScanTrip, `SELECT `+sqlrow.TripColumns+` FROM metro_trips WHERE account = ?
		AND CASE WHEN entered = 0 THEN exited ELSE entered END >= ? AND CASE WHEN entered = 0 THEN exited ELSE entered END < ?
		ORDER BY CASE WHEN entered = 0 THEN exited ELSE entered END, id`, account, sqlrow.Milli(from), sqlrow.Milli(until))
}

// Unsettled returns trips with no ledger line after afterSeq. It reads a
// range of trips and the ledger lines already written in that range, two
// ordered scans, rather than probing the ledger once per trip.
func (s *metroStore) Unsettled(ctx context.Context, feed string, afterSeq int64, limit int) ([]metro.Trip, error) {
	out := make([]metro.Trip, 0, limit)
	names := interned{}
	for len(out) < limit {
		from, read := len(out), 0
		err := s.readTx(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT seq, id, account, status, from_station, to_station, from_line, to_line, entered, exited, metres, fare
				FROM metro_trips WHERE seq > ? AND feed = ? ORDER BY seq LIMIT ?`, afterSeq, feed, limit-len(out))
			if err != nil {
				return fault.Wrap(err, "list trips")
			}
			defer rows.Close()
			// Stations, lines and statuses repeat on every row: keep one
			// copy of each instead of a string per row.
			var status, fromSt, toSt, fromLine, toLine sql.RawBytes
			var entered, exited int64
			for rows.Next() {
				t := metro.Trip{Feed: feed}
				if err := rows.Scan(&t.Seq, &t.ID, &t.Account, &status, &fromSt, &toSt, &fromLine, &toLine, &entered, &exited, &t.Metres, &t.Fare); err != nil {
					return fault.Wrap(err, "scan trip")
				}
				t.Status, t.From, t.To = metro.TripStatus(names.of(status)), names.of(fromSt), names.of(toSt)
				t.FromLine, t.ToLine = names.of(fromLine), names.of(toLine)
				t.Entered, t.Exited = sqlrow.FromMilli(entered), sqlrow.FromMilli(exited)
				out = append(out, t)
			}
			read = len(out) - from
			if err := rows.Err(); err != nil || read == 0 {
				return fault.Wrap(err, "list trips")
			}
			settled, err := list(ctx, tx, "list settled trips", sqlrow.ScanOne[int64],
				`SELECT trip_seq FROM metro_settlements WHERE trip_seq > ? AND trip_seq <= ?`, afterSeq, out[len(out)-1].Seq)
			if err != nil {
				return err
			}
			afterSeq = out[len(out)-1].Seq
			if len(settled) > 0 {
				done := make(map[int64]bool, len(settled))
				for _, seq := range settled {
					done[seq] = true
				}
				out = slices.DeleteFunc(out, func(t metro.Trip) bool { return done[t.Seq] })
			}
			return nil
		})
		if err != nil || read == 0 {
			return out, err
		}
	}
	return out, nil
}

// interned keeps one string per distinct value read.
type interned map[string]string

func (m interned) of(b []byte) string {
	if s, ok := m[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	m[s] = s
	return s
}

// OldestUnsettled returns the start of the oldest unsettled trip.
func (s *metroStore) OldestUnsettled(ctx context.Context, feed string) (time.Time, error) {
	var ms sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT min(CASE WHEN entered = 0 THEN exited ELSE entered END) FROM metro_trips t WHERE t.feed = ?
		AND NOT EXISTS (SELECT 1 FROM metro_settlements s WHERE s.trip_seq = t.seq)`, feed).Scan(&ms)
	if err != nil {
		return time.Time{}, fault.Wrap(err, "oldest unsettled trip")
	}
	return sqlrow.FromMilli(ms.Int64), nil
}

// Holdings reads the benefits settlement of a feed needs, in one snapshot.
func (s *metroStore) Holdings(ctx context.Context, feed string, since time.Time) (metro.Holdings, error) {
	var h metro.Holdings
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		products, err := list(ctx, tx, "list products", sqlrow.ScanProduct, `SELECT id, body FROM benefit_products`)
		if err != nil {
			return err
		}
		campaigns, err := list(ctx, tx, "list campaigns", sqlrow.ScanCampaign,
			`SELECT `+campaignCols+` FROM campaigns WHERE status IN ('approved', 'active', 'paused', 'ended', 'terminated')`)
		if err != nil {
			return err
		}
		tickets, err := list(ctx, tx, "list tickets", sqlrow.ScanTicket, `SELECT `+ticketCols+` FROM benefit_tickets WHERE state = 'held' AND rides_left > 0 AND valid_until > ? ORDER BY holder, id`, sqlrow.At(since))
		if err != nil {
			return err
		}
		gifted, err := list(ctx, tx, "list gifts", sqlrow.ScanOne[int64], `SELECT ticket_id FROM gifts WHERE state = 'accepted'`)
		if err != nil {
			return err
		}
		groups, err := list(ctx, tx, "list rider groups", sqlrow.ScanGroup, `SELECT `+sqlrow.GroupColumns+` FROM rider_groups WHERE valid_until > ?`, sqlrow.At(since))
		if err != nil {
			return err
		}
		h = sqlrow.Holdings(feed, since, products, campaigns, tickets, gifted, groups)
		h.MerchantKinds, err = merchantKinds(ctx, tx)
		return err
	})
	return h, err
}

// Settle writes ledger lines and what they use in one transaction.
func (s *metroStore) Settle(ctx context.Context, lines []metro.Settlement, entry *ledger.Entry) error {
	if len(lines) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		var entryID any // the batch's entry, nil when none
		if entry != nil {
			posted, err := postEntry(ctx, tx, *entry)
			if err != nil {
				return err
			}
			*entry, entryID = posted, posted.ID
		}
		ins := &bulk{tx: tx, head: `INSERT INTO metro_settlements (trip_seq, account, at, fare, passenger, operator, merchant, subsidy, gift, applied, journal_entry) VALUES `, cols: sqlrow.SettlementWidth}
		defer ins.close()
		args := make([]any, 0, bulkRows*sqlrow.SettlementWidth)
		for chunk := range slices.Chunk(lines, bulkRows) {
			var err error
			if args, err = sqlrow.SettlementValues(args[:0], chunk, entryID); err != nil {
				return err
			}
			if _, err := ins.exec(ctx, args); err != nil {
				if kind, _ := violation(err); kind == sqlrow.Unique {
					return metro.ErrSettledAlready
				}
				return fault.Wrap(err, "insert settlements")
			}
		}
		return applyUses(ctx, tx, sqlrow.TallyUses(lines))
	})
}

// applyUses records each use, takes the rides used off tickets, checks
// budgets and adds uses and savings to campaigns, for a batch of lines.
func applyUses(ctx context.Context, tx *sql.Tx, u sqlrow.Uses) error {
	uses := &bulk{tx: tx, head: `INSERT INTO metro_benefit_uses (campaign_id, trip_seq, ticket_id, saving) VALUES `, cols: sqlrow.UseWidth}
	defer uses.close()
	if _, err := uses.exec(ctx, u.Rows); err != nil {
		return fault.Wrap(err, "record uses")
	}
	// One statement per bulkRows tickets instead of one per ticket: a
	// batch of trips touches thousands of tickets.
	ticketRides := make([]any, 0, 2*len(u.Rides))
	for id, n := range u.Rides {
		ticketRides = append(ticketRides, id, n)
	}
	rides := &bulk{tx: tx, head: `WITH used (id, n) AS (VALUES `, tail: `)
		UPDATE benefit_tickets SET rides_left = rides_left - used.n,
			state = CASE WHEN rides_left = used.n THEN 'consumed' ELSE state END
		FROM used WHERE benefit_tickets.id = used.id AND state = 'held' AND rides_left >= used.n`, cols: 2}
	defer rides.close()
	n, err := rides.exec(ctx, ticketRides)
	if err != nil {
		return fault.Wrap(err, "use tickets")
	}
	if n != int64(len(u.Rides)) {
		return metro.ErrTicketShort
	}
	// The single writer serialises batches: the campaign read here is the
	// one this update adds to.
	for id, c := range u.Campaigns {
		camp, err := sqlrow.ScanCampaign(tx.QueryRowContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = ?`, id))
		if err != nil {
			return err
		}
		if sqlrow.OverBudget(camp, *c) {
			return metro.ErrBudgetPassed
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET uses = uses + ?, spent = spent + ? WHERE id = ?`, c.Uses, c.Spent, id); err != nil {
			return fault.Wrap(err, "count uses")
		}
	}
	return nil
}

// GrantGroups upserts rider-category grants.
func (s *metroStore) GrantGroups(ctx context.Context, grants []metro.AccountGroup) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO rider_groups (account_id, grp, valid_from, valid_until) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id, grp) DO UPDATE SET valid_from = excluded.valid_from, valid_until = excluded.valid_until`)
		if err != nil {
			return fault.Wrap(err, "prepare group grant")
		}
		defer st.Close()
		for _, g := range grants {
			if _, err := st.ExecContext(ctx, g.Account, g.Group, sqlrow.At(g.Window.From), sqlrow.At(g.Window.Until)); err != nil {
				return fault.Wrap(err, "grant group")
			}
		}
		return nil
	})
}

// RiderGroups returns the categories an account holds at a time.
func (s *metroStore) RiderGroups(ctx context.Context, account int64, at time.Time) ([]string, error) {
	return list(ctx, s.read, "list rider groups", sqlrow.ScanOne[string],
		`SELECT grp FROM rider_groups WHERE account_id = ? AND valid_from <= ? AND valid_until > ? ORDER BY grp`, account, sqlrow.At(at), sqlrow.At(at))
}

// Settlement returns a trip's ledger line.
func (s *metroStore) Settlement(ctx context.Context, tripID string) (metro.Settlement, error) {
	l, err := sqlrow.ScanSettlement(s.read.QueryRowContext(ctx, `SELECT `+sqlrow.SettlementColumns+`
		FROM metro_settlements s JOIN metro_trips t ON t.seq = s.trip_seq WHERE t.id = ?`, tripID))
	return l, sqlrow.NoRowsAs(fault.Wrap(err, "read settlement"), metro.ErrSettlementNotFound)
}

// tripStart is when a trip began: its entry, or its exit when it has none.
const tripStart = `CASE WHEN t.entered = 0 THEN t.exited ELSE t.entered END`

// shanghaiOffsetMilli is Asia/Shanghai's offset from UTC; China keeps no
// daylight saving time, so the local hour is arithmetic on the stored time.
const shanghaiOffsetMilli = 8 * 3600 * 1000

// UseStats counts a campaign's uses by entry and exit station and hour.
func (s *metroStore) UseStats(ctx context.Context, campaignID int64, from, until time.Time) ([]metro.UseCount, error) {
	return list(ctx, s.read, "count uses", sqlrow.ScanUseCount, `SELECT t.from_station, t.to_station, ((`+tripStart+` + ?) / 3600000) % 24 AS hour, count(*), sum(u.saving)
		FROM metro_benefit_uses u JOIN metro_trips t ON t.seq = u.trip_seq
		WHERE u.campaign_id = ? AND `+tripStart+` >= ? AND `+tripStart+` < ?
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, shanghaiOffsetMilli, campaignID, sqlrow.Milli(from), sqlrow.Milli(until))
}

// SettledRides reads settled trips with their riders' part, account by
// account.
func (s *metroStore) SettledRides(ctx context.Context, feed string, afterAccount int64, from, until time.Time, limit int) ([]metro.SettledRide, error) {
	lo, hi := sqlrow.Milli(from), sqlrow.Milli(until)
	page, err := list(ctx, s.read, "list settled trips", sqlrow.ScanSettledRide, `SELECT `+sqlrow.SettledRideColumns+`
		FROM metro_trips t JOIN metro_settlements s ON s.trip_seq = t.seq
		WHERE t.feed = ? AND t.account > ? AND t.entered >= ? AND t.entered < ? ORDER BY t.account, t.entered, t.id LIMIT ?`, feed, afterAccount, lo, hi, limit)
	return sqlrow.WholeAccounts(page, err, limit, sqlrow.RideAccount, func(account int64) ([]metro.SettledRide, error) {
		return list(ctx, s.read, "list settled trips", sqlrow.ScanSettledRide, `SELECT `+sqlrow.SettledRideColumns+`
			FROM metro_trips t JOIN metro_settlements s ON s.trip_seq = t.seq
			WHERE t.feed = ? AND t.account = ? AND t.entered >= ? AND t.entered < ? ORDER BY t.account, t.entered, t.id`, feed, account, lo, hi)
	})
}

// MonthSpend sums the riders' parts of the feed's ledger lines of trips
// begun in [from, until), by account.
func (s *metroStore) MonthSpend(ctx context.Context, feed string, from, until time.Time) (map[int64]int64, error) {
	sums, err := list(ctx, s.read, "sum spend", sqlrow.ScanAccountSum, `SELECT s.account, SUM(s.passenger)
		FROM metro_settlements s JOIN metro_trips t ON t.seq = s.trip_seq WHERE s.at >= ? AND s.at < ? AND t.feed = ? GROUP BY s.account`,
		sqlrow.Milli(from), sqlrow.Milli(until), feed)
	return sqlrow.ByAccount(sums), err
}
