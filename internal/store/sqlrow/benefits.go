package sqlrow

import (
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
)

// What both engines answer when a benefits read finds nothing or a code
// cannot be used.
var (
	ErrProductNotFound  = fault.New(fault.NotFound, "product_not_found", "产品不存在", "product not found")
	ErrCampaignNotFound = fault.New(fault.NotFound, "campaign_not_found", "活动不存在", "campaign not found")
	ErrTicketNotFound   = fault.New(fault.NotFound, "ticket_not_found", "票券不存在", "ticket not found")
	ErrGiftNotFound     = fault.New(fault.NotFound, "gift_not_found", "赠送不存在或已失效", "gift not found")
	ErrBatchNotFound    = fault.New(fault.NotFound, "batch_not_found", "兑换码批次不存在", "code batch not found")
	ErrCodeNotFound     = fault.New(fault.NotFound, "code_not_found", "兑换码不存在", "no such redemption code")
	ErrCodeUsed         = fault.New(fault.Conflict, "code_used", "兑换码已被使用", "this redemption code has been used")
	ErrCodeExists       = fault.New(fault.Conflict, "code_exists", "兑换码重复", "a code of the batch exists already")
	ErrTicketUsedUp     = fault.New(fault.Conflict, "ticket_used_up", "票券已用完", "the ticket has no rides left")
	ErrRideNotFound     = fault.New(fault.NotFound, "redemption_not_found", "该行程没有核销记录", "no redemption for this ride")
	ErrRideOtherAccount = fault.New(fault.Conflict, "ride_other_account", "该行程已由其他账户结算", "this ride was settled for another account")
)

// ProductColumns are the columns ScanProduct reads from benefit_products.
const ProductColumns = `id, body`

// ScanProduct reads a product, defined by its JSON body; no row is
// ErrProductNotFound.
func ScanProduct(r Row) (benefits.Product, error) {
	var p benefits.Product
	var id int64
	var body string
	if err := r.Scan(&id, &body); err != nil {
		return p, NoRowsAs(fault.Wrap(err, "scan product"), ErrProductNotFound)
	}
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		return p, fault.Wrap(err, "decode product")
	}
	p.ID = id
	return p, nil
}

// CampaignColumns are the columns ScanCampaign reads from campaigns.
const CampaignColumns = `id, status, issued, uses, spent, updated_at, body`

// ScanCampaign reads a campaign: its definition from the JSON body, its
// status and counters from the columns, which win over the body. No row
// is ErrCampaignNotFound.
func ScanCampaign(r Row) (benefits.Campaign, error) {
	var c benefits.Campaign
	var id, spent int64
	var status, body string
	var issued, uses int
	var updated Time
	if err := r.Scan(&id, &status, &issued, &uses, &spent, &updated, &body); err != nil {
		return c, NoRowsAs(fault.Wrap(err, "scan campaign"), ErrCampaignNotFound)
	}
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		return c, fault.Wrap(err, "decode campaign")
	}
	c.ID, c.Status, c.Issued, c.Uses, c.Spent, c.UpdatedAt = id, benefits.Status(status), issued, uses, spent, updated.Time
	return c, nil
}

// CampaignBody is what of a campaign is kept as JSON: all but the columns.
func CampaignBody(c benefits.Campaign) ([]byte, error) {
	c.ID, c.Status, c.Issued, c.Uses, c.Spent = 0, "", 0, 0, 0
	b, err := json.Marshal(c)
	return b, fault.Wrap(err, "encode campaign")
}

// EventColumns are the columns ScanEvent reads from campaign_events.
const EventColumns = `id, campaign_id, at, actor, action, from_status, to_status, reason`

// ScanEvent reads one entry of a campaign's audit trail.
func ScanEvent(r Row) (benefits.Event, error) {
	var e benefits.Event
	var at Time
	err := r.Scan(&e.ID, &e.CampaignID, &at, &e.By, &e.Action, &e.From, &e.To, &e.Reason)
	e.At = at.Time
	return e, fault.Wrap(err, "scan campaign event")
}

// TicketColumns are the columns ScanTicket reads from benefit_tickets.
const TicketColumns = `id, campaign_id, product_id, holder, channel, state, rides_total, rides_left, valid_from, valid_until, issued_at, code, paid_fen, paid_by`

// ScanTicket reads a ticket in a wallet; no row is ErrTicketNotFound.
func ScanTicket(r Row) (benefits.Ticket, error) {
	var t benefits.Ticket
	var from, until, issued Time
	err := r.Scan(&t.ID, &t.CampaignID, &t.ProductID, &t.Holder, &t.Channel, &t.State, &t.RidesTotal, &t.RidesLeft, &from, &until, &issued, &t.Code, &t.PaidFen, &t.PaidBy)
	t.Window.From, t.Window.Until, t.IssuedAt = from.Time, until.Time, issued.Time
	return t, NoRowsAs(fault.Wrap(err, "scan ticket"), ErrTicketNotFound)
}

// Issuing is a campaign being issued from in one Issue transaction, with
// its product and how many of its tickets accounts hold (read on first use).
type Issuing struct {
	Campaign benefits.Campaign
	Product  benefits.Product
	held     map[int64]int
	took     map[int64]int // accounts issued to: what they hold now
}

// NewIssuing starts issuing from c, a campaign of product p.
func NewIssuing(c benefits.Campaign, p benefits.Product) *Issuing {
	return &Issuing{Campaign: c, Product: p, held: map[int64]int{}, took: map[int64]int{}}
}

// Holding is how many of the campaign's tickets account holds; read reads
// it the first time, no row being none.
func (is *Issuing) Holding(account int64, read func() (int, error)) (int, error) {
	n, ok := is.held[account]
	if !ok {
		var err error
		if n, err = read(); errors.Is(err, sql.ErrNoRows) {
			n = 0
		} else if err != nil {
			return 0, fault.Wrap(err, "read holder")
		}
		is.held[account] = n
	}
	return n, nil
}

// Took counts one more ticket issued to account, who held n.
func (is *Issuing) Took(account int64, n int) {
	is.Campaign.Issued++
	is.held[account], is.took[account] = n+1, n+1
}

// Holders are the accounts issued to with what each holds now: none when
// the campaign's counters are unchanged.
func (is *Issuing) Holders() map[int64]int { return is.took }

// Replayed decides from the read of a ride's redemption (red, err) whether
// the ride was redeemed before, for account; another account's is
// ErrRideOtherAccount, and no redemption is not replayed.
func Replayed(red benefits.Redemption, err error, account int64) (bool, error) {
	if fault.Is(err, fault.NotFound) {
		return false, nil
	} else if err == nil && red.Account != account {
		return false, ErrRideOtherAccount
	}
	return err == nil, err
}

// IssueKey is an issue's idempotency key as stored: NULL when there is
// none, so the unique index leaves keyless tickets alone.
func IssueKey(k string) any {
	if k == "" {
		return nil
	}
	return k
}

// RideCode is the ride code ID a redemption is stored with: NULL when there
// is none, so the unique index leaves those rides alone.
func RideCode(r benefits.Ride) any { return IssueKey(r.Code) }

// CodeBatchColumns are what ScanCodeBatch reads from redeem_code_batches b:
// the batch and how many of its codes have been redeemed.
const CodeBatchColumns = `b.id, b.campaign_id, b.count, b.created_by, b.created_at,
	(SELECT count(*) FROM redeem_codes c WHERE c.batch_id = b.id AND c.ticket_id IS NOT NULL)`

// ScanCodeBatch reads a batch of redemption codes.
func ScanCodeBatch(r Row) (benefits.CodeBatch, error) {
	var b benefits.CodeBatch
	var at Time
	err := r.Scan(&b.ID, &b.CampaignID, &b.Count, &b.CreatedBy, &at, &b.Redeemed)
	b.CreatedAt = at.Time
	return b, fault.Wrap(err, "scan code batch")
}

// CodeRowColumns are the columns EachCode reads from redeem_codes; an
// unused code has zeros.
const CodeRowColumns = `code, COALESCE(ticket_id, 0), COALESCE(redeemed_by, 0), redeemed_at`

// EachCode calls fn with every code of a batch rows reads.
func EachCode(rows Rows, fn func(benefits.CodeRow) error) error {
	return Each(rows, "list codes", func(r Row) error {
		var c benefits.CodeRow
		var at NullTime
		if err := r.Scan(&c.Code, &c.TicketID, &c.RedeemedBy, &at); err != nil {
			return fault.Wrap(err, "scan code")
		}
		c.RedeemedAt = at.Time
		return fn(c)
	})
}

// giftBody is what of a gift is kept as JSON.
type giftBody struct {
	Cover   benefits.Cover `json:"cover"`
	Message string         `json:"message,omitempty"`
}

// GiftBody encodes what of a gift is kept as JSON: its cover and message.
func GiftBody(g benefits.Gift) []byte {
	b, _ := json.Marshal(giftBody{g.Cover, g.Message}) // two strings: cannot fail
	return b
}

// GiftColumns are the columns ScanGift reads from gifts; settled_at is
// NULL until the gift is settled.
const GiftColumns = `id, token, ticket_id, giver, receiver, state, created_at, expires, settled_at, body`

// ScanGift reads a gift; no row is ErrGiftNotFound.
func ScanGift(r Row) (benefits.Gift, error) {
	var g benefits.Gift
	var created, expires Time
	var settled NullTime
	var body string
	if err := r.Scan(&g.ID, &g.Token, &g.TicketID, &g.Giver, &g.Receiver, &g.State, &created, &expires, &settled, &body); err != nil {
		return g, NoRowsAs(fault.Wrap(err, "scan gift"), ErrGiftNotFound)
	}
	var gb giftBody
	err := json.Unmarshal([]byte(body), &gb)
	g.Cover, g.Message = gb.Cover, gb.Message
	g.CreatedAt, g.Expires, g.SettledAt = created.Time, expires.Time, settled.Time
	return g, fault.Wrap(err, "decode gift")
}

// LedgerUses joins the settlement ledger's benefit uses (u) to their ledger
// lines (s), which say whose trip it was and when it began.
const LedgerUses = `metro_benefit_uses u JOIN metro_settlements s ON s.trip_seq = u.trip_seq`

// ScanRedemption reads a ride's redemption from its JSON body, the one
// column read; no row is ErrRideNotFound.
func ScanRedemption(r Row) (benefits.Redemption, error) {
	var red benefits.Redemption
	var body string
	if err := r.Scan(&body); err != nil {
		return red, NoRowsAs(fault.Wrap(err, "read redemption"), ErrRideNotFound)
	}
	return red, fault.Wrap(json.Unmarshal([]byte(body), &red), "decode redemption")
}

// Candidates are the benefits tickets offer a ride, each ticket with its
// product; product reads a product, once per product.
func Candidates(tickets []benefits.Ticket, product func(id int64) (benefits.Product, error)) ([]benefits.Benefit, error) {
	products := map[int64]benefits.Product{}
	cands := make([]benefits.Benefit, 0, len(tickets))
	for _, t := range tickets {
		p, ok := products[t.ProductID]
		if !ok {
			var err error
			if p, err = product(t.ProductID); err != nil {
				return nil, err
			}
			products[t.ProductID] = p
		}
		cands = append(cands, benefits.TicketBenefit(t, p))
	}
	return cands, nil
}

// AddHours adds counts by hour (each a time within its hour) to hourly,
// keyed by the UTC hour: as issued tickets if issued, else as rides.
func AddHours(hourly map[string]*benefits.HourCount, counts []Tally[Time], issued bool) {
	for _, c := range counts {
		key := c.Key.UTC().Format("2006-01-02T15")
		hc := hourly[key]
		if hc == nil {
			hc = &benefits.HourCount{Hour: c.Key.In(benefits.Shanghai)}
			hourly[key] = hc
		}
		if issued {
			hc.Issued += c.N
		} else {
			hc.Rides += c.N
		}
	}
}

// StatsOf starts a campaign's numbers at now from its columns; the engine
// adds what it counts.
func StatsOf(c benefits.Campaign, now time.Time) benefits.Stats {
	return benefits.Stats{CampaignID: c.ID, Status: c.Effective(now), Stock: c.Stock, Issued: c.Issued, Spent: c.Spent, ByChannel: map[benefits.Channel]int{}, At: now, Automatic: c.Automatic()}
}
