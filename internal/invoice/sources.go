package invoice

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"

	"piao/internal/employer"
	"piao/internal/fault"
	"piao/internal/sale"
	"piao/internal/tenant"
)

// Passengers' purchases and their ticket refunds, employers' top-ups and
// monthly bills are invoiced by the same sweep as merchants' purchases:
// each is recorded by its own transactions (internal/sale,
// internal/employer), and the sweep issues what is missing, once per
// (kind, Ref) however often and in however many processes it runs.

// SaleRef is the business event of a passenger purchase's blue invoice.
func SaleRef(id int64) string { return "sale:" + strconv.FormatInt(id, 10) }

// SaleRefundRef is the business event of the red invoice of a bought
// ticket's refund.
func SaleRefundRef(id int64) string { return "sale_refund:" + strconv.FormatInt(id, 10) }

// TopUpRef is the business event of an employer top-up's blue invoice.
func TopUpRef(id int64) string { return employer.TopUpSubject(id) }

// BillRef is the business event of an employer monthly bill's blue invoice.
func BillRef(id int64) string { return employer.BillSubject(id) }

// Sweep issues every invoice still missing: merchants' purchases and
// campaign refunds, passengers' purchases and ticket refunds, employers'
// top-ups and monthly bills. It returns how many it issued; a source that
// fails is logged and tried again on the next pass, and does not stop the
// others.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	var errs []error
	total := 0
	for _, pass := range []func(context.Context) (int, error){s.IssueForPurchases, s.IssueForSales, s.IssueForEmployers} {
		n, err := pass(ctx)
		total += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return total, errors.Join(errs...)
}

// IssueForSales issues a blue invoice for every paid passenger purchase
// lacking one, then a red one for every finished refund of a bought
// ticket, reversing its purchase's invoice by the amount refunded.
func (s *Service) IssueForSales(ctx context.Context) (int, error) {
	ps, err := s.store.UninvoicedSales(ctx, sweepBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range ps {
		created, err := sweepOne(ctx, s, s.saleRequest, p)
		if err != nil {
			slog.WarnContext(ctx, "invoicing a passenger purchase", "purchase", p.ID, "err", err.Error())
			continue
		}
		n += created
	}
	refunds, err := s.store.UninvoicedSaleRefunds(ctx, sweepBatch)
	if err != nil {
		return n, err
	}
	for _, r := range refunds {
		created, err := s.invoiceSaleRefund(ctx, r)
		if err != nil {
			slog.WarnContext(ctx, "invoicing a ticket refund", "refund", r.ID, "err", err.Error())
			continue
		}
		n += created
	}
	return n, nil
}

// InvoiceSale issues (or returns) the blue invoice of a paid passenger
// purchase: the offer's product, units at the unit price, made out to the
// buyer's real name (the username of an account without one).
func (s *Service) InvoiceSale(ctx context.Context, p sale.Purchase) (Invoice, error) {
	r, err := s.saleRequest(ctx, p)
	if err != nil {
		return Invoice{}, err
	}
	return s.Issue(ctx, r)
}

func (s *Service) saleRequest(ctx context.Context, p sale.Purchase) (Request, error) {
	if p.Status != sale.Paid {
		return Request{}, errSaleNotPaid
	}
	name, err := s.store.AccountName(ctx, p.Buyer)
	if err != nil {
		return Request{}, err
	}
	return Request{Kind: Blue, Ref: SaleRef(p.ID),
		Buyer: Party{Owner: AccountOwner(p.Buyer), Name: clip(name)},
		Items: []Item{{Name: clip(saleItemName(p)), Quantity: int64(p.Units), UnitPriceFen: p.PriceFen, AmountFen: p.AmountFen}}}, nil
}

// sweepOne issues the invoice build asks for and says whether this call
// stored it (1) or found it issued (0).
func sweepOne[T any](ctx context.Context, s *Service, build func(context.Context, T) (Request, error), src T) (int, error) {
	r, err := build(ctx, src)
	if err != nil {
		return 0, err
	}
	_, created, err := s.issue(ctx, r)
	if err != nil || !created {
		return 0, err
	}
	return 1, nil
}

// saleItemName names what a purchase sold: the product in both languages,
// and the tickets in one unit when a unit holds several.
func saleItemName(p sale.Purchase) string {
	name := strings.TrimSpace(p.NameZH + " " + p.NameEN)
	if name == "" {
		name = "乘车票 Metro tickets"
	}
	if p.Bundle > 1 {
		name += " (" + strconv.Itoa(p.Bundle) + "张/份 tickets per unit)"
	}
	return name
}

// invoiceSaleRefund issues the red invoice of a finished ticket refund and
// says how many it stored (0 for one that returned nothing: it is marked
// and skipped).
func (s *Service) invoiceSaleRefund(ctx context.Context, r sale.Refund) (int, error) {
	if r.Status != sale.RefundDone {
		return 0, nil
	}
	if r.AmountFen <= 0 { // nothing went back: no invoice to reverse by
		return 0, s.store.MarkInvoiced(ctx, SaleRefundRef(r.ID), s.now())
	}
	return sweepOne(ctx, s, s.saleRefundRequest, r)
}

func (s *Service) saleRefundRequest(ctx context.Context, r sale.Refund) (Request, error) {
	orig, err := s.store.InvoiceByRef(ctx, tenant.All(), Blue, SaleRef(r.PurchaseID))
	if errors.Is(err, ErrNotFound) {
		return Request{}, ErrOriginalMissing // the purchase's invoice comes first; the next pass retries
	}
	if err != nil {
		return Request{}, err
	}
	what := ""
	if len(orig.Items) > 0 {
		what = " · " + orig.Items[0].Name
	}
	return Request{Kind: Red, Ref: SaleRefundRef(r.ID), Reverses: SaleRef(r.PurchaseID),
		Items: []Item{{Name: clip("退票 Ticket refund #" + strconv.FormatInt(r.TicketID, 10) + what), Quantity: 1, UnitPriceFen: r.AmountFen, AmountFen: r.AmountFen}}}, nil
}

// IssueForEmployers issues a blue invoice for every paid employer top-up
// and every issued monthly bill of a positive amount lacking one.
func (s *Service) IssueForEmployers(ctx context.Context) (int, error) {
	tops, err := s.store.UninvoicedTopUps(ctx, sweepBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range tops {
		created, err := sweepOne(ctx, s, topUpRequest, t)
		if err != nil {
			slog.WarnContext(ctx, "invoicing a top-up", "topup", t.ID, "err", err.Error())
			continue
		}
		n += created
	}
	bills, err := s.store.UninvoicedBills(ctx, sweepBatch)
	if err != nil {
		return n, err
	}
	for _, b := range bills {
		created, err := sweepOne(ctx, s, billRequest, b)
		if err != nil {
			slog.WarnContext(ctx, "invoicing a bill", "bill", b.ID, "err", err.Error())
			continue
		}
		n += created
	}
	return n, nil
}

// InvoiceTopUp issues (or returns) the blue invoice of a paid top-up, made
// out to the employer as the top-up recorded it (legal name, credit code).
func (s *Service) InvoiceTopUp(ctx context.Context, t employer.TopUp) (Invoice, error) {
	r, err := topUpRequest(ctx, t)
	if err != nil {
		return Invoice{}, err
	}
	return s.Issue(ctx, r)
}

func topUpRequest(_ context.Context, t employer.TopUp) (Request, error) {
	if t.Status != employer.Paid {
		return Request{}, errTopUpNotPaid
	}
	items := chargeItems(t.Lines, t.AmountFen, "企业通勤补贴预付款 Travel allowance prepayment")
	return Request{Kind: Blue, Ref: TopUpRef(t.ID),
		Buyer: Party{Owner: tenant.OwnerOf(t.Employer), Name: t.Buyer.Name, TaxNumber: t.Buyer.TaxNumber}, Items: items}, nil
}

// InvoiceBill issues (or returns) the blue invoice of an issued monthly
// bill; a bill of nothing has none.
func (s *Service) InvoiceBill(ctx context.Context, b employer.Bill) (Invoice, error) {
	r, err := billRequest(ctx, b)
	if err != nil {
		return Invoice{}, err
	}
	return s.Issue(ctx, r)
}

func billRequest(_ context.Context, b employer.Bill) (Request, error) {
	if b.AmountFen <= 0 {
		return Request{}, errBillEmpty
	}
	items := chargeItems(b.Lines, b.AmountFen, "企业通勤补贴 "+b.Month+" 乘车费用 Travel allowance rides, "+b.Month)
	return Request{Kind: Blue, Ref: BillRef(b.ID),
		Buyer: Party{Owner: tenant.OwnerOf(b.Employer), Name: b.Buyer.Name, TaxNumber: b.Buyer.TaxNumber}, Items: items}, nil
}

// chargeItems are the invoice lines of a top-up's or a bill's lines; when
// they do not add up to its amount (or there are none) one line of the
// whole amount stands for them, so the invoice is always of the amount paid.
func chargeItems(lines []employer.ChargeLine, amount int64, whole string) []Item {
	var items []Item
	var sum int64
	for _, l := range lines {
		if l.AmountFen <= 0 {
			continue
		}
		items = append(items, Item{Name: clip(strings.TrimSpace(l.ZH + " " + l.EN)), Quantity: 1, UnitPriceFen: l.AmountFen, AmountFen: l.AmountFen})
		sum += l.AmountFen
	}
	if sum != amount || len(items) == 0 || len(items) > MaxItems {
		return []Item{{Name: clip(whole), Quantity: 1, UnitPriceFen: amount, AmountFen: amount}}
	}
	return items
}

// ErrNoBuyer is the answer for a passenger account that does not exist.
var ErrNoBuyer = fault.New(fault.NotFound, "invoice_buyer_not_found", "没有这个购买方账户", "there is no such buyer account")

var (
	errSaleNotPaid  = fault.New(fault.Conflict, "invoice_sale_unpaid", "购票订单尚未支付，不能开票", "the ticket purchase is not paid: it cannot be invoiced")
	errTopUpNotPaid = fault.New(fault.Conflict, "invoice_topup_unpaid", "充值尚未到账，不能开票", "the top-up is not paid: it cannot be invoiced")
	errBillEmpty    = fault.New(fault.Conflict, "invoice_bill_empty", "账单金额为零，无需开票", "the bill is for nothing: it has no invoice")
)
