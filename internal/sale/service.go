package sale

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"piao/internal/audit"
	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/ledger"
	"piao/internal/payment"
	"piao/internal/tenant"
)

// Benefits is what sales need of value-added tickets: the campaign and
// product on sale, issuing by key, and the tickets.
type Benefits interface {
	Campaign(ctx context.Context, scope tenant.Scope, id int64) (benefits.Campaign, error)
	Product(ctx context.Context, scope tenant.Scope, id int64) (benefits.Product, error)
	Issue(ctx context.Context, now time.Time, reqs []benefits.IssueRequest) ([]benefits.IssueResult, error)
	Ticket(ctx context.Context, id int64) (benefits.Ticket, error)
	Tickets(ctx context.Context, holder int64) ([]benefits.Ticket, error)
}

// Config connects the service.
type Config struct {
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// Gateway takes the payments and returns the refunds.
	Gateway  payment.Gateway
	Benefits Benefits
	// NotifyURL is where the gateway posts payment notifications
	// (<base>/api/v1/ticket-purchases/notify); ReturnURL where the buyer's
	// browser goes after paying, with the purchase ID appended.
	NotifyURL string
	ReturnURL string
	// PayWindow is how long a buyer has to pay (default 15 minutes).
	PayWindow time.Duration
	// Audit records offers created and changed, purchases paid and
	// tickets refunded.
	Audit *audit.Log
}

// Service runs passengers' purchases.
type Service struct {
	store Store
	cfg   Config
}

// New returns the sale service over st.
func New(st Store, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PayWindow <= 0 {
		cfg.PayWindow = 15 * time.Minute
	}
	return &Service{store: st, cfg: cfg}
}

// now is the clock cut to microseconds, the precision both engines keep.
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// Now returns the service's clock reading.
func (s *Service) Now() time.Time { return s.now() }

func offerSubject(id int64) string { return "sale_offer:" + strconv.FormatInt(id, 10) }

// CreateOffer puts the tickets of one of the operator's campaigns on sale.
func (s *Service) CreateOffer(ctx context.Context, in OfferInput, actor string) (Offer, error) {
	if err := in.Check(); err != nil {
		return Offer{}, err
	}
	c, p, err := s.campaign(ctx, in.CampaignID)
	if err != nil {
		return Offer{}, err
	}
	if err := CheckCampaign(c, p); err != nil {
		return Offer{}, err
	}
	now := s.now()
	o := Offer{CampaignID: c.ID, ProductID: p.ID, Kind: p.Kind, Rides: p.Rides(), NameZH: c.NameZH, NameEN: c.NameEN,
		CreatedBy: actor, CreatedAt: now, Version: 1}
	o.set(in, now)
	if err := s.store.CreateOffer(ctx, &o); err != nil {
		return Offer{}, err
	}
	if err := s.cfg.Audit.Record(ctx, "sale.offer.create", offerSubject(o.ID), nil, o, ""); err != nil {
		return Offer{}, err
	}
	return o, nil
}

func (o *Offer) set(in OfferInput, now time.Time) {
	o.Bundle, o.PriceFen, o.MaxPerOrder, o.MaxPerPassenger, o.Refund, o.OnSale, o.UpdatedAt = in.Bundle, in.PriceFen, in.MaxPerOrder, in.MaxPerPassenger, in.Refund, in.OnSale, now
}

func (s *Service) campaign(ctx context.Context, id int64) (benefits.Campaign, benefits.Product, error) {
	c, err := s.cfg.Benefits.Campaign(ctx, tenant.All(), id)
	if err != nil {
		return c, benefits.Product{}, err
	}
	p, err := s.cfg.Benefits.Product(ctx, tenant.All(), c.ProductID)
	return c, p, err
}

// UpdateOffer changes an offer's price, limits, refund rule and sale
// (its campaign stays). Purchases made keep the terms they were made on.
func (s *Service) UpdateOffer(ctx context.Context, id int64, in OfferInput, actor, reason string) (Offer, error) {
	o, err := s.store.Offer(ctx, id)
	if err != nil {
		return Offer{}, err
	}
	in.CampaignID = o.CampaignID
	if err := in.Check(); err != nil {
		return Offer{}, err
	}
	before := o
	o.set(in, s.now())
	o.Version++
	if err := s.store.UpdateOffer(ctx, o); err != nil {
		return Offer{}, err
	}
	if err := s.cfg.Audit.Record(ctx, "sale.offer.update", offerSubject(id), before, o, reason); err != nil {
		return Offer{}, err
	}
	return o, nil
}

// SetOnSale starts or stops selling an offer (pending purchases may still
// be paid).
func (s *Service) SetOnSale(ctx context.Context, id int64, on bool, actor, reason string) (Offer, error) {
	o, err := s.store.Offer(ctx, id)
	if err != nil {
		return Offer{}, err
	}
	in := OfferInput{CampaignID: o.CampaignID, Bundle: o.Bundle, PriceFen: o.PriceFen, MaxPerOrder: o.MaxPerOrder, MaxPerPassenger: o.MaxPerPassenger, Refund: o.Refund, OnSale: on}
	return s.UpdateOffer(ctx, id, in, actor, reason)
}

// Offer returns one offer.
func (s *Service) Offer(ctx context.Context, id int64) (Offer, error) { return s.store.Offer(ctx, id) }

// Offers lists the offers, newest first; onSale keeps those on sale.
func (s *Service) Offers(ctx context.Context, onSale bool) ([]Offer, error) {
	return s.store.Offers(ctx, onSale)
}

// Availability is an offer as a buyer sees it: how many they may still buy.
type Availability struct {
	Offer Offer `json:"offer"`
	// Left is what is left of the stock, in tickets; Mine the tickets the
	// buyer holds in pending and paid purchases; CanBuy the most units one
	// order may take now.
	Left   int `json:"left"`
	Mine   int `json:"mine"`
	CanBuy int `json:"can_buy"`
	// ValidDays or ValidUntil is the tickets' validity (the product's).
	Validity benefits.Validity `json:"validity"`
}

// Available returns the offers on sale whose campaign is issuing, with
// what buyer may still buy of each.
func (s *Service) Available(ctx context.Context, buyer int64) ([]Availability, error) {
	os, err := s.store.Offers(ctx, true)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]Availability, 0, len(os))
	for _, o := range os {
		c, p, err := s.campaign(ctx, o.CampaignID)
		if err != nil {
			return nil, err
		}
		if c.Effective(now) != benefits.Active {
			continue
		}
		a, err := s.availability(ctx, o, c, p, buyer)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// Availability returns one offer as buyer sees it.
func (s *Service) Availability(ctx context.Context, id, buyer int64) (Availability, error) {
	o, err := s.store.Offer(ctx, id)
	if err != nil {
		return Availability{}, err
	}
	c, p, err := s.campaign(ctx, o.CampaignID)
	if err != nil {
		return Availability{}, err
	}
	return s.availability(ctx, o, c, p, buyer)
}

func (s *Service) availability(ctx context.Context, o Offer, c benefits.Campaign, p benefits.Product, buyer int64) (Availability, error) {
	sold, mine, err := s.store.Sold(ctx, o.ID, buyer)
	if err != nil {
		return Availability{}, err
	}
	a := Availability{Offer: o, Left: max(c.Stock-sold, 0), Mine: mine, Validity: p.Valid}
	if o.OnSale && c.Effective(s.now()) == benefits.Active {
		a.CanBuy = max(min(o.MaxPerOrder, a.Left, o.MaxPerPassenger-mine), 0) / o.Bundle
	}
	return a, nil
}

func purchaseSubject(id int64) string { return "buy:" + strconv.FormatInt(id, 10) }

// Buy orders units of an offer for buyer and creates the gateway payment,
// payable by the buyer only. Nothing is stored when the order is refused.
func (s *Service) Buy(ctx context.Context, buyer, offerID int64, units int) (Purchase, error) {
	if buyer <= 0 {
		return Purchase{}, fault.New(fault.Forbidden, "buy_passenger_only", "只有乘客可以购票", "only a passenger can buy tickets")
	}
	if units < 1 || units > MaxOrderCount {
		return Purchase{}, errCountInvalid
	}
	o, err := s.store.Offer(ctx, offerID)
	if err != nil {
		return Purchase{}, err
	}
	c, _, err := s.campaign(ctx, o.CampaignID)
	if err != nil {
		return Purchase{}, err
	}
	now := s.now()
	if err := c.CheckIssue(now, benefits.PurchaseChannel, 0); err != nil && !fault.Is(err, fault.LimitReached) {
		return Purchase{}, err // not issuing now: nothing paid could be issued
	}
	expires := now.Add(s.cfg.PayWindow)
	if c.Ends.Before(expires) {
		expires = c.Ends.UTC().Truncate(time.Microsecond)
	}
	p := Purchase{OfferID: o.ID, CampaignID: c.ID, Buyer: buyer, NameZH: o.NameZH, NameEN: o.NameEN, Units: units, Rides: o.Rides,
		Status: Pending, CreatedAt: now, ExpiresAt: expires, Version: 1}
	err = s.store.CreatePurchase(ctx, &p, func(o Offer, stock, sold, mine int) error {
		// The terms in force under the offer's lock are what is sold.
		count := units * o.Bundle
		switch {
		case !o.OnSale:
			return ErrNotOnSale
		case count > o.MaxPerOrder:
			return fault.Newf(fault.LimitReached, "buy_per_order_limit", "每单限购 %d 张", "at most %d tickets per order", o.MaxPerOrder)
		case mine+count > o.MaxPerPassenger:
			return fault.Newf(fault.LimitReached, "buy_per_passenger_limit", "每人限购 %d 张（已购 %d 张）", "at most %d tickets per passenger (%d bought)", o.MaxPerPassenger, mine)
		case sold+count > stock:
			return ErrSoldOut
		}
		p.Bundle, p.Count, p.PriceFen, p.AmountFen, p.Refund = o.Bundle, count, o.PriceFen, o.PriceFen*int64(units), o.Refund
		return nil
	})
	if err != nil {
		return Purchase{}, err
	}
	pay, err := s.cfg.Gateway.Create(ctx, payment.CreateRequest{
		OrderRef: OrderRef(p.ID), AmountFen: p.AmountFen, Subject: o.NameZH + " / " + o.NameEN + " × " + strconv.Itoa(units), Payer: Party(buyer),
		NotifyURL: s.cfg.NotifyURL, ReturnURL: s.cfg.ReturnURL + strconv.FormatInt(p.ID, 10), ExpiresAt: expires,
	})
	if err != nil {
		closed := p
		closed.Status, closed.CloseReason, closed.ClosedAt, closed.Version = Closed, ClosedNoPayment, now, p.Version+1
		if uerr := s.store.UpdatePurchase(context.WithoutCancel(ctx), closed); uerr != nil {
			slog.ErrorContext(ctx, "closing a purchase without payment", "buy", p.ID, "err", uerr.Error())
		}
		return Purchase{}, err
	}
	p.PaymentID, p.PayURL, p.Version = pay.ID, pay.PayURL, p.Version+1
	if err := s.store.UpdatePurchase(ctx, p); err != nil {
		return Purchase{}, err
	}
	return p, nil
}

// Purchase returns one of buyer's purchases (any, for buyer 0: the
// operator); a pending one past its expiry is settled first.
func (s *Service) Purchase(ctx context.Context, buyer, id int64) (Purchase, error) {
	p, err := s.store.Purchase(ctx, id)
	if err != nil {
		return Purchase{}, err
	}
	if buyer != 0 && p.Buyer != buyer {
		return Purchase{}, ErrNotFound
	}
	if p.Status == Pending && !s.now().Before(p.ExpiresAt) {
		if err := s.expire(ctx, p); err != nil {
			slog.WarnContext(ctx, "expiring a purchase on read", "buy", id, "err", err.Error())
			return p, nil
		}
		return s.store.Purchase(ctx, id)
	}
	return p, nil
}

// Purchases lists purchases f selects, newest first.
func (s *Service) Purchases(ctx context.Context, f Filter) ([]Purchase, error) {
	return s.store.Purchases(ctx, f.Bounded())
}

// Outcome says what a payment notification did.
type Outcome string

// Outcomes of a payment notification.
const (
	OutcomePaid      Outcome = "paid"
	OutcomeDuplicate Outcome = "duplicate"
	OutcomeReturned  Outcome = "returned"
	OutcomeIgnored   Outcome = "ignored"
)

// HandleNotification applies a verified gateway notification exactly once.
// A payment of a pending purchase marks it paid with its journal entry in
// one transaction, then issues its tickets by their keys (a crash between
// leaves it paid and unissued: the next delivery or the sweep issues by
// the same keys). A payment of a closed purchase goes back in full.
func (s *Service) HandleNotification(ctx context.Context, n payment.Notification) (Outcome, error) {
	id, ok := IDFromRef(n.OrderRef)
	if !ok {
		return "", errBadRef
	}
	if n.Status != payment.Paid {
		return OutcomeIgnored, nil
	}
	for {
		p, err := s.store.Purchase(ctx, id)
		if err != nil {
			return "", err
		}
		if n.AmountFen != p.AmountFen {
			return "", fault.Newf(fault.Invalid, ErrAmountMismatch.Reason, "支付金额 %d 分与订单金额 %d 分不符", "paid %d fen for a purchase of %d fen", n.AmountFen, p.AmountFen)
		}
		var out Outcome
		switch {
		case p.Status == Paid && p.PaymentID == n.PaymentID:
			if !p.Issued {
				if _, err := s.issue(ctx, p); err != nil {
					return "", err
				}
			}
			return OutcomeDuplicate, nil
		case p.Status == Paid:
			out, err = s.returnPayment(ctx, p, n, "second payment of a paid purchase", "the purchase was already paid by "+p.PaymentID)
		case p.Status == Closed:
			out, err = s.returnPayment(ctx, p, n, "payment for a closed purchase", "the purchase was closed ("+p.CloseReason+")")
		default:
			out, err = s.pay(ctx, p, n)
		}
		if errors.Is(err, ErrStale) {
			continue
		}
		return out, err
	}
}

// pay marks a pending purchase paid with its entry, then issues its
// tickets. A purchase whose campaign no longer issues closes, and its
// payment goes back.
func (s *Service) pay(ctx context.Context, p Purchase, n payment.Notification) (Outcome, error) {
	c, err := s.cfg.Benefits.Campaign(ctx, tenant.All(), p.CampaignID)
	if err != nil {
		return "", err
	}
	now := s.now()
	if c.Effective(now) != benefits.Active {
		closed := p
		closed.Status, closed.CloseReason, closed.ClosedAt, closed.Version = Closed, ClosedNotIssued, now, p.Version+1
		if err := s.store.UpdatePurchase(ctx, closed); err != nil {
			return "", err
		}
		return s.returnPayment(ctx, closed, n, "payment for a closed purchase", "the purchase was closed ("+closed.CloseReason+")")
	}
	paidAt := n.PaidAt
	if paidAt.IsZero() {
		paidAt = now
	}
	paid := p
	paid.Status, paid.PaymentID, paid.PaidAt, paid.Version = Paid, n.PaymentID, paidAt.UTC().Truncate(time.Microsecond), p.Version+1
	if err := s.store.UpdatePurchase(ctx, paid, PaidEntry(paid, paid.PaidAt)); err != nil {
		return "", err
	}
	if err := s.cfg.Audit.Record(ctx, "sale.purchase.pay", purchaseSubject(p.ID), p, paid, "payment "+n.PaymentID+" notification "+n.ID); err != nil {
		return "", err
	}
	if _, err := s.issue(ctx, paid); err != nil {
		// Paid and entered: the sweep (or the next delivery) issues.
		slog.WarnContext(ctx, "issuing a paid purchase", "buy", p.ID, "err", err.Error())
	}
	return OutcomePaid, nil
}

// issue issues a paid purchase's tickets by their keys (those issued
// before answer the same tickets) and records them on it.
func (s *Service) issue(ctx context.Context, p Purchase) (Purchase, error) {
	prices := p.TicketPrices()
	reqs := make([]benefits.IssueRequest, p.Count)
	for i := range reqs {
		reqs[i] = benefits.IssueRequest{CampaignID: p.CampaignID, Account: p.Buyer, Channel: benefits.PurchaseChannel,
			Key: IssueKey(p.ID, i+1), PaidFen: prices[i], PaidBy: p.Buyer}
	}
	res, err := s.cfg.Benefits.Issue(ctx, s.cfg.Now(), reqs)
	if err != nil {
		return p, err
	}
	ids := make([]int64, len(res))
	for i, r := range res {
		if r.Err != nil {
			return p, r.Err
		}
		ids[i] = r.Ticket.ID
	}
	for {
		done := p
		done.TicketIDs, done.Issued, done.Version = ids, true, p.Version+1
		err := s.store.UpdatePurchase(ctx, done)
		if !errors.Is(err, ErrStale) {
			return done, err
		}
		if p, err = s.store.Purchase(ctx, p.ID); err != nil || p.Issued {
			return p, err
		}
	}
}

// returnPayment returns in full a payment that bought nothing (it came for
// a closed purchase, or a second time for a paid one). The purchase
// records it as owed, with its entry (LateEntry, keyed by the payment), in
// one transaction; then the gateway returns it (ReturnID: once however
// often this runs); then the purchase records it returned, with its entry
// (ReturnedEntry), again in one transaction. Each step is skipped once
// done, so a redelivered notification finishes what a failure left.
func (s *Service) returnPayment(ctx context.Context, p Purchase, n payment.Notification, memo, why string) (Outcome, error) {
	r, i, ok := p.ReturnOf(n.PaymentID)
	if ok && !r.ReturnedAt.IsZero() {
		return OutcomeReturned, nil
	}
	if !ok {
		paidAt := n.PaidAt
		if paidAt.IsZero() {
			paidAt = s.now()
		}
		r = Return{PaymentID: n.PaymentID, AmountFen: n.AmountFen, PaidAt: paidAt.UTC().Truncate(time.Microsecond), ReturnID: ReturnID(n.PaymentID)}
		owed := p
		owed.Returns, owed.Version = append(append([]Return(nil), p.Returns...), r), p.Version+1
		if err := s.store.UpdatePurchase(ctx, owed, LateEntry(p.ID, r, memo)); err != nil {
			return "", err
		}
		if err := s.cfg.Audit.Record(ctx, "sale.purchase.late_payment", purchaseSubject(p.ID), p, owed, "payment "+n.PaymentID+": "+why); err != nil {
			return "", err
		}
		p, i = owed, len(owed.Returns)-1
	}
	res, err := s.cfg.Gateway.Refund(ctx, payment.RefundRequest{RefundID: r.ReturnID, PaymentID: r.PaymentID, AmountFen: r.AmountFen, Reason: why})
	if err != nil {
		slog.ErrorContext(ctx, "returning a purchase payment", "payment", n.PaymentID, "err", err.Error())
		return "", err
	}
	if res.Status != payment.RefundSucceeded {
		return "", fault.New(fault.Unavailable, "refund_failed", "退款暂未成功，稍后自动重试", "the refund did not go through; it is retried")
	}
	done := p
	done.Returns = append([]Return(nil), p.Returns...)
	done.Returns[i].ReturnedAt = s.confirmed(res)
	done.ReturnedFen, done.Version = p.ReturnedFen+r.AmountFen, p.Version+1
	if err := s.store.UpdatePurchase(ctx, done, ReturnedEntry(p.ID, done.Returns[i])); err != nil {
		return "", err
	}
	if err := s.cfg.Audit.Record(ctx, "sale.purchase.return", purchaseSubject(p.ID), p, done, "payment "+n.PaymentID+" returned: "+why); err != nil {
		return "", err
	}
	return OutcomeReturned, nil
}

// confirmed is when the gateway says it paid a refund (now, if it does
// not say), at the precision both engines keep.
func (s *Service) confirmed(res payment.Refund) time.Time {
	if res.At.IsZero() {
		return s.now()
	}
	return res.At.UTC().Truncate(time.Microsecond)
}

// expire settles a pending purchase past its expiry by what the gateway
// says of its payment: paid is applied, still pending waits, anything else
// closes the purchase.
func (s *Service) expire(ctx context.Context, p Purchase) error {
	if p.PaymentID != "" {
		pay, err := s.cfg.Gateway.Query(ctx, p.PaymentID)
		if err != nil && !fault.Is(err, fault.NotFound) {
			return err
		}
		if err == nil {
			switch pay.Status {
			case payment.Paid:
				_, err := s.HandleNotification(ctx, payment.Notification{ID: "query-" + pay.ID, PaymentID: pay.ID, OrderRef: pay.OrderRef, Status: payment.Paid, AmountFen: pay.AmountFen, PaidAt: pay.PaidAt})
				return err
			case payment.Pending:
				return nil
			}
		}
	}
	closed := p
	closed.Status, closed.CloseReason, closed.ClosedAt, closed.Version = Closed, ClosedExpired, s.now(), p.Version+1
	err := s.store.UpdatePurchase(ctx, closed)
	if errors.Is(err, ErrStale) {
		return nil
	}
	return err
}

// Sweep closes expired purchases, finishes issuing paid ones and retries
// refunds the gateway has not paid; it returns how many things it settled.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	n := 0
	due, err := s.store.DuePurchases(ctx, s.now(), 100)
	if err != nil {
		return n, err
	}
	for _, p := range due {
		if err := s.expire(ctx, p); err != nil {
			slog.WarnContext(ctx, "expiring a purchase", "buy", p.ID, "err", err.Error())
			continue
		}
		n++
	}
	unissued, err := s.store.Unissued(ctx, 100)
	if err != nil {
		return n, err
	}
	for _, p := range unissued {
		if _, err := s.issue(ctx, p); err != nil {
			slog.WarnContext(ctx, "finishing a purchase's tickets", "buy", p.ID, "err", err.Error())
			continue
		}
		n++
	}
	refunds, err := s.store.PendingRefunds(ctx, 100)
	if err != nil {
		return n, err
	}
	for _, r := range refunds {
		if _, err := s.payRefund(ctx, r); err != nil {
			slog.WarnContext(ctx, "retrying a ticket refund", "ticket", r.TicketID, "err", err.Error())
			continue
		}
		n++
	}
	return n, nil
}

// Run sweeps every interval until ctx ends.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			slog.ErrorContext(ctx, "sale sweep", "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Quote says what refunding one of account's bought tickets gives now.
func (s *Service) Quote(ctx context.Context, account, ticketID int64) (Quote, error) {
	t, err := s.cfg.Benefits.Ticket(ctx, ticketID)
	if err != nil {
		return Quote{}, err
	}
	if t.PaidBy != account || t.PaidFen <= 0 {
		return Quote{}, ErrNotBought
	}
	p, err := s.store.PurchaseOfTicket(ctx, ticketID)
	if err != nil {
		return Quote{}, err
	}
	q, _ := QuoteRefund(p, t, account, s.now())
	return q, nil
}

// Bought returns the quotes of account's bought tickets it holds, by
// ticket: what each cost and what a refund would give now.
func (s *Service) Bought(ctx context.Context, account int64) (map[int64]Quote, error) {
	ts, err := s.cfg.Benefits.Tickets(ctx, account)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := map[int64]Quote{}
	ps := map[int64]Purchase{}
	for _, t := range ts {
		if t.PaidFen <= 0 {
			continue
		}
		p, err := s.store.PurchaseOfTicket(ctx, t.ID)
		if errors.Is(err, ErrNotBought) {
			continue // paid for through another sale (settlement reads PaidFen alone)
		} else if err != nil {
			return nil, err
		}
		if cached, ok := ps[p.ID]; ok {
			p = cached
		}
		ps[p.ID] = p
		out[t.ID], _ = QuoteRefund(p, t, account, now)
	}
	return out, nil
}

// RefundTicket refunds the unused rides of one of account's bought tickets
// by its purchase's rule: the ticket is revoked, the refund stored and its
// entry posted together, then the gateway pays it (a failure there is
// retried by the sweep with the same refund ID). The answer is the refund,
// done or pending.
func (s *Service) RefundTicket(ctx context.Context, account, ticketID int64) (Refund, error) {
	now := s.now()
	r, err := s.store.RefundTicket(ctx, ticketID, func(p Purchase, t benefits.Ticket) (Refund, ledger.Entry, error) {
		q, err := QuoteRefund(p, t, account, now)
		if err != nil {
			return Refund{}, ledger.Entry{}, err
		}
		r := Refund{TicketID: t.ID, PurchaseID: p.ID, Buyer: account, PaymentID: p.PaymentID, RefundID: RefundID(t.ID),
			RidesUsed: q.RidesUsed, UnusedFen: q.UnusedFen, FeeFen: q.FeeFen, AmountFen: q.AmountFen, Status: RefundPending, CreatedAt: now, Version: 1}
		return r, RefundEntry(r), nil
	})
	if err != nil {
		return Refund{}, err
	}
	if err := s.cfg.Audit.Record(ctx, "sale.ticket.refund", "benefit_ticket:"+strconv.FormatInt(ticketID, 10), nil, r, ""); err != nil {
		return Refund{}, err
	}
	done, err := s.payRefund(ctx, r)
	if err != nil {
		slog.WarnContext(ctx, "paying a ticket refund", "ticket", ticketID, "err", err.Error())
		return r, nil // entered and pending: the sweep pays it
	}
	return done, nil
}

// Refund returns one of account's refunds by ticket.
func (s *Service) Refund(ctx context.Context, account, ticketID int64) (Refund, error) {
	r, err := s.store.Refund(ctx, ticketID)
	if err != nil {
		return Refund{}, err
	}
	if account != 0 && r.Buyer != account {
		return Refund{}, ErrRefundNotFound
	}
	return r, nil
}

// payRefund asks the gateway for a pending refund (the same refund ID
// every time) and marks it done with the entry of the money paid out, in
// one transaction.
func (s *Service) payRefund(ctx context.Context, r Refund) (Refund, error) {
	if r.Status == RefundDone {
		return r, nil
	}
	res, err := s.cfg.Gateway.Refund(ctx, payment.RefundRequest{RefundID: r.RefundID, PaymentID: r.PaymentID, AmountFen: r.AmountFen, Reason: "bought ticket refunded"})
	if err != nil {
		return r, err
	}
	if res.Status != payment.RefundSucceeded {
		return r, fault.New(fault.Unavailable, "refund_failed", "退款暂未成功，稍后自动重试", "the refund did not go through; it is retried")
	}
	done := r
	done.Status, done.DoneAt, done.Version = RefundDone, s.confirmed(res), r.Version+1
	if err := s.store.UpdateRefund(ctx, done, RefundPaidEntry(done)); err != nil {
		if errors.Is(err, ErrStale) {
			return s.store.Refund(ctx, r.TicketID)
		}
		return r, err
	}
	return done, nil
}
