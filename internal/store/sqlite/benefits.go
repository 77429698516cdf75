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
)

// benefitsStore implements benefits.Store on SQLite. Writes run on the
// single writer connection, so a transaction's reads of counters are not
// raced by another writer.
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

// CreateProduct stores a product, setting its ID.
func (s *benefitsStore) CreateProduct(ctx context.Context, p *benefits.Product) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		body, err := json.Marshal(p)
		if err != nil {
			return fault.Wrap(err, "encode product")
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO benefit_products (owner, created_at, body) VALUES (?, ?, ?) RETURNING id`,
			p.Owner, formatTime(p.CreatedAt), body).Scan(&p.ID)
		return fault.Wrap(err, "insert product")
	})
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
	return productIn(ctx, s.read, id)
}

func productIn(ctx context.Context, q rowQueryer, id int64) (benefits.Product, error) {
	var body string
	err := q.QueryRowContext(ctx, `SELECT body FROM benefit_products WHERE id = ?`, id).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return benefits.Product{}, errProductNotFound
	}
	if err != nil {
		return benefits.Product{}, fault.Wrap(err, "read product")
	}
	return scanProduct(id, body)
}

// Products lists products newest first.
func (s *benefitsStore) Products(ctx context.Context, owner string) ([]benefits.Product, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, body FROM benefit_products WHERE ? = '' OR owner = ? ORDER BY id DESC LIMIT 1000`, owner, owner)
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

func scanCampaign(row interface{ Scan(...any) error }) (benefits.Campaign, error) {
	var c benefits.Campaign
	var id int64
	var status, updated, body string
	var issued, uses int
	var spent int64
	if err := row.Scan(&id, &status, &issued, &uses, &spent, &updated, &body); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return c, errCampaignNotFound
		}
		return c, fault.Wrap(err, "scan campaign")
	}
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		return c, fault.Wrap(err, "decode campaign")
	}
	c.ID, c.Status, c.Issued, c.Uses, c.Spent = id, benefits.Status(status), issued, uses, spent
	var err error
	c.UpdatedAt, err = parseTime(updated)
	return c, fault.Wrap(err, "decode campaign time")
}

// campaignBody is what of a campaign is kept as JSON: all but the columns.
func campaignBody(c benefits.Campaign) ([]byte, error) {
	c.ID, c.Status, c.Issued, c.Uses, c.Spent = 0, "", 0, 0, 0
	b, err := json.Marshal(c)
	return b, fault.Wrap(err, "encode campaign")
}

// CreateCampaign stores a campaign with its first event.
func (s *benefitsStore) CreateCampaign(ctx context.Context, c *benefits.Campaign, e benefits.Event) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := productIn(ctx, tx, c.ProductID); err != nil {
			return err
		}
		body, err := campaignBody(*c)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO campaigns (product_id, owner, status, updated_at, body) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			c.ProductID, c.Owner, c.Status, formatTime(c.UpdatedAt), body).Scan(&c.ID)
		if err != nil {
			return fault.Wrap(err, "insert campaign")
		}
		e.CampaignID = c.ID
		return addCampaignEvent(ctx, tx, e)
	})
}

func addCampaignEvent(ctx context.Context, tx *sql.Tx, e benefits.Event) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO campaign_events (campaign_id, at, actor, action, from_status, to_status, reason) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.CampaignID, formatTime(e.At), e.By, e.Action, e.From, e.To, e.Reason)
	return fault.Wrap(err, "insert campaign event")
}

// Campaign returns one campaign.
func (s *benefitsStore) Campaign(ctx context.Context, id int64) (benefits.Campaign, error) {
	return scanCampaign(s.read.QueryRowContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = ?`, id))
}

// Campaigns lists campaigns newest first.
func (s *benefitsStore) Campaigns(ctx context.Context, f benefits.CampaignFilter) ([]benefits.Campaign, error) {
	q := `SELECT ` + campaignCols + ` FROM campaigns WHERE (? = '' OR owner = ?)`
	args := []any{f.Owner, f.Owner}
	if len(f.Statuses) > 0 {
		q += ` AND status IN (?` + strings.Repeat(", ?", len(f.Statuses)-1) + `)`
		for _, st := range f.Statuses {
			args = append(args, string(st))
		}
	}
	limit, offset := pageOf(f.Limit, f.Offset)
	q += ` ORDER BY id DESC LIMIT ? OFFSET ?`
	args = append(args, limit, offset)
	rows, err := s.read.QueryContext(ctx, q, args...)
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
	rows, err := s.read.QueryContext(ctx, `SELECT id, at, actor, action, from_status, to_status, reason FROM campaign_events WHERE campaign_id = ? ORDER BY id`, campaignID)
	if err != nil {
		return nil, fault.Wrap(err, "list campaign events")
	}
	defer rows.Close()
	var out []benefits.Event
	for rows.Next() {
		e := benefits.Event{CampaignID: campaignID}
		var at string
		if err := rows.Scan(&e.ID, &at, &e.By, &e.Action, &e.From, &e.To, &e.Reason); err != nil {
			return nil, fault.Wrap(err, "scan campaign event")
		}
		if e.At, err = parseTime(at); err != nil {
			return nil, fault.Wrap(err, "decode event time")
		}
		out = append(out, e)
	}
	return out, fault.Wrap(rows.Err(), "list campaign events")
}

// UpdateCampaign runs fn on the campaign and stores it with fn's event.
func (s *benefitsStore) UpdateCampaign(ctx context.Context, id int64, fn func(*benefits.Campaign) (benefits.Event, error)) (benefits.Campaign, error) {
	var c benefits.Campaign
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if c, err = scanCampaign(tx.QueryRowContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = ?`, id)); err != nil {
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
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = ?, updated_at = ?, body = ? WHERE id = ?`, c.Status, formatTime(c.UpdatedAt), body, id); err != nil {
			return fault.Wrap(err, "update campaign")
		}
		e.CampaignID = id
		return addCampaignEvent(ctx, tx, e)
	})
	return c, err
}

// issuing is a campaign being issued from in one Issue transaction.
type issuing struct {
	c       benefits.Campaign
	p       benefits.Product
	issued0 int
	held    map[int64]int // tickets per account, loaded on first use
	changed map[int64]bool
}

// Issue serves reqs in order in one transaction.
func (s *benefitsStore) Issue(ctx context.Context, now time.Time, reqs []benefits.IssueRequest) ([]benefits.IssueResult, error) {
	out := make([]benefits.IssueResult, len(reqs))
	err := s.tx(ctx, func(tx *sql.Tx) error {
		camps := map[int64]*issuing{}
		load := func(id int64) (*issuing, error) {
			if is := camps[id]; is != nil {
				return is, nil
			}
			c, err := scanCampaign(tx.QueryRowContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = ?`, id))
			if err != nil {
				return nil, err
			}
			p, err := productIn(ctx, tx, c.ProductID)
			if err != nil {
				return nil, err
			}
			is := &issuing{c: c, p: p, issued0: c.Issued, held: map[int64]int{}, changed: map[int64]bool{}}
			camps[id] = is
			return is, nil
		}
		held := func(is *issuing, account int64) (int, error) {
			if n, ok := is.held[account]; ok {
				return n, nil
			}
			var n int
			err := tx.QueryRowContext(ctx, `SELECT tickets FROM campaign_holders WHERE campaign_id = ? AND account_id = ?`, is.c.ID, account).Scan(&n)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return 0, fault.Wrap(err, "read holder")
			}
			is.held[account] = n
			return n, nil
		}
		for i, r := range reqs {
			campaignID := r.CampaignID
			if r.Channel == benefits.CodeChannel {
				var tid sql.NullInt64
				err := tx.QueryRowContext(ctx, `SELECT campaign_id, ticket_id FROM redeem_codes WHERE code = ?`, r.Code).Scan(&campaignID, &tid)
				switch {
				case errors.Is(err, sql.ErrNoRows):
					out[i].Err = errCodeNotFound
					continue
				case err != nil:
					return fault.Wrap(err, "read code")
				case tid.Valid:
					out[i].Err = errCodeUsed
					continue
				}
			}
			if r.Key != "" {
				t, err := scanBenefitTicket(tx.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM benefit_tickets WHERE issue_key = ?`, r.Key))
				if err == nil {
					out[i] = benefits.IssueResult{Ticket: t, Again: true}
					continue
				} else if !fault.Is(err, fault.NotFound) {
					return err
				}
			}
			is, err := load(campaignID)
			if fault.Is(err, fault.NotFound) {
				out[i].Err = err
				continue
			} else if err != nil {
				return err
			}
			n, err := held(is, r.Account)
			if err != nil {
				return err
			}
			if err := is.c.CheckIssue(now, r.Channel, n); err != nil {
				out[i].Err = err
				continue
			}
			t := benefits.NewTicket(is.c, is.p, r.Account, r.Channel, now)
			t.Code = r.Code
			err = tx.QueryRowContext(ctx, `INSERT INTO benefit_tickets (campaign_id, product_id, holder, channel, state, rides_total, rides_left, valid_from, valid_until, issued_at, code, issue_key)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				t.CampaignID, t.ProductID, t.Holder, t.Channel, t.State, t.RidesTotal, t.RidesLeft,
				formatTime(t.Window.From), formatTime(t.Window.Until), formatTime(t.IssuedAt), t.Code, issueKey(r.Key)).Scan(&t.ID)
			if err != nil {
				if strings.Contains(err.Error(), "FOREIGN KEY") {
					out[i].Err = fault.New(fault.NotFound, "account_not_found", "账号不存在", "account not found")
					continue
				}
				return fault.Wrap(err, "insert ticket")
			}
			if r.Channel == benefits.CodeChannel {
				if _, err := tx.ExecContext(ctx, `UPDATE redeem_codes SET ticket_id = ?, redeemed_by = ?, redeemed_at = ? WHERE code = ?`,
					t.ID, r.Account, formatTime(now), r.Code); err != nil {
					return fault.Wrap(err, "use code")
				}
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
			if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET issued = ? WHERE id = ?`, is.c.Issued, is.c.ID); err != nil {
				return fault.Wrap(err, "count issued")
			}
			for acc := range is.changed {
				if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_holders (campaign_id, account_id, tickets) VALUES (?, ?, ?)
					ON CONFLICT (campaign_id, account_id) DO UPDATE SET tickets = excluded.tickets`, is.c.ID, acc, is.held[acc]); err != nil {
					return fault.Wrap(err, "count holder")
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AddCodes stores a batch of codes.
func (s *benefitsStore) AddCodes(ctx context.Context, b *benefits.CodeBatch, codes []string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM campaigns WHERE id = ?`, b.CampaignID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return errCampaignNotFound
		} else if err != nil {
			return fault.Wrap(err, "read campaign")
		}
		b.Count = len(codes)
		if err := tx.QueryRowContext(ctx, `INSERT INTO redeem_code_batches (campaign_id, count, created_by, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			b.CampaignID, b.Count, b.CreatedBy, formatTime(b.CreatedAt)).Scan(&b.ID); err != nil {
			return fault.Wrap(err, "insert code batch")
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO redeem_codes (code, batch_id, campaign_id, seq) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return fault.Wrap(err, "prepare codes")
		}
		defer st.Close()
		for i, c := range codes {
			if _, err := st.ExecContext(ctx, c, b.ID, b.CampaignID, i); err != nil {
				if strings.Contains(err.Error(), "UNIQUE") {
					return fault.New(fault.Conflict, "code_exists", "兑换码重复", "a code of the batch exists already")
				}
				return fault.Wrap(err, "insert code")
			}
		}
		return nil
	})
}

// CodeBatches lists a campaign's batches, newest first.
func (s *benefitsStore) CodeBatches(ctx context.Context, campaignID int64) ([]benefits.CodeBatch, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT b.id, b.count, b.created_by, b.created_at,
		(SELECT count(*) FROM redeem_codes c WHERE c.batch_id = b.id AND c.ticket_id IS NOT NULL)
		FROM redeem_code_batches b WHERE b.campaign_id = ? ORDER BY b.id DESC`, campaignID)
	if err != nil {
		return nil, fault.Wrap(err, "list code batches")
	}
	defer rows.Close()
	var out []benefits.CodeBatch
	for rows.Next() {
		b := benefits.CodeBatch{CampaignID: campaignID}
		var at string
		if err := rows.Scan(&b.ID, &b.Count, &b.CreatedBy, &at, &b.Redeemed); err != nil {
			return nil, fault.Wrap(err, "scan code batch")
		}
		if b.CreatedAt, err = parseTime(at); err != nil {
			return nil, fault.Wrap(err, "decode batch time")
		}
		out = append(out, b)
	}
	return out, fault.Wrap(rows.Err(), "list code batches")
}

// Codes calls fn for every code of a batch, in generation order.
func (s *benefitsStore) Codes(ctx context.Context, batchID int64, fn func(benefits.CodeRow) error) error {
	return s.readTx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM redeem_code_batches WHERE id = ?`, batchID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return fault.New(fault.NotFound, "batch_not_found", "兑换码批次不存在", "code batch not found")
		} else if err != nil {
			return fault.Wrap(err, "read code batch")
		}
		rows, err := tx.QueryContext(ctx, `SELECT code, COALESCE(ticket_id, 0), COALESCE(redeemed_by, 0), COALESCE(redeemed_at, '') FROM redeem_codes WHERE batch_id = ? ORDER BY seq`, batchID)
		if err != nil {
			return fault.Wrap(err, "list codes")
		}
		defer rows.Close()
		for rows.Next() {
			var r benefits.CodeRow
			var at string
			if err := rows.Scan(&r.Code, &r.TicketID, &r.RedeemedBy, &at); err != nil {
				return fault.Wrap(err, "scan code")
			}
			if at != "" {
				if r.RedeemedAt, err = parseTime(at); err != nil {
					return fault.Wrap(err, "decode code time")
				}
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return fault.Wrap(rows.Err(), "list codes")
	})
}

const ticketCols = `id, campaign_id, product_id, holder, channel, state, rides_total, rides_left, valid_from, valid_until, issued_at, code`

func scanBenefitTicket(row interface{ Scan(...any) error }) (benefits.Ticket, error) {
	var t benefits.Ticket
	var from, until, issued string
	err := row.Scan(&t.ID, &t.CampaignID, &t.ProductID, &t.Holder, &t.Channel, &t.State, &t.RidesTotal, &t.RidesLeft, &from, &until, &issued, &t.Code)
	if errors.Is(err, sql.ErrNoRows) {
		return t, errTicketNotFound
	}
	if err != nil {
		return t, fault.Wrap(err, "scan ticket")
	}
	var e1, e2, e3 error
	t.Window.From, e1 = parseTime(from)
	t.Window.Until, e2 = parseTime(until)
	t.IssuedAt, e3 = parseTime(issued)
	return t, fault.Wrap(errors.Join(e1, e2, e3), "decode ticket times")
}

// Ticket returns one ticket.
func (s *benefitsStore) Ticket(ctx context.Context, id int64) (benefits.Ticket, error) {
	return scanBenefitTicket(s.read.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM benefit_tickets WHERE id = ?`, id))
}

// Tickets lists an account's tickets, newest first.
func (s *benefitsStore) Tickets(ctx context.Context, holder int64) ([]benefits.Ticket, error) {
	return benefitTicketsIn(ctx, s.read, `SELECT `+ticketCols+` FROM benefit_tickets WHERE holder = ? ORDER BY id DESC LIMIT 1000`, holder)
}

func benefitTicketsIn(ctx context.Context, q rowQueryer, query string, args ...any) ([]benefits.Ticket, error) {
	rows, err := q.QueryContext(ctx, query, args...)
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
	return s.tx(ctx, func(tx *sql.Tx) error {
		t, err := scanBenefitTicket(tx.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM benefit_tickets WHERE id = ?`, g.TicketID))
		if err != nil {
			return err
		}
		if err := t.CheckGift(g.Giver, g.CreatedAt); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE benefit_tickets SET state = ? WHERE id = ?`, benefits.Gifting, t.ID); err != nil {
			return fault.Wrap(err, "mark ticket gifting")
		}
		body, _ := json.Marshal(giftBody{g.Cover, g.Message})
		g.State = benefits.GiftPending
		err = tx.QueryRowContext(ctx, `INSERT INTO gifts (token, ticket_id, giver, state, created_at, expires, body) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			g.Token, g.TicketID, g.Giver, g.State, formatTime(g.CreatedAt), formatTime(g.Expires), body).Scan(&g.ID)
		return fault.Wrap(err, "insert gift")
	})
}

const giftCols = `id, token, ticket_id, giver, receiver, state, created_at, expires, settled_at, body`

func scanGift(row interface{ Scan(...any) error }) (benefits.Gift, error) {
	var g benefits.Gift
	var created, expires, settled, body string
	err := row.Scan(&g.ID, &g.Token, &g.TicketID, &g.Giver, &g.Receiver, &g.State, &created, &expires, &settled, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return g, errGiftNotFound
	}
	if err != nil {
		return g, fault.Wrap(err, "scan gift")
	}
	var gb giftBody
	e0 := json.Unmarshal([]byte(body), &gb)
	g.Cover, g.Message = gb.Cover, gb.Message
	var e1, e2, e3 error
	g.CreatedAt, e1 = parseTime(created)
	g.Expires, e2 = parseTime(expires)
	if settled != "" {
		g.SettledAt, e3 = parseTime(settled)
	}
	return g, fault.Wrap(errors.Join(e0, e1, e2, e3), "decode gift")
}

// GiftByToken returns a gift by its token.
func (s *benefitsStore) GiftByToken(ctx context.Context, token string) (benefits.Gift, error) {
	return scanGift(s.read.QueryRowContext(ctx, `SELECT `+giftCols+` FROM gifts WHERE token = ?`, token))
}

// Gifts lists gifts an account gave or received, newest first.
func (s *benefitsStore) Gifts(ctx context.Context, account int64) ([]benefits.Gift, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+giftCols+` FROM gifts WHERE giver = ? OR receiver = ? ORDER BY id DESC LIMIT 500`, account, account)
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
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if g, err = scanGift(tx.QueryRowContext(ctx, `SELECT `+giftCols+` FROM gifts WHERE token = ?`, token)); err != nil {
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
		_, err = tx.ExecContext(ctx, `UPDATE gifts SET state = ?, receiver = ?, settled_at = ? WHERE id = ?`, g.State, g.Receiver, formatTime(g.SettledAt), g.ID)
		return fault.Wrap(err, "settle gift")
	})
	return g, err
}

// ExpiredGifts lists the tokens of pending gifts expired at now.
func (s *benefitsStore) ExpiredGifts(ctx context.Context, now time.Time, limit int) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT token FROM gifts WHERE state = 'pending' AND expires <= ? ORDER BY expires LIMIT ?`, formatTime(now), max(limit, 1))
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

// Redeem applies benefits to a ride once.
func (s *benefitsStore) Redeem(ctx context.Context, r benefits.Ride, account int64, now time.Time, choose benefits.Chooser) (benefits.Redemption, bool, error) {
	var red benefits.Redemption
	replayed := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
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
		at := formatTime(r.EnteredAt)
		tickets, err := benefitTicketsIn(ctx, tx, `SELECT `+ticketCols+` FROM benefit_tickets WHERE holder = ? AND state = 'held' AND rides_left > 0 AND valid_from <= ? AND valid_until > ?`, account, at, at)
		if err != nil {
			return err
		}
		cands := make([]benefits.Benefit, 0, len(tickets))
		camps := map[int64]benefits.Campaign{}
		products := map[int64]benefits.Product{}
		for _, t := range tickets {
			p, ok := products[t.ProductID]
			if !ok {
				if p, err = productIn(ctx, tx, t.ProductID); err != nil {
					return err
				}
				products[t.ProductID] = p
			}
			if _, ok := camps[t.CampaignID]; !ok {
				c, err := scanCampaign(tx.QueryRowContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = ?`, t.CampaignID))
				if err != nil {
					return err
				}
				camps[t.CampaignID] = c
			}
			cands = append(cands, benefits.TicketBenefit(t, p))
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
				return fault.New(fault.Conflict, "ticket_used_up", "票券已用完", "the ticket has no rides left")
			}
			if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET uses = uses + 1, spent = spent + ? WHERE id = ?`, a.Saving, a.CampaignID); err != nil {
				return fault.Wrap(err, "count use")
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_uses (ride_id, ticket_id, campaign_id, saving, at) VALUES (?, ?, ?, ?, ?)`,
				r.ID, a.TicketID, a.CampaignID, a.Saving, formatTime(now)); err != nil {
				return fault.Wrap(err, "record use")
			}
		}
		body, err := json.Marshal(red)
		if err != nil {
			return fault.Wrap(err, "encode redemption")
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO ride_redemptions (ride_id, account_id, fare, net, at, body) VALUES (?, ?, ?, ?, ?, ?)`,
			r.ID, account, red.Fare, red.Net, formatTime(now), body)
		return fault.Wrap(err, "insert redemption")
	})
	return red, replayed, err
}

func redemptionIn(ctx context.Context, q rowQueryer, rideID string) (benefits.Redemption, error) {
	var red benefits.Redemption
	var body string
	err := q.QueryRowContext(ctx, `SELECT body FROM ride_redemptions WHERE ride_id = ?`, rideID).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return red, errRideNotFound
	}
	if err != nil {
		return red, fault.Wrap(err, "read redemption")
	}
	return red, fault.Wrap(json.Unmarshal([]byte(body), &red), "decode redemption")
}

// Redemption returns the redemption of a ride.
func (s *benefitsStore) Redemption(ctx context.Context, rideID string) (benefits.Redemption, error) {
	return redemptionIn(ctx, s.read, rideID)
}

// campaignLedgerUses joins the settlement ledger's benefit uses (u) to
// their ledger lines (s), which say whose trip it was and when it began.
const campaignLedgerUses = `metro_benefit_uses u JOIN metro_settlements s ON s.trip_seq = u.trip_seq`

// Stats returns a campaign's numbers at now.
func (s *benefitsStore) Stats(ctx context.Context, campaignID int64, now time.Time) (benefits.Stats, error) {
	var st benefits.Stats
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		c, err := scanCampaign(tx.QueryRowContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = ?`, campaignID))
		if err != nil {
			return err
		}
		st = benefits.Stats{CampaignID: c.ID, Status: c.Effective(now), Stock: c.Stock, Issued: c.Issued, Spent: c.Spent, ByChannel: map[benefits.Channel]int{}, At: now}
		rows, err := tx.QueryContext(ctx, `SELECT channel, count(*) FROM benefit_tickets WHERE campaign_id = ? GROUP BY channel`, campaignID)
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
			err = tx.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT s.account), COALESCE(sum(u.saving), 0)
				FROM `+campaignLedgerUses+` WHERE u.campaign_id = ?`, campaignID).Scan(&st.Rides, &st.Holders, &st.Spent)
			if err != nil {
				return fault.Wrap(err, "count settled uses")
			}
		} else {
			err = tx.QueryRowContext(ctx, `SELECT count(DISTINCT holder),
				COALESCE(sum(CASE WHEN rides_left < rides_total THEN 1 ELSE 0 END), 0),
				COALESCE(sum(rides_total - rides_left), 0),
				COALESCE(sum(CASE WHEN rides_left > 0 AND state <> 'revoked' AND valid_until <= ? THEN 1 ELSE 0 END), 0)
				FROM benefit_tickets WHERE campaign_id = ?`, formatTime(now), campaignID).Scan(&st.Holders, &st.Used, &st.Rides, &st.Expired)
			if err != nil {
				return fault.Wrap(err, "count tickets")
			}
		}
		err = tx.QueryRowContext(ctx, `SELECT count(*), COALESCE(sum(CASE WHEN ticket_id IS NOT NULL THEN 1 ELSE 0 END), 0) FROM redeem_codes WHERE campaign_id = ?`, campaignID).Scan(&st.Codes, &st.CodesRedeemed)
		if err != nil {
			return fault.Wrap(err, "count codes")
		}
		// Hours are "2006-01-02T15" in UTC, as the stored text times begin
		// and as strftime renders the ledger's unix milliseconds.
		type hourQuery struct {
			sql   string
			issue bool
		}
		queries := []hourQuery{
			{`SELECT substr(at, 1, 13), count(*) FROM ticket_uses WHERE campaign_id = ? GROUP BY 1`, false},
			{`SELECT strftime('%Y-%m-%dT%H', s.at / 1000, 'unixepoch'), count(*) FROM ` + campaignLedgerUses + ` WHERE u.campaign_id = ? GROUP BY 1`, false},
		}
		if st.Automatic { // a rider is issued the benefit by their first benefited trip
			queries = append(queries, hourQuery{`SELECT strftime('%Y-%m-%dT%H', first / 1000, 'unixepoch'), count(*) FROM
				(SELECT min(s.at) AS first FROM ` + campaignLedgerUses + ` WHERE u.campaign_id = ? GROUP BY s.account) GROUP BY 1`, true})
		} else {
			queries = append(queries, hourQuery{`SELECT substr(issued_at, 1, 13), count(*) FROM benefit_tickets WHERE campaign_id = ? GROUP BY 1`, true})
		}
		hourly := map[string]*benefits.HourCount{}
		for _, q := range queries {
			rows, err := tx.QueryContext(ctx, q.sql, campaignID)
			if err != nil {
				return fault.Wrap(err, "count hours")
			}
			for rows.Next() {
				var h string
				var n int
				if err := rows.Scan(&h, &n); err != nil {
					rows.Close()
					return fault.Wrap(err, "scan hour")
				}
				hc := hourly[h]
				if hc == nil {
					hour, err := time.Parse("2006-01-02T15", h)
					if err != nil {
						rows.Close()
						return fault.Wrap(err, "decode hour")
					}
					hc = &benefits.HourCount{Hour: hour.In(benefits.Shanghai)}
					hourly[h] = hc
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
