package httpapi

import (
	"context"

	"piao/internal/fault"
	"piao/internal/identity"
	"piao/internal/invoice"
)

// errInvoicesOff answers the invoice routes when this process keeps no
// invoices.
var errInvoicesOff = fault.New(fault.Unavailable, "invoices_unavailable", "本服务未开启发票", "invoices do not run in this process")

// invoiceRoutes registers the invoices' downloads (issue 24 item 5): a
// merchant's own (merchant:finance), everyone's for the operator
// (ledger:read), and a passenger's own (wallet:own: passengers' invoices are
// for what they buy into their wallet).
func (s *Server) invoiceRoutes() {
	g := s.group(s.deps.Invoices != nil, errInvoicesOff)
	const tag = "invoices"
	add(g, identity.MerchantFinance, op("GET", "/api/v1/merchant/invoices", "listMerchantInvoices", tag, "The merchant's invoices, newest first", "本商户的发票（蓝字与红字）"), s.listMerchantInvoices)
	add(g, identity.MerchantFinance, op("GET", "/api/v1/merchant/invoices/{id}", "getMerchantInvoice", tag, "One of the merchant's invoices", "本商户的一张发票"), s.getMerchantInvoice)
	add(g, identity.MerchantFinance, op("GET", "/api/v1/merchant/invoices/{id}/pdf", "getMerchantInvoicePDF", tag, "One of the merchant's invoices as a PDF", "下载发票 PDF"), s.merchantInvoicePDF)
	add(g, identity.LedgerRead, op("GET", "/api/v1/invoices", "listInvoices", tag, "Every invoice, newest first (filter by buyer and kind)", "全部发票（可按购买方与种类筛选）"), s.listInvoices)
	add(g, identity.LedgerRead, op("GET", "/api/v1/invoices/{id}", "getInvoice", tag, "One invoice", "一张发票"), s.getInvoice)
	add(g, identity.LedgerRead, op("GET", "/api/v1/invoices/{id}/pdf", "getInvoicePDF", tag, "One invoice as a PDF", "下载发票 PDF"), s.invoicePDF)
	add(g, identity.WalletOwn, op("GET", "/api/v1/me/invoices", "listMyInvoices", tag, "The caller's invoices, newest first", "我的发票"), s.listMyInvoices)
	add(g, identity.WalletOwn, op("GET", "/api/v1/me/invoices/{id}", "getMyInvoice", tag, "One of the caller's invoices", "我的一张发票"), s.getMyInvoice)
	add(g, identity.WalletOwn, op("GET", "/api/v1/me/invoices/{id}/pdf", "getMyInvoicePDF", tag, "One of the caller's invoices as a PDF", "下载我的发票 PDF"), s.myInvoicePDF)
}

type listInvoicesInput struct {
	Kind   string `query:"kind" enum:"blue,red" doc:"Only blue (normal) or red (reversing) invoices"`
	Before int64  `query:"before" minimum:"0" doc:"Only invoices with a smaller ID (the next page)"`
	Limit  int    `query:"limit" minimum:"1" maximum:"500" default:"50"`
}

func (in *listInvoicesInput) filter() invoice.Filter {
	return invoice.Filter{Kind: invoice.Kind(in.Kind), BeforeID: in.Before, Limit: in.Limit}
}

func (in *operatorInvoicesInput) filter() invoice.Filter {
	return invoice.Filter{Kind: invoice.Kind(in.Kind), BeforeID: in.Before, Limit: in.Limit}
}

// operatorInvoicesInput declares its query fields itself: huma fills no
// parameter of an embedded unexported struct.
type operatorInvoicesInput struct {
	Kind   string `query:"kind" enum:"blue,red" doc:"Only blue (normal) or red (reversing) invoices"`
	Before int64  `query:"before" minimum:"0" doc:"Only invoices with a smaller ID (the next page)"`
	Limit  int    `query:"limit" minimum:"1" maximum:"500" default:"50"`
	Buyer  string `query:"buyer" pattern:"^(merchant|account):[1-9][0-9]*$" doc:"Only the invoices of this buyer (merchant:7, account:3)"`
}

type invoicesOutput struct {
	Body struct {
		Invoices []invoice.Invoice `json:"invoices"`
	}
}

func invoiceList(list []invoice.Invoice, err error) (*invoicesOutput, error) {
	if err != nil {
		return nil, err
	}
	out := &invoicesOutput{}
	out.Body.Invoices = append([]invoice.Invoice{}, list...)
	return out, nil
}

type invoiceIDInput struct {
	ID int64 `path:"id" minimum:"1"`
}

type pdfOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

func invoicePDFFile(b []byte, inv invoice.Invoice, err error) (*pdfOutput, error) {
	if err != nil {
		return nil, err
	}
	return &pdfOutput{ContentType: "application/pdf", ContentDisposition: `attachment; filename="` + invoice.FileName(inv) + `"`, Body: b}, nil
}

func (s *Server) listMerchantInvoices(ctx context.Context, in *listInvoicesInput) (*invoicesOutput, error) {
	return invoiceList(s.deps.Invoices.Invoices(ctx, PrincipalFrom(ctx).Tenant(), in.filter()))
}

func (s *Server) getMerchantInvoice(ctx context.Context, in *invoiceIDInput) (*body[invoice.Invoice], error) {
	inv, err := s.deps.Invoices.Invoice(ctx, PrincipalFrom(ctx).Tenant(), in.ID)
	if err != nil {
		return nil, err
	}
	return &body[invoice.Invoice]{Body: inv}, nil
}

func (s *Server) merchantInvoicePDF(ctx context.Context, in *invoiceIDInput) (*pdfOutput, error) {
	return invoicePDFFile(s.deps.Invoices.PDF(ctx, PrincipalFrom(ctx).Tenant(), in.ID))
}

func (s *Server) listInvoices(ctx context.Context, in *operatorInvoicesInput) (*invoicesOutput, error) {
	f := in.filter()
	f.Owner = in.Buyer
	return invoiceList(s.deps.Invoices.Invoices(ctx, PrincipalFrom(ctx).Tenant(), f))
}

func (s *Server) getInvoice(ctx context.Context, in *invoiceIDInput) (*body[invoice.Invoice], error) {
	return s.getMerchantInvoice(ctx, in) // the operator's scope sees every invoice
}

func (s *Server) invoicePDF(ctx context.Context, in *invoiceIDInput) (*pdfOutput, error) {
	return s.merchantInvoicePDF(ctx, in)
}

func (s *Server) listMyInvoices(ctx context.Context, in *listInvoicesInput) (*invoicesOutput, error) {
	return invoiceList(s.deps.Invoices.AccountInvoices(ctx, PrincipalFrom(ctx).Account.ID, in.filter()))
}

func (s *Server) getMyInvoice(ctx context.Context, in *invoiceIDInput) (*body[invoice.Invoice], error) {
	inv, err := s.deps.Invoices.AccountInvoice(ctx, PrincipalFrom(ctx).Account.ID, in.ID)
	if err != nil {
		return nil, err
	}
	return &body[invoice.Invoice]{Body: inv}, nil
}

func (s *Server) myInvoicePDF(ctx context.Context, in *invoiceIDInput) (*pdfOutput, error) {
	return invoicePDFFile(s.deps.Invoices.AccountPDF(ctx, PrincipalFrom(ctx).Account.ID, in.ID))
}
