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
)

// benefitsStore implements benefits.Store on PostgreSQL. Transactions that
// change a campaign's counters lock its row first (several in ID order), so
// concurrent processes issue and redeem against counters nobody else is
// changing, and never deadlock on each other.
type benefitsStore struct{ *DB }

var _ benefits.Store = (*benefitsStore)(nil)

var (
	errProductNotFound  = fault.New(fault.NotFound, "product_not_found", "产品不存在", "product not found")
	errCampaignNotFound = fault.New(fault.NotFound, "campaign_not_found", "活动不存在", "campaign not found")
	errTicketNotFound   = fault.New(fault.NotFound, "ticket_not_found", "票券不存在", "ticket not found")
	errGiftNotFound     = fault.New(fault.NotFound, "gift_not_found", "赠送不存在或已失效", "gift not found")
	errCodeNotFound     = fault.New(fault.NotFound, "code_not_found", "兑换码不存在", "no such redemption code")
	errCodeUsed         = fault.New(fault.Conflict, "code_used", "兑换码已被使用", "this redemption code has been used")
	errRideNotFound     = fault.New(fault.NotFound, "redemption_not_found", "该行程没有核销记录", "no redemption for this ride")
	errRideOtherAccount = fault.New(fault.Conflict, "ride_other_account", "该行程已由其他账户结算", "this ride was settled for another account")
)

// pgQuerier is a pool or a transaction.
type pgQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// CreateProduct stores a product, setting its ID.
func (s *benefitsStore) CreateProduct(ctx context.Context, p *benefits.Product) error {
	body, err := json.Marshal(p)
	if err != nil {
		return fault.Wrap(err, "encode product")
	}
	err = s.pool.QueryRow(ctx, `INSERT INTO benefit_products (owner, created_at, body) VALUES ($1, $2, $3) RETURNING id`, p.Owner, p.CreatedAt, body).Scan(&p.ID)
	return fault.Wrap(err, "insert product")
}

func scanProduct(id int64, body string) (benefits.Product, error) {
	var p benefits.Product
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		return p, fault.Wrap(err, "decode product")
	}
	p.ID = id
	return p, nil
}

// Product returns one product.
func (s *benefitsStore) Product(ctx context.Context, id int64) (benefits.Product, error) {
	return productIn(ctx, s.pool, id)
}

func productIn(ctx context.Context, q pgQuerier, id int64) (benefits.Product, error) {
	var body string
	err := q.QueryRow(ctx, `SELECT body FROM benefit_products WHERE id = $1`, id).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return benefits.Product{}, errProductNotFound
	}
	if err != nil {
		return benefits.Product{}, fault.Wrap(err, "read product")
	}
	return scanProduct(id, body)
}

// Products lists products newest first.
func (s *benefitsStore) Products(ctx context.Context, owner string) ([]benefits.Product, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, body FROM benefit_products WHERE $1 = '' OR owner = $1 ORDER BY id DESC LIMIT 1000`, owner)
	if err != nil {
		return nil, fault.Wrap(err, "list products")
	}
	defer rows.Close()
	var out []benefits.Product
	for rows.Next() {
		var id int64
		var body string
		if err := rows.Scan(&id, &body); err != nil {
			return nil, fault.Wrap(err, "scan product")
		}
		p, err := scanProduct(id, body)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, fault.Wrap(rows.Err(), "list products")
}

const campaignCols = `id, status, issued, uses, spent, updated_at, body`

func scanCampaign(row pgx.Row) (benefits.Campaign, error) {
	var c benefits.Campaign
	var id int64
	var status, body string
	var issued, uses int
	var spent int64
	var updated time.Time
	if err := row.Scan(&id, &status, &issued, &uses, &spent, &updated, &body); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return c, errCampaignNotFound
		}
		return c, fault.Wrap(err, "scan campaign")
	}
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		return c, fault.Wrap(err, "decode campaign")
	}
	c.ID, c.Status, c.Issued, c.Uses, c.Spent, c.UpdatedAt = id, benefits.Status(status), issued, uses, spent, updated.UTC()
	return c, nil
}

// campaignBody is what of a campaign is kept as JSON: all but the columns.
func campaignBody(c benefits.Campaign) ([]byte, error) {
	c.ID, c.Status, c.Issued, c.Uses, c.Spent = 0, "", 0, 0, 0
	b, err := json.Marshal(c)
	return b, fault.Wrap(err, "encode campaign")
}

// CreateCampaign stores a campaign with its first event.
func (s *benefitsStore) CreateCampaign(ctx context.Context, c *benefits.Campaign, e benefits.Event) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := productIn(ctx, tx, c.ProductID); err != nil {
			return err
		}
		body, err := campaignBody(*c)
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

// Campaign returns one campaign.
func (s *benefitsStore) Campaign(ctx context.Context, id int64) (benefits.Campaign, error) {
	return scanCampaign(s.pool.QueryRow(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = $1`, id))
}

// Campaigns lists campaigns newest first.
func (s *benefitsStore) Campaigns(ctx context.Context, f benefits.CampaignFilter) ([]benefits.Campaign, error) {
	statuses := make([]string, len(f.Statuses))
	for i, st := range f.Statuses {
		statuses[i] = string(st)
	}
	limit, offset := pageOf(f.Limit, f.Offset)
	rows, err := s.pool.Query(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE ($1 = '' OR owner = $1) AND (cardinality($2::text[]) = 0 OR status = ANY($2))
		ORDER BY id DESC LIMIT $3 OFFSET $4`, f.Owner, statuses, limit, offset)
	if err != nil {
		return nil, fault.Wrap(err, "list campaigns")
	}
	defer rows.Close()
	var out []benefits.Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, fault.Wrap(rows.Err(), "list campaigns")
}

// pageOf bounds a page: 100 by default, at most 1000.
func pageOf(limit, offset int) (int, int) {
	if limit <= 0 {
		limit = 100
	}
	return min(limit, 1000), max(offset, 0)
}

// Events returns a campaign's audit trail, oldest first.
func (s *benefitsStore) Events(ctx context.Context, campaignID int64) ([]benefits.Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, at, actor, action, from_status, to_status, reason FROM campaign_events WHERE campaign_id = $1 ORDER BY id`, campaignID)
	if err != nil {
		return nil, fault.Wrap(err, "list campaign events")
	}
	defer rows.Close()
	var out []benefits.Event
	for rows.Next() {
		e := benefits.Event{CampaignID: campaignID}
		if err := rows.Scan(&e.ID, &e.At, &e.By, &e.Action, &e.From, &e.To, &e.Reason); err != nil {
			return nil, fault.Wrap(err, "scan campaign event")
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	return out, fault.Wrap(rows.Err(), "list campaign events")
}

// UpdateCampaign runs fn on the campaign locked for update and stores it
// with fn's event.
func (s *benefitsStore) UpdateCampaign(ctx context.Context, id int64, fn func(*benefits.Campaign) (benefits.Event, error)) (benefits.Campaign, error) {
	var c benefits.Campaign
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if c, err = scanCampaign(tx.QueryRow(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = $1 FOR UPDATE`, id)); err != nil {
			return err
		}
		e, err := fn(&c)
		if err != nil {
			return err
		}
		body, err := campaignBody(c)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE campaigns SET status = $1, updated_at = $2, body = $3 WHERE id = $4`, c.Status, c.UpdatedAt, body, id); err != nil {
			return fault.Wrap(err, "update campaign")
		}
		e.CampaignID = id
		return addCampaignEvent(ctx, tx, e)
	})
	return c, err
}

// lockCampaigns locks and reads campaigns in ID order; missing ones are
// absent from the map.
func lockCampaigns(ctx context.Context, tx pgx.Tx, ids []int64) (map[int64]benefits.Campaign, error) {
	out := map[int64]benefits.Campaign{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := tx.Query(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids)
	if err != nil {
		return nil, fault.Wrap(err, "lock campaigns")
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, err
		}
		out[c.ID] = c
	}
	return out, fault.Wrap(rows.Err(), "lock campaigns")
}

// issuing is a campaign being issued from in one Issue transaction.
type issuing struct {
	c       benefits.Campaign
	p       benefits.Product
	issued0 int
	held    map[int64]int
	changed map[int64]bool
}

// Issue serves reqs in order in one transaction.
func (s *benefitsStore) Issue(ctx context.Context, now time.Time, reqs []benefits.IssueRequest) ([]benefits.IssueResult, error) {
	out := make([]benefits.IssueResult, len(reqs))
	err := s.tx(ctx, func(tx pgx.Tx) error {
		clear(out)
		// Resolve codes to campaigns, then lock every campaign involved.
		var codes []string
		var accounts []int64
		for _, r := range reqs {
			if r.Channel == benefits.CodeChannel {
				codes = append(codes, r.Code)
			}
			accounts = append(accounts, r.Account)
		}
		codeCampaign := map[string]int64{}
		codeUsed := map[string]bool{}
		if len(codes) > 0 {
			rows, err := tx.Query(ctx, `SELECT code, campaign_id, ticket_id IS NOT NULL FROM redeem_codes WHERE code = ANY($1) FOR UPDATE`, codes)
			if err != nil {
				return fault.Wrap(err, "read codes")
			}
			for rows.Next() {
				var code string
				var id int64
				var used bool
				if err := rows.Scan(&code, &id, &used); err != nil {
					rows.Close()
					return fault.Wrap(err, "scan code")
				}
				codeCampaign[code], codeUsed[code] = id, used
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fault.Wrap(err, "read codes")
			}
		}
		known := map[int64]bool{}
		rows, err := tx.Query(ctx, `SELECT id FROM accounts WHERE id = ANY($1)`, accounts)
		if err != nil {
			return fault.Wrap(err, "read accounts")
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fault.Wrap(err, "scan account")
			}
			known[id] = true
		}
		rows.Close()
		var ids []int64
		for _, r := range reqs {
			id := r.CampaignID
			if r.Channel == benefits.CodeChannel {
				id = codeCampaign[r.Code]
			}
			if id != 0 && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		locked, err := lockCampaigns(ctx, tx, ids)
		if err != nil {
			return err
		}
		camps := map[int64]*issuing{}
		for id, c := range locked {
			p, err := productIn(ctx, tx, c.ProductID)
			if err != nil {
				return err
			}
			camps[id] = &issuing{c: c, p: p, issued0: c.Issued, held: map[int64]int{}, changed: map[int64]bool{}}
		}
		for i, r := range reqs {
			campaignID := r.CampaignID
			if r.Channel == benefits.CodeChannel {
				id, ok := codeCampaign[r.Code]
				switch {
				case !ok:
					out[i].Err = errCodeNotFound
					continue
				case codeUsed[r.Code]:
					out[i].Err = errCodeUsed
					continue
				}
				campaignID = id
			}
			if r.Key != "" {
				t, err := scanBenefitTicket(tx.QueryRow(ctx, `SELECT `+ticketCols+` FROM benefit_tickets WHERE issue_key = $1`, r.Key))
				if err == nil {
					out[i] = benefits.IssueResult{Ticket: t, Again: true}
					continue
				} else if !fault.Is(err, fault.NotFound) {
					return err
				}
			}
			is := camps[campaignID]
			if is == nil {
				out[i].Err = errCampaignNotFound
				continue
			}
			if !known[r.Account] {
				out[i].Err = errAccountNotFound
				continue
			}
			n, ok := is.held[r.Account]
			if !ok {
				err := tx.QueryRow(ctx, `SELECT tickets FROM campaign_holders WHERE campaign_id = $1 AND account_id = $2`, is.c.ID, r.Account).Scan(&n)
				if err != nil && !errors.Is(err, pgx.ErrNoRows) {
					return fault.Wrap(err, "read holder")
				}
			}
			if err := is.c.CheckIssue(now, r.Channel, n); err != nil {
				is.held[r.Account] = n
				out[i].Err = err
				continue
			}
			t := benefits.NewTicket(is.c, is.p, r.Account, r.Channel, now)
			t.Code = r.Code
			err = tx.QueryRow(ctx, `INSERT INTO benefit_tickets (campaign_id, product_id, holder, channel, state, rides_total, rides_left, valid_from, valid_until, issued_at, code, issue_key)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
				t.CampaignID, t.ProductID, t.Holder, t.Channel, t.State, t.RidesTotal, t.RidesLeft, t.Window.From, t.Window.Until, t.IssuedAt, t.Code, issueKey(r.Key)).Scan(&t.ID)
			if err != nil {
				return fault.Wrap(err, "insert ticket")
			}
			if r.Channel == benefits.CodeChannel {
				if _, err := tx.Exec(ctx, `UPDATE redeem_codes SET ticket_id = $1, redeemed_by = $2, redeemed_at = $3 WHERE code = $4`, t.ID, r.Account, now, r.Code); err != nil {
					return fault.Wrap(err, "use code")
				}
				codeUsed[r.Code] = true
			}
			is.c.Issued++
			is.held[r.Account] = n + 1
			is.changed[r.Account] = true
			out[i].Ticket = t
		}
		for _, is := range camps {
			if is.c.Issued == is.issued0 {
				continue
			}
			if _, err := tx.Exec(ctx, `UPDATE campaigns SET issued = $1 WHERE id = $2`, is.c.Issued, is.c.ID); err != nil {
				return fault.Wrap(err, "count issued")
			}
			var accs []int64
			var counts []int32
			for acc := range is.changed {
				accs = append(accs, acc)
				counts = append(counts, int32(is.held[acc]))
			}
			if _, err := tx.Exec(ctx, `INSERT INTO campaign_holders (campaign_id, account_id, tickets) SELECT $1, a, n FROM unnest($2::bigint[], $3::int[]) AS x(a, n)
				ON CONFLICT (campaign_id, account_id) DO UPDATE SET tickets = excluded.tickets`, is.c.ID, accs, counts); err != nil {
				return fault.Wrap(err, "count holders")
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AddCodes stores a batch of codes, copied in.
func (s *benefitsStore) AddCodes(ctx context.Context, b *benefits.CodeBatch, codes []string) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM campaigns WHERE id = $1`, b.CampaignID).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
			return errCampaignNotFound
		} else if err != nil {
			return fault.Wrap(err, "read campaign")
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
		if identPgCode(err) == pgUniqueViolation {
			return fault.New(fault.Conflict, "code_exists", "兑换码重复", "a code of the batch exists already")
		}
		return fault.Wrap(err, "copy codes")
	})
}

// CodeBatches lists a campaign's batches, newest first.
func (s *benefitsStore) CodeBatches(ctx context.Context, campaignID int64) ([]benefits.CodeBatch, error) {
	rows, err := s.pool.Query(ctx, `SELECT b.id, b.count, b.created_by, b.created_at,
		(SELECT count(*) FROM redeem_codes c WHERE c.batch_id = b.id AND c.ticket_id IS NOT NULL)
		FROM redeem_code_batches b WHERE b.campaign_id = $1 ORDER BY b.id DESC`, campaignID)
	if err != nil {
		return nil, fault.Wrap(err, "list code batches")
	}
	defer rows.Close()
	var out []benefits.CodeBatch
	for rows.Next() {
		b := benefits.CodeBatch{CampaignID: campaignID}
		if err := rows.Scan(&b.ID, &b.Count, &b.CreatedBy, &b.CreatedAt, &b.Redeemed); err != nil {
			return nil, fault.Wrap(err, "scan code batch")
		}
		b.CreatedAt = b.CreatedAt.UTC()
		out = append(out, b)
	}
	return out, fault.Wrap(rows.Err(), "list code batches")
}

// Codes calls fn for every code of a batch, in generation order.
func (s *benefitsStore) Codes(ctx context.Context, batchID int64, fn func(benefits.CodeRow) error) error {
	return s.readTx(ctx, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM redeem_code_batches WHERE id = $1`, batchID).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
			return fault.New(fault.NotFound, "batch_not_found", "兑换码批次不存在", "code batch not found")
		} else if err != nil {
			return fault.Wrap(err, "read code batch")
		}
		rows, err := tx.Query(ctx, `SELECT code, COALESCE(ticket_id, 0), COALESCE(redeemed_by, 0), redeemed_at FROM redeem_codes WHERE batch_id = $1 ORDER BY seq`, batchID)
		if err != nil {
			return fault.Wrap(err, "list codes")
		}
		defer rows.Close()
		for rows.Next() {
			var r benefits.CodeRow
			var at *time.Time
			if err := rows.Scan(&r.Code, &r.TicketID, &r.RedeemedBy, &at); err != nil {
				return fault.Wrap(err, "scan code")
			}
			if at != nil {
				r.RedeemedAt = at.UTC()
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return fault.Wrap(rows.Err(), "list codes")
	})
}

const ticketCols = `id, campaign_id, product_id, holder, channel, state, rides_total, rides_left, valid_from, valid_until, issued_at, code`

func scanBenefitTicket(row pgx.Row) (benefits.Ticket, error) {
	var t benefits.Ticket
	err := row.Scan(&t.ID, &t.CampaignID, &t.ProductID, &t.Holder, &t.Channel, &t.State, &t.RidesTotal, &t.RidesLeft, &t.Window.From, &t.Window.Until, &t.IssuedAt, &t.Code)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, errTicketNotFound
	}
	t.Window.From, t.Window.Until, t.IssuedAt = t.Window.From.UTC(), t.Window.Until.UTC(), t.IssuedAt.UTC()
	return t, fault.Wrap(err, "scan ticket")
}

// Ticket returns one ticket.
func (s *benefitsStore) Ticket(ctx context.Context, id int64) (benefits.Ticket, error) {
	return scanBenefitTicket(s.pool.QueryRow(ctx, `SELECT `+ticketCols+` FROM benefit_tickets WHERE id = $1`, id))
}

// Tickets lists an account's tickets, newest first.
func (s *benefitsStore) Tickets(ctx context.Context, holder int64) ([]benefits.Ticket, error) {
	return benefitTicketsIn(ctx, s.pool, `SELECT `+ticketCols+` FROM benefit_tickets WHERE holder = $1 ORDER BY id DESC LIMIT 1000`, holder)
}

func benefitTicketsIn(ctx context.Context, q pgQuerier, query string, args ...any) ([]benefits.Ticket, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fault.Wrap(err, "list tickets")
	}
	defer rows.Close()
	var out []benefits.Ticket
	for rows.Next() {
		t, err := scanBenefitTicket(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, fault.Wrap(rows.Err(), "list tickets")
}

type giftBody struct {
	Cover   benefits.Cover `json:"cover"`
	Message string         `json:"message,omitempty"`
}

// CreateGift offers a ticket as a gift.
func (s *benefitsStore) CreateGift(ctx context.Context, g *benefits.Gift) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		t, err := scanBenefitTicket(tx.QueryRow(ctx, `SELECT `+ticketCols+` FROM benefit_tickets WHERE id = $1 FOR UPDATE`, g.TicketID))
		if err != nil {
			return err
		}
		if err := t.CheckGift(g.Giver, g.CreatedAt); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE benefit_tickets SET state = $1 WHERE id = $2`, benefits.Gifting, t.ID); err != nil {
			return fault.Wrap(err, "mark ticket gifting")
		}
		body, _ := json.Marshal(giftBody{g.Cover, g.Message})
		g.State = benefits.GiftPending
		err = tx.QueryRow(ctx, `INSERT INTO gifts (token, ticket_id, giver, state, created_at, expires, body) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			g.Token, g.TicketID, g.Giver, g.State, g.CreatedAt, g.Expires, body).Scan(&g.ID)
		return fault.Wrap(err, "insert gift")
	})
}

const giftCols = `id, token, ticket_id, giver, receiver, state, created_at, expires, settled_at, body`

func scanGift(row pgx.Row) (benefits.Gift, error) {
	var g benefits.Gift
	var settled *time.Time
	var body string
	err := row.Scan(&g.ID, &g.Token, &g.TicketID, &g.Giver, &g.Receiver, &g.State, &g.CreatedAt, &g.Expires, &settled, &body)
	if errors.Is(err, pgx.ErrNoRows) {
		return g, errGiftNotFound
	}
	if err != nil {
		return g, fault.Wrap(err, "scan gift")
	}
	var gb giftBody
	err = json.Unmarshal([]byte(body), &gb)
	g.Cover, g.Message = gb.Cover, gb.Message
	g.CreatedAt, g.Expires = g.CreatedAt.UTC(), g.Expires.UTC()
	if settled != nil {
		g.SettledAt = settled.UTC()
	}
	return g, fault.Wrap(err, "decode gift")
}

// GiftByToken returns a gift by its token.
func (s *benefitsStore) GiftByToken(ctx context.Context, token string) (benefits.Gift, error) {
	return scanGift(s.pool.QueryRow(ctx, `SELECT `+giftCols+` FROM gifts WHERE token = $1`, token))
}

// Gifts lists gifts an account gave or received, newest first.
func (s *benefitsStore) Gifts(ctx context.Context, account int64) ([]benefits.Gift, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+giftCols+` FROM gifts WHERE giver = $1 OR receiver = $1 ORDER BY id DESC LIMIT 500`, account)
	if err != nil {
		return nil, fault.Wrap(err, "list gifts")
	}
	defer rows.Close()
	var out []benefits.Gift
	for rows.Next() {
		g, err := scanGift(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, fault.Wrap(rows.Err(), "list gifts")
}

// SettleGift moves a pending gift to state.
func (s *benefitsStore) SettleGift(ctx context.Context, token string, receiver int64, state benefits.GiftState, now time.Time) (benefits.Gift, error) {
	var g benefits.Gift
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if g, err = scanGift(tx.QueryRow(ctx, `SELECT `+giftCols+` FROM gifts WHERE token = $1 FOR UPDATE`, token)); err != nil {
			return err
		}
		if err := benefits.CheckSettle(&g, receiver, state, now); err != nil {
			return err
		}
		if state == benefits.GiftAccepted {
			var one int
			if err := tx.QueryRow(ctx, `SELECT 1 FROM accounts WHERE id = $1`, receiver).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
				return errAccountNotFound
			} else if err != nil {
				return fault.Wrap(err, "read account")
			}
			_, err = tx.Exec(ctx, `UPDATE benefit_tickets SET state = $1, holder = $2 WHERE id = $3`, benefits.Held, receiver, g.TicketID)
			if err != nil {
				return fault.Wrap(err, "move ticket")
			}
		} else if _, err := tx.Exec(ctx, `UPDATE benefit_tickets SET state = $1, holder = $2 WHERE id = $3`, benefits.Held, g.Giver, g.TicketID); err != nil {
			return fault.Wrap(err, "return ticket")
		}
		_, err = tx.Exec(ctx, `UPDATE gifts SET state = $1, receiver = $2, settled_at = $3 WHERE id = $4`, g.State, g.Receiver, g.SettledAt, g.ID)
		return fault.Wrap(err, "settle gift")
	})
	return g, err
}

// ExpiredGifts lists the tokens of pending gifts expired at now.
func (s *benefitsStore) ExpiredGifts(ctx context.Context, now time.Time, limit int) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT token FROM gifts WHERE state = 'pending' AND expires <= $1 ORDER BY expires LIMIT $2`, now, max(limit, 1))
	if err != nil {
		return nil, fault.Wrap(err, "list expired gifts")
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fault.Wrap(err, "scan gift token")
		}
		out = append(out, t)
	}
	return out, fault.Wrap(rows.Err(), "list expired gifts")
}

// Redeem applies benefits to a ride once. The ride ID is locked first (an
// advisory lock on its hash), then the account's tickets and their
// campaigns in ID order.
func (s *benefitsStore) Redeem(ctx context.Context, r benefits.Ride, account int64, now time.Time, choose benefits.Chooser) (benefits.Redemption, bool, error) {
	var red benefits.Redemption
	replayed := false
	err := s.tx(ctx, func(tx pgx.Tx) error {
		replayed = false
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(3, hashtext($1))`, r.ID); err != nil {
			return fault.Wrap(err, "lock ride")
		}
		var err error
		if red, err = redemptionIn(ctx, tx, r.ID); err == nil {
			if red.Account != account {
				return errRideOtherAccount
			}
			replayed = true
			return nil
		} else if !fault.Is(err, fault.NotFound) {
			return err
		}
		tickets, err := benefitTicketsIn(ctx, tx, `SELECT `+ticketCols+` FROM benefit_tickets WHERE holder = $1 AND state = 'held' AND rides_left > 0 AND valid_from <= $2 AND valid_until > $2 ORDER BY id FOR UPDATE`, account, r.EnteredAt)
		if err != nil {
			return err
		}
		var ids []int64
		for _, t := range tickets {
			if !slices.Contains(ids, t.CampaignID) {
				ids = append(ids, t.CampaignID)
			}
		}
		camps, err := lockCampaigns(ctx, tx, ids)
		if err != nil {
			return err
		}
		products := map[int64]benefits.Product{}
		cands := make([]benefits.Benefit, 0, len(tickets))
		for _, t := range tickets {
			p, ok := products[t.ProductID]
			if !ok {
				if p, err = productIn(ctx, tx, t.ProductID); err != nil {
					return err
				}
				products[t.ProductID] = p
			}
			cands = append(cands, benefits.TicketBenefit(t, p))
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
				return fault.New(fault.Conflict, "ticket_used_up", "票券已用完", "the ticket has no rides left")
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
		_, err = tx.Exec(ctx, `INSERT INTO ride_redemptions (ride_id, account_id, fare, net, at, body) VALUES ($1, $2, $3, $4, $5, $6)`,
			r.ID, account, red.Fare, red.Net, now, body)
		return fault.Wrap(err, "insert redemption")
	})
	return red, replayed, err
}

func redemptionIn(ctx context.Context, q pgQuerier, rideID string) (benefits.Redemption, error) {
	var red benefits.Redemption
	var body string
	err := q.QueryRow(ctx, `SELECT body FROM ride_redemptions WHERE ride_id = $1`, rideID).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return red, errRideNotFound
	}
	if err != nil {
		return red, fault.Wrap(err, "read redemption")
	}
	return red, fault.Wrap(json.Unmarshal([]byte(body), &red), "decode redemption")
}

// Redemption returns the redemption of a ride.
func (s *benefitsStore) Redemption(ctx context.Context, rideID string) (benefits.Redemption, error) {
	return redemptionIn(ctx, s.pool, rideID)
}

// campaignLedgerUses joins the settlement ledger's benefit uses (u) to
// their ledger lines (s), which say whose trip it was and when it began.
const campaignLedgerUses = `metro_benefit_uses u JOIN metro_settlements s ON s.trip_seq = u.trip_seq`

// Stats returns a campaign's numbers at now.
func (s *benefitsStore) Stats(ctx context.Context, campaignID int64, now time.Time) (benefits.Stats, error) {
	var st benefits.Stats
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		c, err := scanCampaign(tx.QueryRow(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = $1`, campaignID))
		if err != nil {
			return err
		}
		st = benefits.Stats{CampaignID: c.ID, Status: c.Effective(now), Stock: c.Stock, Issued: c.Issued, Spent: c.Spent, ByChannel: map[benefits.Channel]int{}, At: now}
		rows, err := tx.Query(ctx, `SELECT channel, count(*) FROM benefit_tickets WHERE campaign_id = $1 GROUP BY channel`, campaignID)
		if err != nil {
			return fault.Wrap(err, "count channels")
		}
		for rows.Next() {
			var ch benefits.Channel
			var n int
			if err := rows.Scan(&ch, &n); err != nil {
				rows.Close()
				return fault.Wrap(err, "scan channel count")
			}
			st.ByChannel[ch] = n
		}
		rows.Close()
		if st.Automatic = c.Automatic(); st.Automatic {
			// No tickets: the settlement ledger's uses are the numbers.
			err = tx.QueryRow(ctx, `SELECT count(*), count(DISTINCT s.account), COALESCE(sum(u.saving), 0)
				FROM `+campaignLedgerUses+` WHERE u.campaign_id = $1`, campaignID).Scan(&st.Rides, &st.Holders, &st.Spent)
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
		type hourQuery struct {
			sql   string
			issue bool
		}
		queries := []hourQuery{
			{`SELECT date_trunc('hour', at), count(*) FROM ticket_uses WHERE campaign_id = $1 GROUP BY 1`, false},
			{`SELECT to_timestamp(s.at / 3600000 * 3600), count(*) FROM ` + campaignLedgerUses + ` WHERE u.campaign_id = $1 GROUP BY 1`, false},
		}
		if st.Automatic { // a rider is issued the benefit by their first benefited trip
			queries = append(queries, hourQuery{`SELECT to_timestamp(first / 3600000 * 3600), count(*) FROM
				(SELECT min(s.at) AS first FROM ` + campaignLedgerUses + ` WHERE u.campaign_id = $1 GROUP BY s.account) f GROUP BY 1`, true})
		} else {
			queries = append(queries, hourQuery{`SELECT date_trunc('hour', issued_at), count(*) FROM benefit_tickets WHERE campaign_id = $1 GROUP BY 1`, true})
		}
		hourly := map[string]*benefits.HourCount{}
		for _, q := range queries {
			rows, err := tx.Query(ctx, q.sql, campaignID)
			if err != nil {
				return fault.Wrap(err, "count hours")
			}
			for rows.Next() {
				var h time.Time
				var n int
				if err := rows.Scan(&h, &n); err != nil {
					rows.Close()
					return fault.Wrap(err, "scan hour")
				}
				key := h.UTC().Format("2006-01-02T15")
				hc := hourly[key]
				if hc == nil {
					hc = &benefits.HourCount{Hour: h.In(benefits.Shanghai)}
					hourly[key] = hc
				}
				if q.issue {
					hc.Issued += n
				} else {
					hc.Rides += n
				}
			}
			rows.Close()
		}
		st.Hourly = benefits.SortedHours(hourly)
		st.Finish()
		return nil
	})
	return st, err
}

// issueKey is an issue's idempotency key as stored: NULL when there is
// none, so the unique index leaves keyless tickets alone.
func issueKey(k string) any {
	if k == "" {
		return nil
	}
	return k
}
