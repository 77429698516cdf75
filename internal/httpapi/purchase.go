package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"piao/internal/identity"
	"piao/internal/payment"
	"piao/internal/purchase"
)

// purchaseRoutes registers merchants' batch purchases and the refunds of
// their campaigns' unused value (SPEC B2).
func (s *Server) purchaseRoutes() {
	g := s.group(s.deps.Purchases != nil, purchase.ErrNotRunning)
	add(g, identity.MerchantFinance, op("POST", "/api/v1/merchant/purchases", "createPurchase", "merchant", "Buy tickets or a value budget for one of the merchant's campaigns; pay at pay_url", "批量采购：为本商户的活动购买票券或预付金额，随后在 pay_url 支付"), s.createPurchase)
	add(g, identity.MerchantFinance, op("GET", "/api/v1/merchant/purchases", "listPurchases", "merchant", "The merchant's purchases, newest first", "本商户的采购单"), s.listPurchases)
	add(g, identity.MerchantFinance, op("GET", "/api/v1/merchant/purchases/{id}", "getPurchase", "merchant", "One of the merchant's purchases", ""), s.getPurchase)
	add(g, identity.MerchantFinance, op("GET", "/api/v1/merchant/campaigns/{id}/refund", "previewCampaignRefund", "merchant", "What refunding the campaign's unused value would give, and when it opens", "未用金额退款预览：金额、手续费与开放日期"), s.previewRefund)
	add(g, identity.MerchantFinance, op("POST", "/api/v1/merchant/campaigns/{id}/refund", "refundCampaign", "merchant", "Refund the campaign's unused value by the refund rule, once", "按规则退还活动未用的预付金额（每个活动一次）"), s.refundCampaign)
	// The notification is verified before anything else, so a forged or
	// malformed one is refused (4xx) even while purchases are off.
	notify := s.group(s.deps.Payments != nil, purchase.ErrNotRunning)
	add(notify, identity.Public, op("POST", "/api/v1/merchant-purchases/notify", "purchaseNotify", "merchant", "Payment gateway notifications for purchases (signed)", "采购支付异步通知：验签后处理，重复通知幂等"), s.purchaseNotify)
	add(g, identity.MerchantsRead, op("GET", "/api/v1/merchants/{id}/purchases", "merchantPurchases", "merchants", "A merchant's purchases, for operators", "商户的采购单（运营方）"), s.merchantPurchases)
}

type purchaseOutput struct {
	Body purchase.Purchase
}

type createPurchaseInput struct {
	Body struct {
		CampaignID int64 `json:"campaign_id" minimum:"1" doc:"The campaign to buy stock for"`
		Tickets    int   `json:"tickets,omitempty" minimum:"0" doc:"Tickets to buy (a ticket-priced campaign)"`
		Value      int64 `json:"value,omitempty" minimum:"0" doc:"Value budget to buy, in fen (a value-priced campaign)"`
	}
}

func (s *Server) createPurchase(ctx context.Context, in *createPurchaseInput) (*purchaseOutput, error) {
	p := PrincipalFrom(ctx)
	out, err := s.deps.Purchases.Create(ctx, p.Tenant(), p.Account.ID, purchase.Order{CampaignID: in.Body.CampaignID, Tickets: in.Body.Tickets, ValueFen: in.Body.Value})
	if err != nil {
		return nil, err
	}
	return &purchaseOutput{Body: out}, nil
}

type listPurchasesInput struct {
	Campaign int64  `query:"campaign" minimum:"0" doc:"Only this campaign's purchases"`
	Status   string `query:"status" enum:"pending,paid,closed" doc:"Only purchases in this state"`
	Before   int64  `query:"before" minimum:"0" doc:"Only purchases with a smaller ID (the next page)"`
	Limit    int    `query:"limit" minimum:"1" maximum:"500" default:"50"`
}

type purchasesOutput struct {
	Body struct {
		Purchases []purchase.Purchase `json:"purchases"`
	}
}

func (in *listPurchasesInput) filter() purchase.Filter {
	return purchase.Filter{CampaignID: in.Campaign, Status: purchase.Status(in.Status), BeforeID: in.Before, Limit: in.Limit}
}

func (s *Server) listPurchases(ctx context.Context, in *listPurchasesInput) (*purchasesOutput, error) {
	ps, err := s.deps.Purchases.Purchases(ctx, PrincipalFrom(ctx).Tenant(), in.filter())
	if err != nil {
		return nil, err
	}
	out := &purchasesOutput{}
	out.Body.Purchases = ps
	return out, nil
}

type purchaseIDInput struct {
	ID int64 `path:"id" minimum:"1"`
}

func (s *Server) getPurchase(ctx context.Context, in *purchaseIDInput) (*purchaseOutput, error) {
	p, err := s.deps.Purchases.Purchase(ctx, PrincipalFrom(ctx).Tenant(), in.ID)
	if err != nil {
		return nil, err
	}
	return &purchaseOutput{Body: p}, nil
}

type refundPreviewOutput struct {
	Body purchase.Preview
}

func (s *Server) previewRefund(ctx context.Context, in *purchaseIDInput) (*refundPreviewOutput, error) {
	pv, err := s.deps.Purchases.RefundPreview(ctx, PrincipalFrom(ctx).Tenant(), in.ID)
	if err != nil {
		return nil, err
	}
	return &refundPreviewOutput{Body: pv}, nil
}

type campaignRefundOutput struct {
	Body purchase.Refund
}

func (s *Server) refundCampaign(ctx context.Context, in *purchaseIDInput) (*campaignRefundOutput, error) {
	p := PrincipalFrom(ctx)
	r, err := s.deps.Purchases.RefundUnused(ctx, p.Tenant(), in.ID, p.Account.ID)
	if err != nil {
		return nil, err
	}
	return &campaignRefundOutput{Body: r}, nil
}

// purchaseNotify verifies a gateway notification of a purchase payment and
// applies it, answering "success" once applied (or already) so the
// gateway stops resending, as paymentNotify does for orders.
func (s *Server) purchaseNotify(ctx context.Context, in *notifyInput) (*notifyOutput, error) {
	h := http.Header{}
	h.Set(payment.HeaderTimestamp, in.Timestamp)
	h.Set(payment.HeaderNonce, in.Nonce)
	h.Set(payment.HeaderSignature, in.Signature)
	n, err := s.deps.Payments.Verify(h, in.RawBody)
	if err != nil {
		return nil, err
	}
	if s.deps.Purchases == nil {
		return nil, purchase.ErrNotRunning // the gateway tries again later
	}
	outcome, err := s.deps.Purchases.HandleNotification(ctx, n)
	if err != nil {
		return nil, err
	}
	slog.InfoContext(ctx, "purchase payment notification", "request_id", requestIDFrom(ctx), "payment", n.PaymentID, "order_ref", n.OrderRef, "outcome", string(outcome))
	return &notifyOutput{ContentType: "text/plain; charset=utf-8", Body: []byte("success")}, nil
}

// merchantPurchasesInput declares its query fields itself: huma fills no
// parameter of an embedded unexported struct.
type merchantPurchasesInput struct {
	ID       int64  `path:"id" minimum:"1" doc:"The merchant"`
	Campaign int64  `query:"campaign" minimum:"0" doc:"Only this campaign's purchases"`
	Status   string `query:"status" enum:"pending,paid,closed" doc:"Only purchases in this state"`
	Before   int64  `query:"before" minimum:"0" doc:"Only purchases with a smaller ID (the next page)"`
	Limit    int    `query:"limit" minimum:"1" maximum:"500" default:"50"`
}

func (s *Server) merchantPurchases(ctx context.Context, in *merchantPurchasesInput) (*purchasesOutput, error) {
	list := listPurchasesInput{Campaign: in.Campaign, Status: in.Status, Before: in.Before, Limit: in.Limit}
	f := list.filter()
	ps, err := s.deps.Purchases.MerchantPurchases(ctx, PrincipalFrom(ctx).Tenant(), in.ID, f)
	if err != nil {
		return nil, err
	}
	out := &purchasesOutput{}
	out.Body.Purchases = ps
	return out, nil
}
