package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"piao/internal/fault"
	"piao/internal/ledger"
	"piao/internal/metro"
	"piao/internal/store/sqlrow"
)

// metroStore implements metro.Store on PostgreSQL. Bulk writes go as one
// statement over arrays (taps, trips) or COPY (ledger lines); a ledger
// batch locks the campaigns it counts against in ID order first, like the
// benefits store, so concurrent settlers and redeemers never deadlock.
type metroStore struct{ *DB }

var _ metro.Store = (*metroStore)(nil)

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
		accounts[i], ats[i] = t.Account, sqlrow.Milli(t.At)
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO metro_taps (id, feed, account, station, gate, dir, at, code)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[])
		ON CONFLICT (id) DO NOTHING`, ids, feeds, accounts, stations, gates, dirs, ats, codes)
	if err != nil {
		return 0, fault.Wrap(err, "insert taps")
	}
	return int(tag.RowsAffected()), nil
}

// OpenTaps returns uncleared taps of whole accounts after afterAccount.
func (s *metroStore) OpenTaps(ctx context.Context, feed string, afterAccount int64, limit int) ([]metro.Tap, error) {
	page, err := list(ctx, s.pool, "list taps", sqlrow.ScanTap, `SELECT `+sqlrow.TapColumns+` FROM metro_taps
		WHERE feed = $1 AND NOT cleared AND account > $2 ORDER BY account, at, id LIMIT $3`, feed, afterAccount, limit)
	return sqlrow.WholeAccounts(page, err, limit, sqlrow.TapAccount, func(account int64) ([]metro.Tap, error) {
		return list(ctx, s.pool, "list taps", sqlrow.ScanTap, `SELECT `+sqlrow.TapColumns+` FROM metro_taps
			WHERE feed = $1 AND NOT cleared AND account = $2 ORDER BY at, id`, feed, account)
	})
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
				accounts[i], entered[i], exited[i], metres[i], fares[i] = t.Account, sqlrow.Milli(t.Entered), sqlrow.Milli(t.Exited), int64(t.Metres), t.Fare
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

// Trip returns a trip by ID.
func (s *metroStore) Trip(ctx context.Context, id string) (metro.Trip, error) {
	t, err := sqlrow.ScanTrip(s.pool.QueryRow(ctx, `SELECT `+sqlrow.TripColumns+` FROM metro_trips WHERE id = $1`, id))
	return t, sqlrow.NoRowsAs(fault.Wrap(err, "scan trip"), metro.ErrTripNotFound)
}

// AccountTrips returns an account's trips begun in [from, until).
func (s *metroStore) AccountTrips(ctx context.Context, account int64, from, until time.Time) ([]metro.Trip, error) {
	return list(ctx, s.pool, "list trips", sqlrow.ScanTrip, `SELECT `+sqlrow.TripColumns+` FROM metro_trips WHERE account = $1
		AND CASE WHEN entered = 0 THEN exited ELSE entered END >= $2 AND CASE WHEN entered = 0 THEN exited ELSE entered END < $3
		ORDER BY CASE WHEN entered = 0 THEN exited ELSE entered END, id`, account, sqlrow.Milli(from), sqlrow.Milli(until))
}

// Unsettled returns trips with no ledger line after afterSeq.
func (s *metroStore) Unsettled(ctx context.Context, feed string, afterSeq int64, limit int) ([]metro.Trip, error) {
	return list(ctx, s.pool, "list trips", sqlrow.ScanTrip, `SELECT `+sqlrow.TripColumns+` FROM metro_trips t WHERE t.seq > $1 AND t.feed = $2
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
	return sqlrow.FromMilli(*ms), nil
}

// Holdings reads the benefits settlement of a feed needs, in one snapshot.
func (s *metroStore) Holdings(ctx context.Context, feed string, since time.Time) (metro.Holdings, error) {
	var h metro.Holdings
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		products, err := list(ctx, tx, "list products", sqlrow.ScanProduct, `SELECT id, body FROM benefit_products`)
		if err != nil {
			return err
		}
		campaigns, err := list(ctx, tx, "list campaigns", sqlrow.ScanCampaign,
			`SELECT `+campaignCols+` FROM campaigns WHERE status IN ('approved', 'active', 'paused', 'ended', 'terminated')`)
		if err != nil {
			return err
		}
		tickets, err := list(ctx, tx, "list tickets", sqlrow.ScanTicket, `SELECT `+ticketCols+` FROM benefit_tickets WHERE state = 'held' AND rides_left > 0 AND valid_until > $1 ORDER BY holder, id`, since)
		if err != nil {
			return err
		}
		gifted, err := list(ctx, tx, "list gifts", sqlrow.ScanOne[int64], `SELECT ticket_id FROM gifts WHERE state = 'accepted'`)
		if err != nil {
			return err
		}
		groups, err := list(ctx, tx, "list rider groups", sqlrow.ScanGroup, `SELECT `+sqlrow.GroupColumns+` FROM rider_groups WHERE valid_until > $1`, since)
		if err != nil {
			return err
		}
		h = sqlrow.Holdings(feed, since, products, campaigns, tickets, gifted, groups)
		h.MerchantKinds, err = merchantKinds(ctx, tx)
		return err
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

// RiderGroups returns the categories an account holds at a time.
func (s *metroStore) RiderGroups(ctx context.Context, account int64, at time.Time) ([]string, error) {
	return list(ctx, s.pool, "list rider groups", sqlrow.ScanOne[string],
		`SELECT grp FROM rider_groups WHERE account_id = $1 AND valid_from <= $2 AND valid_until > $2 ORDER BY grp`, account, at)
}

// Settle writes ledger lines and what they use in one transaction.
func (s *metroStore) Settle(ctx context.Context, lines []metro.Settlement, entry *ledger.Entry) error {
	if len(lines) == 0 {
		return nil
	}
	u := sqlrow.TallyUses(lines)
	return s.tx(ctx, func(tx pgx.Tx) error {
		ids := u.CampaignIDs()
		locked, err := lockCampaigns(ctx, tx, ids)
		if err != nil {
			return err
		}
		var entryID any // the batch's entry, nil when none
		if entry != nil {
			posted, err := postEntry(ctx, tx, *entry)
			if err != nil {
				return err
			}
			*entry, entryID = posted, posted.ID
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"metro_settlements"},
			[]string{"trip_seq", "account", "at", "fare", "passenger", "operator", "merchant", "subsidy", "gift", "applied", "journal_entry"},
			pgx.CopyFromSlice(len(lines), func(i int) ([]any, error) {
				return sqlrow.SettlementValues(make([]any, 0, sqlrow.SettlementWidth), lines[i:i+1], entryID)
			}))
		if kind, _ := violation(err); kind == sqlrow.Unique {
			return metro.ErrSettledAlready
		}
		if err != nil {
			return fault.Wrap(err, "copy settlements")
		}
		if len(u.Rows) > 0 {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"metro_benefit_uses"}, []string{"campaign_id", "trip_seq", "ticket_id", "saving"},
				pgx.CopyFromSlice(len(u.Rows)/sqlrow.UseWidth, func(i int) ([]any, error) {
					return u.Rows[i*sqlrow.UseWidth : (i+1)*sqlrow.UseWidth], nil
				})); err != nil {
				return fault.Wrap(err, "record uses")
			}
		}
		if len(u.Rides) > 0 {
			tids, ns := make([]int64, 0, len(u.Rides)), make([]int32, 0, len(u.Rides))
			for id, n := range u.Rides {
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
			c := u.Campaigns[id]
			if sqlrow.OverBudget(locked[id], *c) {
				return metro.ErrBudgetPassed
			}
			if _, err := tx.Exec(ctx, `UPDATE campaigns SET uses = uses + $1, spent = spent + $2 WHERE id = $3`, c.Uses, c.Spent, id); err != nil {
				return fault.Wrap(err, "count uses")
			}
		}
		return nil
	})
}

// Settlement returns a trip's ledger line.
func (s *metroStore) Settlement(ctx context.Context, tripID string) (metro.Settlement, error) {
	l, err := sqlrow.ScanSettlement(s.pool.QueryRow(ctx, `SELECT `+sqlrow.SettlementColumns+`
		FROM metro_settlements s JOIN metro_trips t ON t.seq = s.trip_seq WHERE t.id = $1`, tripID))
	return l, sqlrow.NoRowsAs(fault.Wrap(err, "read settlement"), metro.ErrSettlementNotFound)
}

// tripStart is when a trip began: its entry, or its exit when it has none.
const tripStart = `CASE WHEN t.entered = 0 THEN t.exited ELSE t.entered END`

// UseStats counts a campaign's uses by entry and exit station and hour.
func (s *metroStore) UseStats(ctx context.Context, campaignID int64, from, until time.Time) ([]metro.UseCount, error) {
	return list(ctx, s.pool, "count uses", sqlrow.ScanUseCount, `SELECT t.from_station, t.to_station,
			extract(hour FROM to_timestamp((`+tripStart+`) / 1000.0) AT TIME ZONE 'Asia/Shanghai')::int AS hour, count(*)::int, sum(u.saving)::bigint
		FROM metro_benefit_uses u JOIN metro_trips t ON t.seq = u.trip_seq
		WHERE u.campaign_id = $1 AND `+tripStart+` >= $2 AND `+tripStart+` < $3
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, campaignID, sqlrow.Milli(from), sqlrow.Milli(until))
}

// SettledRides reads settled trips with their riders' part, account by
// account.
func (s *metroStore) SettledRides(ctx context.Context, feed string, afterAccount int64, from, until time.Time, limit int) ([]metro.SettledRide, error) {
	lo, hi := sqlrow.Milli(from), sqlrow.Milli(until)
	page, err := list(ctx, s.pool, "list settled trips", sqlrow.ScanSettledRide, `SELECT `+sqlrow.SettledRideColumns+`
		FROM metro_trips t JOIN metro_settlements s ON s.trip_seq = t.seq
		WHERE t.feed = $1 AND t.account > $2 AND t.entered >= $3 AND t.entered < $4 ORDER BY t.account, t.entered, t.id LIMIT $5`, feed, afterAccount, lo, hi, limit)
	return sqlrow.WholeAccounts(page, err, limit, sqlrow.RideAccount, func(account int64) ([]metro.SettledRide, error) {
		return list(ctx, s.pool, "list settled trips", sqlrow.ScanSettledRide, `SELECT `+sqlrow.SettledRideColumns+`
			FROM metro_trips t JOIN metro_settlements s ON s.trip_seq = t.seq
			WHERE t.feed = $1 AND t.account = $2 AND t.entered >= $3 AND t.entered < $4 ORDER BY t.account, t.entered, t.id`, feed, account, lo, hi)
	})
}

// MonthSpend sums the riders' parts of the feed's ledger lines of trips
// begun in [from, until), by account.
func (s *metroStore) MonthSpend(ctx context.Context, feed string, from, until time.Time) (map[int64]int64, error) {
	sums, err := list(ctx, s.pool, "sum spend", sqlrow.ScanAccountSum, `SELECT s.account, SUM(s.passenger)::BIGINT
		FROM metro_settlements s JOIN metro_trips t ON t.seq = s.trip_seq WHERE s.at >= $1 AND s.at < $2 AND t.feed = $3 GROUP BY s.account`,
		sqlrow.Milli(from), sqlrow.Milli(until), feed)
	return sqlrow.ByAccount(sums), err
}
