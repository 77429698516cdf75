package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	sqlitedrv "modernc.org/sqlite"
	sqlitelib "modernc.org/sqlite/lib"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/metro"
)

// metroStore implements metro.Store on SQLite.
type metroStore struct{ *DB }

var _ metro.Store = (*metroStore)(nil)

// unixMilli is how metro tables store times; 0 is no time.
func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMilli(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// AddTaps stores new taps and ignores ones already stored.
func (s *metroStore) AddTaps(ctx context.Context, taps []metro.Tap) (int, error) {
	added := 0
	err := s.tx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO metro_taps (id, feed, account, station, gate, dir, at, code)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
		if err != nil {
			return fault.Wrap(err, "prepare tap insert")
		}
		defer st.Close()
		for _, t := range taps {
			res, err := st.ExecContext(ctx, t.ID, t.Feed, t.Account, t.Station, t.Gate, string(t.Dir), unixMilli(t.At), t.Code)
			if err != nil {
				return fault.Wrap(err, "insert tap")
			}
			n, _ := res.RowsAffected()
			added += int(n)
		}
		return nil
	})
	return added, err
}

const tapCols = `id, feed, account, station, gate, dir, at, code`

// OpenTaps returns uncleared taps of whole accounts after afterAccount.
func (s *metroStore) OpenTaps(ctx context.Context, feed string, afterAccount int64, limit int) ([]metro.Tap, error) {
	taps, err := s.taps(ctx, `SELECT `+tapCols+` FROM metro_taps WHERE feed = ? AND cleared = 0 AND account > ? ORDER BY account, at, id LIMIT ?`, feed, afterAccount, limit)
	if err != nil || len(taps) < limit {
		return taps, err
	}
	last := taps[len(taps)-1].Account
	if taps[0].Account == last { // one account fills the page: take all of it
		return s.taps(ctx, `SELECT `+tapCols+` FROM metro_taps WHERE feed = ? AND cleared = 0 AND account = ? ORDER BY at, id`, feed, last)
	}
	for len(taps) > 0 && taps[len(taps)-1].Account == last { // the last account may be cut: leave it to the next page
		taps = taps[:len(taps)-1]
	}
	return taps, nil
}

func (s *metroStore) taps(ctx context.Context, q string, args ...any) ([]metro.Tap, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fault.Wrap(err, "list taps")
	}
	defer rows.Close()
	var out []metro.Tap
	for rows.Next() {
		var t metro.Tap
		var dir string
		var at int64
		if err := rows.Scan(&t.ID, &t.Feed, &t.Account, &t.Station, &t.Gate, &dir, &at, &t.Code); err != nil {
			return nil, fault.Wrap(err, "scan tap")
		}
		t.Dir, t.At = metro.Direction(dir), fromMilli(at)
		out = append(out, t)
	}
	return out, fault.Wrap(rows.Err(), "list taps")
}

// AddTrips stores new trips and marks their taps cleared.
func (s *metroStore) AddTrips(ctx context.Context, trips []metro.Trip, cleared []string) (int, error) {
	added := 0
	err := s.tx(ctx, func(tx *sql.Tx) error {
		args := make([]any, 0, bulkRows*tripInsertCols)
		stmts := map[int]*sql.Stmt{}
		defer func() {
			for _, st := range stmts {
				st.Close()
			}
		}()
		for i := 0; i < len(trips); i += bulkRows {
			chunk := trips[i:min(i+bulkRows, len(trips))]
			args = args[:0]
			for _, t := range chunk {
				args = append(args, t.ID, t.Feed, t.Account, string(t.Status), t.From, t.To, t.FromLine, t.ToLine, t.InTap, t.OutTap,
					unixMilli(t.Entered), unixMilli(t.Exited), t.Metres, t.Fare)
			}
			st, err := bulkStmt(ctx, tx, stmts, `INSERT INTO metro_trips (id, feed, account, status, from_station, to_station, from_line, to_line, in_tap, out_tap, entered, exited, metres, fare) VALUES `,
				` ON CONFLICT (id) DO NOTHING`, tripInsertCols, len(chunk))
			if err != nil {
				return err
			}
			res, err := st.ExecContext(ctx, args...)
			if err != nil {
				return fault.Wrap(err, "insert trips")
			}
			n, _ := res.RowsAffected()
			added += int(n)
		}
		if len(cleared) == 0 {
			return nil
		}
		up, err := tx.PrepareContext(ctx, `UPDATE metro_taps SET cleared = 1 WHERE id = ?`)
		if err != nil {
			return fault.Wrap(err, "prepare tap update")
		}
		defer up.Close()
		for _, id := range cleared {
			if _, err := up.ExecContext(ctx, id); err != nil {
				return fault.Wrap(err, "mark tap cleared")
			}
		}
		return nil
	})
	return added, err
}

// bulkRows is how many rows one INSERT statement of a bulk write carries:
// SQLite parses and steps one statement for many rows, which is most of
// the gain of a bulk load.
const bulkRows = 100

const tripInsertCols = 14

// bulkStmt returns the statement inserting n rows of cols values each,
// prepared once per transaction and size.
func bulkStmt(ctx context.Context, tx *sql.Tx, stmts map[int]*sql.Stmt, head, tail string, cols, n int) (*sql.Stmt, error) {
	if st := stmts[n]; st != nil {
		return st, nil
	}
	var b strings.Builder
	b.WriteString(head)
	row := "(" + strings.Repeat("?,", cols-1) + "?)"
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	b.WriteString(tail)
	st, err := tx.PrepareContext(ctx, b.String())
	if err != nil {
		return nil, fault.Wrap(err, "prepare bulk insert")
	}
	stmts[n] = st
	return st, nil
}

const tripCols = `seq, id, feed, account, status, from_station, to_station, from_line, to_line, in_tap, out_tap, entered, exited, metres, fare`

func scanTrip(row interface{ Scan(...any) error }) (metro.Trip, error) {
	var t metro.Trip
	var status string
	var entered, exited int64
	err := row.Scan(&t.Seq, &t.ID, &t.Feed, &t.Account, &status, &t.From, &t.To, &t.FromLine, &t.ToLine, &t.InTap, &t.OutTap, &entered, &exited, &t.Metres, &t.Fare)
	if errors.Is(err, sql.ErrNoRows) {
		return t, metro.ErrTripNotFound
	}
	t.Status, t.Entered, t.Exited = metro.TripStatus(status), fromMilli(entered), fromMilli(exited)
	return t, fault.Wrap(err, "scan trip")
}

func (s *metroStore) trips(ctx context.Context, q string, args ...any) ([]metro.Trip, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fault.Wrap(err, "list trips")
	}
	defer rows.Close()
	var out []metro.Trip
	for rows.Next() {
		t, err := scanTrip(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, fault.Wrap(rows.Err(), "list trips")
}

// Trip returns a trip by ID.
func (s *metroStore) Trip(ctx context.Context, id string) (metro.Trip, error) {
	return scanTrip(s.read.QueryRowContext(ctx, `SELECT `+tripCols+` FROM metro_trips WHERE id = ?`, id))
}

// AccountTrips returns an account's trips begun in [from, until).
func (s *metroStore) AccountTrips(ctx context.Context, account int64, from, until time.Time) ([]metro.Trip, error) {
	// A trip with no entry sorts by its exit: both are looked at.
	return s.trips(ctx, `SELECT `+tripCols+` FROM metro_trips WHERE account = ?
		AND CASE WHEN entered = 0 THEN exited ELSE entered END >= ? AND CASE WHEN entered = 0 THEN exited ELSE entered END < ?
		ORDER BY CASE WHEN entered = 0 THEN exited ELSE entered END, id`, account, unixMilli(from), unixMilli(until))
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
				t.Entered, t.Exited = fromMilli(entered), fromMilli(exited)
				out = append(out, t)
			}
			read = len(out) - from
			if err := rows.Err(); err != nil || read == 0 {
				return fault.Wrap(err, "list trips")
			}
			settled := map[int64]bool{}
			if err := eachRow(ctx, tx, `SELECT trip_seq FROM metro_settlements WHERE trip_seq > ? AND trip_seq <= ?`, []any{afterSeq, out[len(out)-1].Seq}, func(r *sql.Rows) error {
				var seq int64
				if err := r.Scan(&seq); err != nil {
					return err
				}
				settled[seq] = true
				return nil
			}); err != nil {
				return fault.Wrap(err, "list settled trips")
			}
			afterSeq = out[len(out)-1].Seq
			if len(settled) > 0 {
				out = slices.DeleteFunc(out, func(t metro.Trip) bool { return settled[t.Seq] })
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
	return fromMilli(ms.Int64), nil
}

// Holdings reads the benefits settlement of a feed needs.
func (s *metroStore) Holdings(ctx context.Context, feed string, since time.Time) (metro.Holdings, error) {
	h := metro.Holdings{Tickets: map[int64][]benefits.Benefit{}, Gifted: map[int64]bool{}, Campaigns: map[int64]benefits.Campaign{}, Groups: map[int64][]metro.GroupGrant{}}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		products := map[int64]benefits.Product{}
		rows, err := tx.QueryContext(ctx, `SELECT id, body FROM benefit_products`)
		if err != nil {
			return fault.Wrap(err, "list products")
		}
		for rows.Next() {
			var p benefits.Product
			var body string
			if err := rows.Scan(&p.ID, &body); err != nil {
				rows.Close()
				return fault.Wrap(err, "scan product")
			}
			id := p.ID
			if err := json.Unmarshal([]byte(body), &p); err != nil {
				rows.Close()
				return fault.Wrap(err, "decode product")
			}
			p.ID = id
			if p.Feed == feed {
				products[p.ID] = p
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fault.Wrap(err, "list products")
		}
		rows, err = tx.QueryContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE status IN ('approved', 'active', 'paused', 'ended', 'terminated')`)
		if err != nil {
			return fault.Wrap(err, "list campaigns")
		}
		for rows.Next() {
			c, err := scanCampaign(rows)
			if err != nil {
				rows.Close()
				return err
			}
			p, ok := products[c.ProductID]
			if !ok {
				continue
			}
			h.Campaigns[c.ID] = c
			if metro.AutoRuns(c) && c.Ends.After(since) {
				h.Auto = append(h.Auto, benefits.AutoBenefit(c, p))
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fault.Wrap(err, "list campaigns")
		}
		tickets, err := benefitTicketsIn(ctx, tx, `SELECT `+ticketCols+` FROM benefit_tickets WHERE state = 'held' AND rides_left > 0 AND valid_until > ? ORDER BY holder, id`, formatTime(since))
		if err != nil {
			return err
		}
		for _, t := range tickets {
			p, ok := products[t.ProductID]
			if !ok {
				continue
			}
			h.Tickets[t.Holder] = append(h.Tickets[t.Holder], benefits.TicketBenefit(t, p))
		}
		if err := eachRow(ctx, tx, `SELECT ticket_id FROM gifts WHERE state = 'accepted'`, nil, func(rows *sql.Rows) error {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			h.Gifted[id] = true
			return nil
		}); err != nil {
			return fault.Wrap(err, "list gifts")
		}
		return fault.Wrap(eachRow(ctx, tx, `SELECT account_id, grp, valid_from, valid_until FROM rider_groups WHERE valid_until > ?`, []any{formatTime(since)}, func(rows *sql.Rows) error {
			var acc int64
			var g metro.GroupGrant
			var from, until string
			if err := rows.Scan(&acc, &g.Group, &from, &until); err != nil {
				return err
			}
			var err error
			if g.Window.From, err = parseTime(from); err != nil {
				return err
			}
			if g.Window.Until, err = parseTime(until); err != nil {
				return err
			}
			h.Groups[acc] = append(h.Groups[acc], g)
			return nil
		}), "list rider groups")
	})
	return h, err
}

func eachRow(ctx context.Context, tx *sql.Tx, q string, args []any, fn func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

const settleCols = 10

// Settle writes ledger lines and what they use in one transaction.
func (s *metroStore) Settle(ctx context.Context, lines []metro.Settlement) error {
	if len(lines) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		stmts := map[int]*sql.Stmt{}
		defer func() {
			for _, st := range stmts {
				st.Close()
			}
		}()
		args := make([]any, 0, bulkRows*settleCols)
		for i := 0; i < len(lines); i += bulkRows {
			chunk := lines[i:min(i+bulkRows, len(lines))]
			args = args[:0]
			for _, l := range chunk {
				applied := ""
				if len(l.Applied) > 0 {
					b, err := json.Marshal(l.Applied)
					if err != nil {
						return fault.Wrap(err, "encode applied benefits")
					}
					applied = string(b)
				}
				args = append(args, l.TripSeq, l.Account, unixMilli(l.At), l.Fare, l.Passenger, l.Operator, l.Merchant, l.Subsidy, l.Gift, applied)
			}
			st, err := bulkStmt(ctx, tx, stmts, `INSERT INTO metro_settlements (trip_seq, account, at, fare, passenger, operator, merchant, subsidy, gift, applied) VALUES `, ``, settleCols, len(chunk))
			if err != nil {
				return err
			}
			if _, err := st.ExecContext(ctx, args...); err != nil {
				if isConstraint(err) {
					return metro.ErrSettledAlready
				}
				return fault.Wrap(err, "insert settlements")
			}
		}
		return applyUses(ctx, tx, lines)
	})
}

// isConstraint reports a constraint violation: here, a trip settled twice.
func isConstraint(err error) bool {
	var se *sqlitedrv.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlitelib.SQLITE_CONSTRAINT
}

// applyUses takes the rides used off tickets, adds uses and savings to
// campaigns, checks budgets and records each use, for a batch of lines.
func applyUses(ctx context.Context, tx *sql.Tx, lines []metro.Settlement) error {
	rides := map[int64]int{}
	type counter struct {
		uses  int
		spent int64
	}
	camps := map[int64]*counter{}
	var uses []any
	for _, l := range lines {
		for _, a := range l.Applied {
			if a.TicketID != 0 {
				rides[a.TicketID]++
			}
			c := camps[a.CampaignID]
			if c == nil {
				c = &counter{}
				camps[a.CampaignID] = c
			}
			c.uses++
			c.spent += a.Saving
			uses = append(uses, a.CampaignID, l.TripSeq, a.TicketID, a.Saving)
		}
	}
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	const useCols = 4
	for i := 0; i < len(uses); i += bulkRows * useCols {
		chunk := uses[i:min(i+bulkRows*useCols, len(uses))]
		st, err := bulkStmt(ctx, tx, stmts, `INSERT INTO metro_benefit_uses (campaign_id, trip_seq, ticket_id, saving) VALUES `, ``, useCols, len(chunk)/useCols)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, chunk...); err != nil {
			return fault.Wrap(err, "record uses")
		}
	}
	// One statement per bulkRows tickets instead of one per ticket: a
	// batch of trips touches thousands of tickets.
	ticketRides := make([]any, 0, 2*len(rides))
	for id, n := range rides {
		ticketRides = append(ticketRides, id, n)
	}
	updates := map[int]*sql.Stmt{}
	defer func() {
		for _, st := range updates {
			st.Close()
		}
	}()
	for i := 0; i < len(ticketRides); i += 2 * bulkRows {
		chunk := ticketRides[i:min(i+2*bulkRows, len(ticketRides))]
		st, err := bulkStmt(ctx, tx, updates, `WITH used (id, n) AS (VALUES `, `)
			UPDATE benefit_tickets SET rides_left = rides_left - used.n,
				state = CASE WHEN rides_left = used.n THEN 'consumed' ELSE state END
			FROM used WHERE benefit_tickets.id = used.id AND state = 'held' AND rides_left >= used.n`, 2, len(chunk)/2)
		if err != nil {
			return err
		}
		res, err := st.ExecContext(ctx, chunk...)
		if err != nil {
			return fault.Wrap(err, "use tickets")
		}
		if k, _ := res.RowsAffected(); k != int64(len(chunk)/2) {
			return metro.ErrTicketShort
		}
	}
	for id, c := range camps {
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET uses = uses + ?, spent = spent + ? WHERE id = ?`, c.uses, c.spent, id); err != nil {
			return fault.Wrap(err, "count uses")
		}
		camp, err := scanCampaign(tx.QueryRowContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = ?`, id))
		if err != nil {
			return err
		}
		if camp.BudgetUses > 0 && camp.Uses > camp.BudgetUses || camp.BudgetValue > 0 && camp.Spent > camp.BudgetValue {
			return metro.ErrBudgetPassed
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
			if _, err := st.ExecContext(ctx, g.Account, g.Group, formatTime(g.Window.From), formatTime(g.Window.Until)); err != nil {
				return fault.Wrap(err, "grant group")
			}
		}
		return nil
	})
}

// Settlement returns a trip's ledger line.
func (s *metroStore) Settlement(ctx context.Context, tripID string) (metro.Settlement, error) {
	var l metro.Settlement
	var at int64
	var applied string
	err := s.read.QueryRowContext(ctx, `SELECT t.id, s.trip_seq, s.account, s.at, s.fare, s.passenger, s.operator, s.merchant, s.subsidy, s.gift, s.applied
		FROM metro_settlements s JOIN metro_trips t ON t.seq = s.trip_seq WHERE t.id = ?`, tripID).
		Scan(&l.TripID, &l.TripSeq, &l.Account, &at, &l.Fare, &l.Passenger, &l.Operator, &l.Merchant, &l.Subsidy, &l.Gift, &applied)
	if errors.Is(err, sql.ErrNoRows) {
		return l, metro.ErrSettlementNotFound
	}
	if err != nil {
		return l, fault.Wrap(err, "read settlement")
	}
	l.At = fromMilli(at)
	if applied != "" {
		if err := json.Unmarshal([]byte(applied), &l.Applied); err != nil {
			return l, fault.Wrap(err, "decode applied benefits")
		}
	}
	return l, nil
}

// tripStart is when a trip began: its entry, or its exit when it has none.
const tripStart = `CASE WHEN t.entered = 0 THEN t.exited ELSE t.entered END`

// shanghaiOffsetMilli is Asia/Shanghai's offset from UTC; China keeps no
// daylight saving time, so the local hour is arithmetic on the stored time.
const shanghaiOffsetMilli = 8 * 3600 * 1000

// UseStats counts a campaign's uses by entry and exit station and hour.
func (s *metroStore) UseStats(ctx context.Context, campaignID int64, from, until time.Time) ([]metro.UseCount, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT t.from_station, t.to_station, ((`+tripStart+` + ?) / 3600000) % 24 AS hour, count(*), sum(u.saving)
		FROM metro_benefit_uses u JOIN metro_trips t ON t.seq = u.trip_seq
		WHERE u.campaign_id = ? AND `+tripStart+` >= ? AND `+tripStart+` < ?
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, shanghaiOffsetMilli, campaignID, unixMilli(from), unixMilli(until))
	if err != nil {
		return nil, fault.Wrap(err, "count uses")
	}
	defer rows.Close()
	var out []metro.UseCount
	for rows.Next() {
		var c metro.UseCount
		if err := rows.Scan(&c.From, &c.To, &c.Hour, &c.Trips, &c.Saving); err != nil {
			return nil, fault.Wrap(err, "scan use count")
		}
		out = append(out, c)
	}
	return out, fault.Wrap(rows.Err(), "count uses")
}

// SettledRides reads settled trips with their riders' part, account by
// account.
func (s *metroStore) SettledRides(ctx context.Context, feed string, afterAccount int64, from, until time.Time, limit int) ([]metro.SettledRide, error) {
	lo, hi := unixMilli(from), unixMilli(until)
	page, err := s.settledRides(ctx, `SELECT t.account, t.id, t.status, t.entered, t.fare, s.passenger, s.gift
		FROM metro_trips t JOIN metro_settlements s ON s.trip_seq = t.seq
		WHERE t.feed = ? AND t.account > ? AND t.entered >= ? AND t.entered < ? ORDER BY t.account, t.entered, t.id LIMIT ?`, feed, afterAccount, lo, hi, limit)
	if err != nil || len(page) < limit {
		return page, err
	}
	last := page[len(page)-1].Trip.Account
	if page[0].Trip.Account == last { // one account fills the page: take all of it
		return s.settledRides(ctx, `SELECT t.account, t.id, t.status, t.entered, t.fare, s.passenger, s.gift
		FROM metro_trips t JOIN metro_settlements s ON s.trip_seq = t.seq
		WHERE t.feed = ? AND t.account = ? AND t.entered >= ? AND t.entered < ? ORDER BY t.account, t.entered, t.id`, feed, last, lo, hi)
	}
	for len(page) > 0 && page[len(page)-1].Trip.Account == last { // the last account may be cut: leave it to the next page
		page = page[:len(page)-1]
	}
	return page, nil
}

func (s *metroStore) settledRides(ctx context.Context, q string, args ...any) ([]metro.SettledRide, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fault.Wrap(err, "list settled trips")
	}
	defer rows.Close()
	var out []metro.SettledRide
	for rows.Next() {
		var r metro.SettledRide
		var status string
		var entered int64
		var gift bool
		if err := rows.Scan(&r.Trip.Account, &r.Trip.ID, &status, &entered, &r.Trip.Fare, &r.Passenger, &gift); err != nil {
			return nil, fault.Wrap(err, "scan settled trip")
		}
		r.Trip.Status, r.Trip.Entered, r.Gift = metro.TripStatus(status), fromMilli(entered), gift
		out = append(out, r)
	}
	return out, fault.Wrap(rows.Err(), "list settled trips")
}

// MonthSpend sums the riders' parts of the feed's ledger lines of trips
// begun in [from, until), by account.
func (s *metroStore) MonthSpend(ctx context.Context, feed string, from, until time.Time) (map[int64]int64, error) {
	const q = `SELECT s.account, SUM(s.passenger) FROM metro_settlements s JOIN metro_trips t ON t.seq = s.trip_seq WHERE s.at >= ? AND s.at < ? AND t.feed = ? GROUP BY s.account`
	rows, err := s.read.QueryContext(ctx, q, unixMilli(from), unixMilli(until), feed)
	if err != nil {
		return nil, fault.Wrap(err, "sum spend")
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var acct, spent int64
		if err := rows.Scan(&acct, &spent); err != nil {
			return nil, fault.Wrap(err, "scan spend")
		}
		out[acct] = spent
	}
	return out, fault.Wrap(rows.Err(), "sum spend")
}
