package purchase

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

// Campaigns is what purchases need of the campaigns (the benefits service):
// reading one in a scope, its unit price, adding stock and closing its
// budget, each exactly once per key.
type Campaigns interface {
	// Campaign returns a campaign the scope sees (not_found otherwise).
	Campaign(ctx context.Context, scope tenant.Scope, id int64) (benefits.Campaign, error)
	// UnitPrice is the fen a merchant prepays per ticket; 0: the campaign
	// is prepaid by value.
	UnitPrice(ctx context.Context, scope tenant.Scope, campaignID int64) (int64, error)
	// AddStock adds tickets to the campaign's stock and value (fen) to
	// its budget once per key (a repeat changes nothing); refused (conflict)
	// once the campaign is over.
	AddStock(ctx context.Context, scope tenant.Scope, campaignID int64, key string, tickets int, value int64) (benefits.Campaign, error)
	// CloseBudget caps an over campaign's budget at what it spent and
	// returns the value left unused, once per key (a repeat answers the
	// same figure).
	CloseBudget(ctx context.Context, scope tenant.Scope, campaignID int64, key string) (int64, benefits.Campaign, error)
	// Events is a campaign's trail, oldest first: a terminated campaign
	// ended at its terminate event (EndOf).
	Events(ctx context.Context, scope tenant.Scope, campaignID int64) ([]benefits.Event, error)
}

// Store keeps purchases and refunds. Every method takes the scope whose
// rows it may see: another merchant's row is ErrNotFound.
type Store interface {
	// CreatePurchase stores a new purchase and sets its ID.
	CreatePurchase(ctx context.Context, scope tenant.Scope, p *Purchase) error
	// Purchase returns a purchase.
	Purchase(ctx context.Context, scope tenant.Scope, id int64) (Purchase, error)
	// Purchases lists purchases, newest first.
	Purchases(ctx context.Context, scope tenant.Scope, f Filter) ([]Purchase, error)
	// UpdatePurchase stores p if the stored one is at p.Version−1
	// (ErrStale otherwise), and posts the journal entries of the money the
	// change records in the same transaction.
	UpdatePurchase(ctx context.Context, scope tenant.Scope, p Purchase, entries ...ledger.Entry) error
	// DuePurchases lists pending purchases whose payment expired by now,
	// oldest first.
	DuePurchases(ctx context.Context, scope tenant.Scope, now time.Time, limit int) ([]Purchase, error)
	// CreateRefund stores a campaign's refund and sets its ID;
	// ErrRefundExists if the campaign has one.
	CreateRefund(ctx context.Context, scope tenant.Scope, r *Refund) error
	// Refund returns a campaign's refund (ErrRefundNotFound if none).
	Refund(ctx context.Context, scope tenant.Scope, campaignID int64) (Refund, error)
	// UpdateRefund stores r if the stored one is at r.Version−1 (ErrStale
	// otherwise), and posts the journal entries of the money the change
	// records in the same transaction.
	UpdateRefund(ctx context.Context, scope tenant.Scope, r Refund, entries ...ledger.Entry) error
	// PostEntries posts journal entries of money that changed no purchase
	// (a second payment of a paid purchase, returned), in one transaction.
	PostEntries(ctx context.Context, entries ...ledger.Entry) error
	// PendingRefunds lists refunds not yet paid back in full, oldest first.
	PendingRefunds(ctx context.Context, scope tenant.Scope, limit int) ([]Refund, error)
}

// Config connects the service.
type Config struct {
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// Gateway takes the payments and returns the refunds.
	Gateway payment.Gateway
	// Campaigns are the campaigns stock is bought for.
	Campaigns Campaigns
	// NotifyURL is where the gateway posts payment notifications
	// (<base>/api/v1/merchant-purchases/notify).
	NotifyURL string
	// ReturnURL is where the payer's browser goes after paying, with the
	// purchase ID appended (<base>/merchant/purchases/).
	ReturnURL string
	Limits    Limits
	Refunds   RefundRules
	// MerchantKind tells a merchant organisation's kind ("merchant",
	// "employer"), which says which prepaid account its purchases are
	// kept in (ledger.PrepaidAccount); nil: every buyer is a merchant.
	MerchantKind func(ctx context.Context, merchant int64) (string, error)
	// Audit records purchases created, paid and refunded.
	Audit *audit.Log
}

// Service runs batch purchases.
type Service struct {
	store Store
	cfg   Config
}

// ErrNotRunning answers the purchase routes when this process does not
// run purchases (no gateway or no campaigns).
var ErrNotRunning = fault.New(fault.Unavailable, "purchases_unavailable", "本服务未开启商户采购", "merchant purchases do not run in this process")

// New returns the purchase service over st.
func New(st Store, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Limits = cfg.Limits.orDefaults()
	cfg.Refunds = cfg.Refunds.orDefaults()
	return &Service{store: st, cfg: cfg}
}

// now is the clock cut to microseconds, the precision both engines keep.
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// Limits are the limits purchases are held to.
func (s *Service) Limits() Limits { return s.cfg.Limits }

// RefundRules are the refund rule's settings in force.
func (s *Service) RefundRules() RefundRules { return s.cfg.Refunds }

func subject(id int64) string { return "purchase:" + strconv.FormatInt(id, 10) }

// Create orders stock for one of the merchant's campaigns and creates its
// gateway payment, payable by the buying account only. Nothing is stored
// when the order is refused.
func (s *Service) Create(ctx context.Context, scope tenant.Scope, account int64, o Order) (Purchase, error) {
	merchant := scope.MerchantID()
	if merchant <= 0 {
		return Purchase{}, ErrMerchantOnly
	}
	if o.CampaignID <= 0 {
		return Purchase{}, errCampaignMissing
	}
	c, err := s.cfg.Campaigns.Campaign(ctx, scope, o.CampaignID)
	if err != nil {
		return Purchase{}, err
	}
	if owner, ok := tenant.MerchantOf(c.Owner); !ok || owner != merchant {
		return Purchase{}, fault.New(fault.NotFound, "campaign_not_found", "没有这个活动", "there is no such campaign")
	}
	if !c.Prepaid {
		return Purchase{}, ErrNotPrepaid
	}
	now := s.now()
	if c.Over(now) || !c.Ends.After(now) {
		return Purchase{}, ErrCampaignOver
	}
	if c.Status == benefits.Rejected {
		return Purchase{}, ErrCampaignRejected
	}
	price, err := s.cfg.Campaigns.UnitPrice(ctx, scope, c.ID)
	if err != nil {
		return Purchase{}, err
	}
	amount, err := Price(o, price, s.cfg.Limits)
	if err != nil {
		return Purchase{}, err
	}
	expires := now.Add(s.cfg.Limits.PayWindow)
	if c.Ends.Before(expires) {
		expires = c.Ends.UTC().Truncate(time.Microsecond) // paid stock must arrive while the campaign can take it
	}
	p := Purchase{Merchant: merchant, CampaignID: c.ID, Tickets: o.Tickets, ValueFen: o.ValueFen, UnitPriceFen: price, AmountFen: amount,
		Status: Pending, BoughtBy: account, CreatedAt: now, ExpiresAt: expires, Version: 1}
	if err := s.store.CreatePurchase(ctx, scope, &p); err != nil {
		return Purchase{}, err
	}
	pay, err := s.cfg.Gateway.Create(ctx, payment.CreateRequest{
		OrderRef: OrderRef(p.ID), AmountFen: amount, Subject: c.NameZH + " / " + c.NameEN, Payer: PayerOf(account),
		NotifyURL: s.cfg.NotifyURL, ReturnURL: s.cfg.ReturnURL + strconv.FormatInt(p.ID, 10), ExpiresAt: expires,
	})
	if err != nil {
		// No payment: the purchase closes at once rather than wait for its expiry.
		closed := p
		closed.Status, closed.CloseReason, closed.ClosedAt, closed.Version = Closed, ClosedNoPayment, now, p.Version+1
		if uerr := s.store.UpdatePurchase(context.WithoutCancel(ctx), scope, closed); uerr != nil {
			slog.ErrorContext(ctx, "closing a purchase without payment", "purchase", p.ID, "err", uerr.Error())
		}
		return Purchase{}, err
	}
	created := p
	p.PaymentID, p.PayURL, p.Version = pay.ID, pay.PayURL, p.Version+1
	if err := s.store.UpdatePurchase(ctx, scope, p); err != nil {
		return Purchase{}, err
	}
	if err := s.cfg.Audit.Record(ctx, "purchase.create", subject(p.ID), nil, created, ""); err != nil {
		return Purchase{}, err
	}
	return p, nil
}

// Purchase returns one purchase; a pending one past its expiry is expired
// first (or found paid, if the gateway says so).
func (s *Service) Purchase(ctx context.Context, scope tenant.Scope, id int64) (Purchase, error) {
	p, err := s.store.Purchase(ctx, scope, id)
	if err != nil {
		return Purchase{}, err
	}
	if p.Status == Pending && !s.now().Before(p.ExpiresAt) {
		if err := s.expire(ctx, p); err != nil {
			slog.WarnContext(ctx, "expiring a purchase on read", "purchase", id, "err", err.Error())
			return p, nil
		}
		return s.store.Purchase(ctx, scope, id)
	}
	return p, nil
}

// Purchases lists the purchases of the scope, newest first.
func (s *Service) Purchases(ctx context.Context, scope tenant.Scope, f Filter) ([]Purchase, error) {
	return s.store.Purchases(ctx, scope, f.Bounded())
}

// MerchantPurchases lists one merchant's purchases, newest first, for a
// scope that sees that merchant (the operator's).
func (s *Service) MerchantPurchases(ctx context.Context, scope tenant.Scope, merchant int64, f Filter) ([]Purchase, error) {
	if !scope.Sees(merchant) || merchant <= 0 {
		return nil, fault.New(fault.NotFound, "merchant_not_found", "没有这个商户", "there is no such merchant")
	}
	return s.store.Purchases(ctx, tenant.Merchant(merchant), f.Bounded())
}

// Outcome says what a payment notification did.
type Outcome string

// Outcomes of a payment notification.
const (
	OutcomePaid      Outcome = "paid"      // the purchase is paid and its stock added
	OutcomeDuplicate Outcome = "duplicate" // already applied: nothing changed
	OutcomeRefunded  Outcome = "refunded"  // the purchase could not take it: the money went back
	OutcomeIgnored   Outcome = "ignored"   // not a successful payment
)

// HandleNotification applies a verified gateway notification exactly once.
// A payment for a pending purchase adds its stock to the campaign (under
// the purchase's key, so at most once) and then marks it paid: a crash in
// between leaves it pending, and the gateway's next delivery adds nothing
// more and marks it. A payment of a closed purchase, or one the campaign
// can no longer take, goes back in full under a refund ID fixed by the
// payment. Repeats and reorderings end in the same state.
func (s *Service) HandleNotification(ctx context.Context, n payment.Notification) (Outcome, error) {
	id, ok := IDFromRef(n.OrderRef)
	if !ok {
		return "", errBadRef
	}
	if n.Status != payment.Paid {
		return OutcomeIgnored, nil
	}
	all := tenant.All() // the gateway speaks for no merchant; the purchase names its own
	for {
		p, err := s.store.Purchase(ctx, all, id)
		if err != nil {
			return "", err
		}
		if n.AmountFen != p.AmountFen {
			return "", fault.Newf(fault.Invalid, ErrAmountMismatch.Reason, "支付金额 %d 分与采购金额 %d 分不符", "paid %d fen for a purchase of %d fen", n.AmountFen, p.AmountFen)
		}
		var out Outcome
		switch {
		case p.Status == Paid && p.PaymentID == n.PaymentID:
			return OutcomeDuplicate, nil
		case p.Status == Paid:
			// Another payment of a purchase already paid: return it.
			if err := s.refundPayment(ctx, n, "the purchase was already paid by "+p.PaymentID); err != nil {
				return "", err
			}
			return OutcomeRefunded, s.store.PostEntries(ctx, lateEntries(subject(p.ID), n.PaymentID, n.AmountFen, s.now())...)
		case p.Status == Closed:
			out, err = s.refundClosed(ctx, p, n)
		default:
			out, err = s.pay(ctx, p, n)
		}
		if errors.Is(err, ErrStale) {
			continue // changed meanwhile: decide again on what is stored now
		}
		return out, err
	}
}

// pay adds a pending purchase's stock and marks it paid.
func (s *Service) pay(ctx context.Context, p Purchase, n payment.Notification) (Outcome, error) {
	scope := tenant.Merchant(p.Merchant)
	// The whole amount paid becomes the campaign's budget (for tickets,
	// tickets × unit price): it is what rides charge the merchant's
	// prepaid value with, and what the refund rule returns unused.
	_, err := s.cfg.Campaigns.AddStock(ctx, scope, p.CampaignID, StockKey(p.ID), p.Tickets, p.AmountFen)
	if refused(err) {
		// The campaign takes no more stock (it ended meanwhile, or is
		// full): the purchase closes and its money goes back.
		closed := p
		closed.Status, closed.CloseReason, closed.ClosedAt, closed.PaymentID, closed.Version = Closed, ClosedCampaignOver, s.now(), n.PaymentID, p.Version+1
		if err := s.store.UpdatePurchase(ctx, tenant.All(), closed); err != nil {
			return "", err
		}
		return s.refundClosed(ctx, closed, n)
	}
	if err != nil {
		return "", err // not applied: the gateway delivers again
	}
	paid := p
	paidAt := n.PaidAt
	if paidAt.IsZero() {
		paidAt = s.now()
	}
	paid.Status, paid.PaymentID, paid.PaidAt, paid.Version = Paid, n.PaymentID, paidAt.UTC().Truncate(time.Microsecond), p.Version+1
	account, err := s.prepaidAccount(ctx, p.Merchant)
	if err != nil {
		return "", err
	}
	if err := s.store.UpdatePurchase(ctx, tenant.All(), paid, paidEntry(paid, account)); err != nil {
		return "", err
	}
	if err := s.cfg.Audit.Record(ctx, "purchase.pay", subject(p.ID), p, paid, "payment "+n.PaymentID+" notification "+n.ID); err != nil {
		return "", err
	}
	return OutcomePaid, nil
}

// refused reports whether AddStock refused the stock for good (the
// campaign is over, not prepaid, or full), rather than failing for now.
func refused(err error) bool {
	return fault.Is(err, fault.Conflict) || fault.Is(err, fault.LimitReached) || fault.Is(err, fault.Invalid)
}

// refundClosed returns in full a payment that came for a closed purchase
// and records it on the purchase.
func (s *Service) refundClosed(ctx context.Context, p Purchase, n payment.Notification) (Outcome, error) {
	if err := s.refundPayment(ctx, n, "the purchase was closed ("+p.CloseReason+")"); err != nil {
		return "", err
	}
	if p.RefundID == lateRefundID(n.PaymentID) {
		return OutcomeRefunded, nil // recorded by an earlier delivery
	}
	if p.RefundID != "" {
		// The purchase records another payment's return already (two
		// payments came for it): this one is recorded in the journal only.
		return OutcomeRefunded, s.store.PostEntries(ctx, lateEntries(subject(p.ID), n.PaymentID, n.AmountFen, s.now())...)
	}
	done := p
	done.RefundedFen, done.RefundID, done.Version = n.AmountFen, lateRefundID(n.PaymentID), p.Version+1
	if done.PaymentID == "" {
		done.PaymentID = n.PaymentID
	}
	if err := s.store.UpdatePurchase(ctx, tenant.All(), done, lateEntries(subject(p.ID), n.PaymentID, n.AmountFen, s.now())...); err != nil {
		return "", err
	}
	if err := s.cfg.Audit.Record(ctx, "purchase.refund_late", subject(p.ID), p, done, "payment "+n.PaymentID+" arrived when the purchase was closed"); err != nil {
		return "", err
	}
	return OutcomeRefunded, nil
}

func lateRefundID(paymentID string) string { return "mp-late-" + paymentID }

// refundPayment returns a whole payment through the gateway, once per payment.
func (s *Service) refundPayment(ctx context.Context, n payment.Notification, why string) error {
	_, err := s.cfg.Gateway.Refund(ctx, payment.RefundRequest{RefundID: lateRefundID(n.PaymentID), PaymentID: n.PaymentID, AmountFen: n.AmountFen, Reason: why})
	if err != nil {
		slog.ErrorContext(ctx, "refunding a purchase payment", "payment", n.PaymentID, "err", err.Error())
	}
	return err // on failure the gateway notifies again, and the same refund ID is asked again
}

// ExpireDue closes the pending purchases whose payment expired by now
// (those the gateway says were paid are applied instead) and retries the
// refunds still pending; it returns how many purchases it settled.
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	due, err := s.store.DuePurchases(ctx, tenant.All(), s.now(), 100)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range due {
		if err := s.expire(ctx, p); err != nil {
			slog.WarnContext(ctx, "expiring a purchase", "purchase", p.ID, "err", err.Error())
			continue
		}
		n++
	}
	refunds, err := s.store.PendingRefunds(ctx, tenant.All(), 100)
	if err != nil {
		return n, err
	}
	for _, r := range refunds {
		if _, err := s.payBack(ctx, tenant.All(), r); err != nil {
			slog.WarnContext(ctx, "retrying a campaign refund", "campaign", r.CampaignID, "err", err.Error())
		}
	}
	return n, nil
}

// Run sweeps expired purchases and pending refunds every interval until ctx ends.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.ExpireDue(ctx); err != nil && ctx.Err() == nil {
			slog.ErrorContext(ctx, "purchase sweep", "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// expire settles a pending purchase past its expiry by what the gateway
// says of its payment: paid is applied as its notification would be,
// still pending waits, anything else closes the purchase. A payment the
// gateway has closed can no longer be paid, so no later notification can
// find the purchase closed with its stock added.
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
				return nil // the gateway has not closed it yet: ask again later
			}
		}
	}
	closed := p
	closed.Status, closed.CloseReason, closed.ClosedAt, closed.Version = Closed, ClosedExpired, s.now(), p.Version+1
	err := s.store.UpdatePurchase(ctx, tenant.All(), closed)
	if errors.Is(err, ErrStale) {
		return nil // paid or closed meanwhile
	}
	return err
}
