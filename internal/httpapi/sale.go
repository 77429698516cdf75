package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"piao/internal/abuse"
	"piao/internal/identity"
	"piao/internal/payment"
	"piao/internal/sale"
)

// saleRoutes registers passengers' purchases of tickets on sale (SPEC B4):
// the operator's offers, buying and paying, refunds of bought tickets.
func (s *Server) saleRoutes() {
	g := s.group(s.deps.Sales != nil, sale.ErrNotRunning)
	const tag = "sale"
	add(g, identity.BenefitsEdit, op("POST", "/api/v1/sale-offers", "createSaleOffer", tag, "Put the tickets of an operator campaign (channel purchase) on sale: price per unit, limits, refund rule", "发售：为运营方活动（乘客购买渠道）设定售价、限购与退款规则"), s.createOffer)
	add(g, identity.BenefitsRead, op("GET", "/api/v1/sale-offers", "listSaleOffers", tag, "Every offer, newest first", "售卖商品列表"), s.listOffers)
	add(g, identity.BenefitsRead, op("GET", "/api/v1/sale-offers/{id}", "getSaleOffer", tag, "One offer", ""), s.getOffer)
	add(g, identity.BenefitsEdit, op("PUT", "/api/v1/sale-offers/{id}", "updateSaleOffer", tag, "Change an offer's price, limits, refund rule or sale (start or stop selling); purchases made keep their terms", "修改售价、限购、退款规则或上下架；已售订单按原条款"), s.updateOffer)
	add(g, identity.BenefitsRead, op("GET", "/api/v1/sale-purchases", "listSalePurchases", tag, "Passengers' purchases, newest first", "乘客购票订单"), s.listSalePurchases)

	add(g, identity.WalletOwn, op("GET", "/api/v1/shop", "listShop", tag, "Offers on sale, with how many units the caller may still buy", "在售的次票与多次票"), s.shop)
	add(g.limited(abuse.Buy), identity.WalletOwn, op("POST", "/api/v1/shop/{id}/buy", "buyTickets", tag, "Buy units of an offer; pay at pay_url (the tickets arrive in the wallet once paid)", "购买：随后在 pay_url 支付，支付成功后票券进入卡包"), s.buy)
	add(g, identity.WalletOwn, op("GET", "/api/v1/my-purchases", "listMyPurchases", tag, "The caller's purchases, newest first", "我的购票订单"), s.myPurchases)
	add(g, identity.WalletOwn, op("GET", "/api/v1/my-purchases/{id}", "getMyPurchase", tag, "One of the caller's purchases", ""), s.myPurchase)
	add(g, identity.WalletOwn, op("GET", "/api/v1/wallet/{id}/refund", "quoteTicketRefund", tag, "What refunding a bought ticket gives now (unused value less the fee) and whether it may be refunded", "退款试算：未使用金额、手续费、可退金额"), s.quoteRefund)
	add(g.limited(abuse.Buy), identity.WalletOwn, op("POST", "/api/v1/wallet/{id}/refund", "refundTicket", tag, "Refund a bought ticket's unused rides by its rule (the buyer, holding it, not gifting it, within the deadline)", "按规则退还已购票券的未使用部分"), s.refundTicket)
	notify := s.group(s.deps.Payments != nil, sale.ErrNotRunning)
	add(notify, identity.Public, op("POST", "/api/v1/ticket-purchases/notify", "ticketPurchaseNotify", tag, "Payment gateway notifications for passengers' purchases (signed)", "乘客购票支付异步通知：验签后处理，重复通知幂等"), s.saleNotify)
}

type offerInput struct {
	Body sale.OfferInput
}

func (s *Server) createOffer(ctx context.Context, in *offerInput) (*body[sale.Offer], error) {
	o, err := s.deps.Sales.CreateOffer(ctx, in.Body, actor(ctx))
	if err != nil {
		return nil, err
	}
	return &body[sale.Offer]{Body: o}, nil
}

type offersOutput struct {
	Body struct {
		Offers []sale.Offer `json:"offers"`
	}
}

func (s *Server) listOffers(ctx context.Context, _ *struct{}) (*offersOutput, error) {
	os, err := s.deps.Sales.Offers(ctx, false)
	if err != nil {
		return nil, err
	}
	out := &offersOutput{}
	out.Body.Offers = append([]sale.Offer{}, os...)
	return out, nil
}

type saleIDInput struct {
	ID int64 `path:"id" minimum:"1"`
}

func (s *Server) getOffer(ctx context.Context, in *saleIDInput) (*body[sale.Offer], error) {
	o, err := s.deps.Sales.Offer(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &body[sale.Offer]{Body: o}, nil
}

type updateOfferInput struct {
	ID     int64  `path:"id" minimum:"1"`
	Reason string `query:"reason" maxLength:"500" doc:"Why, for the audit trail"`
	Body   sale.OfferInput
}

func (s *Server) updateOffer(ctx context.Context, in *updateOfferInput) (*body[sale.Offer], error) {
	o, err := s.deps.Sales.UpdateOffer(ctx, in.ID, in.Body, actor(ctx), in.Reason)
	if err != nil {
		return nil, err
	}
	return &body[sale.Offer]{Body: o}, nil
}

type salePurchasesInput struct {
	Buyer  int64  `query:"buyer" minimum:"0" doc:"Only this passenger's purchases"`
	Offer  int64  `query:"offer" minimum:"0" doc:"Only this offer's purchases"`
	Status string `query:"status" enum:"pending,paid,closed"`
	Before int64  `query:"before" minimum:"0" doc:"Only purchases with a smaller ID (the next page)"`
	Limit  int    `query:"limit" minimum:"1" maximum:"500" default:"50"`
}

type salePurchasesOutput struct {
	Body struct {
		Purchases []sale.Purchase `json:"purchases"`
	}
}

func (s *Server) listSalePurchases(ctx context.Context, in *salePurchasesInput) (*salePurchasesOutput, error) {
	return s.purchasesOf(ctx, sale.Filter{Buyer: in.Buyer, OfferID: in.Offer, Status: sale.Status(in.Status), BeforeID: in.Before, Limit: in.Limit})
}

func (s *Server) purchasesOf(ctx context.Context, f sale.Filter) (*salePurchasesOutput, error) {
	ps, err := s.deps.Sales.Purchases(ctx, f)
	if err != nil {
		return nil, err
	}
	out := &salePurchasesOutput{}
	out.Body.Purchases = append([]sale.Purchase{}, ps...)
	return out, nil
}

type shopOutput struct {
	Body struct {
		Offers []sale.Availability `json:"offers"`
	}
}

func (s *Server) shop(ctx context.Context, _ *struct{}) (*shopOutput, error) {
	as, err := s.deps.Sales.Available(ctx, PrincipalFrom(ctx).Account.ID)
	if err != nil {
		return nil, err
	}
	out := &shopOutput{}
	out.Body.Offers = append([]sale.Availability{}, as...)
	return out, nil
}

type buyInput struct {
	ID   int64 `path:"id" minimum:"1" doc:"The offer"`
	Body struct {
		Units int `json:"units" minimum:"1" maximum:"100" doc:"Units to buy (each holds the offer's bundle of tickets)"`
	}
}

func (s *Server) buy(ctx context.Context, in *buyInput) (*body[sale.Purchase], error) {
	p, err := s.deps.Sales.Buy(ctx, PrincipalFrom(ctx).Account.ID, in.ID, in.Body.Units)
	if err != nil {
		return nil, err
	}
	return &body[sale.Purchase]{Body: p}, nil
}

type myPurchasesInput struct {
	Before int64 `query:"before" minimum:"0" doc:"Only purchases with a smaller ID (the next page)"`
	Limit  int   `query:"limit" minimum:"1" maximum:"500" default:"50"`
}

func (s *Server) myPurchases(ctx context.Context, in *myPurchasesInput) (*salePurchasesOutput, error) {
	return s.purchasesOf(ctx, sale.Filter{Buyer: PrincipalFrom(ctx).Account.ID, BeforeID: in.Before, Limit: in.Limit})
}

func (s *Server) myPurchase(ctx context.Context, in *saleIDInput) (*body[sale.Purchase], error) {
	p, err := s.deps.Sales.Purchase(ctx, PrincipalFrom(ctx).Account.ID, in.ID)
	if err != nil {
		return nil, err
	}
	return &body[sale.Purchase]{Body: p}, nil
}

func (s *Server) quoteRefund(ctx context.Context, in *saleIDInput) (*body[sale.Quote], error) {
	q, err := s.deps.Sales.Quote(ctx, PrincipalFrom(ctx).Account.ID, in.ID)
	if err != nil {
		return nil, err
	}
	return &body[sale.Quote]{Body: q}, nil
}

func (s *Server) refundTicket(ctx context.Context, in *saleIDInput) (*body[sale.Refund], error) {
	r, err := s.deps.Sales.RefundTicket(ctx, PrincipalFrom(ctx).Account.ID, in.ID)
	if err != nil {
		return nil, err
	}
	return &body[sale.Refund]{Body: r}, nil
}

// saleNotify verifies a gateway notification of a passenger's payment and
// applies it, answering "success" once applied (or already).
func (s *Server) saleNotify(ctx context.Context, in *notifyInput) (*notifyOutput, error) {
	h := http.Header{}
	h.Set(payment.HeaderTimestamp, in.Timestamp)
	h.Set(payment.HeaderNonce, in.Nonce)
	h.Set(payment.HeaderSignature, in.Signature)
	n, err := s.deps.Payments.Verify(h, in.RawBody)
	if err != nil {
		return nil, err
	}
	if s.deps.Sales == nil {
		return nil, sale.ErrNotRunning
	}
	outcome, err := s.deps.Sales.HandleNotification(ctx, n)
	if err != nil {
		return nil, err
	}
	slog.InfoContext(ctx, "ticket purchase notification", "request_id", requestIDFrom(ctx), "payment", n.PaymentID, "order_ref", n.OrderRef, "outcome", string(outcome))
	return &notifyOutput{ContentType: "text/plain; charset=utf-8", Body: []byte("success")}, nil
}
