package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"piao/internal/abuse"
	"piao/internal/booking"
	"piao/internal/fault"
	"piao/internal/fees"
	"piao/internal/identity"
	"piao/internal/network"
	"piao/internal/payment"
)

// bookingRoutes registers the booking endpoints (R2–R6).
func (s *Server) bookingRoutes() {
	g := s.group(s.deps.Booking != nil, booking.ErrNotRunning)
	add(g.limited(abuse.Search), identity.Public, op("GET", "/api/v1/remaining", "remainingTickets", "booking", "Remaining tickets between two stations on a date", "余票查询：车次、席别铺位余票、票价、时刻"), s.remaining)
	add(g.limited(abuse.Search), identity.Public, op("GET", "/api/v1/recommendations", "recommendTrains", "booking", "Trains between two stations on a date ranked by what matters to the passenger, with the reason", "按需推荐：按到达时间、历时、票价、铺位排序并说明理由"), s.recommend)
	add(g.limited(abuse.Book), identity.OrdersOwn, op("POST", "/api/v1/orders", "bookOrder", "booking", "Book seats for 1–5 passengers and hold them for payment; then POST …/payment to pay", "下单：为 1–5 名乘客分配并锁定席位，等待支付"), s.bookOrder)
	add(g, identity.OrdersOwn, op("GET", "/api/v1/orders", "listOrders", "booking", "The caller's orders, newest first", ""), s.listOrders)
	add(g, identity.OrdersOwn, op("GET", "/api/v1/orders/{id}", "getOrder", "booking", "One of the caller's orders with tickets and events", ""), s.getOrder)
	add(g.limited(abuse.Cancel), identity.OrdersOwn, op("POST", "/api/v1/orders/{id}/cancel", "cancelOrder", "booking", "Cancel a held order; its seats return at once", "取消未支付订单"), s.cancelOrder)
	add(g, identity.OrdersOwn, op("POST", "/api/v1/orders/{id}/payment", "payOrder", "booking", "Create (or get again) the payment of a held order; open its pay_url to pay", "支付：创建或取回待支付订单的支付单"), s.payOrder)
	add(g.limited(abuse.Cancel), identity.OrdersOwn, op("POST", "/api/v1/orders/{id}/refund", "refundOrder", "booking", "Refund paid tickets by the refund fee table", "退票"), s.refundOrder)
	add(g.limited(abuse.Book), identity.OrdersOwn, op("POST", "/api/v1/orders/{id}/change", "changeOrder", "booking", "Change a paid ticket to another train or date, once", "改签：差价多退少补，退差价收改签费"), s.changeOrder)
	add(g, identity.OrdersRead, op("GET", "/api/v1/admin/orders/{id}", "adminGetOrder", "booking", "Any order, for operators", ""), s.adminGetOrder)
	add(g, identity.OrdersRead, op("GET", "/api/v1/admin/inventory/{service}/{date}", "checkInventory", "booking", "Recompute a train date's inventory and compare", "核对库存：按车票重算席位与余票计数"), s.checkInventory)
	add(g, identity.Public, op("GET", "/api/v1/fees/{kind}", "getFees", "booking", "The refund or change fee table", ""), s.getFees)
	add(g, identity.BookingAdmin, op("PUT", "/api/v1/fees/{kind}", "putFees", "booking", "Replace the refund or change fee table", ""), s.putFees)
	add(g, identity.Public, op("POST", "/api/v1/payments/notify", "paymentNotify", "booking", "Payment gateway notifications (signed)", "支付渠道异步通知：验签后处理，重复通知幂等"), s.paymentNotify)
}

type remainingInput struct {
	From string `query:"from" required:"true" minLength:"1" maxLength:"64" doc:"Origin: station ID, telecode, name or pinyin"`
	To   string `query:"to" required:"true" minLength:"1" maxLength:"64" doc:"Destination: station ID, telecode, name or pinyin"`
	Date string `query:"date" maxLength:"10" doc:"Service date YYYY-MM-DD; default today in Asia/Shanghai"`
}

type remainingOutput struct {
	Body struct {
		Offers []booking.Offer `json:"offers"`
	}
}

func (s *Server) remaining(ctx context.Context, in *remainingInput) (*remainingOutput, error) {
	date, err := s.dateOrToday(in.Date)
	if err != nil {
		return nil, err
	}
	offers, err := s.deps.Booking.Remaining(ctx, in.From, in.To, date)
	if err != nil {
		return nil, err
	}
	out := &remainingOutput{}
	out.Body.Offers = offers
	return out, nil
}

type bookInput struct {
	Body booking.BookRequest
}

type bookedOutput struct {
	Body booking.Booked
}

func (s *Server) bookOrder(ctx context.Context, in *bookInput) (*bookedOutput, error) {
	in.Body.AccountID = PrincipalFrom(ctx).Account.ID
	res, err := s.deps.Booking.Book(ctx, in.Body)
	if err != nil {
		return nil, err
	}
	return &bookedOutput{Body: res}, nil
}

type ordersOutput struct {
	Body struct {
		Orders []booking.Order `json:"orders"`
	}
}

type listOrdersInput struct {
	Limit int `query:"limit" minimum:"1" maximum:"100" default:"20"`
}

func (s *Server) listOrders(ctx context.Context, in *listOrdersInput) (*ordersOutput, error) {
	os, err := s.deps.Booking.Orders(ctx, PrincipalFrom(ctx).Account.ID, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &ordersOutput{}
	out.Body.Orders = nonNil(os)
	return out, nil
}

type orderIDPath struct {
	ID int64 `path:"id" minimum:"1" doc:"Order ID"`
}

type orderOutput struct{ Body booking.Order }

func (s *Server) getOrder(ctx context.Context, in *orderIDPath) (*orderOutput, error) {
	return s.orderResult(s.deps.Booking.Order(ctx, in.ID, PrincipalFrom(ctx).Account.ID))
}

// adminOrderView is adminGetOrder's input: the order, and whether to show its documents in full.
type adminOrderView struct {
	ID   int64 `path:"id" minimum:"1" doc:"Order ID"`
	Full bool  `query:"full" doc:"Show ID numbers in full (needs pii:read; audited)"`
}

func (s *Server) adminGetOrder(ctx context.Context, in *adminOrderView) (*orderOutput, error) {
	return s.orderResult(s.deps.Booking.Order(ctx, in.ID, 0))
}

func (s *Server) cancelOrder(ctx context.Context, in *orderIDPath) (*orderOutput, error) {
	return s.orderResult(s.deps.Booking.Cancel(ctx, in.ID, PrincipalFrom(ctx).Account.ID))
}

type refundInput struct {
	ID   int64 `path:"id" minimum:"1" doc:"Order ID"`
	Body struct {
		TicketIDs []int64 `json:"ticket_ids,omitempty" maxItems:"5" doc:"Tickets to refund; all paid tickets of the order if empty"`
	}
}

func (s *Server) refundOrder(ctx context.Context, in *refundInput) (*orderOutput, error) {
	return s.orderResult(s.deps.Booking.RefundTickets(ctx, in.ID, PrincipalFrom(ctx).Account.ID, in.Body.TicketIDs))
}

type changeInput struct {
	ID   int64 `path:"id" minimum:"1" doc:"Order ID"`
	Body booking.ChangeRequest
}

type changeOutput struct{ Body booking.ChangeResult }

func (s *Server) changeOrder(ctx context.Context, in *changeInput) (*changeOutput, error) {
	in.Body.AccountID, in.Body.OrderID = PrincipalFrom(ctx).Account.ID, in.ID
	res, err := s.deps.Booking.Change(ctx, in.Body)
	if err != nil {
		return nil, err
	}
	return &changeOutput{Body: res}, nil
}

func (s *Server) orderResult(o booking.Order, err error) (*orderOutput, error) {
	if err != nil {
		return nil, err
	}
	return &orderOutput{Body: o}, nil
}

type payOutput struct {
	Body payment.Payment
}

func (s *Server) payOrder(ctx context.Context, in *orderIDPath) (*payOutput, error) {
	p, err := s.deps.Booking.Payment(ctx, in.ID, PrincipalFrom(ctx).Account.ID)
	if err != nil {
		return nil, err
	}
	return &payOutput{Body: p}, nil
}

type inventoryInput struct {
	Service string `path:"service" maxLength:"128" doc:"Service ID, e.g. cr:Z66"`
	Date    string `path:"date" maxLength:"10" doc:"Service date YYYY-MM-DD"`
}

type inventoryOutput struct{ Body booking.CheckReport }

func (s *Server) checkInventory(ctx context.Context, in *inventoryInput) (*inventoryOutput, error) {
	d, err := network.ParseDate(in.Date)
	if err != nil {
		return nil, err
	}
	rep, err := s.deps.Booking.Check(ctx, booking.TrainKey{ServiceID: in.Service, Date: d})
	if err != nil {
		return nil, err
	}
	return &inventoryOutput{Body: rep}, nil
}

type feesInput struct {
	Kind string `path:"kind" enum:"refund,change" doc:"refund or change"`
}

type feesOutput struct{ Body fees.Table }

func (s *Server) getFees(ctx context.Context, in *feesInput) (*feesOutput, error) {
	get := s.deps.Booking.RefundFees
	if in.Kind == "change" {
		get = s.deps.Booking.ChangeFees
	}
	t, err := get(ctx)
	if err != nil {
		return nil, err
	}
	return &feesOutput{Body: t}, nil
}

type putFeesInput struct {
	Kind   string `path:"kind" enum:"refund,change" doc:"refund or change"`
	Reason string `query:"reason" maxLength:"500" doc:"Why the change is made, kept in the audit trail"`
	Body   fees.Table
}

func (s *Server) putFees(ctx context.Context, in *putFeesInput) (*feesOutput, error) {
	set := s.deps.Booking.SetRefundFees
	if in.Kind == "change" {
		set = s.deps.Booking.SetChangeFees
	}
	if err := set(ctx, in.Body, in.Reason); err != nil {
		return nil, err
	}
	return &feesOutput{Body: in.Body}, nil
}

type notifyInput struct {
	Timestamp string `header:"X-Piao-Pay-Timestamp" doc:"Unix seconds"`
	Nonce     string `header:"X-Piao-Pay-Nonce"`
	Signature string `header:"X-Piao-Pay-Signature" doc:"hex HMAC-SHA256 of timestamp, nonce and body"`
	RawBody   []byte
}

type notifyOutput struct {
	ContentType string `header:"Content-Type"`
	Body        []byte
}

// paymentNotify verifies a gateway notification and applies it. It answers
// "success" once the notification is applied (or was already), so the
// gateway stops resending; anything else makes it try again later.
func (s *Server) paymentNotify(ctx context.Context, in *notifyInput) (*notifyOutput, error) {
	if s.deps.Payments == nil {
		return nil, fault.New(fault.Unavailable, "no_gateway", "未配置支付渠道", "no payment gateway is configured")
	}
	h := http.Header{}
	h.Set(payment.HeaderTimestamp, in.Timestamp)
	h.Set(payment.HeaderNonce, in.Nonce)
	h.Set(payment.HeaderSignature, in.Signature)
	n, err := s.deps.Payments.Verify(h, in.RawBody)
	if err != nil {
		return nil, err
	}
	outcome, err := s.deps.Booking.HandleNotification(ctx, n)
	if err != nil {
		return nil, err
	}
	slog.InfoContext(ctx, "payment notification", "request_id", requestIDFrom(ctx), "payment", n.PaymentID, "order_ref", n.OrderRef, "outcome", string(outcome))
	return &notifyOutput{ContentType: "text/plain; charset=utf-8", Body: []byte("success")}, nil
}
