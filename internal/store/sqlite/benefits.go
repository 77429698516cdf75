package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/store/sqlrow"
	"piao/internal/tenant"
)

// benefitsStore implements benefits.Store on SQLite. Writes run on the
// single writer connection, so a transaction's reads of counters are not
// raced by another writer.
type benefitsStore struct{ *DB }

var _ benefits.Store = (*benefitsStore)(nil)

// The shared column lists, by their short names here.
const (
	campaignCols = sqlrow.CampaignColumns
	ticketCols   = sqlrow.TicketColumns
	// giftCols is sqlrow.GiftColumns with settled_at read as NULL while it
	// is '': SQLite keeps an unsettled gift's as empty text.
	giftCols = `id, token, ticket_id, giver, receiver, state, created_at, expires, NULLIF(settled_at, ''), body`
)

// rowReader is the reader pool, the writer or a transaction.
type rowReader interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// CreateProduct stores a product, setting its ID.
func (s *benefitsStore) CreateProduct(ctx context.Context, scope tenant.Scope, p *benefits.Product) error {
	if !scope.SeesOwner(p.Owner) {
		return sqlrow.ErrProductNotFound
	}
	body, err := json.Marshal(p)
	if err != nil {
		return fault.Wrap(err, "encode product")
	}
	err = s.write.QueryRowContext(ctx, `INSERT INTO benefit_products (owner, created_at, body) VALUES (?, ?, ?) RETURNING id`,
		p.Owner, sqlrow.At(p.CreatedAt), body).Scan(&p.ID)
	return fault.Wrap(err, "insert product")
}

// Product returns one product the scope sees.
func (s *benefitsStore) Product(ctx context.Context, scope tenant.Scope, id int64) (benefits.Product, error) {
	return productIn(ctx, s.read, scope, id)
}

func productIn(ctx context.Context, q rowReader, scope tenant.Scope, id int64) (benefits.Product, error) {
	all, owner := sqlrow.SeenBy(scope)
	return sqlrow.ScanProduct(q.QueryRowContext(ctx, `SELECT `+sqlrow.ProductColumns+` FROM benefit_products WHERE id = ? AND (? OR owner = ?)`, id, all, owner))
}

// Products lists the products the scope sees, newest first.
func (s *benefitsStore) Products(ctx context.Context, scope tenant.Scope, owner string) ([]benefits.Product, error) {
	all, seen := sqlrow.SeenBy(scope)
	return list(ctx, s.read, "list products", sqlrow.ScanProduct,
		`SELECT `+sqlrow.ProductColumns+` FROM benefit_products WHERE (? = '' OR owner = ?) AND (? OR owner = ?) ORDER BY id DESC LIMIT 1000`, owner, owner, all, seen)
}

// CreateCampaign stores a campaign with its first event.
func (s *benefitsStore) CreateCampaign(ctx context.Context, scope tenant.Scope, c *benefits.Campaign, e benefits.Event) error {
	if !scope.SeesOwner(c.Owner) {
		return sqlrow.ErrCampaignNotFound
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := productIn(ctx, tx, scope, c.ProductID); err != nil {
			return err
		}
		body, err := sqlrow.CampaignBody(*c)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO campaigns (product_id, owner, status, updated_at, body) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			c.ProductID, c.Owner, c.Status, sqlrow.At(c.UpdatedAt), body).Scan(&c.ID)
		if err != nil {
			return fault.Wrap(err, "insert campaign")
		}
		e.CampaignID = c.ID
		return addCampaignEvent(ctx, tx, e)
	})
}

func addCampaignEvent(ctx context.Context, tx *sql.Tx, e benefits.Event) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO campaign_events (campaign_id, at, actor, action, from_status, to_status, reason) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.CampaignID, sqlrow.At(e.At), e.By, e.Action, e.From, e.To, e.Reason)
	return fault.Wrap(err, "insert campaign event")
}

// Campaign returns one campaign the scope sees.
func (s *benefitsStore) Campaign(ctx context.Context, scope tenant.Scope, id int64) (benefits.Campaign, error) {
	return campaignIn(ctx, s.read, scope, id)
}

// campaignIn reads a campaign the scope sees.
func campaignIn(ctx context.Context, q rowReader, scope tenant.Scope, id int64) (benefits.Campaign, error) {
	all, owner := sqlrow.SeenBy(scope)
	return sqlrow.ScanCampaign(q.QueryRowContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = ? AND (? OR owner = ?)`, id, all, owner))
}

// Campaigns lists the campaigns the scope sees, newest first.
func (s *benefitsStore) Campaigns(ctx context.Context, scope tenant.Scope, f benefits.CampaignFilter) ([]benefits.Campaign, error) {
	all, owner := sqlrow.SeenBy(scope)
	q := `SELECT ` + campaignCols + ` FROM campaigns WHERE (? = '' OR owner = ?) AND (? OR owner = ?)`
	args := []any{f.Owner, f.Owner, all, owner}
	if len(f.Statuses) > 0 {
		q += ` AND status IN (?` + strings.Repeat(", ?", len(f.Statuses)-1) + `)`
		for _, st := range f.Statuses {
			args = append(args, string(st))
		}
	}
	limit, offset := sqlrow.Page(f.Limit, f.Offset)
	q += ` ORDER BY id DESC LIMIT ? OFFSET ?`
	return list(ctx, s.read, "list campaigns", sqlrow.ScanCampaign, q, append(args, limit, offset)...)
}

// Events returns a campaign's audit trail, oldest first.
func (s *benefitsStore) Events(ctx context.Context, scope tenant.Scope, campaignID int64) ([]benefits.Event, error) {
	var out []benefits.Event
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if _, err := campaignIn(ctx, tx, scope, campaignID); err != nil {
			return err
		}
		var err error
		out, err = list(ctx, tx, "list campaign events", sqlrow.ScanEvent,
			`SELECT `+sqlrow.EventColumns+` FROM campaign_events WHERE campaign_id = ? ORDER BY id`, campaignID)
		return err
	})
	return out, err
}

// UpdateCampaign runs fn on the campaign and stores it with fn's event.
func (s *benefitsStore) UpdateCampaign(ctx context.Context, scope tenant.Scope, id int64, fn func(*benefits.Campaign) (benefits.Event, error)) (benefits.Campaign, error) {
	var c benefits.Campaign
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = updateCampaignIn(ctx, tx, scope, id, fn)
		return err
	})
	return c, err
}

// updateCampaignIn is UpdateCampaign inside tx.
func updateCampaignIn(ctx context.Context, tx *sql.Tx, scope tenant.Scope, id int64, fn func(*benefits.Campaign) (benefits.Event, error)) (benefits.Campaign, error) {
	c, err := campaignIn(ctx, tx, scope, id)
	if err != nil {
		return c, err
	}
	e, err := fn(&c)
	if err != nil {
		return c, err
	}
	body, err := sqlrow.CampaignBody(c)
	if err != nil {
		return c, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = ?, updated_at = ?, body = ? WHERE id = ?`, c.Status, sqlrow.At(c.UpdatedAt), body, id); err != nil {
		return c, fault.Wrap(err, "update campaign")
	}
	e.CampaignID = id
	return c, addCampaignEvent(ctx, tx, e)
}

// issueBatch is one Issue transaction: the campaigns issued from so far,
// each read on first use (the single writer keeps their counters ours).
type issueBatch struct {
	tx    *sql.Tx
	now   time.Time
	camps map[int64]*sqlrow.Issuing
}

// Issue serves reqs in order in one transaction, then writes the counters
// of the campaigns it issued from.
func (s *benefitsStore) Issue(ctx context.Context, now time.Time, reqs []benefits.IssueRequest) ([]benefits.IssueResult, error) {
	out := make([]benefits.IssueResult, len(reqs))
	err := s.tx(ctx, func(tx *sql.Tx) error {
		b := &issueBatch{tx: tx, now: now, camps: map[int64]*sqlrow.Issuing{}}
		for i, r := range reqs {
			var err error
			if out[i], err = b.serve(ctx, r); err != nil {
				return err
			}
		}
		return b.save(ctx)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// serve issues r's ticket, or says in the result why not; an error fails
// the whole transaction.
func (b *issueBatch) serve(ctx context.Context, r benefits.IssueRequest) (benefits.IssueResult, error) {
	campaignID := r.CampaignID
	if r.Channel == benefits.CodeChannel {
		var refused, err error
		if campaignID, refused, err = b.code(ctx, r.Code); refused != nil || err != nil {
			return benefits.IssueResult{Err: refused}, err
		}
	}
	if t, again, err := issuedBefore(ctx, b.tx, r.Key); again || err != nil {
		return benefits.IssueResult{Ticket: t, Again: again}, err
	}
	is, err := b.campaign(ctx, campaignID)
	if fault.Is(err, fault.NotFound) {
		return benefits.IssueResult{Err: err}, nil
	} else if err != nil {
		return benefits.IssueResult{}, err
	}
	n, err := is.Holding(r.Account, func() (int, error) {
		return sqlrow.ScanOne[int](b.tx.QueryRowContext(ctx,
			`SELECT tickets FROM campaign_holders WHERE campaign_id = ? AND account_id = ?`, is.Campaign.ID, r.Account))
	})
	if err != nil {
		return benefits.IssueResult{}, err
	}
	if err := is.Campaign.CheckIssue(b.now, r.Channel, n); err != nil {
		return benefits.IssueResult{Err: err}, nil
	}
	t, err := b.insertTicket(ctx, is, r)
	if kind, _ := violation(err); kind == sqlrow.ForeignKey {
		return benefits.IssueResult{Err: sqlrow.ErrAccountNotFound}, nil
	} else if err != nil {
		return benefits.IssueResult{}, err
	}
	is.Took(r.Account, n)
	return benefits.IssueResult{Ticket: t}, nil
}

// code returns the campaign of a redemption code, or why it cannot be used.
func (b *issueBatch) code(ctx context.Context, code string) (campaignID int64, refused, err error) {
	var ticket sql.NullInt64
	var revoked bool
	err = b.tx.QueryRowContext(ctx, `SELECT campaign_id, ticket_id, revoked_at IS NOT NULL FROM redeem_codes WHERE code = ?`, code).Scan(&campaignID, &ticket, &revoked)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, sqlrow.ErrCodeNotFound, nil
	case err != nil:
		return 0, nil, fault.Wrap(err, "read code")
	case ticket.Valid:
		return 0, sqlrow.ErrCodeUsed, nil
	case revoked:
		return 0, sqlrow.ErrCodeRevoked, nil
	}
	return campaignID, nil, nil
}

// issuedBefore returns the ticket issued with idempotency key, if any.
func issuedBefore(ctx context.Context, tx *sql.Tx, key string) (benefits.Ticket, bool, error) {
	if key == "" {
		return benefits.Ticket{}, false, nil
	}
	t, err := sqlrow.ScanTicket(tx.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM benefit_tickets WHERE issue_key = ?`, key))
	if fault.Is(err, fault.NotFound) {
		return t, false, nil
	}
	return t, err == nil, err
}

// campaign returns the campaign id with its product, read on first use.
func (b *issueBatch) campaign(ctx context.Context, id int64) (*sqlrow.Issuing, error) {
	if is := b.camps[id]; is != nil {
		return is, nil
	}
	c, err := sqlrow.ScanCampaign(b.tx.QueryRowContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = ?`, id))
	if err != nil {
		return nil, err
	}
	p, err := productIn(ctx, b.tx, tenant.All(), c.ProductID)
	if err != nil {
		return nil, err
	}
	b.camps[id] = sqlrow.NewIssuing(c, p)
	return b.camps[id], nil
}

// insertTicket stores the ticket r is issued from is, and marks its
// redemption code used.
func (b *issueBatch) insertTicket(ctx context.Context, is *sqlrow.Issuing, r benefits.IssueRequest) (benefits.Ticket, error) {
	t := benefits.NewTicket(is.Campaign, is.Product, r.Account, r.Channel, b.now)
	if !r.Until.IsZero() && r.Until.Before(t.Window.Until) {
		t.Window.Until = r.Until
	}
	t.Code, t.PaidFen, t.PaidBy = r.Code, r.PaidFen, r.PaidBy
	err := b.tx.QueryRowContext(ctx, `INSERT INTO benefit_tickets (campaign_id, product_id, holder, channel, state, rides_total, rides_left, valid_from, valid_until, issued_at, code, issue_key, paid_fen, paid_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		t.CampaignID, t.ProductID, t.Holder, t.Channel, t.State, t.RidesTotal, t.RidesLeft,
		sqlrow.At(t.Window.From), sqlrow.At(t.Window.Until), sqlrow.At(t.IssuedAt), t.Code, sqlrow.IssueKey(r.Key), t.PaidFen, t.PaidBy).Scan(&t.ID)
	if err != nil {
		return t, fault.Wrap(err, "insert ticket")
	}
	if r.Channel == benefits.CodeChannel {
		_, err = b.tx.ExecContext(ctx, `UPDATE redeem_codes SET ticket_id = ?, redeemed_by = ?, redeemed_at = ? WHERE code = ?`,
			t.ID, r.Account, sqlrow.At(b.now), r.Code)
	}
	return t, fault.Wrap(err, "use code")
}

// save writes the issued counters of every campaign that issued, and the
// ticket counts of the accounts it issued to.
func (b *issueBatch) save(ctx context.Context) error {
	for _, is := range b.camps {
		if len(is.Holders()) == 0 {
			continue
		}
		if _, err := b.tx.ExecContext(ctx, `UPDATE campaigns SET issued = ? WHERE id = ?`, is.Campaign.Issued, is.Campaign.ID); err != nil {
			return fault.Wrap(err, "count issued")
		}
		for acc, n := range is.Holders() {
			if _, err := b.tx.ExecContext(ctx, `INSERT INTO campaign_holders (campaign_id, account_id, tickets) VALUES (?, ?, ?)
				ON CONFLICT (campaign_id, account_id) DO UPDATE SET tickets = excluded.tickets`, is.Campaign.ID, acc, n); err != nil {
				return fault.Wrap(err, "count holder")
			}
		}
	}
	return nil
}

// AddCodes stores a batch of codes.
func (s *benefitsStore) AddCodes(ctx context.Context, scope tenant.Scope, b *benefits.CodeBatch, codes []string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := campaignIn(ctx, tx, scope, b.CampaignID); err != nil {
			return err
		}
		b.Count = len(codes)
		if err := tx.QueryRowContext(ctx, `INSERT INTO redeem_code_batches (campaign_id, count, created_by, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			b.CampaignID, b.Count, b.CreatedBy, sqlrow.At(b.CreatedAt)).Scan(&b.ID); err != nil {
			return fault.Wrap(err, "insert code batch")
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO redeem_codes (code, batch_id, campaign_id, seq) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return fault.Wrap(err, "prepare codes")
		}
		defer st.Close()
		for i, c := range codes {
			if _, err := st.ExecContext(ctx, c, b.ID, b.CampaignID, i); err != nil {
				if kind, _ := violation(err); kind == sqlrow.Unique {
					return sqlrow.ErrCodeExists
				}
				return fault.Wrap(err, "insert code")
			}
		}
		return nil
	})
}

// CodeBatches lists a campaign's batches, newest first.
func (s *benefitsStore) CodeBatches(ctx context.Context, scope tenant.Scope, campaignID int64) ([]benefits.CodeBatch, error) {
	var out []benefits.CodeBatch
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if _, err := campaignIn(ctx, tx, scope, campaignID); err != nil {
			return err
		}
		var err error
		out, err = list(ctx, tx, "list code batches", sqlrow.ScanCodeBatch,
			`SELECT `+sqlrow.CodeBatchColumns+` FROM redeem_code_batches b WHERE b.campaign_id = ? ORDER BY b.id DESC`, campaignID)
		return err
	})
	return out, err
}

// Codes calls fn for every code of a batch, in generation order.
func (s *benefitsStore) Codes(ctx context.Context, scope tenant.Scope, batchID int64, fn func(benefits.CodeRow) error) error {
	all, owner := sqlrow.SeenBy(scope)
	return s.readTx(ctx, func(tx *sql.Tx) error {
		if _, err := sqlrow.ScanOne[int](tx.QueryRowContext(ctx, `SELECT 1 FROM redeem_code_batches b JOIN campaigns c ON c.id = b.campaign_id
			WHERE b.id = ? AND (? OR c.owner = ?)`, batchID, all, owner)); err != nil {
			return fault.Wrap(sqlrow.NoRowsAs(err, sqlrow.ErrBatchNotFound), "read code batch")
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+sqlrow.CodeRowColumns+` FROM redeem_codes WHERE batch_id = ? ORDER BY seq`, batchID)
		if err != nil {
			return fault.Wrap(err, "list codes")
		}
		defer rows.Close()
		return sqlrow.EachCode(rows, fn)
	})
}

// Ticket returns one ticket.
func (s *benefitsStore) Ticket(ctx context.Context, id int64) (benefits.Ticket, error) {
	return sqlrow.ScanTicket(s.read.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM benefit_tickets WHERE id = ?`, id))
}

// Tickets lists an account's tickets, newest first.
func (s *benefitsStore) Tickets(ctx context.Context, holder int64) ([]benefits.Ticket, error) {
	return list(ctx, s.read, "list tickets", sqlrow.ScanTicket, `SELECT `+ticketCols+` FROM benefit_tickets WHERE holder = ? ORDER BY id DESC LIMIT 1000`, holder)
}

// CreateGift offers a ticket as a gift.
func (s *benefitsStore) CreateGift(ctx context.Context, g *benefits.Gift) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		t, err := sqlrow.ScanTicket(tx.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM benefit_tickets WHERE id = ?`, g.TicketID))
		if err != nil {
			return err
		}
		if err := t.CheckGift(g.Giver, g.CreatedAt); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE benefit_tickets SET state = ? WHERE id = ?`, benefits.Gifting, t.ID); err != nil {
			return fault.Wrap(err, "mark ticket gifting")
		}
		g.State = benefits.GiftPending
		err = tx.QueryRowContext(ctx, `INSERT INTO gifts (token, ticket_id, giver, state, created_at, expires, body) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			g.Token, g.TicketID, g.Giver, g.State, sqlrow.At(g.CreatedAt), sqlrow.At(g.Expires), sqlrow.GiftBody(*g)).Scan(&g.ID)
		return fault.Wrap(err, "insert gift")
	})
}

// GiftByToken returns a gift by its token.
func (s *benefitsStore) GiftByToken(ctx context.Context, token string) (benefits.Gift, error) {
	return sqlrow.ScanGift(s.read.QueryRowContext(ctx, `SELECT `+giftCols+` FROM gifts WHERE token = ?`, token))
}

// Gifts lists gifts an account gave or received, newest first.
func (s *benefitsStore) Gifts(ctx context.Context, account int64) ([]benefits.Gift, error) {
	return list(ctx, s.read, "list gifts", sqlrow.ScanGift, `SELECT `+giftCols+` FROM gifts WHERE giver = ? OR receiver = ? ORDER BY id DESC LIMIT 500`, account, account)
}

// SettleGift moves a pending gift to state.
func (s *benefitsStore) SettleGift(ctx context.Context, token string, receiver int64, state benefits.GiftState, now time.Time) (benefits.Gift, error) {
	var g benefits.Gift
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if g, err = sqlrow.ScanGift(tx.QueryRowContext(ctx, `SELECT `+giftCols+` FROM gifts WHERE token = ?`, token)); err != nil {
			return err
		}
		if err := benefits.CheckSettle(&g, receiver, state, now); err != nil {
			return err
		}
		holder := g.Giver
		if state == benefits.GiftAccepted {
			holder = receiver
		}
		if _, err := tx.ExecContext(ctx, `UPDATE benefit_tickets SET state = ?, holder = ? WHERE id = ?`, benefits.Held, holder, g.TicketID); err != nil {
			return fault.Wrap(err, "move ticket")
		}
		_, err = tx.ExecContext(ctx, `UPDATE gifts SET state = ?, receiver = ?, settled_at = ? WHERE id = ?`, g.State, g.Receiver, sqlrow.At(g.SettledAt), g.ID)
		return fault.Wrap(err, "settle gift")
	})
	return g, err
}

// ExpiredGifts lists the tokens of pending gifts expired at now.
func (s *benefitsStore) ExpiredGifts(ctx context.Context, now time.Time, limit int) ([]string, error) {
	return list(ctx, s.read, "list expired gifts", sqlrow.ScanOne[string],
		`SELECT token FROM gifts WHERE state = 'pending' AND expires <= ? ORDER BY expires LIMIT ?`, sqlrow.At(now), max(limit, 1))
}

// Redeem applies benefits to a ride once.
func (s *benefitsStore) Redeem(ctx context.Context, r benefits.Ride, account int64, now time.Time, choose benefits.Chooser) (benefits.Redemption, bool, error) {
	var red benefits.Redemption
	var replayed bool
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		red, err = redemptionIn(ctx, tx, r.ID)
		if replayed, err = sqlrow.Replayed(red, err, account); replayed || err != nil {
			return err
		}
		if r.Code != "" {
			var other string
			switch err := tx.QueryRowContext(ctx, `SELECT ride_id FROM ride_redemptions WHERE code_id = ?`, r.Code).Scan(&other); {
			case err == nil:
				return benefits.ErrRideCodeUsed
			case !errors.Is(err, sql.ErrNoRows):
				return fault.Wrap(err, "read ride code use")
			}
		}
		at := sqlrow.At(r.EnteredAt)
		tickets, err := list(ctx, tx, "list tickets", sqlrow.ScanTicket, `SELECT `+ticketCols+` FROM benefit_tickets WHERE holder = ? AND state = 'held' AND rides_left > 0 AND valid_from <= ? AND valid_until > ?`, account, at, at)
		if err != nil {
			return err
		}
		camps := map[int64]benefits.Campaign{}
		for _, t := range tickets {
			if _, ok := camps[t.CampaignID]; !ok {
				if camps[t.CampaignID], err = sqlrow.ScanCampaign(tx.QueryRowContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = ?`, t.CampaignID)); err != nil {
					return err
				}
			}
		}
		cands, err := sqlrow.Candidates(tickets, func(id int64) (benefits.Product, error) { return productIn(ctx, tx, tenant.All(), id) })
		if err != nil {
			return err
		}
		sel := choose(cands, camps)
		red = benefits.Redemption{RideID: r.ID, Account: account, Ride: r, Fare: sel.Fare, Net: sel.Net, Applied: sel.Applied, At: now}
		for _, a := range sel.Applied {
			if a.TicketID == 0 {
				continue
			}
			res, err := tx.ExecContext(ctx, `UPDATE benefit_tickets SET rides_left = rides_left - 1,
				state = CASE WHEN rides_left = 1 THEN 'consumed' ELSE state END WHERE id = ? AND rides_left > 0`, a.TicketID)
			if err != nil {
				return fault.Wrap(err, "use ticket")
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return sqlrow.ErrTicketUsedUp
			}
			if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET uses = uses + 1, spent = spent + ? WHERE id = ?`, a.Saving, a.CampaignID); err != nil {
				return fault.Wrap(err, "count use")
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_uses (ride_id, ticket_id, campaign_id, saving, at) VALUES (?, ?, ?, ?, ?)`,
				r.ID, a.TicketID, a.CampaignID, a.Saving, sqlrow.At(now)); err != nil {
				return fault.Wrap(err, "record use")
			}
		}
		body, err := json.Marshal(red)
		if err != nil {
			return fault.Wrap(err, "encode redemption")
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO ride_redemptions (ride_id, account_id, fare, net, at, body, code_id) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			r.ID, account, red.Fare, red.Net, sqlrow.At(now), body, sqlrow.RideCode(r))
		return fault.Wrap(err, "insert redemption")
	})
	return red, replayed, err
}

func redemptionIn(ctx context.Context, q rowReader, rideID string) (benefits.Redemption, error) {
	return sqlrow.ScanRedemption(q.QueryRowContext(ctx, `SELECT body FROM ride_redemptions WHERE ride_id = ?`, rideID))
}

// Redemption returns the redemption of a ride.
func (s *benefitsStore) Redemption(ctx context.Context, rideID string) (benefits.Redemption, error) {
	return redemptionIn(ctx, s.read, rideID)
}

// Stats returns a campaign's numbers at now.
func (s *benefitsStore) Stats(ctx context.Context, scope tenant.Scope, campaignID int64, now time.Time) (benefits.Stats, error) {
	var st benefits.Stats
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		c, err := campaignIn(ctx, tx, scope, campaignID)
		if err != nil {
			return err
		}
		st = sqlrow.StatsOf(c, now)
		channels, err := list(ctx, tx, "count channels", sqlrow.ScanTally[benefits.Channel],
			`SELECT channel, count(*) FROM benefit_tickets WHERE campaign_id = ? GROUP BY channel`, campaignID)
		if err != nil {
			return err
		}
		for _, ch := range channels {
			st.ByChannel[ch.Key] = ch.N
		}
		if st.Automatic {
			// No tickets: the settlement ledger's uses are the numbers.
			err = tx.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT s.account), COALESCE(sum(u.saving), 0)
				FROM `+sqlrow.LedgerUses+` WHERE u.campaign_id = ?`, campaignID).Scan(&st.Rides, &st.Holders, &st.Spent)
			if err != nil {
				return fault.Wrap(err, "count settled uses")
			}
		} else {
			err = tx.QueryRowContext(ctx, `SELECT count(DISTINCT holder),
				COALESCE(sum(CASE WHEN rides_left < rides_total THEN 1 ELSE 0 END), 0),
				COALESCE(sum(rides_total - rides_left), 0),
				COALESCE(sum(CASE WHEN rides_left > 0 AND state <> 'revoked' AND valid_until <= ? THEN 1 ELSE 0 END), 0)
				FROM benefit_tickets WHERE campaign_id = ?`, sqlrow.At(now), campaignID).Scan(&st.Holders, &st.Used, &st.Rides, &st.Expired)
			if err != nil {
				return fault.Wrap(err, "count tickets")
			}
		}
		err = tx.QueryRowContext(ctx, `SELECT count(*), COALESCE(sum(CASE WHEN ticket_id IS NOT NULL THEN 1 ELSE 0 END), 0) FROM redeem_codes WHERE campaign_id = ?`, campaignID).Scan(&st.Codes, &st.CodesRedeemed)
		if err != nil {
			return fault.Wrap(err, "count codes")
		}
		// Hours are UTC text times cut to their hour: the stored text times'
		// first 13 characters, strftime of the ledger's unix milliseconds.
		issueHours := `SELECT substr(issued_at, 1, 13) || ':00:00Z', count(*) FROM benefit_tickets WHERE campaign_id = ? GROUP BY 1`
		if st.Automatic { // a rider is issued the benefit by their first benefited trip
			issueHours = `SELECT strftime('%Y-%m-%dT%H:00:00Z', first / 1000, 'unixepoch'), count(*) FROM
				(SELECT min(s.at) AS first FROM ` + sqlrow.LedgerUses + ` WHERE u.campaign_id = ? GROUP BY s.account) GROUP BY 1`
		}
		// Each query of counts by hour, and whether it counts issues or rides.
		hourly := map[string]*benefits.HourCount{}
		for q, issued := range map[string]bool{
			`SELECT substr(at, 1, 13) || ':00:00Z', count(*) FROM ticket_uses WHERE campaign_id = ? GROUP BY 1`:                                           false,
			`SELECT strftime('%Y-%m-%dT%H:00:00Z', s.at / 1000, 'unixepoch'), count(*) FROM ` + sqlrow.LedgerUses + ` WHERE u.campaign_id = ? GROUP BY 1`: false,
			issueHours: true,
		} {
			counts, err := list(ctx, tx, "count hours", sqlrow.ScanTally[sqlrow.Time], q, campaignID)
			if err != nil {
				return err
			}
			sqlrow.AddHours(hourly, counts, issued)
		}
		st.Hourly = benefits.SortedHours(hourly)
		st.Finish()
		return nil
	})
	return st, err
}
