package benefits

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"piao/internal/audit"
	"piao/internal/fault"
	"piao/internal/redeemcode"
	"piao/internal/ridecode"
	"piao/internal/tenant"
)

// ErrNotRunning is what the API and the console answer for value-added tickets in a
// process that does not run them.
var ErrNotRunning = fault.New(fault.Unavailable, "benefits_unavailable", "增值票务服务未启动", "value-added tickets are not running in this process")

// Config tunes the benefits service.
type Config struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Network tells validation which stations and lines a metro feed has.
	Network func(ctx context.Context, feed string) (Network, error)
	// GiftTTL is how long a gift waits for its receiver (default 24 hours).
	GiftTTL time.Duration
	// MaxBatch caps how many issues one transaction commits (default 512).
	MaxBatch int
	// SweepEvery is how often expired gifts are returned (default 10 s).
	SweepEvery time.Duration
	// RideCodes verifies the ride codes gates name riders with
	// (RedeemAtGate); nil refuses those redemptions with ErrRideCodesOff.
	RideCodes *ridecode.Verifier
	// RiderGroups returns the rider categories an account holds at a time,
	// as verified subsidy enrolments granted them; nil: none. Redemptions
	// apply these and nothing a caller asserts.
	RiderGroups func(ctx context.Context, account int64, at time.Time) ([]string, error)
	// TripLimit is how long before its redemption a ride may have begun
	// (default 4 hours, the gate's trip limit).
	TripLimit time.Duration
	// Audit records products and campaigns created, campaign reviews and
	// life-cycle actions, code batches and direct issues (nil: no trail).
	// A campaign keeps its own events too.
	Audit *audit.Log
}

// MaxCodesPerBatch is the most redemption codes generated in one go.
const MaxCodesPerBatch = 100_000

// MaxDirectIssue is the most accounts one direct issuance names.
const MaxDirectIssue = 10_000

// Service runs value-added tickets over a Store. Concurrent issues (claims,
// codes) are committed together in batches when Run is running, so a flash
// claim costs one transaction per batch, not per claimer.
type Service struct {
	store   Store
	cfg     Config
	ops     chan *issueOp
	running atomic.Bool
	// soldOut remembers campaigns found sold out, so a flash crowd's later
	// claims are refused without a transaction. A used, expired or revoked
	// ticket never returns to stock, but a prepaid campaign's stock grows
	// with each purchase (AddStock forgets the campaign here; another
	// process's top-up is seen once the memory is soldOutFor old).
	soldOut sync.Map // campaign ID → time.Time found sold out
}

type issueOp struct {
	req  IssueRequest
	done chan struct{}
	res  IssueResult
}

// NewService returns a benefits service; call Run to batch issues and
// return expired gifts.
func NewService(store Store, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.GiftTTL <= 0 {
		cfg.GiftTTL = 24 * time.Hour
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 512
	}
	if cfg.SweepEvery <= 0 {
		cfg.SweepEvery = 10 * time.Second
	}
	if cfg.TripLimit <= 0 {
		cfg.TripLimit = 4 * time.Hour
	}
	return &Service{store: store, cfg: cfg, ops: make(chan *issueOp, 4096)}
}

// Running reports whether Run is committing issues in batches.
func (s *Service) Running() bool { return s.running.Load() }

// Product returns one product the scope sees.
func (s *Service) Product(ctx context.Context, scope tenant.Scope, id int64) (Product, error) {
	return s.store.Product(ctx, scope, id)
}

// Products lists the products the scope sees, newest first; owner ""
// lists all of them.
func (s *Service) Products(ctx context.Context, scope tenant.Scope, owner string) ([]Product, error) {
	return s.store.Products(ctx, scope, owner)
}

// Campaign returns one campaign the scope sees, with its counters.
func (s *Service) Campaign(ctx context.Context, scope tenant.Scope, id int64) (Campaign, error) {
	return s.store.Campaign(ctx, scope, id)
}

// Campaigns lists the campaigns the scope sees, newest first.
func (s *Service) Campaigns(ctx context.Context, scope tenant.Scope, f CampaignFilter) ([]Campaign, error) {
	return s.store.Campaigns(ctx, scope, f)
}

// Events returns the audit trail of a campaign the scope sees, oldest first.
func (s *Service) Events(ctx context.Context, scope tenant.Scope, campaignID int64) ([]Event, error) {
	return s.store.Events(ctx, scope, campaignID)
}

// CodeBatches lists the batches of redemption codes of a campaign the
// scope sees, newest first.
func (s *Service) CodeBatches(ctx context.Context, scope tenant.Scope, campaignID int64) ([]CodeBatch, error) {
	return s.store.CodeBatches(ctx, scope, campaignID)
}

// Codes calls fn for every code of a batch the scope sees, in generation
// order.
func (s *Service) Codes(ctx context.Context, scope tenant.Scope, batchID int64, fn func(CodeRow) error) error {
	return s.store.Codes(ctx, scope, batchID, fn)
}

// Ticket returns one ticket.
func (s *Service) Ticket(ctx context.Context, id int64) (Ticket, error) {
	return s.store.Ticket(ctx, id)
}

// Tickets lists an account's tickets, newest first (Wallet adds their
// status and products).
func (s *Service) Tickets(ctx context.Context, holder int64) ([]Ticket, error) {
	return s.store.Tickets(ctx, holder)
}

// Gifts lists the gifts an account gave or received, newest first.
func (s *Service) Gifts(ctx context.Context, account int64) ([]Gift, error) {
	return s.store.Gifts(ctx, account)
}

// Redemption returns the benefits applied to a ride.
func (s *Service) Redemption(ctx context.Context, rideID string) (Redemption, error) {
	return s.store.Redemption(ctx, rideID)
}

// Issue serves reqs in order in one transaction (see Store.Issue),
// outside the batching of claims: for jobs that issue many tickets at
// once, such as the monthly ride-more rewards.
func (s *Service) Issue(ctx context.Context, now time.Time, reqs []IssueRequest) ([]IssueResult, error) {
	return s.store.Issue(ctx, now, reqs)
}

// Run commits batched issues and returns expired gifts until ctx ends.
func (s *Service) Run(ctx context.Context) {
	s.running.Store(true)
	defer s.running.Store(false)
	go s.sweep(ctx)
	batch := make([]*issueOp, 0, s.cfg.MaxBatch)
	for {
		select {
		case <-ctx.Done():
			s.drain()
			return
		case op := <-s.ops:
			batch = append(batch[:0], op)
		gather:
			for len(batch) < s.cfg.MaxBatch {
				select {
				case op := <-s.ops:
					batch = append(batch, op)
				default:
					break gather
				}
			}
			s.commit(batch)
		}
	}
}

// drain answers waiting issues after Run stops.
func (s *Service) drain() {
	for {
		select {
		case op := <-s.ops:
			op.res.Err = fault.New(fault.Unavailable, "shutting_down", "服务正在停止，请重试", "the service is stopping; try again")
			close(op.done)
		default:
			return
		}
	}
}

func (s *Service) commit(batch []*issueOp) {
	reqs := make([]IssueRequest, len(batch))
	for i, op := range batch {
		reqs[i] = op.req
	}
	res, err := s.store.Issue(context.Background(), s.cfg.Now(), reqs)
	for i, op := range batch {
		if err != nil {
			op.res.Err = err
		} else {
			op.res = res[i]
		}
		close(op.done)
	}
}

// issue serves one request through the batching committer when it runs,
// directly otherwise.
func (s *Service) issue(ctx context.Context, r IssueRequest) (Ticket, error) {
	if r.CampaignID != 0 {
		if at, gone := s.soldOut.Load(r.CampaignID); gone {
			if s.cfg.Now().Sub(at.(time.Time)) < soldOutFor {
				return Ticket{}, errSoldOut
			}
			s.soldOut.Delete(r.CampaignID)
		}
	}
	var res IssueResult
	if !s.running.Load() {
		out, err := s.store.Issue(ctx, s.cfg.Now(), []IssueRequest{r})
		if err != nil {
			return Ticket{}, err
		}
		res = out[0]
	} else {
		op := &issueOp{req: r, done: make(chan struct{})}
		select {
		case s.ops <- op:
		case <-ctx.Done():
			return Ticket{}, fault.New(fault.Unavailable, "cancelled", "请求已取消", "the request was cancelled")
		}
		<-op.done // committed or refused; never abandoned once queued
		res = op.res
	}
	if res.Err != nil && fault.As(res.Err).Reason == "sold_out" && r.CampaignID != 0 {
		s.soldOut.Store(r.CampaignID, s.cfg.Now())
	}
	return res.Ticket, res.Err
}

// soldOutFor is how long a campaign found sold out is refused without a
// transaction.
const soldOutFor = 5 * time.Second

var errSoldOut = fault.New(fault.LimitReached, "sold_out", "已领完", "all tickets have been given out")

func (s *Service) sweep(ctx context.Context) {
	t := time.NewTicker(s.cfg.SweepEvery)
	defer t.Stop()
	for {
		if _, err := s.ReturnExpiredGifts(ctx); err != nil && ctx.Err() == nil {
			slog.Error("returning expired gifts", "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ownerIn is who owns what a scope creates: a merchant scope owns it
// whatever owner says; the operator's scope creates for owner.
func ownerIn(scope tenant.Scope, owner string) string {
	if o := scope.Owner(); o != "" {
		return o
	}
	return owner
}

// CreateProduct validates and stores a product owned by owner, or by the
// scope's merchant for a merchant scope.
func (s *Service) CreateProduct(ctx context.Context, scope tenant.Scope, p Product, owner, actor string) (Product, error) {
	owner = ownerIn(scope, owner)
	if s.cfg.Network == nil {
		return Product{}, fault.New(fault.Unavailable, "network_unavailable", "线网数据不可用", "network data is unavailable")
	}
	if p.Feed == "" {
		return Product{}, fault.New(fault.Invalid, "feed_required", "请选择线网", "a product needs its metro network (feed)")
	}
	net, err := s.cfg.Network(ctx, p.Feed)
	if err != nil {
		return Product{}, err
	}
	if err := p.Validate(net); err != nil {
		return Product{}, err
	}
	p.ID, p.Owner, p.CreatedBy, p.CreatedAt = 0, owner, actor, s.cfg.Now()
	if err := s.store.CreateProduct(ctx, scope, &p); err != nil {
		return Product{}, err
	}
	if err := s.cfg.Audit.Record(ctx, "benefits.product.create", fmt.Sprintf("benefit_product:%d", p.ID), nil, p, ""); err != nil {
		return Product{}, err
	}
	return p, nil
}

// CreateCampaign validates and stores a draft campaign of one of owner's
// products (the scope's merchant's, for a merchant scope).
func (s *Service) CreateCampaign(ctx context.Context, scope tenant.Scope, c Campaign, owner, actor string) (Campaign, error) {
	owner = ownerIn(scope, owner)
	if _, ok := tenant.MerchantOf(owner); ok {
		// A merchant's campaign is prepaid: purchases fund it (AddStock).
		c.Prepaid, c.Stock, c.BudgetValue = true, 0, 0
	}
	if err := c.Validate(); err != nil {
		return Campaign{}, err
	}
	p, err := s.store.Product(ctx, scope, c.ProductID)
	if err != nil {
		return Campaign{}, err
	}
	if p.Owner != owner {
		return Campaign{}, fault.New(fault.NotFound, "product_not_found", "产品不存在", "product not found")
	}
	now := s.cfg.Now()
	c.ID, c.Owner, c.Status, c.Issued, c.Uses, c.Spent = 0, owner, Draft, 0, 0, 0
	c.CreatedBy, c.CreatedAt, c.UpdatedAt = actor, now, now
	e := Event{At: now, By: actor, Action: "create", To: Draft}
	if err := s.store.CreateCampaign(ctx, scope, &c, e); err != nil {
		return Campaign{}, err
	}
	if err := s.cfg.Audit.Record(ctx, "benefits.campaign.create", campaignSubject(c.ID), nil, c, ""); err != nil {
		return Campaign{}, err
	}
	return c, nil
}

func campaignSubject(id int64) string { return fmt.Sprintf("campaign:%d", id) }

// Act performs a review or life-cycle action on a campaign. It takes
// effect at once: the next claim or ride sees the new status.
func (s *Service) Act(ctx context.Context, scope tenant.Scope, id int64, a Action, actor, reason string) (Campaign, error) {
	now := s.cfg.Now()
	var before Campaign
	c, err := s.store.UpdateCampaign(ctx, scope, id, func(c *Campaign) (Event, error) {
		before = *c
		return c.Apply(a, now, actor, reason)
	})
	if err != nil {
		return Campaign{}, err
	}
	if err := s.cfg.Audit.Record(ctx, "benefits.campaign."+string(a), campaignSubject(id), before, c, reason); err != nil {
		return Campaign{}, err
	}
	return c, nil
}

// Claim gives an account one ticket of a campaign open for claiming.
func (s *Service) Claim(ctx context.Context, campaignID, account int64) (Ticket, error) {
	return s.issue(ctx, IssueRequest{CampaignID: campaignID, Account: account, Channel: ClaimChannel})
}

// RedeemCode turns a redemption code, as the user typed it, into a ticket.
func (s *Service) RedeemCode(ctx context.Context, code string, account int64) (Ticket, error) {
	c, err := redeemcode.Parse(code)
	if err != nil {
		return Ticket{}, err
	}
	return s.issue(ctx, IssueRequest{Account: account, Channel: CodeChannel, Code: string(c)})
}

// IssueDirect gives one ticket of a campaign the scope sees to each
// account listed, in one transaction, and reports each outcome.
func (s *Service) IssueDirect(ctx context.Context, scope tenant.Scope, campaignID int64, accounts []int64) ([]IssueResult, error) {
	if len(accounts) == 0 || len(accounts) > MaxDirectIssue {
		return nil, fault.Newf(fault.Invalid, "bad_direct_list", "名单应有 1 至 %d 个账号", "the list must name 1 to %d accounts", MaxDirectIssue)
	}
	if _, err := s.store.Campaign(ctx, scope, campaignID); err != nil {
		return nil, err
	}
	reqs := make([]IssueRequest, len(accounts))
	for i, a := range accounts {
		reqs[i] = IssueRequest{CampaignID: campaignID, Account: a, Channel: DirectChannel}
	}
	res, err := s.store.Issue(ctx, s.cfg.Now(), reqs)
	if err != nil {
		return nil, err
	}
	var issued []int64
	for i, r := range res {
		if r.Err == nil {
			issued = append(issued, accounts[i])
		}
	}
	if len(issued) > 0 {
		after := map[string]any{"accounts": issued, "issued": len(issued), "refused": len(res) - len(issued)}
		if err := s.cfg.Audit.Record(ctx, "benefits.campaign.issue", campaignSubject(campaignID), nil, after, ""); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// GenerateCodes makes a batch of n redemption codes for a campaign the
// scope sees.
func (s *Service) GenerateCodes(ctx context.Context, scope tenant.Scope, campaignID int64, n int, actor string) (CodeBatch, error) {
	if n < 1 || n > MaxCodesPerBatch {
		return CodeBatch{}, fault.Newf(fault.Invalid, "bad_code_count", "每批兑换码数量应在 1 至 %d 之间", "a batch holds 1 to %d codes", MaxCodesPerBatch)
	}
	c, err := s.store.Campaign(ctx, scope, campaignID)
	if err != nil {
		return CodeBatch{}, err
	}
	if !hasChannel(c, CodeChannel) {
		return CodeBatch{}, fault.New(fault.Conflict, "channel_closed", "该活动未开放兑换码发放", "the campaign does not issue by code")
	}
	switch c.Effective(s.cfg.Now()) {
	case Terminated, Ended, Rejected:
		return CodeBatch{}, fault.New(fault.Conflict, "campaign_over", "活动已结束", "the campaign is over")
	}
	codes, err := redeemcode.Batch(rand.Reader, n)
	if err != nil {
		return CodeBatch{}, fault.Wrap(err, "generate codes")
	}
	texts := make([]string, len(codes))
	for i, c := range codes {
		texts[i] = string(c)
	}
	b := CodeBatch{CampaignID: campaignID, CreatedBy: actor, CreatedAt: s.cfg.Now()}
	if err := s.store.AddCodes(ctx, scope, &b, texts); err != nil {
		return CodeBatch{}, err
	}
	// The codes themselves stay out of the trail: they are bearer secrets.
	if err := s.cfg.Audit.Record(ctx, "benefits.codes.generate", fmt.Sprintf("code_batch:%d", b.ID), nil, b, ""); err != nil {
		return CodeBatch{}, err
	}
	return b, nil
}

func hasChannel(c Campaign, ch Channel) bool {
	for _, x := range c.Channels {
		if x == ch {
			return true
		}
	}
	return false
}

// giftTokens encodes gift tokens: 20 random bytes, base32 without padding.
var giftTokens = base32.StdEncoding.WithPadding(base32.NoPadding)

// Gift offers one of the giver's tickets to whoever opens the link or types
// the token first and accepts it, with a cover and a message.
func (s *Service) Gift(ctx context.Context, ticketID, giver int64, cover Cover, message string) (Gift, error) {
	if err := cover.Validate(); err != nil {
		return Gift{}, err
	}
	message = strings.TrimSpace(message)
	if utf8.RuneCountInString(message) > 200 || !utf8.ValidString(message) {
		return Gift{}, fault.New(fault.Invalid, "gift_message_too_long", "赠言最多 200 字", "the message is at most 200 characters")
	}
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return Gift{}, fault.Wrap(err, "gift token")
	}
	now := s.cfg.Now()
	g := Gift{Token: giftTokens.EncodeToString(b), TicketID: ticketID, Giver: giver, Cover: cover, Message: message, CreatedAt: now, Expires: now.Add(s.cfg.GiftTTL)}
	if err := s.store.CreateGift(ctx, &g); err != nil {
		return Gift{}, err
	}
	return g, nil
}

// SettleGift accepts, declines or (by the giver) cancels a gift.
func (s *Service) SettleGift(ctx context.Context, token string, account int64, state GiftState) (Gift, error) {
	if state != GiftAccepted && state != GiftDeclined && state != GiftCancelled {
		return Gift{}, fault.Newf(fault.Invalid, "bad_gift_state", "无效的处理 %q", "cannot settle a gift as %q", state)
	}
	return s.store.SettleGift(ctx, strings.ToUpper(strings.TrimSpace(token)), account, state, s.cfg.Now())
}

// ReturnExpiredGifts gives unaccepted gifts past their expiry back to their
// givers and says how many.
func (s *Service) ReturnExpiredGifts(ctx context.Context) (int, error) {
	n := 0
	for {
		now := s.cfg.Now()
		tokens, err := s.store.ExpiredGifts(ctx, now, 200)
		if err != nil || len(tokens) == 0 {
			return n, err
		}
		for _, t := range tokens {
			if _, err := s.store.SettleGift(ctx, t, 0, GiftReturned, now); err != nil {
				if fault.Is(err, fault.Conflict) {
					continue // accepted or declined meanwhile
				}
				return n, err
			}
			n++
		}
		if len(tokens) < 200 {
			return n, nil
		}
	}
}

// Redeem applies the best allowed benefits of the account's wallet to a
// ride, once per ride ID: a repeat returns the first result (replayed).
// The caller vouches for the account; r.RiderGroups is ignored and
// replaced by the categories verified enrolments gave the account at the
// ride's entry. Gates redeem through RedeemAtGate.
func (s *Service) Redeem(ctx context.Context, r Ride, account int64) (Redemption, bool, error) {
	return s.redeem(ctx, r, account, 0, true)
}

// redeem applies benefits to r for account: only ticket when it is not 0,
// with the account's verified categories when groups is set.
func (s *Service) redeem(ctx context.Context, r Ride, account, ticket int64, groups bool) (Redemption, bool, error) {
	if err := r.Validate(); err != nil {
		return Redemption{}, false, err
	}
	r.RiderGroups = nil
	if groups && s.cfg.RiderGroups != nil {
		gs, err := s.cfg.RiderGroups(ctx, account, r.EnteredAt)
		if err != nil {
			return Redemption{}, false, err
		}
		r.RiderGroups = gs
	}
	return s.store.Redeem(ctx, r, account, s.cfg.Now(), func(c []Benefit, camps map[int64]Campaign) Selection {
		if ticket != 0 {
			c = slices.DeleteFunc(slices.Clone(c), func(b Benefit) bool { return b.TicketID != ticket })
		}
		return SelectWithinBudgets(r, Shanghai, c, camps)
	})
}

// Validate checks a ride given for redemption.
func (r Ride) Validate() error {
	switch {
	case r.ID == "" || len(r.ID) > 128:
		return fault.New(fault.Invalid, "bad_ride_id", "行程编号应为 1 至 128 个字符", "a ride ID is 1 to 128 characters")
	case r.Fare < 0 || r.Fare > 100_000:
		return fault.New(fault.Invalid, "bad_fare", "票价应在 0 至 1000 元之间", "the fare must be ¥0 to ¥1,000")
	case r.EnteredAt.IsZero():
		return fault.New(fault.Invalid, "entered_at_required", "请给出进站时间", "the ride needs its entry time")
	case r.From == "" || r.To == "":
		return fault.New(fault.Invalid, "stations_required", "请给出进出站", "the ride needs its entry and exit stations")
	}
	return nil
}

// WalletEntry is one ticket as the wallet shows it.
type WalletEntry struct {
	Ticket  Ticket       `json:"ticket"`
	Status  WalletStatus `json:"status"`
	Product Product      `json:"product"`
}

// Wallet lists an account's tickets with their status at now and their
// products (SPEC V4).
func (s *Service) Wallet(ctx context.Context, account int64) ([]WalletEntry, error) {
	ts, err := s.store.Tickets(ctx, account)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	products := map[int64]Product{}
	out := make([]WalletEntry, 0, len(ts))
	for _, t := range ts {
		p, ok := products[t.ProductID]
		if !ok {
			if p, err = s.store.Product(ctx, tenant.All(), t.ProductID); err != nil {
				return nil, err
			}
			products[t.ProductID] = p
		}
		out = append(out, WalletEntry{Ticket: t, Status: t.StatusAt(now), Product: p})
	}
	return out, nil
}

// Stats returns the numbers of a campaign the scope sees, now.
func (s *Service) Stats(ctx context.Context, scope tenant.Scope, id int64) (Stats, error) {
	return s.store.Stats(ctx, scope, id, s.cfg.Now())
}

// Now returns the service's clock reading.
func (s *Service) Now() time.Time { return s.cfg.Now() }

// GiftView is a gift as its receiver sees it before answering.
type GiftView struct {
	Gift    Gift
	Product Product
	Ticket  Ticket
}

// GiftView returns a gift by token with its ticket and product; the token
// is what gives access, so it is not repeated in the answer.
func (s *Service) GiftView(ctx context.Context, token string) (GiftView, error) {
	g, err := s.store.GiftByToken(ctx, strings.ToUpper(strings.TrimSpace(token)))
	if err != nil {
		return GiftView{}, err
	}
	t, err := s.store.Ticket(ctx, g.TicketID)
	if err != nil {
		return GiftView{}, err
	}
	p, err := s.store.Product(ctx, tenant.All(), t.ProductID)
	if err != nil {
		return GiftView{}, err
	}
	g.Token = ""
	return GiftView{Gift: g, Product: p, Ticket: t}, nil
}

// DisplayCode formats a stored redemption code for people: groups of five.
func DisplayCode(code string) string { return redeemcode.Code(code).String() }
