package booking

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"piao/internal/fault"
	"piao/internal/fees"
	"piao/internal/network"
	"piao/internal/seats"
)

// ChangeRequest asks to move one paid ticket to another train or date (改签).
type ChangeRequest struct {
	AccountID int64  `json:"-"`
	OrderID   int64  `json:"-"`
	TicketID  int64  `json:"ticket_id" doc:"The paid ticket to change"`
	Train     string `json:"train" doc:"New train number or service ID"`
	Date      string `json:"date" doc:"New service date YYYY-MM-DD"`
	// From and To default to the ticket's stations.
	From      string            `json:"from,omitempty"`
	To        string            `json:"to,omitempty"`
	SeatClass network.SeatClass `json:"seat_class,omitempty" doc:"Default: the ticket's class"`
	Berth     network.Berth     `json:"berth,omitempty" doc:"Default: any berth"`
}

// ChangeQuote is what a change costs.
type ChangeQuote struct {
	PayFen    int64 `json:"pay_fen"`    // the fare difference to pay
	RefundFen int64 `json:"refund_fen"` // the fare difference refunded, less the fee
	FeeFen    int64 `json:"fee_fen"`    // the change fee kept
}

// ChangeResult is the result of a change: a new order holding the new ticket.
// When nothing is to pay it is already paid and the old ticket is changed;
// otherwise it is held until the difference is paid.
type ChangeResult struct {
	Order     Order       `json:"order"`
	Quote     ChangeQuote `json:"quote"`
	PaymentID string      `json:"payment_id,omitempty"`
	PayURL    string      `json:"pay_url,omitempty"`
}

// Change moves a paid ticket to another train or date, once per ticket,
// charging the fare difference or refunding it less the change fee.
func (s *Service) Change(ctx context.Context, r ChangeRequest) (ChangeResult, error) {
	old, err := s.loadOwned(ctx, r.OrderID, r.AccountID)
	if err != nil {
		return ChangeResult{}, err
	}
	var tk Ticket
	for _, t := range old.Tickets {
		if t.ID == r.TicketID {
			tk = t
		}
	}
	switch {
	case tk.ID == 0:
		return ChangeResult{}, fault.Newf(fault.NotFound, "ticket_not_found", "订单中没有车票 %d", "the order has no ticket %d", r.TicketID)
	case old.ChangeOf != 0:
		return ChangeResult{}, fault.New(fault.Conflict, "already_changed", "改签后的车票不能再次改签", "a ticket that was changed once cannot be changed again")
	case tk.Status != Paid:
		return ChangeResult{}, fault.Newf(fault.Conflict, "ticket_not_paid", "车票状态为 %s，不能改签", "the ticket is %s and cannot be changed", tk.Status)
	}
	from, to := r.From, r.To
	if from == "" {
		from = tk.FromStationID
	}
	if to == "" {
		to = tk.ToStationID
	}
	class := tk.SeatClass
	if r.SeatClass != "" {
		class = r.SeatClass
	}
	p, err := s.prepare(ctx, BookRequest{AccountID: r.AccountID, Train: r.Train, Date: r.Date, From: from, To: to,
		Passengers: []PassengerRequest{{Name: tk.PassengerName, DocType: tk.DocType, DocNumber: tk.DocNumber, SeatClass: class, Berth: r.Berth}}})
	if err != nil {
		return ChangeResult{}, err
	}
	if p.key == tk.Train {
		return ChangeResult{}, fault.New(fault.Invalid, "same_train", "改签须换到其他车次或日期", "a change must go to another train or date")
	}
	table, err := s.changeTable(ctx)
	if err != nil {
		return ChangeResult{}, err
	}
	out, err := submit(ctx, s, func(b *batch) (ChangeResult, error) { return s.change(b, r, old, tk, p, table) })
	if err != nil {
		return ChangeResult{}, err
	}
	switch {
	case out.Order.Status == Held && s.cfg.Gateway != nil:
		pay, err := s.createPayment(ctx, out.Order)
		if err == nil {
			out.PaymentID, out.PayURL = pay.ID, pay.PayURL
		}
	case out.Quote.RefundFen > 0:
		part := refundPart{ID: changeRefundID(tk.ID), PaymentID: old.PaymentID, AmountFen: out.Quote.RefundFen, Key: TicketChangePaidKey(tk.ID), Ref: orderLedgerRef(old.ID), TicketID: tk.ID}
		if err := s.payRefunds(ctx, old.ID, []refundPart{part}, "fare difference of a change"); err != nil {
			return out, fault.New(fault.Unavailable, "refund_pending", "改签成功，差额退款暂未到账，请稍后重试", "the ticket is changed but the refund of the difference failed; retry to resend it")
		}
	}
	return out, nil
}

func (s *Service) change(b *batch, r ChangeRequest, old Order, tk Ticket, p *plan, table fees.Table) (ChangeResult, error) {
	// Lock both trains, the old one first, then re-read the old order under lock.
	oldTrain, err := b.train(tk.Train)
	if err != nil {
		return ChangeResult{}, err
	}
	cur, err := b.tx.OrderForUpdate(old.ID)
	if err != nil {
		return ChangeResult{}, err
	}
	for _, t := range cur.Tickets {
		if t.ID == tk.ID {
			tk = t
		}
	}
	if tk.Status != Paid || tk.ChangedTo != 0 {
		return ChangeResult{}, fault.Newf(fault.Conflict, "ticket_not_paid", "车票状态为 %s，不能改签", "the ticket is %s and cannot be changed", tk.Status)
	}
	if err := b.tx.LockAccount(r.AccountID); err != nil {
		return ChangeResult{}, err
	}
	held, err := b.tx.HeldOrderOf(r.AccountID)
	if err != nil {
		return ChangeResult{}, err
	}
	if held != 0 {
		return ChangeResult{}, fault.Newf(fault.Conflict, "unpaid_order_exists", "您有未支付的订单 %d，请先支付或取消", "you have an unpaid order %d: pay or cancel it first", held)
	}
	dup, err := b.tx.ActiveTicketFor(tk.DocType, tk.DocNumber, p.key)
	if err != nil {
		return ChangeResult{}, err
	}
	if dup {
		return ChangeResult{}, fault.New(fault.Conflict, "document_already_booked", "该乘客已购买该车次当日车票", "the passenger already holds a ticket on that train that day")
	}
	w, err := b.train(p.key)
	if err != nil {
		return ChangeResult{}, err
	}
	ids, err := w.train.Allocate(p.reqs)
	if errors.Is(err, seats.ErrSoldOut) {
		return ChangeResult{}, errSoldOut
	}
	if err != nil {
		return ChangeResult{}, fault.Wrap(err, "allocate")
	}
	w.dirty = true
	now := s.cfg.Now()
	seat := w.train.Seat(ids[0])
	newFare := p.fares[seat.Kind]
	pay, refund, fee, err := fees.ChangeQuote(tk.FareFen, newFare, tk.Departure.Sub(now), table)
	if err != nil {
		w.train.Release(ids[0], seats.Span(p.from, p.to))
		return ChangeResult{}, err
	}
	stops := p.si.svc.Stops
	nt := Ticket{
		Train: p.key, Number: p.si.svc.Number, FromSeq: p.from, ToSeq: p.to,
		FromStationID: stops[p.from].StationID, ToStationID: stops[p.to].StationID, Departure: p.depart, Arrival: p.arrive,
		SeatNo: int(ids[0]), Car: seat.Car, Seat: seat.Label, SeatClass: seat.Kind.Class, Berth: seat.Kind.Berth,
		PassengerName: tk.PassengerName, DocType: tk.DocType, DocNumber: tk.DocNumber, FareFen: newFare, Status: Held,
	}
	o := Order{AccountID: r.AccountID, Status: Held, Train: p.key, TotalFen: pay, CreatedAt: now, HoldExpiresAt: now.Add(s.cfg.Hold), ChangeOf: tk.ID, Tickets: []Ticket{nt}}
	if pay == 0 {
		o.Status, o.PaidAt, o.Tickets[0].Status = Paid, &now, Paid
	}
	if err := b.tx.InsertOrder(&o); err != nil {
		return ChangeResult{}, err
	}
	detail := fmt.Sprintf("ticket %d %s %s → %s %s; pay %d, refund %d, fee %d fen", tk.ID, tk.Number, tk.Train.Date, nt.Number, p.key.Date, pay, refund, fee)
	events := []Event{{OrderID: o.ID, At: now, Actor: accountActor(r.AccountID), Action: "change", To: o.Status, Detail: detail}}
	if pay == 0 {
		ev, err := s.finishChange(b, oldTrain, cur, tk.ID, o.Tickets[0].ID, fee, accountActor(r.AccountID))
		if err != nil {
			return ChangeResult{}, err
		}
		events = append(events, ev...)
		if e, ok := changeRefundEntry(cur.ID, tk.ID, refund, fee, now); ok {
			if err := b.post(e); err != nil {
				return ChangeResult{}, err
			}
		}
	}
	if err := b.tx.AppendEvents(events...); err != nil {
		return ChangeResult{}, err
	}
	o.Events = events
	return ChangeResult{Order: o, Quote: ChangeQuote{PayFen: pay, RefundFen: refund, FeeFen: fee}}, nil
}

// finishChange marks the old ticket changed, links it to the new one and
// frees its seat; the old order becomes changed when no ticket is left.
func (s *Service) finishChange(b *batch, oldTrain *working, oldOrder Order, oldTicket, newTicket, fee int64, actor string) ([]Event, error) {
	now := s.cfg.Now()
	var freed []Ticket
	for i, t := range oldOrder.Tickets {
		if t.ID == oldTicket {
			oldOrder.Tickets[i].Status, oldOrder.Tickets[i].ChangedTo, oldOrder.Tickets[i].FeeFen = Changed, newTicket, fee
			freed = append(freed, t)
		}
	}
	if err := release(oldTrain, freed); err != nil {
		return nil, err
	}
	events := []Event{{OrderID: oldOrder.ID, At: now, Actor: actor, Action: "change", From: Paid, To: Changed, TicketID: oldTicket, Detail: "changed to ticket " + strconv.FormatInt(newTicket, 10)}}
	done := true
	for _, t := range oldOrder.Tickets {
		if t.Status == Held || t.Status == Paid {
			done = false
		}
	}
	if done && oldOrder.Status == Paid {
		oldOrder.Status = Changed
		events = append(events, Event{OrderID: oldOrder.ID, At: now, Actor: actor, Action: "change", From: Paid, To: Changed})
	}
	return events, b.tx.SetOrder(oldOrder)
}
