package benefits

import (
	"context"
	"slices"
	"time"

	"piao/internal/tenant"
)

// IssueRequest asks for one ticket for an account.
type IssueRequest struct {
	CampaignID int64
	Account    int64
	Channel    Channel
	// Code, for CodeChannel, is the canonical redemption code to use up;
	// its campaign is the one issued from (CampaignID is ignored).
	Code string
	// Key, if set, makes the issue idempotent: a request whose key was
	// issued before answers that ticket with Again set and issues
	// nothing, whatever the campaign's state now. Keys are unique across
	// campaigns; at most 200 bytes.
	Key string
	// PaidFen, when positive, is what PaidBy (a passenger account) paid
	// for the ticket: its rides then draw on that prepaid value in the
	// ledger, ride by ride (ledger.RideShare), whoever holds it.
	PaidFen int64
	PaidBy  int64
	// Until, when set and earlier than the product's validity, ends the
	// ticket's validity then: an employer's monthly allowance lasts to the
	// end of its month whatever day it is issued.
	Until time.Time
}

// IssueResult is the outcome of one IssueRequest: a ticket or a refusal.
type IssueResult struct {
	Ticket Ticket
	// Again is set when the request's Key was issued before: Ticket is
	// the one issued then.
	Again bool
	Err   error
}

// CampaignFilter selects campaigns to list.
type CampaignFilter struct {
	Owner    string   // "" for every owner
	Statuses []Status // stored statuses; empty for all
	Limit    int      // default 100, at most 1000
	Offset   int
}

// CodeBatch is one batch of redemption codes generated for a campaign.
type CodeBatch struct {
	ID         int64     `json:"id"`
	CampaignID int64     `json:"campaign_id"`
	Count      int       `json:"count"`
	Redeemed   int       `json:"redeemed"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
}

// CodeRow is one code of a batch, for export.
type CodeRow struct {
	Code       string    `json:"code"`
	RedeemedBy int64     `json:"redeemed_by,omitempty"`
	RedeemedAt time.Time `json:"redeemed_at,omitzero"`
	TicketID   int64     `json:"ticket_id,omitempty"`
}

// Redemption is the benefits applied to one ride, recorded once per ride
// ID: the settlement of that ride's fare against the rider's wallet.
type Redemption struct {
	RideID  string    `json:"ride_id"`
	Account int64     `json:"account"`
	Ride    Ride      `json:"ride"`
	Fare    int64     `json:"fare"`
	Net     int64     `json:"net"`
	Applied []Applied `json:"applied"`
	At      time.Time `json:"at"`
}

// Chooser picks the benefits for a ride from the candidates the store
// loaded, given their campaigns as they stand in the transaction.
type Chooser func(candidates []Benefit, campaigns map[int64]Campaign) Selection

// Stats are a campaign's numbers (SPEC V6).
//
// A campaign that issues tickets counts them: Issued tickets (by
// channel), their Holders, the tickets Used for at least one ride, the
// Rides they paid and what riders saved.
//
// An automatic campaign (Automatic set) issues no tickets: its benefit
// reaches a rider with the first settled trip it pays for. Its numbers
// all come from the settlement ledger's uses of the campaign, so they
// cannot contradict each other: Rides is the trips it paid for, Spent
// what they saved, and Issued, Holders and Used are each the riders it
// benefited (ByChannel counts them under "auto"), so Conversion is 1 once
// anyone benefited. Hourly counts a rider as issued in the hour of their
// first benefited trip and each ride in the hour its trip began.
type Stats struct {
	CampaignID int64           `json:"campaign_id"`
	Status     Status          `json:"status"`
	Automatic  bool            `json:"automatic"`
	Stock      int             `json:"stock"`
	Issued     int             `json:"issued"`
	ByChannel  map[Channel]int `json:"by_channel"`
	Holders    int             `json:"holders"`
	// Used counts tickets used for at least one ride; Rides the rides paid.
	Used    int   `json:"used"`
	Rides   int   `json:"rides"`
	Expired int   `json:"expired"` // unused or partly used, past validity
	Spent   int64 `json:"spent"`   // fen saved by riders
	// Conversion is Used ÷ Issued (0 with nothing issued).
	Conversion float64 `json:"conversion"`
	// Codes generated and redeemed.
	Codes         int `json:"codes"`
	CodesRedeemed int `json:"codes_redeemed"`
	// Hourly issue and use counts, oldest first, hours in Asia/Shanghai:
	// rides paid through the per-ride API in the hour of the redemption,
	// rides settled from metro trips in the hour the trip began.
	Hourly []HourCount `json:"hourly"`
	At     time.Time   `json:"at"`
}

// HourCount is what happened in one hour.
type HourCount struct {
	Hour   time.Time `json:"hour"`
	Issued int       `json:"issued"`
	Rides  int       `json:"rides"`
}

// Store keeps products, campaigns, tickets, codes, gifts and redemptions.
// Each method is one transaction.
//
// Products and campaigns have an owner (SPEC S2): the methods that read or
// change them, their events, code batches, codes and stats take the
// caller's tenant.Scope and filter by it in SQL. A row the scope does not
// see is not found, exactly like a row that does not exist.
type Store interface {
	MerchantStore

	// CreateProduct stores a product, setting its ID; its owner must be
	// one the scope sees.
	CreateProduct(ctx context.Context, scope tenant.Scope, p *Product) error
	// Product returns one product the scope sees.
	Product(ctx context.Context, scope tenant.Scope, id int64) (Product, error)
	// Products lists the products the scope sees newest first; owner ""
	// lists all of them.
	Products(ctx context.Context, scope tenant.Scope, owner string) ([]Product, error)

	// CreateCampaign stores a campaign, setting its ID, with its first
	// event; its owner and its product must be ones the scope sees.
	CreateCampaign(ctx context.Context, scope tenant.Scope, c *Campaign, e Event) error
	// Campaign returns one campaign the scope sees, with its counters.
	Campaign(ctx context.Context, scope tenant.Scope, id int64) (Campaign, error)
	// Campaigns lists the campaigns the scope sees, newest first.
	Campaigns(ctx context.Context, scope tenant.Scope, f CampaignFilter) ([]Campaign, error)
	// Events returns the audit trail of a campaign the scope sees, oldest
	// first.
	Events(ctx context.Context, scope tenant.Scope, campaignID int64) ([]Event, error)
	// UpdateCampaign runs fn on a campaign the scope sees, locked for
	// update, and stores the result and the event fn returns, or nothing
	// if fn fails.
	UpdateCampaign(ctx context.Context, scope tenant.Scope, id int64, fn func(*Campaign) (Event, error)) (Campaign, error)

	// Issue serves reqs in order in one transaction. Each is checked by
	// Campaign.CheckIssue against the counters as the earlier ones left
	// them and, if admitted, becomes a ticket (NewTicket), counted on the
	// campaign; a code is used up by the same write. Refusals are per
	// request; the error is for the transaction as a whole.
	Issue(ctx context.Context, now time.Time, reqs []IssueRequest) ([]IssueResult, error)

	// AddCodes stores a batch of codes for a campaign the scope sees,
	// setting b.ID; a code already stored anywhere is a conflict and
	// nothing is written.
	AddCodes(ctx context.Context, scope tenant.Scope, b *CodeBatch, codes []string) error
	// CodeBatches lists the batches of a campaign the scope sees, newest
	// first.
	CodeBatches(ctx context.Context, scope tenant.Scope, campaignID int64) ([]CodeBatch, error)
	// Codes calls fn for every code of a batch of a campaign the scope
	// sees, in generation order.
	Codes(ctx context.Context, scope tenant.Scope, batchID int64, fn func(CodeRow) error) error

	// Ticket returns one ticket.
	Ticket(ctx context.Context, id int64) (Ticket, error)
	// Tickets lists an account's tickets, newest first.
	Tickets(ctx context.Context, holder int64) ([]Ticket, error)

	// CreateGift offers g.TicketID, checked by Ticket.CheckGift, setting
	// the ticket gifting and g.ID.
	CreateGift(ctx context.Context, g *Gift) error
	// GiftByToken returns a gift by its token.
	GiftByToken(ctx context.Context, token string) (Gift, error)
	// Gifts lists gifts an account gave or received, newest first.
	Gifts(ctx context.Context, account int64) ([]Gift, error)
	// SettleGift moves a pending gift to state: accepted gives the ticket
	// to receiver; declined, cancelled and returned give it back to the
	// giver. A gift already settled or past its expiry (except for
	// returning) is a conflict.
	SettleGift(ctx context.Context, token string, receiver int64, state GiftState, now time.Time) (Gift, error)
	// ExpiredGifts lists the tokens of pending gifts expired at now.
	ExpiredGifts(ctx context.Context, now time.Time, limit int) ([]string, error)

	// Redeem applies benefits to a ride once: if the ride ID has a
	// redemption it is returned with replayed true. Otherwise the
	// account's tickets usable at the ride's entry become candidates,
	// choose picks among them, and the rides used, campaign counters and
	// the redemption are written together.
	Redeem(ctx context.Context, r Ride, account int64, now time.Time, choose Chooser) (red Redemption, replayed bool, err error)
	// Redemption returns the redemption of a ride.
	Redemption(ctx context.Context, rideID string) (Redemption, error)

	// Stats returns the numbers of a campaign the scope sees at now, with
	// hourly counts since its start.
	Stats(ctx context.Context, scope tenant.Scope, campaignID int64, now time.Time) (Stats, error)
}

// SortedHours returns hourly counts oldest first.
func SortedHours(m map[string]*HourCount) []HourCount {
	out := make([]HourCount, 0, len(m))
	for _, h := range m {
		out = append(out, *h)
	}
	slices.SortFunc(out, func(a, b HourCount) int { return a.Hour.Compare(b.Hour) })
	return out
}

// Finish computes the derived figures of s.
func (s *Stats) Finish() {
	if s.Automatic {
		s.Used, s.ByChannel = s.Holders, map[Channel]int{AutoChannel: s.Holders}
		s.Issued = s.Holders
	}
	if s.Issued > 0 {
		s.Conversion = float64(s.Used) / float64(s.Issued)
	}
}
