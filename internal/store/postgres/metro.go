package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/metro"
)

// metroStore implements metro.Store on PostgreSQL. Bulk writes go as one
// statement over arrays (taps, trips) or COPY (ledger lines); a ledger
// batch locks the campaigns it counts against in ID order first, like the
// benefits store, so concurrent settlers and redeemers never deadlock.
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
	if len(taps) == 0 {
		return 0, nil
	}
	n := len(taps)
	ids, feeds, stations, gates, dirs, codes := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	accounts, ats := make([]int64, n), make([]int64, n)
	for i, t := range taps {
		ids[i], feeds[i], stations[i], gates[i], dirs[i], codes[i] = t.ID, t.Feed, t.Station, t.Gate, string(t.Dir), t.Code
		accounts[i], ats[i] = t.Account, unixMilli(t.At)
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO metro_taps (id, feed, account, station, gate, dir, at, code)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[])
		ON CONFLICT (id) DO NOTHING`, ids, feeds, accounts, stations, gates, dirs, ats, codes)
	if err != nil {
		return 0, fault.Wrap(err, "insert taps")
	}
	return int(tag.RowsAffected()), nil
}

const tapCols = `id, feed, account, station, gate, dir, at, code`

// OpenTaps returns uncleared taps of whole accounts after afterAccount.
func (s *metroStore) OpenTaps(ctx context.Context, feed string, afterAccount int64, limit int) ([]metro.Tap, error) {
	taps, err := s.taps(ctx, `SELECT `+tapCols+` FROM metro_taps WHERE feed = $1 AND NOT cleared AND account > $2 ORDER BY account, at, id LIMIT $3`, feed, afterAccount, limit)
	if err != nil || len(taps) < limit {
		return taps, err
	}
	last := taps[len(taps)-1].Account
	if taps[0].Account == last { // one account fills the page: take all of it
		return s.taps(ctx, `SELECT `+tapCols+` FROM metro_taps WHERE feed = $1 AND NOT cleared AND account = $2 ORDER BY at, id`, feed, last)
	}
	for len(taps) > 0 && taps[len(taps)-1].Account == last { // the last account may be cut: leave it to the next page
		taps = taps[:len(taps)-1]
	}
	return taps, nil
}

func (s *metroStore) taps(ctx context.Context, q string, args ...any) ([]metro.Tap, error) {
	rows, err := s.pool.Query(ctx, q, args...)
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
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if len(trips) > 0 {
			n := len(trips)
			ids, feeds, statuses, froms, tos, fromLines, toLines, ins, outs := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			accounts, entered, exited, metres, fares := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
			for i, t := range trips {
				ids[i], feeds[i], statuses[i], froms[i], tos[i], fromLines[i], toLines[i], ins[i], outs[i] = t.ID, t.Feed, string(t.Status), t.From, t.To, t.FromLine, t.ToLine, t.InTap, t.OutTap
				accounts[i], entered[i], exited[i], metres[i], fares[i] = t.Account, unixMilli(t.Entered), unixMilli(t.Exited), int64(t.Metres), t.Fare
			}
			tag, err := tx.Exec(ctx, `INSERT INTO metro_trips (id, feed, account, status, from_station, to_station, from_line, to_line, in_tap, out_tap, entered, exited, metres, fare)
				SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[])
				ON CONFLICT (id) DO NOTHING`, ids, feeds, accounts, statuses, froms, tos, fromLines, toLines, ins, outs, entered, exited, metres, fares)
			if err != nil {
				return fault.Wrap(err, "insert trips")
			}
			added = int(tag.RowsAffected())
		}
		if len(cleared) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE metro_taps SET cleared = true WHERE id = ANY($1)`, cleared); err != nil {
				return fault.Wrap(err, "mark taps cleared")
			}
		}
		return nil
	})
	return added, err
}

const tripCols = `seq, id, feed, account, status, from_station, to_station, from_line, to_line, in_tap, out_tap, entered, exited, metres, fare`

func scanTrip(row pgx.Row) (metro.Trip, error) {
	var t metro.Trip
	var status string
	var entered, exited, metres int64
	err := row.Scan(&t.Seq, &t.ID, &t.Feed, &t.Account, &status, &t.From, &t.To, &t.FromLine, &t.ToLine, &t.InTap, &t.OutTap, &entered, &exited, &metres, &t.Fare)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, metro.ErrTripNotFound
	}
	t.Status, t.Entered, t.Exited, t.Metres = metro.TripStatus(status), fromMilli(entered), fromMilli(exited), int(metres)
	return t, fault.Wrap(err, "scan trip")
}

func (s *metroStore) trips(ctx context.Context, q string, args ...any) ([]metro.Trip, error) {
	rows, err := s.pool.Query(ctx, q, args...)
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
	return scanTrip(s.pool.QueryRow(ctx, `SELECT `+tripCols+` FROM metro_trips WHERE id = $1`, id))
}

// AccountTrips returns an account's trips begun in [from, until).
func (s *metroStore) AccountTrips(ctx context.Context, account int64, from, until time.Time) ([]metro.Trip, error) {
	return s.trips(ctx, `SELECT `+tripCols+` FROM metro_trips WHERE account = $1
		AND CASE WHEN entered = 0 THEN exited ELSE entered END >= $2 AND CASE WHEN entered = 0 THEN exited ELSE entered END < $3
		ORDER BY CASE WHEN entered = 0 THEN exited ELSE entered END, id`, account, unixMilli(from), unixMilli(until))
}

// Unsettled returns trips with no ledger line after afterSeq.
func (s *metroStore) Unsettled(ctx context.Context, feed string, afterSeq int64, limit int) ([]metro.Trip, error) {
	return s.trips(ctx, `SELECT `+tripCols+` FROM metro_trips t WHERE t.seq > $1 AND t.feed = $2
		AND NOT EXISTS (SELECT 1 FROM metro_settlements s WHERE s.trip_seq = t.seq) ORDER BY t.seq LIMIT $3`, afterSeq, feed, limit)
}

// OldestUnsettled returns the start of the oldest unsettled trip.
func (s *metroStore) OldestUnsettled(ctx context.Context, feed string) (time.Time, error) {
	var ms *int64
	err := s.pool.QueryRow(ctx, `SELECT min(CASE WHEN entered = 0 THEN exited ELSE entered END) FROM metro_trips t WHERE t.feed = $1
		AND NOT EXISTS (SELECT 1 FROM metro_settlements s WHERE s.trip_seq = t.seq)`, feed).Scan(&ms)
	if err != nil || ms == nil {
		return time.Time{}, fault.Wrap(err, "oldest unsettled trip")
	}
	return fromMilli(*ms), nil
}

// Holdings reads the benefits settlement of a feed needs.
func (s *metroStore) Holdings(ctx context.Context, feed string, since time.Time) (metro.Holdings, error) {
	h := metro.Holdings{Tickets: map[int64][]benefits.Benefit{}, Gifted: map[int64]bool{}, Campaigns: map[int64]benefits.Campaign{}, Groups: map[int64][]metro.GroupGrant{}}
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		products := map[int64]benefits.Product{}
		rows, err := tx.Query(ctx, `SELECT id, body FROM benefit_products`)
		if err != nil {
			return fault.Wrap(err, "list products")
		}
		for rows.Next() {
			var p benefits.Product
			var id int64
			var body string
			if err := rows.Scan(&id, &body); err != nil {
				rows.Close()
				return fault.Wrap(err, "scan product")
			}
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
		rows, err = tx.Query(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE status IN ('approved', 'active', 'paused', 'ended', 'terminated')`)
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
		tickets, err := benefitTicketsIn(ctx, tx, `SELECT `+ticketCols+` FROM benefit_tickets WHERE state = 'held' AND rides_left > 0 AND valid_until > $1 ORDER BY holder, id`, since)
		if err != nil {
			return err
		}
		for _, t := range tickets {
			if p, ok := products[t.ProductID]; ok {
				h.Tickets[t.Holder] = append(h.Tickets[t.Holder], benefits.TicketBenefit(t, p))
			}
		}
		gifts, err := tx.Query(ctx, `SELECT ticket_id FROM gifts WHERE state = 'accepted'`)
		if err != nil {
			return fault.Wrap(err, "list gifts")
		}
		ids, err := pgx.CollectRows(gifts, pgx.RowTo[int64])
		if err != nil {
			return fault.Wrap(err, "list gifts")
		}
		for _, id := range ids {
			h.Gifted[id] = true
		}
		grows, err := tx.Query(ctx, `SELECT account_id, grp, valid_from, valid_until FROM rider_groups WHERE valid_until > $1`, since)
		if err != nil {
			return fault.Wrap(err, "list rider groups")
		}
		defer grows.Close()
		for grows.Next() {
			var acc int64
			var g metro.GroupGrant
			if err := grows.Scan(&acc, &g.Group, &g.Window.From, &g.Window.Until); err != nil {
				return fault.Wrap(err, "scan rider group")
			}
			g.Window.From, g.Window.Until = g.Window.From.UTC(), g.Window.Until.UTC()
			h.Groups[acc] = append(h.Groups[acc], g)
		}
		return fault.Wrap(grows.Err(), "list rider groups")
	})
	return h, err
}

// GrantGroups upserts rider-category grants.
func (s *metroStore) GrantGroups(ctx context.Context, grants []metro.AccountGroup) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		for _, g := range grants {
			if _, err := tx.Exec(ctx, `INSERT INTO rider_groups (account_id, grp, valid_from, valid_until) VALUES ($1, $2, $3, $4)
				ON CONFLICT (account_id, grp) DO UPDATE SET valid_from = excluded.valid_from, valid_until = excluded.valid_until`,
				g.Account, g.Group, g.Window.From, g.Window.Until); err != nil {
				return fault.Wrap(err, "grant group")
			}
		}
		return nil
	})
}

// Settle writes ledger lines and what they use in one transaction.
func (s *metroStore) Settle(ctx context.Context, lines []metro.Settlement) error {
	if len(lines) == 0 {
		return nil
	}
	rides := map[int64]int{}
	type counter struct {
		uses  int
		spent int64
	}
	camps := map[int64]*counter{}
	var uses [][]any
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
			uses = append(uses, []any{a.CampaignID, l.TripSeq, a.TicketID, a.Saving})
		}
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		ids := make([]int64, 0, len(camps))
		for id := range camps {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		locked, err := lockCampaigns(ctx, tx, ids)
		if err != nil {
			return err
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"metro_settlements"},
			[]string{"trip_seq", "account", "at", "fare", "passenger", "operator", "merchant", "subsidy", "gift", "applied"},
			pgx.CopyFromSlice(len(lines), func(i int) ([]any, error) {
				l := lines[i]
				applied := ""
				if len(l.Applied) > 0 {
					b, err := json.Marshal(l.Applied)
					if err != nil {
						return nil, err
					}
					applied = string(b)
				}
				return []any{l.TripSeq, l.Account, unixMilli(l.At), l.Fare, l.Passenger, l.Operator, l.Merchant, l.Subsidy, l.Gift, applied}, nil
			}))
		if identPgCode(err) == pgUniqueViolation {
			return metro.ErrSettledAlready
		}
		if err != nil {
			return fault.Wrap(err, "copy settlements")
		}
		if len(uses) > 0 {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"metro_benefit_uses"}, []string{"campaign_id", "trip_seq", "ticket_id", "saving"}, pgx.CopyFromRows(uses)); err != nil {
				return fault.Wrap(err, "record uses")
			}
		}
		if len(rides) > 0 {
			tids, ns := make([]int64, 0, len(rides)), make([]int32, 0, len(rides))
			for id, n := range rides {
				tids, ns = append(tids, id), append(ns, int32(n))
			}
			tag, err := tx.Exec(ctx, `UPDATE benefit_tickets t SET rides_left = t.rides_left - u.n,
				state = CASE WHEN t.rides_left = u.n THEN 'consumed' ELSE t.state END
				FROM unnest($1::bigint[], $2::int[]) AS u(id, n) WHERE t.id = u.id AND t.state = 'held' AND t.rides_left >= u.n`, tids, ns)
			if err != nil {
				return fault.Wrap(err, "use tickets")
			}
			if tag.RowsAffected() != int64(len(tids)) {
				return metro.ErrTicketShort
			}
		}
		for _, id := range ids {
			c, camp := camps[id], locked[id]
			if camp.BudgetUses > 0 && camp.Uses+c.uses > camp.BudgetUses || camp.BudgetValue > 0 && camp.Spent+c.spent > camp.BudgetValue {
				return metro.ErrBudgetPassed
			}
			if _, err := tx.Exec(ctx, `UPDATE campaigns SET uses = uses + $1, spent = spent + $2 WHERE id = $3`, c.uses, c.spent, id); err != nil {
				return fault.Wrap(err, "count uses")
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
	err := s.pool.QueryRow(ctx, `SELECT t.id, s.trip_seq, s.account, s.at, s.fare, s.passenger, s.operator, s.merchant, s.subsidy, s.gift, s.applied
		FROM metro_settlements s JOIN metro_trips t ON t.seq = s.trip_seq WHERE t.id = $1`, tripID).
		Scan(&l.TripID, &l.TripSeq, &l.Account, &at, &l.Fare, &l.Passenger, &l.Operator, &l.Merchant, &l.Subsidy, &l.Gift, &applied)
	if errors.Is(err, pgx.ErrNoRows) {
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

// UseStats counts a campaign's uses by entry and exit station and hour.
func (s *metroStore) UseStats(ctx context.Context, campaignID int64, from, until time.Time) ([]metro.UseCount, error) {
	rows, err := s.pool.Query(ctx, `SELECT t.from_station, t.to_station,
			extract(hour FROM to_timestamp((`+tripStart+`) / 1000.0) AT TIME ZONE 'Asia/Shanghai')::int AS hour, count(*)::int, sum(u.saving)::bigint
		FROM metro_benefit_uses u JOIN metro_trips t ON t.seq = u.trip_seq
		WHERE u.campaign_id = $1 AND `+tripStart+` >= $2 AND `+tripStart+` < $3
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, campaignID, unixMilli(from), unixMilli(until))
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
		WHERE t.feed = $1 AND t.account > $2 AND t.entered >= $3 AND t.entered < $4 ORDER BY t.account, t.entered, t.id LIMIT $5`, feed, afterAccount, lo, hi, limit)
	if err != nil || len(page) < limit {
		return page, err
	}
	last := page[len(page)-1].Trip.Account
	if page[0].Trip.Account == last { // one account fills the page: take all of it
		return s.settledRides(ctx, `SELECT t.account, t.id, t.status, t.entered, t.fare, s.passenger, s.gift
		FROM metro_trips t JOIN metro_settlements s ON s.trip_seq = t.seq
		WHERE t.feed = $1 AND t.account = $2 AND t.entered >= $3 AND t.entered < $4 ORDER BY t.account, t.entered, t.id`, feed, last, lo, hi)
	}
	for len(page) > 0 && page[len(page)-1].Trip.Account == last { // the last account may be cut: leave it to the next page
		page = page[:len(page)-1]
	}
	return page, nil
}

func (s *metroStore) settledRides(ctx context.Context, q string, args ...any) ([]metro.SettledRide, error) {
	rows, err := s.pool.Query(ctx, q, args...)
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
	const q = `SELECT s.account, SUM(s.passenger)::BIGINT FROM metro_settlements s JOIN metro_trips t ON t.seq = s.trip_seq WHERE s.at >= $1 AND s.at < $2 AND t.feed = $3 GROUP BY s.account`
	rows, err := s.pool.Query(ctx, q, unixMilli(from), unixMilli(until), feed)
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
