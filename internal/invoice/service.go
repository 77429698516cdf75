package invoice

import (
	"context"
	"errors"
	"strconv"
	"time"

	"piao/internal/audit"
	"piao/internal/benefits"
	"piao/internal/employer"
	"piao/internal/merchant"
	"piao/internal/purchase"
	"piao/internal/sale"
	"piao/internal/tenant"
)

// Filter selects invoices; zero fields select all.
type Filter struct {
	Kind Kind
	// Owner keeps the invoices of one buyer ("merchant:7", "account:3"),
	// for the operator.
	Owner string
	// Ref keeps the invoices of one business event: its blue invoice
	// (ref) and the reds reversing it (reverses_ref).
	Ref string
	// BeforeID pages backwards: only invoices with a smaller ID.
	BeforeID int64
	// Limit bounds the answer (default 50, at most 500).
	Limit int
}

// Bounded returns f with its limit defaulted and capped.
func (f Filter) Bounded() Filter {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	return f
}

// Store keeps invoices. Merchant-owned invoices are read through a
// tenant.Scope (another merchant's is ErrNotFound); a passenger's through
// its account.
type Store interface {
	// CreateInvoice takes the next serial of the invoice's issue year and
	// stores it, in one transaction, setting ID and Number; ErrExists
	// (nothing stored, no serial taken) if an invoice of its kind and Ref
	// exists. The scope must see a merchant buyer. A red invoice is
	// checked in that transaction, with its blue invoice locked, against
	// what it reverses: ErrOriginalMissing if the blue invoice of
	// ReversesRef is not there, ErrOverReversal if the reds of one blue
	// invoice would together reverse more than its total.
	CreateInvoice(ctx context.Context, scope tenant.Scope, inv *Invoice) error
	// Invoice returns an invoice the scope sees: a merchant's own, or any
	// for the operator's scope.
	Invoice(ctx context.Context, scope tenant.Scope, id int64) (Invoice, error)
	// InvoiceByRef returns the invoice of a kind issued for a business event.
	InvoiceByRef(ctx context.Context, scope tenant.Scope, kind Kind, ref string) (Invoice, error)
	// Invoices lists the invoices the scope sees, newest first.
	Invoices(ctx context.Context, scope tenant.Scope, f Filter) ([]Invoice, error)
	// AccountInvoice returns an invoice issued to a passenger account.
	AccountInvoice(ctx context.Context, account, id int64) (Invoice, error)
	// AccountInvoices lists a passenger account's invoices, newest first.
	AccountInvoices(ctx context.Context, account int64, f Filter) ([]Invoice, error)

	// UninvoicedPurchases lists the scope's paid merchant purchases with no
	// blue invoice for PurchaseRef(id), oldest first.
	UninvoicedPurchases(ctx context.Context, scope tenant.Scope, limit int) ([]purchase.Purchase, error)
	// UninvoicedRefunds lists the scope's finished campaign refunds not yet
	// marked invoiced (RefundSource), oldest first.
	UninvoicedRefunds(ctx context.Context, scope tenant.Scope, limit int) ([]purchase.Refund, error)
	// MarkInvoiced records that every invoice of a source (a business
	// event invoiced in several parts) was issued; a repeat changes nothing.
	MarkInvoiced(ctx context.Context, source string, at time.Time) error

	// UninvoicedSales lists passengers' paid purchases with no blue
	// invoice for SaleRef(id), oldest first.
	UninvoicedSales(ctx context.Context, limit int) ([]sale.Purchase, error)
	// UninvoicedSaleRefunds lists finished refunds of bought tickets with
	// no red invoice for SaleRefundRef(id) and not marked invoiced, oldest
	// first.
	UninvoicedSaleRefunds(ctx context.Context, limit int) ([]sale.Refund, error)
	// UninvoicedTopUps lists employers' paid top-ups with no blue invoice
	// for TopUpRef(id), oldest first.
	UninvoicedTopUps(ctx context.Context, limit int) ([]employer.TopUp, error)
	// UninvoicedBills lists employers' monthly bills of a positive amount
	// with no blue invoice for BillRef(id), oldest first.
	UninvoicedBills(ctx context.Context, limit int) ([]employer.Bill, error)
	// AccountName is the name a passenger account's invoices are made out
	// to: the name on its verified real-name document (the latest verified,
	// if several), else its username.
	AccountName(ctx context.Context, account int64) (string, error)
}

// Merchants names invoices' merchant buyers (the merchant service).
type Merchants interface {
	Merchant(ctx context.Context, scope tenant.Scope, id int64) (merchant.Merchant, error)
}

// Campaigns names what a merchant's purchase bought (the benefits service).
type Campaigns interface {
	Campaign(ctx context.Context, scope tenant.Scope, id int64) (benefits.Campaign, error)
}

// Config connects the service.
type Config struct {
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// Seller is the operator as invoices name it (DefaultSeller if its
	// name is empty).
	Seller Party
	// TaxRateBP is the tax rate invoices show, in basis points (600: 6 %;
	// 0: none shown as 0 %). The app's default is DefaultTaxRateBP.
	TaxRateBP int64
	// Audit records every invoice issued.
	Audit *audit.Log
	// Merchants and Campaigns let the sweep invoice merchants' purchases
	// (IssueForPurchases); without them it issues none.
	Merchants Merchants
	Campaigns Campaigns
}

// DefaultTaxRateBP is the rate shown when none is configured: 6 %, the
// VAT rate of modern services.
const DefaultTaxRateBP = 600

// DefaultSeller is the demo operator invoices name when none is
// configured: an invented company with a valid-looking credit code.
func DefaultSeller() Party {
	return Party{Name: "宁波票务演示运营有限公司", TaxNumber: merchant.CompleteCreditCode("91330200" + merchant.OrganisationCode("35120426"))}
}

// Service issues invoices and serves them.
type Service struct {
	store Store
	cfg   Config
}

// New returns the invoice service over st.
func New(st Store, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Seller.Name == "" {
		cfg.Seller = DefaultSeller()
	}
	cfg.Seller.Owner = ""
	cfg.TaxRateBP = max(cfg.TaxRateBP, 0)
	return &Service{store: st, cfg: cfg}
}

// Seller is the operator as this service's invoices name it.
func (s *Service) Seller() Party { return s.cfg.Seller }

// TaxRateBP is the tax rate this service's invoices show.
func (s *Service) TaxRateBP() int64 { return s.cfg.TaxRateBP }

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// Subject is how the audit trail names an invoice.
func Subject(id int64) string { return "invoice:" + strconv.FormatInt(id, 10) }

// Issue issues the invoice a request asks for, once per kind and Ref: a
// request for an event already invoiced answers that invoice, whatever
// else it says. A red invoice reverses the blue invoice issued for
// r.Reverses (ErrOriginalMissing until there is one), made out to its
// buyer, for at most its total.
//
// Callers: the sweep for merchants' purchases and their campaign refunds
// (IssueForPurchases); employers' top-ups and monthly bills and
// passengers' purchases call it where the payment is recorded, e.g.
//
//	invoices.Issue(ctx, invoice.Request{Kind: invoice.Blue, Ref: "topup:5",
//		Buyer: invoice.Party{Owner: "merchant:7", Name: m.LegalName, TaxNumber: m.CreditCode},
//		Items: []invoice.Item{{Name: "预付出行额度 Prepaid travel allowance", Quantity: 1, UnitPriceFen: 50000, AmountFen: 50000}}})
func (s *Service) Issue(ctx context.Context, r Request) (Invoice, error) {
	inv, _, err := s.issue(ctx, r)
	return inv, err
}

// issue is Issue, also saying whether this call stored the invoice (false
// when it was issued before, or meanwhile by another caller).
func (s *Service) issue(ctx context.Context, r Request) (Invoice, bool, error) {
	total, err := r.Check()
	if err != nil {
		return Invoice{}, false, err
	}
	all := tenant.All() // issuing is the platform's act, for any buyer
	switch inv, err := s.store.InvoiceByRef(ctx, all, r.Kind, r.Ref); {
	case err == nil:
		return inv, false, nil
	case !errors.Is(err, ErrNotFound):
		return Invoice{}, false, err
	}
	inv := Invoice{Kind: r.Kind, Ref: r.Ref, Buyer: r.Buyer, Seller: s.cfg.Seller, TaxRateBP: s.cfg.TaxRateBP, IssuedAt: s.now()}
	items := append([]Item(nil), r.Items...)
	if r.Kind == Red {
		orig, err := s.store.InvoiceByRef(ctx, all, Blue, r.Reverses)
		if errors.Is(err, ErrNotFound) {
			return Invoice{}, false, ErrOriginalMissing
		}
		if err != nil {
			return Invoice{}, false, err
		}
		if total > orig.TotalFen {
			return Invoice{}, false, ErrOverReversal
		}
		inv.Buyer, inv.Reverses, inv.ReversesRef = orig.Buyer, orig.Number, orig.Ref
		for i := range items {
			items[i].Quantity, items[i].AmountFen = -items[i].Quantity, -items[i].AmountFen
		}
		total = -total
	}
	inv.Items, inv.TotalFen, inv.TaxFen = items, total, Tax(total, s.cfg.TaxRateBP)
	if err := s.store.CreateInvoice(ctx, all, &inv); err != nil {
		if errors.Is(err, ErrExists) { // issued meanwhile by another caller
			inv, err := s.store.InvoiceByRef(ctx, all, r.Kind, r.Ref)
			return inv, false, err
		}
		return Invoice{}, false, err
	}
	if err := s.cfg.Audit.Record(ctx, "invoice.issue", Subject(inv.ID), nil, inv, inv.Ref); err != nil {
		return inv, true, err
	}
	return inv, true, nil
}

// Invoice returns an invoice the scope sees.
func (s *Service) Invoice(ctx context.Context, scope tenant.Scope, id int64) (Invoice, error) {
	return s.store.Invoice(ctx, scope, id)
}

// Invoices lists the invoices the scope sees, newest first.
func (s *Service) Invoices(ctx context.Context, scope tenant.Scope, f Filter) ([]Invoice, error) {
	return s.store.Invoices(ctx, scope, f.Bounded())
}

// PDF renders an invoice the scope sees.
func (s *Service) PDF(ctx context.Context, scope tenant.Scope, id int64) ([]byte, Invoice, error) {
	inv, err := s.store.Invoice(ctx, scope, id)
	if err != nil {
		return nil, Invoice{}, err
	}
	b, err := Render(inv)
	return b, inv, err
}

// AccountInvoice returns one of a passenger account's invoices.
func (s *Service) AccountInvoice(ctx context.Context, account, id int64) (Invoice, error) {
	return s.store.AccountInvoice(ctx, account, id)
}

// AccountInvoices lists a passenger account's invoices, newest first.
func (s *Service) AccountInvoices(ctx context.Context, account int64, f Filter) ([]Invoice, error) {
	f.Owner = ""
	return s.store.AccountInvoices(ctx, account, f.Bounded())
}

// AccountPDF renders one of a passenger account's invoices.
func (s *Service) AccountPDF(ctx context.Context, account, id int64) ([]byte, Invoice, error) {
	inv, err := s.store.AccountInvoice(ctx, account, id)
	if err != nil {
		return nil, Invoice{}, err
	}
	b, err := Render(inv)
	return b, inv, err
}

// FileName is the name an invoice's PDF is downloaded as.
func FileName(inv Invoice) string { return inv.Number + ".pdf" }
