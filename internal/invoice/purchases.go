package invoice

import (
	"context"
	"log/slog"
	"strconv"
	"time"
	"unicode/utf8"

	"piao/internal/fault"
	"piao/internal/purchase"
	"piao/internal/tenant"
)

// Merchants' purchases are invoiced by a sweep rather than inside the
// purchase service: a purchase is paid, or a campaign refund finished, by
// its own transactions, and the sweep then issues what is missing. The
// invoices' unique (kind, ref) makes it exactly once however often the
// sweep runs, in however many processes, and whatever crashed in between.

// PurchaseRef is the business event of a merchant purchase's invoice.
func PurchaseRef(id int64) string { return "purchase:" + strconv.FormatInt(id, 10) }

// RefundRef is the business event of a red invoice for one gateway refund
// (its idempotency ID, unique at the gateway).
func RefundRef(refundID string) string { return "refund:" + refundID }

// RefundSource names a campaign refund as a source invoiced in parts (one
// red invoice per purchase it paid back), marked once all are issued.
func RefundSource(id int64) string { return "campaign-refund:" + strconv.FormatInt(id, 10) }

// sweepBatch is how many purchases and refunds one pass takes.
const sweepBatch = 100

// IssueForPurchases issues the invoices merchants' purchases still lack:
// a blue one for every paid purchase, then a red one for every purchase a
// finished campaign refund paid back. It returns how many it issued; one
// that fails is logged and tried again on the next pass.
func (s *Service) IssueForPurchases(ctx context.Context) (int, error) {
	if s.cfg.Merchants == nil || s.cfg.Campaigns == nil {
		return 0, nil
	}
	all := tenant.All()
	ps, err := s.store.UninvoicedPurchases(ctx, all, sweepBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range ps {
		created, err := sweepOne(ctx, s, s.purchaseRequest, p)
		if err != nil {
			slog.WarnContext(ctx, "invoicing a purchase", "purchase", p.ID, "err", err.Error())
			continue
		}
		n += created
	}
	refunds, err := s.store.UninvoicedRefunds(ctx, all, sweepBatch)
	if err != nil {
		return n, err
	}
	for _, r := range refunds {
		issued, err := s.invoiceRefund(ctx, r)
		n += issued
		if err != nil {
			slog.WarnContext(ctx, "invoicing a campaign refund", "refund", r.ID, "err", err.Error())
		}
	}
	return n, nil
}

// InvoicePurchase issues (or returns) the blue invoice of a paid merchant
// purchase: its tickets at the unit price and its value, made out to the
// merchant's legal name and credit code.
func (s *Service) InvoicePurchase(ctx context.Context, p purchase.Purchase) (Invoice, error) {
	r, err := s.purchaseRequest(ctx, p)
	if err != nil {
		return Invoice{}, err
	}
	return s.Issue(ctx, r)
}

func (s *Service) purchaseRequest(ctx context.Context, p purchase.Purchase) (Request, error) {
	if p.Status != purchase.Paid {
		return Request{}, errNotPaid
	}
	scope := tenant.Merchant(p.Merchant)
	m, err := s.cfg.Merchants.Merchant(ctx, scope, p.Merchant)
	if err != nil {
		return Request{}, err
	}
	what, err := s.campaignName(ctx, scope, p.CampaignID)
	if err != nil {
		return Request{}, err
	}
	var items []Item
	if p.Tickets > 0 {
		items = append(items, Item{Name: clip("预付乘车票 Prepaid metro tickets · " + what), Quantity: int64(p.Tickets), UnitPriceFen: p.UnitPriceFen, AmountFen: int64(p.Tickets) * p.UnitPriceFen})
	}
	if p.ValueFen > 0 {
		items = append(items, Item{Name: clip("预付金额 Prepaid value · " + what), Quantity: 1, UnitPriceFen: p.ValueFen, AmountFen: p.ValueFen})
	}
	return Request{Kind: Blue, Ref: PurchaseRef(p.ID),
		Buyer: Party{Owner: tenant.OwnerOf(p.Merchant), Name: m.LegalName, TaxNumber: m.CreditCode}, Items: items}, nil
}

// invoiceRefund issues a red invoice for each purchase a finished campaign
// refund paid back, reversing that purchase's invoice by the amount
// returned, then marks the refund invoiced.
func (s *Service) invoiceRefund(ctx context.Context, r purchase.Refund) (int, error) {
	if r.Status != purchase.RefundDone {
		return 0, nil
	}
	what, err := s.campaignName(ctx, tenant.Merchant(r.Merchant), r.CampaignID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, part := range r.Parts {
		if !part.Done || part.AmountFen <= 0 {
			continue
		}
		_, created, err := s.issue(ctx, Request{Kind: Red, Ref: RefundRef(part.RefundID), Reverses: PurchaseRef(part.PurchaseID),
			Items: []Item{{Name: clip("退还未用预付金额 Unused prepaid value returned · " + what), Quantity: 1, UnitPriceFen: part.AmountFen, AmountFen: part.AmountFen}}})
		if err != nil {
			return n, err // the refund stays unmarked: the next pass finishes it
		}
		if created {
			n++
		}
	}
	return n, s.store.MarkInvoiced(ctx, RefundSource(r.ID), s.now())
}

func (s *Service) campaignName(ctx context.Context, scope tenant.Scope, id int64) (string, error) {
	c, err := s.cfg.Campaigns.Campaign(ctx, scope, id)
	if err != nil {
		return "", err
	}
	name := c.NameZH
	if name == "" {
		name = c.NameEN
	}
	return name, nil
}

// clip keeps a line's name within the limit of a line.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxNameRunes {
		return s
	}
	return string([]rune(s)[:maxNameRunes-1]) + "…"
}

// Run sweeps for missing invoices (Sweep) every interval until ctx ends.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			slog.WarnContext(ctx, "invoice sweep", "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

var errNotPaid = fault.New(fault.Conflict, "invoice_purchase_unpaid", "采购单尚未支付，不能开票", "the purchase is not paid: it cannot be invoiced")
