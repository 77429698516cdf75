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
	"piao/internal/store/sqlrow"
	"piao/internal/tenant"
)

// benefitsStore implements benefits.Store on PostgreSQL. Transactions that
// change a campaign's counters lock its row first (several in ID order), so
// concurrent processes issue and redeem against counters nobody else is
// changing, and never deadlock on each other.
type benefitsStore struct{ *DB }

var _ benefits.Store = (*benefitsStore)(nil)

// The shared column lists, by their short names here.
const (
	campaignCols = sqlrow.CampaignColumns
	ticketCols   = sqlrow.TicketColumns
	giftCols     = sqlrow.GiftColumns
)

// pgQuerier is a pool or a transaction.
type pgQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
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
	err = s.pool.QueryRow(ctx, `INSERT INTO benefit_products (owner, created_at, body) VALUES ($1, $2, $3) RETURNING id`, p.Owner, p.CreatedAt, body).Scan(&p.ID)
	return fault.Wrap(err, "insert product")
}

// Product returns one product the scope sees.
func (s *benefitsStore) Product(ctx context.Context, scope tenant.Scope, id int64) (benefits.Product, error) {
	return productIn(ctx, s.pool, scope, id)
}

func productIn(ctx context.Context, q pgQuerier, scope tenant.Scope, id int64) (benefits.Product, error) {
	all, owner := sqlrow.SeenBy(scope)
	return sqlrow.ScanProduct(q.QueryRow(ctx, `SELECT `+sqlrow.ProductColumns+` FROM benefit_products WHERE id = $1 AND ($2 OR owner = $3)`, id, all, owner))
}

// Products lists the products the scope sees, newest first.
func (s *benefitsStore) Products(ctx context.Context, scope tenant.Scope, owner string) ([]benefits.Product, error) {
	all, seen := sqlrow.SeenBy(scope)
	return list(ctx, s.pool, "list products", sqlrow.ScanProduct,
		`SELECT `+sqlrow.ProductColumns+` FROM benefit_products WHERE ($1 = '' OR owner = $1) AND ($2 OR owner = $3) ORDER BY id DESC LIMIT 1000`, owner, all, seen)
}

// CreateCampaign stores a campaign with its first event.
func (s *benefitsStore) CreateCampaign(ctx context.Context, scope tenant.Scope, c *benefits.Campaign, e benefits.Event) error {
	if !scope.SeesOwner(c.Owner) {
		return sqlrow.ErrCampaignNotFound
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := productIn(ctx, tx, scope, c.ProductID); err != nil {
			return err
		}
		body, err := sqlrow.CampaignBody(*c)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `INSERT INTO campaigns (product_id, owner, status, updated_at, body) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			c.ProductID, c.Owner, c.Status, c.UpdatedAt, body).Scan(&c.ID)
		if err != nil {
			return fault.Wrap(err, "insert campaign")
		}
		e.CampaignID = c.ID
		return addCampaignEvent(ctx, tx, e)
	})
}

func addCampaignEvent(ctx context.Context, tx pgx.Tx, e benefits.Event) error {
	_, err := tx.Exec(ctx, `INSERT INTO campaign_events (campaign_id, at, actor, action, from_status, to_status, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		e.CampaignID, e.At, e.By, e.Action, e.From, e.To, e.Reason)
	return fault.Wrap(err, "insert campaign event")
}

// Campaign returns one campaign the scope sees.
func (s *benefitsStore) Campaign(ctx context.Context, scope tenant.Scope, id int64) (benefits.Campaign, error) {
	return campaignIn(ctx, s.pool, scope, id, "")
}

// campaignIn reads a campaign the scope sees; lock is "" or " FOR UPDATE".
func campaignIn(ctx context.Context, q pgQuerier, scope tenant.Scope, id int64, lock string) (benefits.Campaign, error) {
	all, owner := sqlrow.SeenBy(scope)
	return sqlrow.ScanCampaign(q.QueryRow(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = $1 AND ($2 OR owner = $3)`+lock, id, all, owner))
}

// Campaigns lists the campaigns the scope sees, newest first.
func (s *benefitsStore) Campaigns(ctx context.Context, scope tenant.Scope, f benefits.CampaignFilter) ([]benefits.Campaign, error) {
	all, owner := sqlrow.SeenBy(scope)
	statuses := make([]string, len(f.Statuses))
	for i, st := range f.Statuses {
		statuses[i] = string(st)
	}
	limit, offset := sqlrow.Page(f.Limit, f.Offset)
	return list(ctx, s.pool, "list campaigns", sqlrow.ScanCampaign, `SELECT `+campaignCols+` FROM campaigns
		WHERE ($1 = '' OR owner = $1) AND (cardinality($2::text[]) = 0 OR status = ANY($2)) AND ($5 OR owner = $6)
		ORDER BY id DESC LIMIT $3 OFFSET $4`, f.Owner, statuses, limit, offset, all, owner)
}

// Events returns a campaign's audit trail, oldest first.
func (s *benefitsStore) Events(ctx context.Context, scope tenant.Scope, campaignID int64) ([]benefits.Event, error) {
	var out []benefits.Event
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		if _, err := campaignIn(ctx, tx, scope, campaignID, ""); err != nil {
			return err
		}
		var err error
		out, err = list(ctx, tx, "list campaign events", sqlrow.ScanEvent,
			`SELECT `+sqlrow.EventColumns+` FROM campaign_events WHERE campaign_id = $1 ORDER BY id`, campaignID)
		return err
	})
	return out, err
}

// UpdateCampaign runs fn on the campaign locked for update and stores it
// with fn's event.
func (s *benefitsStore) UpdateCampaign(ctx context.Context, scope tenant.Scope, id int64, fn func(*benefits.Campaign) (benefits.Event, error)) (benefits.Campaign, error) {
	var c benefits.Campaign
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		c, err = updateCampaignIn(ctx, tx, scope, id, fn)
		return err
	})
	return c, err
}

// updateCampaignIn is UpdateCampaign inside tx.
func updateCampaignIn(ctx context.Context, tx pgx.Tx, scope tenant.Scope, id int64, fn func(*benefits.Campaign) (benefits.Event, error)) (benefits.Campaign, error) {
	c, err := campaignIn(ctx, tx, scope, id, " FOR UPDATE")
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
	if _, err := tx.Exec(ctx, `UPDATE campaigns SET status = $1, updated_at = $2, body = $3 WHERE id = $4`, c.Status, c.UpdatedAt, body, id); err != nil {
		return c, fault.Wrap(err, "update campaign")
	}
	e.CampaignID = id
	return c, addCampaignEvent(ctx, tx, e)
}

// lockCampaigns locks and reads campaigns in ID order; missing ones are
// absent from the map.
func lockCampaigns(ctx context.Context, tx pgx.Tx, ids []int64) (map[int64]benefits.Campaign, error) {
	out := map[int64]benefits.Campaign{}
	if len(ids) == 0 {
		return out, nil
	}
	camps, err := list(ctx, tx, "lock campaigns", sqlrow.ScanCampaign, `SELECT `+campaignCols+` FROM campaigns WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids)
	for _, c := range camps {
		out[c.ID] = c
	}
	return out, err
}

// issueBatch is one Issue transaction: the codes and campaigns it uses,
// locked up front, and which of its accounts exist.
type issueBatch struct {
	tx           pgx.Tx
	now          time.Time
	codeCampaign map[string]int64
	codeUsed     map[string]bool
	codeRevoked  map[string]bool
	known        map[int64]bool // accounts
	camps        map[int64]*sqlrow.Issuing
}

// Issue serves reqs in order in one transaction: it locks their codes and
// campaigns first, then issues against the locked counters and writes
// them back once.
func (s *benefitsStore) Issue(ctx context.Context, now time.Time, reqs []benefits.IssueRequest) ([]benefits.IssueResult, error) {
	out := make([]benefits.IssueResult, len(reqs))
	err := s.tx(ctx, func(tx pgx.Tx) error {
		b, err := prepareIssue(ctx, tx, now, reqs)
		if err != nil {
			return err
		}
		for i, r := range reqs {
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

// prepareIssue locks the codes reqs redeem, reads which of their accounts
// exist, and locks the campaigns they issue from in ID order.
func prepareIssue(ctx context.Context, tx pgx.Tx, now time.Time, reqs []benefits.IssueRequest) (*issueBatch, error) {
	b := &issueBatch{tx: tx, now: now, codeCampaign: map[string]int64{}, codeUsed: map[string]bool{}, codeRevoked: map[string]bool{}, known: map[int64]bool{}, camps: map[int64]*sqlrow.Issuing{}}
	var codes []string
	var accounts []int64
	for _, r := range reqs {
		if r.Channel == benefits.CodeChannel {
			codes = append(codes, r.Code)
		}
		accounts = append(accounts, r.Account)
	}
	if err := b.lockCodes(ctx, codes); err != nil {
		return nil, err
	}
	known, err := list(ctx, tx, "read accounts", sqlrow.ScanOne[int64], `SELECT id FROM accounts WHERE id = ANY($1)`, accounts)
	if err != nil {
		return nil, err
	}
	for _, id := range known {
		b.known[id] = true
	}
	return b, b.lockCampaigns(ctx, reqs)
}

// lockCodes locks the redemption codes and reads their campaigns and
// whether they are used.
func (b *issueBatch) lockCodes(ctx context.Context, codes []string) error {
	if len(codes) == 0 {
		return nil
	}
	rows, err := b.tx.Query(ctx, `SELECT code, campaign_id, ticket_id IS NOT NULL, revoked_at IS NOT NULL FROM redeem_codes WHERE code = ANY($1) FOR UPDATE`, codes)
	if err != nil {
		return fault.Wrap(err, "read codes")
	}
	defer rows.Close()
	return sqlrow.Each(rows, "read codes", func(r sqlrow.Row) error {
		var code string
		var id int64
		var used, revoked bool
		if err := r.Scan(&code, &id, &used, &revoked); err != nil {
			return fault.Wrap(err, "scan code")
		}
		b.codeCampaign[code], b.codeUsed[code], b.codeRevoked[code] = id, used, revoked
		return nil
	})
}

// lockCampaigns locks the campaigns reqs issue from and reads their products.
func (b *issueBatch) lockCampaigns(ctx context.Context, reqs []benefits.IssueRequest) error {
	var ids []int64
	for _, r := range reqs {
		id := r.CampaignID
		if r.Channel == benefits.CodeChannel {
			id = b.codeCampaign[r.Code]
		}
		if id != 0 && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	locked, err := lockCampaigns(ctx, b.tx, ids)
	if err != nil {
		return err
	}
	for id, c := range locked {
		p, err := productIn(ctx, b.tx, tenant.All(), c.ProductID)
		if err != nil {
			return err
		}
		b.camps[id] = sqlrow.NewIssuing(c, p)
	}
	return nil
}

// serve issues r's ticket, or says in the result why not; an error fails
// the whole transaction.
func (b *issueBatch) serve(ctx context.Context, r benefits.IssueRequest) (benefits.IssueResult, error) {
	campaignID := r.CampaignID
	if r.Channel == benefits.CodeChannel {
		id, ok := b.codeCampaign[r.Code]
		switch {
		case !ok:
			return benefits.IssueResult{Err: sqlrow.ErrCodeNotFound}, nil
		case b.codeUsed[r.Code]:
			return benefits.IssueResult{Err: sqlrow.ErrCodeUsed}, nil
		case b.codeRevoked[r.Code]:
			return benefits.IssueResult{Err: sqlrow.ErrCodeRevoked}, nil
		}
		campaignID = id
	}
	if t, again, err := issuedBefore(ctx, b.tx, r.Key); again || err != nil {
		return benefits.IssueResult{Ticket: t, Again: again}, err
	}
	is := b.camps[campaignID]
	if is == nil {
		return benefits.IssueResult{Err: sqlrow.ErrCampaignNotFound}, nil
	}
	if !b.known[r.Account] {
		return benefits.IssueResult{Err: sqlrow.ErrAccountNotFound}, nil
	}
	n, err := is.Holding(r.Account, func() (int, error) {
		return sqlrow.ScanOne[int](b.tx.QueryRow(ctx,
			`SELECT tickets FROM campaign_holders WHERE campaign_id = $1 AND account_id = $2`, is.Campaign.ID, r.Account))
	})
	if err != nil {
		return benefits.IssueResult{}, err
	}
	if err := is.Campaign.CheckIssue(b.now, r.Channel, n); err != nil {
		return benefits.IssueResult{Err: err}, nil
	}
	t, err := b.insertTicket(ctx, is, r)
	if err != nil {
		return benefits.IssueResult{}, err
	}
	is.Took(r.Account, n)
	return benefits.IssueResult{Ticket: t}, nil
}

// issuedBefore returns the ticket issued with idempotency key, if any.
func issuedBefore(ctx context.Context, tx pgx.Tx, key string) (benefits.Ticket, bool, error) {
	if key == "" {
		return benefits.Ticket{}, false, nil
	}
	t, err := sqlrow.ScanTicket(tx.QueryRow(ctx, `SELECT `+ticketCols+` FROM benefit_tickets WHERE issue_key = $1`, key))
	if fault.Is(err, fault.NotFound) {
		return t, false, nil
	}
	return t, err == nil, err
}

// insertTicket stores the ticket r is issued from is, and marks its
// redemption code used.
func (b *issueBatch) insertTicket(ctx context.Context, is *sqlrow.Issuing, r benefits.IssueRequest) (benefits.Ticket, error) {
	t := benefits.NewTicket(is.Campaign, is.Product, r.Account, r.Channel, b.now)
	if !r.Until.IsZero() && r.Until.Before(t.Window.Until) {
		t.Window.Until = r.Until
	}
	t.Code, t.PaidFen, t.PaidBy = r.Code, r.PaidFen, r.PaidBy
	err := b.tx.QueryRow(ctx, `INSERT INTO benefit_tickets (campaign_id, product_id, holder, channel, state, rides_total, rides_left, valid_from, valid_until, issued_at, code, issue_key, paid_fen, paid_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
		t.CampaignID, t.ProductID, t.Holder, t.Channel, t.State, t.RidesTotal, t.RidesLeft, t.Window.From, t.Window.Until, t.IssuedAt, t.Code, sqlrow.IssueKey(r.Key), t.PaidFen, t.PaidBy).Scan(&t.ID)
	if err != nil {
		return t, fault.Wrap(err, "insert ticket")
	}
	if r.Channel == benefits.CodeChannel {
		if _, err := b.tx.Exec(ctx, `UPDATE redeem_codes SET ticket_id = $1, redeemed_by = $2, redeemed_at = $3 WHERE code = $4`, t.ID, r.Account, b.now, r.Code); err != nil {
			return t, fault.Wrap(err, "use code")
		}
		b.codeUsed[r.Code] = true
	}
	return t, nil
}

// save writes the issued counters of every campaign that issued, and the
// ticket counts of the accounts it issued to.
func (b *issueBatch) save(ctx context.Context) error {
	for _, is := range b.camps {
		if len(is.Holders()) == 0 {
			continue
		}
		if _, err := b.tx.Exec(ctx, `UPDATE campaigns SET issued = $1 WHERE id = $2`, is.Campaign.Issued, is.Campaign.ID); err != nil {
			return fault.Wrap(err, "count issued")
		}
		var accs []int64
		var counts []int32
		for acc, n := range is.Holders() {
			accs, counts = append(accs, acc), append(counts, int32(n))
		}
		if _, err := b.tx.Exec(ctx, `INSERT INTO campaign_holders (campaign_id, account_id, tickets) SELECT $1, a, n FROM unnest($2::bigint[], $3::int[]) AS x(a, n)
			ON CONFLICT (campaign_id, account_id) DO UPDATE SET tickets = excluded.tickets`, is.Campaign.ID, accs, counts); err != nil {
			return fault.Wrap(err, "count holders")
		}
	}
	return nil
}

// AddCodes stores a batch of codes, copied in.
func (s *benefitsStore) AddCodes(ctx context.Context, scope tenant.Scope, b *benefits.CodeBatch, codes []string) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := campaignIn(ctx, tx, scope, b.CampaignID, ""); err != nil {
			return err
		}
		b.Count = len(codes)
		if err := tx.QueryRow(ctx, `INSERT INTO redeem_code_batches (campaign_id, count, created_by, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			b.CampaignID, b.Count, b.CreatedBy, b.CreatedAt).Scan(&b.ID); err != nil {
			return fault.Wrap(err, "insert code batch")
		}
		rows := make([][]any, len(codes))
		for i, c := range codes {
			rows[i] = []any{c, b.ID, b.CampaignID, int32(i)}
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"redeem_codes"}, []string{"code", "batch_id", "campaign_id", "seq"}, pgx.CopyFromRows(rows))
		if kind, _ := violation(err); kind == sqlrow.Unique {
			return sqlrow.ErrCodeExists
		}
		return fault.Wrap(err, "copy codes")
	})
}

// CodeBatches lists a campaign's batches, newest first.
func (s *benefitsStore) CodeBatches(ctx context.Context, scope tenant.Scope, campaignID int64) ([]benefits.CodeBatch, error) {
	var out []benefits.CodeBatch
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		if _, err := campaignIn(ctx, tx, scope, campaignID, ""); err != nil {
			return err
		}
		var err error
		out, err = list(ctx, tx, "list code batches", sqlrow.ScanCodeBatch,
			`SELECT `+sqlrow.CodeBatchColumns+` FROM redeem_code_batches b WHERE b.campaign_id = $1 ORDER BY b.id DESC`, campaignID)
		return err
	})
	return out, err
}

// Codes calls fn for every code of a batch, in generation order.
func (s *benefitsStore) Codes(ctx context.Context, scope tenant.Scope, batchID int64, fn func(benefits.CodeRow) error) error {
	all, owner := sqlrow.SeenBy(scope)
	return s.readTx(ctx, func(tx pgx.Tx) error {
		if _, err := sqlrow.ScanOne[int](tx.QueryRow(ctx, `SELECT 1 FROM redeem_code_batches b JOIN campaigns c ON c.id = b.campaign_id
			WHERE b.id = $1 AND ($2 OR c.owner = $3)`, batchID, all, owner)); err != nil {
			return fault.Wrap(sqlrow.NoRowsAs(err, sqlrow.ErrBatchNotFound), "read code batch")
		}
		rows, err := tx.Query(ctx, `SELECT `+sqlrow.CodeRowColumns+` FROM redeem_codes WHERE batch_id = $1 ORDER BY seq`, batchID)
		if err != nil {
			return fault.Wrap(err, "list codes")
		}
		defer rows.Close()
		return sqlrow.EachCode(rows, fn)
	})
}

// Ticket returns one ticket.
func (s *benefitsStore) Ticket(ctx context.Context, id int64) (benefits.Ticket, error) {
	return sqlrow.ScanTicket(s.pool.QueryRow(ctx, `SELECT `+ticketCols+` FROM benefit_tickets WHERE id = $1`, id))
}

// Tickets lists an account's tickets, newest first.
func (s *benefitsStore) Tickets(ctx context.Context, holder int64) ([]benefits.Ticket, error) {
	return list(ctx, s.pool, "list tickets", sqlrow.ScanTicket, `SELECT `+ticketCols+` FROM benefit_tickets WHERE holder = $1 ORDER BY id DESC LIMIT 1000`, holder)
}

// CreateGift offers a ticket as a gift.
func (s *benefitsStore) CreateGift(ctx context.Context, g *benefits.Gift) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		t, err := sqlrow.ScanTicket(tx.QueryRow(ctx, `SELECT `+ticketCols+` FROM benefit_tickets WHERE id = $1 FOR UPDATE`, g.TicketID))
		if err != nil {
			return err
		}
		if err := t.CheckGift(g.Giver, g.CreatedAt); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE benefit_tickets SET state = $1 WHERE id = $2`, benefits.Gifting, t.ID); err != nil {
			return fault.Wrap(err, "mark ticket gifting")
		}
		g.State = benefits.GiftPending
		err = tx.QueryRow(ctx, `INSERT INTO gifts (token, ticket_id, giver, state, created_at, expires, body) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			g.Token, g.TicketID, g.Giver, g.State, g.CreatedAt, g.Expires, sqlrow.GiftBody(*g)).Scan(&g.ID)
		return fault.Wrap(err, "insert gift")
	})
}

// GiftByToken returns a gift by its token.
func (s *benefitsStore) GiftByToken(ctx context.Context, token string) (benefits.Gift, error) {
	return sqlrow.ScanGift(s.pool.QueryRow(ctx, `SELECT `+giftCols+` FROM gifts WHERE token = $1`, token))
}

// Gifts lists gifts an account gave or received, newest first.
func (s *benefitsStore) Gifts(ctx context.Context, account int64) ([]benefits.Gift, error) {
	return list(ctx, s.pool, "list gifts", sqlrow.ScanGift, `SELECT `+giftCols+` FROM gifts WHERE giver = $1 OR receiver = $1 ORDER BY id DESC LIMIT 500`, account)
}

// SettleGift moves a pending gift to state.
func (s *benefitsStore) SettleGift(ctx context.Context, token string, receiver int64, state benefits.GiftState, now time.Time) (benefits.Gift, error) {
	var g benefits.Gift
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if g, err = sqlrow.ScanGift(tx.QueryRow(ctx, `SELECT `+giftCols+` FROM gifts WHERE token = $1 FOR UPDATE`, token)); err != nil {
			return err
		}
		if err := benefits.CheckSettle(&g, receiver, state, now); err != nil {
			return err
		}
		holder := g.Giver
		if state == benefits.GiftAccepted {
			if _, err := sqlrow.ScanOne[int](tx.QueryRow(ctx, `SELECT 1 FROM accounts WHERE id = $1`, receiver)); err != nil {
				return fault.Wrap(sqlrow.NoRowsAs(err, sqlrow.ErrAccountNotFound), "read account")
			}
			holder = receiver
		}
		if _, err := tx.Exec(ctx, `UPDATE benefit_tickets SET state = $1, holder = $2 WHERE id = $3`, benefits.Held, holder, g.TicketID); err != nil {
			return fault.Wrap(err, "move ticket")
		}
		_, err = tx.Exec(ctx, `UPDATE gifts SET state = $1, receiver = $2, settled_at = $3 WHERE id = $4`, g.State, g.Receiver, g.SettledAt, g.ID)
		return fault.Wrap(err, "settle gift")
	})
	return g, err
}

// ExpiredGifts lists the tokens of pending gifts expired at now.
func (s *benefitsStore) ExpiredGifts(ctx context.Context, now time.Time, limit int) ([]string, error) {
	return list(ctx, s.pool, "list expired gifts", sqlrow.ScanOne[string],
		`SELECT token FROM gifts WHERE state = 'pending' AND expires <= $1 ORDER BY expires LIMIT $2`, now, max(limit, 1))
}

// Redeem applies benefits to a ride once. The ride ID is locked first (an
// advisory lock on its hash), then the account's tickets and their
// campaigns in ID order.
func (s *benefitsStore) Redeem(ctx context.Context, r benefits.Ride, account int64, now time.Time, choose benefits.Chooser) (benefits.Redemption, bool, error) {
	var red benefits.Redemption
	var replayed bool
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(3, hashtext($1))`, r.ID); err != nil {
			return fault.Wrap(err, "lock ride")
		}
		var err error
		red, err = redemptionIn(ctx, tx, r.ID)
		if replayed, err = sqlrow.Replayed(red, err, account); replayed || err != nil {
			return err
		}
		if r.Code != "" {
			// One dynamic ride code pays for one ride: lock the code, then look.
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(4, hashtext($1))`, r.Code); err != nil {
				return fault.Wrap(err, "lock ride code")
			}
			var other string
			switch err := tx.QueryRow(ctx, `SELECT ride_id FROM ride_redemptions WHERE code_id = $1`, r.Code).Scan(&other); {
			case err == nil:
				return benefits.ErrRideCodeUsed
			case !errors.Is(err, pgx.ErrNoRows):
				return fault.Wrap(err, "read ride code use")
			}
		}
		tickets, err := list(ctx, tx, "list tickets", sqlrow.ScanTicket, `SELECT `+ticketCols+` FROM benefit_tickets WHERE holder = $1 AND state = 'held' AND rides_left > 0 AND valid_from <= $2 AND valid_until > $2 ORDER BY id FOR UPDATE`, account, r.EnteredAt)
		if err != nil {
			return err
		}
		ids := make([]int64, len(tickets)) // repeats are one row to ANY
		for i, t := range tickets {
			ids[i] = t.CampaignID
		}
		camps, err := lockCampaigns(ctx, tx, ids)
		if err != nil {
			return err
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
			tag, err := tx.Exec(ctx, `UPDATE benefit_tickets SET rides_left = rides_left - 1,
				state = CASE WHEN rides_left = 1 THEN 'consumed' ELSE state END WHERE id = $1 AND rides_left > 0`, a.TicketID)
			if err != nil {
				return fault.Wrap(err, "use ticket")
			}
			if tag.RowsAffected() != 1 {
				return sqlrow.ErrTicketUsedUp
			}
			if _, err := tx.Exec(ctx, `UPDATE campaigns SET uses = uses + 1, spent = spent + $1 WHERE id = $2`, a.Saving, a.CampaignID); err != nil {
				return fault.Wrap(err, "count use")
			}
			if _, err := tx.Exec(ctx, `INSERT INTO ticket_uses (ride_id, ticket_id, campaign_id, saving, at) VALUES ($1, $2, $3, $4, $5)`,
				r.ID, a.TicketID, a.CampaignID, a.Saving, now); err != nil {
				return fault.Wrap(err, "record use")
			}
		}
		body, err := json.Marshal(red)
		if err != nil {
			return fault.Wrap(err, "encode redemption")
		}
		_, err = tx.Exec(ctx, `INSERT INTO ride_redemptions (ride_id, account_id, fare, net, at, body, code_id) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			r.ID, account, red.Fare, red.Net, now, body, sqlrow.RideCode(r))
		return fault.Wrap(err, "insert redemption")
	})
	return red, replayed, err
}

func redemptionIn(ctx context.Context, q pgQuerier, rideID string) (benefits.Redemption, error) {
	return sqlrow.ScanRedemption(q.QueryRow(ctx, `SELECT body FROM ride_redemptions WHERE ride_id = $1`, rideID))
}

// Redemption returns the redemption of a ride.
func (s *benefitsStore) Redemption(ctx context.Context, rideID string) (benefits.Redemption, error) {
	return redemptionIn(ctx, s.pool, rideID)
}

// Stats returns a campaign's numbers at now.
func (s *benefitsStore) Stats(ctx context.Context, scope tenant.Scope, campaignID int64, now time.Time) (benefits.Stats, error) {
	var st benefits.Stats
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		c, err := campaignIn(ctx, tx, scope, campaignID, "")
		if err != nil {
			return err
		}
		st = sqlrow.StatsOf(c, now)
		channels, err := list(ctx, tx, "count channels", sqlrow.ScanTally[benefits.Channel],
			`SELECT channel, count(*) FROM benefit_tickets WHERE campaign_id = $1 GROUP BY channel`, campaignID)
		if err != nil {
			return err
		}
		for _, ch := range channels {
			st.ByChannel[ch.Key] = ch.N
		}
		if st.Automatic {
			// No tickets: the settlement ledger's uses are the numbers.
			err = tx.QueryRow(ctx, `SELECT count(*), count(DISTINCT s.account), COALESCE(sum(u.saving), 0)
				FROM `+sqlrow.LedgerUses+` WHERE u.campaign_id = $1`, campaignID).Scan(&st.Rides, &st.Holders, &st.Spent)
			if err != nil {
				return fault.Wrap(err, "count settled uses")
			}
		} else {
			err = tx.QueryRow(ctx, `SELECT count(DISTINCT holder),
				COALESCE(sum(CASE WHEN rides_left < rides_total THEN 1 ELSE 0 END), 0),
				COALESCE(sum(rides_total - rides_left), 0),
				COALESCE(sum(CASE WHEN rides_left > 0 AND state <> 'revoked' AND valid_until <= $1 THEN 1 ELSE 0 END), 0)
				FROM benefit_tickets WHERE campaign_id = $2`, now, campaignID).Scan(&st.Holders, &st.Used, &st.Rides, &st.Expired)
			if err != nil {
				return fault.Wrap(err, "count tickets")
			}
		}
		err = tx.QueryRow(ctx, `SELECT count(*), count(ticket_id) FROM redeem_codes WHERE campaign_id = $1`, campaignID).Scan(&st.Codes, &st.CodesRedeemed)
		if err != nil {
			return fault.Wrap(err, "count codes")
		}
		issueHours := `SELECT date_trunc('hour', issued_at), count(*) FROM benefit_tickets WHERE campaign_id = $1 GROUP BY 1`
		if st.Automatic { // a rider is issued the benefit by their first benefited trip
			issueHours = `SELECT to_timestamp(first / 3600000 * 3600), count(*) FROM
				(SELECT min(s.at) AS first FROM ` + sqlrow.LedgerUses + ` WHERE u.campaign_id = $1 GROUP BY s.account) f GROUP BY 1`
		}
		// Each query of counts by hour, and whether it counts issues or rides.
		hourly := map[string]*benefits.HourCount{}
		for q, issued := range map[string]bool{
			`SELECT date_trunc('hour', at), count(*) FROM ticket_uses WHERE campaign_id = $1 GROUP BY 1`:                              false,
			`SELECT to_timestamp(s.at / 3600000 * 3600), count(*) FROM ` + sqlrow.LedgerUses + ` WHERE u.campaign_id = $1 GROUP BY 1`: false,
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
