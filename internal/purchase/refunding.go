package purchase

import (
	"context"
	"errors"
	"strconv"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/ledger"
	"piao/internal/payment"
	"piao/internal/tenant"
)

// paidOf returns a campaign's paid purchases and what they brought in.
func (s *Service) paidOf(ctx context.Context, scope tenant.Scope, campaignID int64) ([]Purchase, int64, error) {
	var paid []Purchase
	var sum int64
	f := Filter{CampaignID: campaignID, Status: Paid, Limit: 500}
	for {
		page, err := s.store.Purchases(ctx, scope, f)
		if err != nil {
			return nil, 0, err
		}
		for _, p := range page {
			paid = append(paid, p)
			sum += p.AmountFen - p.RefundedFen
		}
		if len(page) < f.Limit {
			return paid, sum, nil
		}
		f.BeforeID = page[len(page)-1].ID
	}
}

// eventsOf is the trail of a terminated campaign, which its end is taken
// from; other campaigns end at their Ends and need none.
func (s *Service) eventsOf(ctx context.Context, scope tenant.Scope, c benefits.Campaign) ([]benefits.Event, error) {
	if c.Status != benefits.Terminated {
		return nil, nil
	}
	return s.cfg.Campaigns.Events(ctx, scope, c.ID)
}

// ErrPurchasePending refuses a campaign's refund while one of its
// purchases still waits for its payment to settle.
var ErrPurchasePending = fault.New(fault.Conflict, "refund_purchase_pending", "该活动仍有待确认支付的采购，确认后（或超时关闭后）方可退款，请稍后重试",
	"a purchase of the campaign still waits for its payment to settle; the refund can be asked for once it is paid or closed")

// noPending refuses (ErrPurchasePending) while the campaign has a pending purchase.
func (s *Service) noPending(ctx context.Context, scope tenant.Scope, campaignID int64) error {
	ps, err := s.store.Purchases(ctx, scope, Filter{CampaignID: campaignID, Status: Pending, Limit: 1})
	if err != nil {
		return err
	}
	if len(ps) > 0 {
		return ErrPurchasePending
	}
	return nil
}

// RefundPreview says what refunding a campaign's unused value would give
// now and when it may be asked for, or the refund once it was made.
func (s *Service) RefundPreview(ctx context.Context, scope tenant.Scope, campaignID int64) (Preview, error) {
	c, err := s.cfg.Campaigns.Campaign(ctx, scope, campaignID)
	if err != nil {
		return Preview{}, err
	}
	_, paid, err := s.paidOf(ctx, scope, campaignID)
	if err != nil {
		return Preview{}, err
	}
	events, err := s.eventsOf(ctx, scope, c)
	if err != nil {
		return Preview{}, err
	}
	unused := max(c.BudgetValue-c.Spent, 0)
	_, fee, refund := s.cfg.Refunds.Figures(unused, paid)
	pv := Preview{CampaignID: campaignID, UnusedFen: unused, PaidFen: paid, FeeFen: fee, RefundFen: refund, Window: s.cfg.Refunds.WindowOf(c, events)}
	err = s.cfg.Refunds.Check(c, events, s.now())
	if err == nil {
		err = s.noPending(ctx, scope, campaignID)
	}
	switch {
	case err == nil:
		pv.Open = true
	case fault.Is(err, fault.Conflict):
		pv.Reason = fault.As(err).Reason
	default:
		return Preview{}, err
	}
	r, err := s.store.Refund(ctx, scope, campaignID)
	switch {
	case err == nil:
		pv.Refund, pv.Open, pv.Reason = &r, false, ErrRefundExists.Reason
		pv.UnusedFen, pv.FeeFen, pv.RefundFen = r.UnusedFen, r.FeeFen, r.RefundedFen
	case !errors.Is(err, ErrRefundNotFound):
		return Preview{}, err
	}
	return pv, nil
}

// RefundUnused refunds a campaign's unused value by the refund rule (see
// RefundRules): once per campaign, inside its window, less the fee, paid
// back through the gateway against its paid purchases, newest first. A
// refund whose gateway refunds did not all go through is finished by
// asking again (or by the sweep), with the same refund IDs; one finished
// is refund_exists.
func (s *Service) RefundUnused(ctx context.Context, scope tenant.Scope, campaignID, account int64) (Refund, error) {
	r, err := s.store.Refund(ctx, scope, campaignID)
	switch {
	case err == nil && r.Status == RefundDone:
		return r, ErrRefundExists
	case err == nil:
		return s.payBack(ctx, scope, r) // a refund left pending: finish it
	case !errors.Is(err, ErrRefundNotFound):
		return Refund{}, err
	}
	c, err := s.cfg.Campaigns.Campaign(ctx, scope, campaignID)
	if err != nil {
		return Refund{}, err
	}
	merchant, ok := tenant.MerchantOf(c.Owner)
	if !ok {
		return Refund{}, fault.New(fault.Conflict, "campaign_not_prepaid", "该活动不是商户预付活动", "the campaign is not a merchant's prepaid campaign")
	}
	now := s.now()
	events, err := s.eventsOf(ctx, scope, c)
	if err != nil {
		return Refund{}, err
	}
	if err := s.cfg.Refunds.Check(c, events, now); err != nil {
		return Refund{}, err
	}
	// A pending purchase may have its stock in the budget already (paid,
	// then a crash before it was marked, or a late notification): the
	// budget must not close until the sweep or the notification settles it.
	if err := s.noPending(ctx, scope, campaignID); err != nil {
		return Refund{}, err
	}
	paid, sum, err := s.paidOf(ctx, scope, campaignID)
	if err != nil {
		return Refund{}, err
	}
	if sum <= 0 {
		return Refund{}, fault.New(fault.Conflict, "refund_nothing_paid", "该活动没有已支付的采购，无可退款", "the campaign has no paid purchase: there is nothing to refund")
	}
	// The budget closes once (same key, same figure), so a crash after it
	// and a retry agree on what was unused.
	unused, _, err := s.cfg.Campaigns.CloseBudget(ctx, scope, campaignID, "refund:campaign:"+strconv.FormatInt(campaignID, 10))
	if err != nil {
		return Refund{}, err
	}
	_, fee, amount := s.cfg.Refunds.Figures(unused, sum)
	r = Refund{Merchant: merchant, CampaignID: campaignID, UnusedFen: unused, PaidFen: sum, FeeFen: fee, RefundedFen: amount,
		Status: RefundPending, Parts: []RefundPart{}, By: account, CreatedAt: now, Version: 1}
	if err := s.store.CreateRefund(ctx, scope, &r); err != nil {
		if errors.Is(err, ErrRefundExists) { // a concurrent request made it: finish that one
			if r, err = s.store.Refund(ctx, scope, campaignID); err == nil && r.Status == RefundPending {
				return s.payBack(ctx, scope, r)
			}
			return r, ErrRefundExists
		}
		return Refund{}, err
	}
	// The plan needs the refund's ID for its refund IDs: stored next.
	planned := r
	planned.Parts, planned.Version = Plan(r.ID, paid, amount), r.Version+1
	if err := s.store.UpdateRefund(ctx, scope, planned); err != nil {
		return Refund{}, err
	}
	if err := s.cfg.Audit.Record(ctx, "purchase.refund", "campaign:"+strconv.FormatInt(campaignID, 10), nil, planned, ""); err != nil {
		return Refund{}, err
	}
	return s.payBack(ctx, scope, planned)
}

// errRefundPending says the gateway refunds did not all go through yet.
var errRefundPending = fault.New(fault.Unavailable, "refund_pending", "退款已受理，部分款项暂未退回，请稍后重试", "the refund is recorded but not all of the money went back yet; ask again to resend it")

// payBack sends a refund's gateway refunds not yet done, recording each,
// and marks the refund done when all are. Two racing (a retry and the
// sweep) send the same refund IDs, which the gateway refunds once; the
// one that finds the record changed reads it again and goes on.
func (s *Service) payBack(ctx context.Context, scope tenant.Scope, r Refund) (Refund, error) {
	for range 5 {
		out, err := s.payBackOnce(ctx, scope, r)
		if !errors.Is(err, ErrStale) {
			return out, err
		}
		if r, err = s.store.Refund(ctx, scope, r.CampaignID); err != nil {
			return r, err
		}
	}
	return r, ErrStale
}

func (s *Service) payBackOnce(ctx context.Context, scope tenant.Scope, r Refund) (Refund, error) {
	if r.Status == RefundDone {
		return r, nil
	}
	account, err := s.prepaidAccount(ctx, r.Merchant)
	if err != nil {
		return r, err
	}
	if r.Version == 1 && r.RefundedFen > 0 && len(r.Parts) == 0 {
		// Stored but not planned (a crash in between): plan it now.
		paid, _, err := s.paidOf(ctx, scope, r.CampaignID)
		if err != nil {
			return r, err
		}
		planned := r
		planned.Parts, planned.Version = Plan(r.ID, paid, r.RefundedFen), r.Version+1
		if err := s.store.UpdateRefund(ctx, scope, planned); err != nil {
			return r, err
		}
		r = planned
	}
	for i, part := range r.Parts {
		if part.Done {
			continue
		}
		rf, err := s.cfg.Gateway.Refund(ctx, payment.RefundRequest{RefundID: part.RefundID, PaymentID: part.PaymentID, AmountFen: part.AmountFen,
			Reason: "unused value of campaign " + strconv.FormatInt(r.CampaignID, 10)})
		if err != nil || rf.Status != payment.RefundSucceeded {
			return r, errRefundPending
		}
		next := r
		next.Parts = append([]RefundPart(nil), r.Parts...)
		next.Parts[i].Done, next.Parts[i].At, next.Version = true, rf.At, r.Version+1
		at := rf.At
		if at.IsZero() {
			at = s.now()
		}
		if err := s.store.UpdateRefund(ctx, scope, next, refundPartEntry(next, part, account, at)); err != nil {
			return r, err
		}
		r = next
	}
	done := r
	done.Status, done.DoneAt, done.Version = RefundDone, s.now(), r.Version+1
	var fee []ledger.Entry
	if e, ok := refundFeeEntry(done, account, done.DoneAt); ok {
		fee = append(fee, e)
	}
	if err := s.store.UpdateRefund(ctx, scope, done, fee...); err != nil {
		return r, err
	}
	if err := s.cfg.Audit.Record(ctx, "purchase.refunded", "campaign:"+strconv.FormatInt(r.CampaignID, 10), r, done, ""); err != nil {
		return done, err
	}
	return done, nil
}
