package booking

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/network"
	"piao/internal/payment"
	"piao/internal/realname"
	"piao/internal/seats"
)

// WaitStatus is where a waitlist (候补) entry is in its life.
type WaitStatus string

// Waitlist states: unpaid → waiting → fulfilled / expired; unpaid or
// waiting → cancelled. An unpaid entry whose payment window ends is
// cancelled; a waiting one past its deadline expires and is refunded.
const (
	WaitUnpaid    WaitStatus = "unpaid"
	WaitWaiting   WaitStatus = "waiting"
	WaitFulfilled WaitStatus = "fulfilled"
	WaitCancelled WaitStatus = "cancelled"
	WaitExpired   WaitStatus = "expired"
)

// Active reports whether the entry still counts against the account's limit.
func (st WaitStatus) Active() bool { return st == WaitUnpaid || st == WaitWaiting }

// WaitOption is one way of travelling the passenger accepts.
type WaitOption struct {
	Train         TrainKey          `json:"train"`
	Number        string            `json:"number"`
	FromSeq       int               `json:"from_index"`
	ToSeq         int               `json:"to_index"`
	FromStationID string            `json:"from_station_id"`
	ToStationID   string            `json:"to_station_id"`
	Departure     time.Time         `json:"departure"`
	Arrival       time.Time         `json:"arrival"`
	SeatClass     network.SeatClass `json:"seat_class"`
	Berth         network.Berth     `json:"berth,omitempty"` // "" any berth of the class
	// Fares is the fare of each berth the option accepts ("" for seated
	// classes), fixed when the entry was made.
	Fares map[network.Berth]int64 `json:"fares"`
}

// maxFare is the most one passenger can pay on the option.
func (o WaitOption) maxFare() int64 {
	var m int64
	for _, f := range o.Fares {
		m = max(m, f)
	}
	return m
}

func (o WaitOption) request() seats.Request {
	r := seats.Request{Kind: seats.Kind{Class: o.SeatClass, Berth: o.Berth}, From: o.FromSeq, To: o.ToSeq}
	r.AnyBerth = o.Berth == network.NoBerth && o.SeatClass.Berths()[0] != network.NoBerth
	return r
}

// WaitPassenger is one passenger of a waitlist entry.
type WaitPassenger struct {
	Name      string `json:"name"`
	DocType   string `json:"doc_type"`
	DocNumber string `json:"doc_number"`
}

// WaitlistEntry is a prepaid request for seats on any of its options,
// served in queue order from seats that cancels, expiries, refunds and
// changes free, until its deadline.
type WaitlistEntry struct {
	ID        int64      `json:"id"`
	AccountID int64      `json:"account_id"`
	Status    WaitStatus `json:"status"`
	// Priority puts the entry ahead of others when the policy says so: a
	// priority-list member's, or a berth seeker's under proposal 1.
	Priority  bool       `json:"priority"`
	CreatedAt time.Time  `json:"created_at"`
	PayBy     time.Time  `json:"pay_by"`   // an unpaid entry is cancelled then
	Deadline  time.Time  `json:"deadline"` // a waiting entry is refunded then
	PaidAt    *time.Time `json:"paid_at,omitempty"`
	PaymentID string     `json:"payment_id,omitempty"`
	// PrepaidFen is the highest fare among the options for every passenger.
	PrepaidFen int64 `json:"prepaid_fen"`
	// OrderID is the paid order a fulfilled entry became.
	OrderID int64 `json:"order_id,omitempty"`
	// RefundFen is what goes back: the fare difference of a fulfilled
	// entry, everything for an expired or cancelled one; RefundSent says
	// the gateway has accepted it.
	RefundFen  int64           `json:"refund_fen,omitempty"`
	RefundSent bool            `json:"refund_sent,omitempty"`
	Options    []WaitOption    `json:"options"`
	Passengers []WaitPassenger `json:"passengers"`
	Events     []WaitEvent     `json:"events,omitempty"`
	// Position and Chance are computed for a waiting entry when it is
	// read; they are not stored.
	Position int     `json:"position,omitempty"`
	Chance   *Chance `json:"chance,omitempty"`
}

// Trains lists the train dates of the entry's options, each once, in order.
func (e WaitlistEntry) Trains() []TrainKey {
	var out []TrainKey
	for _, o := range e.Options {
		if !slices.Contains(out, o.Train) {
			out = append(out, o.Train)
		}
	}
	return out
}

// WaitEvent is an immutable record of a waitlist entry's transition.
type WaitEvent struct {
	EntryID int64      `json:"entry_id"`
	At      time.Time  `json:"at"`
	Actor   string     `json:"actor"`
	Action  string     `json:"action"`
	From    WaitStatus `json:"from,omitempty"`
	To      WaitStatus `json:"to,omitempty"`
	Detail  string     `json:"detail,omitempty"`
}

// Chance is an estimate of an entry's chance to get seats before its
// deadline.
type Chance struct {
	Percent int    `json:"percent"`
	Level   string `json:"level"` // high, medium or low
	BasisZH string `json:"basis_zh"`
	BasisEN string `json:"basis_en"`
}

// WaitOptionRequest is one acceptable option of a waitlist request.
type WaitOptionRequest struct {
	Train     string            `json:"train" doc:"Train number (Z66) or service ID"`
	Date      string            `json:"date" doc:"Service date YYYY-MM-DD"`
	From      string            `json:"from" doc:"Boarding station: ID or telecode"`
	To        string            `json:"to" doc:"Alighting station: ID or telecode"`
	SeatClass network.SeatClass `json:"seat_class"`
	Berth     network.Berth     `json:"berth,omitempty" doc:"lower, middle or upper; empty for any berth"`
}

// WaitPassengerRequest is one passenger of a waitlist request.
type WaitPassengerRequest struct {
	Name      string `json:"name"`
	DocType   string `json:"doc_type"`
	DocNumber string `json:"doc_number"`
}

// WaitlistRequest asks to join the waitlist (候补) for 1–5 passengers.
type WaitlistRequest struct {
	AccountID  int64                  `json:"-"`
	Options    []WaitOptionRequest    `json:"options"`
	Passengers []WaitPassengerRequest `json:"passengers"`
	// Deadline is when to give up and refund (RFC 3339); empty means two
	// hours before the last option leaves.
	Deadline string `json:"deadline,omitempty" doc:"RFC 3339; default two hours before the last option departs"`
}

var errWaitlistNotFound = func(id int64) error {
	return fault.Newf(fault.NotFound, "waitlist_not_found", "候补订单 %d 不存在", "waitlist entry %d does not exist", id)
}

// JoinWaitlist validates a waitlist request and stores it unpaid; it
// waits in the queue once its prepayment (the highest fare of its options
// for each passenger) is paid through WaitlistPayment.
func (s *Service) JoinWaitlist(ctx context.Context, r WaitlistRequest) (WaitlistEntry, error) {
	policy, err := s.currentPolicy(ctx)
	if err != nil {
		return WaitlistEntry{}, err
	}
	if len(r.Options) == 0 || len(r.Options) > policy.WaitlistMaxOptions {
		return WaitlistEntry{}, fault.Newf(fault.Invalid, "bad_waitlist_options", "候补须有 1–%d 个选项", "a waitlist entry has 1–%d options", policy.WaitlistMaxOptions)
	}
	now := s.cfg.Now()
	e := WaitlistEntry{AccountID: r.AccountID, Status: WaitUnpaid, CreatedAt: now, PayBy: now.Add(s.cfg.Hold)}
	var perPassenger int64
	var last time.Time
	for i, or := range r.Options {
		br := BookRequest{AccountID: r.AccountID, Train: or.Train, Date: or.Date, From: or.From, To: or.To}
		for _, p := range r.Passengers {
			br.Passengers = append(br.Passengers, PassengerRequest{Name: p.Name, DocType: p.DocType, DocNumber: p.DocNumber, SeatClass: or.SeatClass, Berth: or.Berth})
		}
		p, err := s.prepare(ctx, br)
		if err != nil {
			if len(r.Options) == 1 {
				return WaitlistEntry{}, err
			}
			fe := fault.As(err)
			return WaitlistEntry{}, &fault.Error{Code: fe.Code, Reason: fe.Reason, ZH: fmt.Sprintf("第 %d 个选项：%s", i+1, fe.ZH), EN: fmt.Sprintf("option %d: %s", i+1, fe.EN)}
		}
		if i == 0 {
			for _, pass := range p.passengers {
				e.Passengers = append(e.Passengers, WaitPassenger{Name: pass.Name, DocType: string(pass.DocType), DocNumber: pass.DocNumber})
			}
		}
		stops := p.si.svc.Stops
		o := WaitOption{Train: p.key, Number: p.si.svc.Number, FromSeq: p.from, ToSeq: p.to,
			FromStationID: stops[p.from].StationID, ToStationID: stops[p.to].StationID, Departure: p.depart, Arrival: p.arrive,
			SeatClass: or.SeatClass, Berth: or.Berth, Fares: map[network.Berth]int64{}}
		req := o.request()
		for k, f := range p.fares {
			if k.Class == or.SeatClass && (req.AnyBerth || k.Berth == or.Berth) {
				o.Fares[k.Berth] = f
			}
		}
		if slices.ContainsFunc(e.Options, func(x WaitOption) bool {
			return x.Train == o.Train && x.SeatClass == o.SeatClass && x.Berth == o.Berth && x.FromSeq == o.FromSeq && x.ToSeq == o.ToSeq
		}) {
			return WaitlistEntry{}, fault.Newf(fault.Invalid, "duplicate_waitlist_option", "第 %d 个选项重复", "option %d repeats another", i+1)
		}
		perPassenger = max(perPassenger, o.maxFare())
		if o.Departure.After(last) {
			last = o.Departure
		}
		e.Options = append(e.Options, o)
	}
	e.PrepaidFen = perPassenger * int64(len(e.Passengers))
	if r.Deadline == "" {
		e.Deadline = last.Add(-2 * time.Hour)
	} else if e.Deadline, err = time.Parse(time.RFC3339, r.Deadline); err != nil {
		return WaitlistEntry{}, fault.New(fault.Invalid, "bad_deadline", "截止时间须为 RFC 3339 格式", "the deadline must be an RFC 3339 time")
	}
	if !e.Deadline.After(now) || e.Deadline.After(last) {
		return WaitlistEntry{}, fault.New(fault.Invalid, "bad_deadline", "截止时间须晚于现在、不晚于最后一个选项的开车时间", "the deadline must be in the future and no later than the last option's departure")
	}
	if s.cfg.Governance != nil && policy.WaitlistPriorityFirst {
		subjects := []string{governance.AccountSubject(r.AccountID)}
		for _, p := range e.Passengers {
			subjects = append(subjects, governance.DocumentSubject(p.DocType, p.DocNumber))
		}
		_, v, err := s.cfg.Governance.Screen(ctx, subjects)
		if err != nil {
			return WaitlistEntry{}, err
		}
		for _, m := range v.Members {
			e.Priority = e.Priority || m.List == governance.Priority
			if v.Block && m.List == governance.Malicious {
				return WaitlistEntry{}, governance.BlockedError(m)
			}
		}
	}
	if !e.Priority {
		ps := make([]realname.Passenger, len(e.Passengers))
		for i, p := range e.Passengers {
			ps[i] = realname.Passenger{Name: p.Name, DocType: realname.DocType(p.DocType), DocNumber: p.DocNumber}
		}
		if e.Priority, err = s.berthSeeker(ctx, ps, e.Trains(), policy); err != nil {
			return WaitlistEntry{}, err
		}
	}
	return submit(ctx, s, func(b *batch) (WaitlistEntry, error) {
		if err := b.tx.LockAccount(r.AccountID); err != nil {
			return WaitlistEntry{}, err
		}
		n, err := b.tx.ActiveWaitlist(r.AccountID)
		if err != nil {
			return WaitlistEntry{}, err
		}
		if n >= policy.WaitlistMaxActive {
			return WaitlistEntry{}, fault.Newf(fault.LimitReached, "waitlist_limit", "每个账号最多同时有 %d 个候补订单", "an account may have at most %d active waitlist entries", policy.WaitlistMaxActive)
		}
		docs := make([]document, len(e.Passengers))
		for i, p := range e.Passengers {
			docs[i] = document{p.DocType, p.DocNumber, p.Name}
		}
		if _, err := admit(b.tx, r.AccountID, docs, now); err != nil {
			return WaitlistEntry{}, err
		}
		ent := e
		if err := b.tx.InsertWaitlist(&ent); err != nil {
			return WaitlistEntry{}, err
		}
		ev := WaitEvent{EntryID: ent.ID, At: now, Actor: accountActor(r.AccountID), Action: "join", To: WaitUnpaid,
			Detail: fmt.Sprintf("%d options, %d passengers, prepay %d fen", len(ent.Options), len(ent.Passengers), ent.PrepaidFen)}
		ent.Events = []WaitEvent{ev}
		return ent, b.tx.AppendWaitEvents(ev)
	})
}

// waitlistRef is the merchant order reference of a waitlist prepayment.
func waitlistRef(id int64) string { return "piao-waitlist-" + strconv.FormatInt(id, 10) }

func waitlistIDFromRef(ref string) (int64, bool) {
	s, ok := strings.CutPrefix(ref, "piao-waitlist-")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

func (s *Service) loadWaitlist(ctx context.Context, id, accountID int64) (WaitlistEntry, error) {
	e, err := s.store.Waitlist(ctx, id)
	if err != nil {
		return WaitlistEntry{}, err
	}
	if accountID != 0 && e.AccountID != accountID {
		return WaitlistEntry{}, errWaitlistNotFound(id)
	}
	return e, nil
}

// WaitlistPayment returns the gateway payment of an unpaid entry, creating
// it on first use.
func (s *Service) WaitlistPayment(ctx context.Context, id, accountID int64) (payment.Payment, error) {
	e, err := s.loadWaitlist(ctx, id, accountID)
	if err != nil {
		return payment.Payment{}, err
	}
	if e.Status != WaitUnpaid {
		return payment.Payment{}, fault.Newf(fault.Conflict, "waitlist_not_unpaid", "候补订单状态为 %s，无需支付", "the waitlist entry is %s: nothing to pay", e.Status)
	}
	if s.cfg.Gateway == nil {
		return payment.Payment{}, fault.New(fault.Unavailable, "no_gateway", "未配置支付渠道", "no payment gateway is configured")
	}
	return s.cfg.Gateway.Create(ctx, payment.CreateRequest{
		OrderRef: waitlistRef(e.ID), AmountFen: e.PrepaidFen,
		Subject:   "候补 " + e.Options[0].Number + " " + e.Options[0].Train.Date.String(),
		Payer:     PayerOf(e.AccountID),
		NotifyURL: s.cfg.NotifyURL, ReturnURL: s.cfg.WaitlistReturnURL + strconv.FormatInt(e.ID, 10),
		ExpiresAt: e.PayBy,
	})
}

// Waitlist returns an entry of an account (0: any) with its events, its
// position in the queue and an estimated chance while it waits.
func (s *Service) Waitlist(ctx context.Context, id, accountID int64) (WaitlistEntry, error) {
	e, err := s.loadWaitlist(ctx, id, accountID)
	if err != nil {
		return WaitlistEntry{}, err
	}
	if e.Status == WaitWaiting || e.Status == WaitUnpaid {
		if err := s.estimate(ctx, &e); err != nil {
			return WaitlistEntry{}, err
		}
	}
	return e, nil
}

// Waitlists lists an account's entries, newest first, with positions and
// chances of the waiting ones.
func (s *Service) Waitlists(ctx context.Context, accountID int64, limit int) ([]WaitlistEntry, error) {
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	es, err := s.store.WaitlistOf(ctx, accountID, limit)
	if err != nil {
		return nil, err
	}
	for i := range es {
		if es[i].Status.Active() {
			if err := s.estimate(ctx, &es[i]); err != nil {
				return nil, err
			}
		}
	}
	return es, nil
}

// queueOrder sorts entries as they are served: priority first when the
// policy says so, then by payment time, then by ID.
func queueOrder(es []WaitlistEntry, priorityFirst bool) {
	slices.SortStableFunc(es, func(a, b WaitlistEntry) int {
		if priorityFirst && a.Priority != b.Priority {
			if a.Priority {
				return -1
			}
			return 1
		}
		if a.PaidAt != nil && b.PaidAt != nil {
			if c := a.PaidAt.Compare(*b.PaidAt); c != 0 {
				return c
			}
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// estimate sets the entry's position (the best among its options: how
// many waiting entries for that train and class are served before it, plus
// one) and its chance: for each option, the seats this train date is
// expected to free — held tickets times the share of its orders that ended
// unpaid so far, plus paid tickets times the share refunded — against the
// seats wanted ahead of and by this entry; options combine as independent.
func (s *Service) estimate(ctx context.Context, e *WaitlistEntry) error {
	policy, err := s.Policy(ctx)
	if err != nil {
		return err
	}
	miss := 1.0
	best := 0
	for _, o := range e.Options {
		queue, err := s.store.WaitingOn(ctx, o.Train)
		if err != nil {
			return err
		}
		queueOrder(queue, policy.WaitlistPriorityFirst)
		pos, seatsAhead := 1, 0
		for _, q := range queue {
			if q.ID == e.ID {
				break
			}
			if slices.ContainsFunc(q.Options, func(x WaitOption) bool { return x.Train == o.Train && x.SeatClass == o.SeatClass }) {
				pos++
				seatsAhead += len(q.Passengers)
			}
		}
		if best == 0 || pos < best {
			best = pos
		}
		st, err := s.store.TicketCounts(ctx, o.Train, o.SeatClass)
		if err != nil {
			return err
		}
		unpaidShare, refundShare := 0.3, 0.05 // until the train date has history
		if ended := st[Cancelled] + st[Expired] + st[Paid] + st[Refunded] + st[Changed]; ended >= 10 {
			unpaidShare = float64(st[Cancelled]+st[Expired]) / float64(ended)
		}
		if sold := st[Paid] + st[Refunded] + st[Changed]; sold >= 10 {
			refundShare = float64(st[Refunded]+st[Changed]) / float64(sold)
		}
		expected := float64(st[Held])*unpaidShare + float64(st[Paid])*refundShare
		want := float64(seatsAhead + len(e.Passengers))
		p := min(0.95, expected/want)
		miss *= 1 - p
	}
	e.Position = best
	pct := int((1 - miss) * 100)
	level := "low"
	switch {
	case pct >= 70:
		level = "high"
	case pct >= 30:
		level = "medium"
	}
	e.Chance = &Chance{Percent: pct, Level: level,
		BasisZH: "按该车次当日已有订单的未支付与退票比例估算，仅供参考",
		BasisEN: "estimated from the share of this train date's orders left unpaid or refunded so far; a guide, not a promise"}
	return nil
}

// CancelWaitlist withdraws an account's unpaid or waiting entry; a paid
// one is refunded in full.
func (s *Service) CancelWaitlist(ctx context.Context, id, accountID int64) (WaitlistEntry, error) {
	e, err := s.loadWaitlist(ctx, id, accountID)
	if err != nil {
		return WaitlistEntry{}, err
	}
	ended, err := submit(ctx, s, func(b *batch) (WaitlistEntry, error) {
		return s.endWaitlist(b, e, WaitCancelled, accountActor(accountID), "cancel")
	})
	if err != nil {
		return WaitlistEntry{}, err
	}
	s.kickRefunds()
	return ended, nil
}

// endWaitlist cancels or expires an entry under the locks of its trains
// (fulfilment reads waiting entries under a train's lock, so the entry
// cannot be served and refunded at once).
func (s *Service) endWaitlist(b *batch, e WaitlistEntry, to WaitStatus, actor, action string) (WaitlistEntry, error) {
	if err := b.lockTrains(e.Trains()); err != nil {
		return WaitlistEntry{}, err
	}
	cur, err := b.tx.WaitlistForUpdate(e.ID)
	if err != nil {
		return WaitlistEntry{}, err
	}
	if !cur.Status.Active() {
		return WaitlistEntry{}, fault.Newf(fault.Conflict, "waitlist_not_active", "候补订单状态为 %s，不能取消", "the waitlist entry is %s and cannot be withdrawn", cur.Status)
	}
	now := s.cfg.Now()
	if to == WaitExpired && cur.Status == WaitWaiting && now.Before(cur.Deadline) || to == WaitExpired && cur.Status == WaitUnpaid && now.Before(cur.PayBy) {
		return WaitlistEntry{}, fault.New(fault.Conflict, "waitlist_not_due", "候补订单尚未到期", "the waitlist entry is not due yet")
	}
	from := cur.Status
	if cur.Status == WaitUnpaid {
		to = WaitCancelled // nothing was paid: nothing to refund
	} else {
		cur.RefundFen, cur.RefundSent = cur.PrepaidFen, cur.PrepaidFen == 0
	}
	cur.Status = to
	if err := b.tx.SetWaitlist(cur); err != nil {
		return WaitlistEntry{}, err
	}
	if cur.RefundFen > 0 {
		if err := b.post(waitlistRefundEntry(cur, now)); err != nil {
			return WaitlistEntry{}, err
		}
	}
	ev := WaitEvent{EntryID: cur.ID, At: now, Actor: actor, Action: action, From: from, To: to}
	if cur.RefundFen > 0 {
		ev.Detail = fmt.Sprintf("refund %d fen", cur.RefundFen)
	}
	cur.Events = append(cur.Events, ev)
	return cur, b.tx.AppendWaitEvents(ev)
}

// lockTrains locks train dates in a fixed order, so two transactions
// locking several never wait on each other in a circle.
func (b *batch) lockTrains(keys []TrainKey) error {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, func(a, c TrainKey) int { return strings.Compare(a.String(), c.String()) })
	for _, k := range keys {
		if _, err := b.train(k); err != nil {
			return err
		}
	}
	return nil
}

// handleWaitlistPayment applies a paid notification for a waitlist entry:
// an unpaid entry starts waiting and is served at once if seats are free;
// a repeat changes nothing; money for an entry that lapsed goes back.
func (s *Service) handleWaitlistPayment(ctx context.Context, n payment.Notification, id int64) (PaymentOutcome, error) {
	e, err := s.store.Waitlist(ctx, id)
	if err != nil {
		return "", err
	}
	out, err := submit(ctx, s, func(b *batch) (PaymentOutcome, error) {
		if err := b.lockTrains(e.Trains()); err != nil {
			return "", err
		}
		cur, err := b.tx.WaitlistForUpdate(id)
		if err != nil {
			return "", err
		}
		now := s.cfg.Now()
		switch {
		case cur.Status == WaitUnpaid:
			if n.AmountFen != cur.PrepaidFen {
				return "", fault.Newf(fault.Invalid, "amount_mismatch", "支付金额 %d 分与候补预付 %d 分不符", "paid %d fen for a prepayment of %d fen", n.AmountFen, cur.PrepaidFen)
			}
			paidAt := n.PaidAt
			if paidAt.IsZero() {
				paidAt = now
			}
			cur.Status, cur.PaymentID, cur.PaidAt = WaitWaiting, n.PaymentID, &paidAt
			if err := b.tx.SetWaitlist(cur); err != nil {
				return "", err
			}
			if err := b.post(waitlistPaidEntry(cur, n.PaymentID, paidAt)); err != nil {
				return "", err
			}
			if err := b.tx.AppendWaitEvents(WaitEvent{EntryID: id, At: now, Actor: "payment:" + n.PaymentID, Action: "pay", From: WaitUnpaid, To: WaitWaiting, Detail: "notification " + n.ID}); err != nil {
				return "", err
			}
			// Seats may be free already: serve the entry now, on its
			// options in the order given.
			for _, k := range cur.Trains() {
				if err := b.fulfil(b.work[k]); err != nil {
					return "", err
				}
			}
			return OutcomePaid, nil
		case cur.PaymentID == n.PaymentID:
			return OutcomeDuplicate, nil
		default:
			if err := b.post(latePaymentEntries(waitlistLedgerRef(id), n.PaymentID, n.AmountFen, now)...); err != nil {
				return "", err
			}
			return OutcomeRefunded, b.tx.AppendWaitEvents(WaitEvent{EntryID: id, At: now, Actor: "payment:" + n.PaymentID, Action: "late_payment_refund", From: cur.Status, To: cur.Status,
				Detail: "payment " + n.PaymentID + " arrived when the entry was " + string(cur.Status)})
		}
	})
	if err != nil {
		return "", err
	}
	if out == OutcomeRefunded {
		if _, err := s.cfg.Gateway.Refund(ctx, payment.RefundRequest{RefundID: lateRefundID(n.PaymentID), PaymentID: n.PaymentID, AmountFen: n.AmountFen, Reason: "waitlist entry ended before payment"}); err != nil {
			slog.Error("refunding a late waitlist payment", "payment", n.PaymentID, "err", err.Error())
			return "", err
		}
	}
	s.kickRefunds()
	return out, nil
}

// fulfil serves waiting entries from the free seats of a locked train
// date, in queue order, each with the first of its options on this train
// that seats all its passengers. It runs in the transaction that freed the
// seats, before any other op of the batch can book them, so freed seats go
// to the waitlist before public sale and a crash loses or doubles nothing.
func (b *batch) fulfil(w *working) error {
	if w == nil {
		return nil
	}
	w.freed = false
	queue, err := b.tx.WaitingOn(w.key)
	if err != nil || len(queue) == 0 {
		return err
	}
	policy, err := b.s.currentPolicy(b.ctx)
	if err != nil {
		return err
	}
	queueOrder(queue, policy.WaitlistPriorityFirst)
	now := b.s.cfg.Now()
	for _, e := range queue {
		if b.settled[e.ID] || !now.Before(e.Deadline) {
			continue
		}
		for _, o := range e.Options {
			if o.Train != w.key || !now.Before(o.Departure) {
				continue
			}
			ok, err := b.serve(w, e, o, now)
			if err != nil {
				return err
			}
			if ok {
				break
			}
		}
	}
	return nil
}

// serve turns an entry into a paid order on one option if its seats are
// free, reporting whether it did.
func (b *batch) serve(w *working, e WaitlistEntry, o WaitOption, now time.Time) (bool, error) {
	if w.train.AvailableClass(o.SeatClass, o.FromSeq, o.ToSeq) < len(e.Passengers) {
		return false, nil
	}
	for _, p := range e.Passengers {
		dup, err := b.tx.ActiveTicketFor(p.DocType, p.DocNumber, o.Train)
		if err != nil || dup {
			return false, err
		}
		// A holder who verified the document after the entry joined, and
		// has not approved its account, is not booked by it.
		own, err := b.tx.DocumentOwnership(p.DocType, p.DocNumber)
		if err != nil || !own.Admits(e.AccountID) {
			return false, err
		}
	}
	reqs := make([]seats.Request, len(e.Passengers))
	for i := range reqs {
		reqs[i] = o.request()
	}
	ids, err := w.train.Allocate(reqs)
	if errors.Is(err, seats.ErrSoldOut) {
		return false, nil
	}
	if err != nil {
		return false, fault.Wrap(err, "allocate for the waitlist")
	}
	w.dirty = true
	ord := Order{AccountID: e.AccountID, Status: Paid, Train: o.Train, CreatedAt: now, HoldExpiresAt: now, PaidAt: &now, PaymentID: e.PaymentID}
	for i, id := range ids {
		seat := w.train.Seat(id)
		fare := o.Fares[seat.Kind.Berth]
		p := e.Passengers[i]
		ord.Tickets = append(ord.Tickets, Ticket{
			Train: o.Train, Number: o.Number, FromSeq: o.FromSeq, ToSeq: o.ToSeq, FromStationID: o.FromStationID, ToStationID: o.ToStationID,
			Departure: o.Departure, Arrival: o.Arrival, SeatNo: int(id), Car: seat.Car, Seat: seat.Label, SeatClass: seat.Kind.Class, Berth: seat.Kind.Berth,
			PassengerName: p.Name, DocType: p.DocType, DocNumber: p.DocNumber, FareFen: fare, Status: Paid,
		})
		ord.TotalFen += fare
	}
	if err := b.tx.InsertOrder(&ord); err != nil {
		return false, err
	}
	cur, err := b.tx.WaitlistForUpdate(e.ID)
	if err != nil {
		return false, err
	}
	if cur.Status != WaitWaiting {
		return false, fault.Newf(fault.Internal, "waitlist_changed", "候补订单 %d 状态已变", "waitlist entry %d changed under its train's lock", e.ID)
	}
	cur.Status, cur.OrderID = WaitFulfilled, ord.ID
	cur.RefundFen = cur.PrepaidFen - ord.TotalFen
	cur.RefundSent = cur.RefundFen == 0
	if err := b.tx.SetWaitlist(cur); err != nil {
		return false, err
	}
	if cur.RefundFen > 0 {
		if err := b.post(waitlistRefundEntry(cur, now)); err != nil {
			return false, err
		}
	}
	if err := b.tx.AppendEvents(Event{OrderID: ord.ID, At: now, Actor: "system:waitlist", Action: "waitlist_fulfil", To: Paid,
		Detail: fmt.Sprintf("waitlist entry %d, %s %s", e.ID, o.Number, o.Train.Date)}); err != nil {
		return false, err
	}
	if err := b.tx.AppendWaitEvents(WaitEvent{EntryID: e.ID, At: now, Actor: "system:waitlist", Action: "fulfil", From: WaitWaiting, To: WaitFulfilled,
		Detail: fmt.Sprintf("order %d, %d fen; refund %d fen", ord.ID, ord.TotalFen, cur.RefundFen)}); err != nil {
		return false, err
	}
	if b.settled == nil {
		b.settled = map[int64]bool{}
	}
	b.settled[e.ID] = true
	b.refunds = b.refunds || cur.RefundFen > 0
	return true, nil
}

// ExpireWaitlist ends entries that are due: unpaid ones whose payment
// window closed (cancelled) and waiting ones past their deadline (expired
// and refunded). It returns how many it ended.
func (s *Service) ExpireWaitlist(ctx context.Context) (int, error) {
	due, err := s.store.DueWaitlist(ctx, s.cfg.Now(), 200)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	n, err := submit(ctx, s, func(b *batch) (int, error) {
		n := 0
		for _, e := range due {
			_, err := s.endWaitlist(b, e, WaitExpired, "system:waitlist", "expire")
			switch {
			case err == nil:
				n++
			case fault.CodeOf(err) == fault.Internal:
				return 0, err
			}
		}
		return n, nil
	})
	if err != nil {
		return 0, err
	}
	s.kickRefunds()
	return n, nil
}

// kickRefunds wakes the refund sender without waiting for it.
func (s *Service) kickRefunds() {
	select {
	case s.refundKick <- struct{}{}:
	default:
	}
}

// sendRefunds pays back what waitlist entries are owed, durably: it reads
// the owed refunds from the database, so a refund a crash interrupted is
// sent again; the gateway does each refund ID once. Once the gateway has
// paid, the entry is marked sent and the payment posted in one transaction.
func (s *Service) sendRefunds(ctx context.Context) (int, error) {
	if s.cfg.Gateway == nil {
		return 0, nil
	}
	due, err := s.store.WaitlistRefundsDue(ctx, 100)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range due {
		part := refundPart{ID: waitlistRefundID(e.ID), PaymentID: e.PaymentID, AmountFen: e.RefundFen, Key: WaitlistRefundPaidKey(e.ID), Ref: waitlistLedgerRef(e.ID)}
		rf, err := s.cfg.Gateway.Refund(ctx, payment.RefundRequest{RefundID: part.ID, PaymentID: part.PaymentID, AmountFen: part.AmountFen,
			Reason: "waitlist " + string(e.Status)})
		if err == nil && rf.Status != payment.RefundSucceeded {
			err = fmt.Errorf("refund %s: the gateway answered %s", part.ID, rf.Status)
		}
		if err != nil {
			return n, err
		}
		at := rf.At // the refund is recorded, and posted, at the gateway's time
		if at.IsZero() {
			at = s.cfg.Now()
		}
		err = s.queue(ctx, func(b *batch) error {
			cur, err := b.tx.WaitlistForUpdate(e.ID)
			if err != nil || cur.RefundSent {
				return err
			}
			cur.RefundSent = true
			if err := b.tx.SetWaitlist(cur); err != nil {
				return err
			}
			if err := b.post(refundPaidEntry(part, at)); err != nil {
				return err
			}
			return b.tx.AppendWaitEvents(WaitEvent{EntryID: e.ID, At: at, Actor: "system:waitlist", Action: "refund_sent", From: cur.Status, To: cur.Status,
				Detail: fmt.Sprintf("%d fen", cur.RefundFen)})
		})
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// refundLoop sends owed refunds when kicked and on every sweep.
func (s *Service) refundLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.SweepEvery)
	defer t.Stop()
	for {
		if _, err := s.sendRefunds(ctx); err != nil && ctx.Err() == nil {
			slog.Error("sending waitlist refunds", "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.refundKick:
		}
	}
}

// EncodeWaitlist renders an entry for storage as JSON, without its events
// and the figures computed when it is read; both engines store this form.
func EncodeWaitlist(e WaitlistEntry) (string, error) {
	e.Events, e.Position, e.Chance = nil, 0, nil
	b, err := json.Marshal(e)
	if err != nil {
		return "", fault.Wrap(err, "encode waitlist entry")
	}
	return string(b), nil
}

// DecodeWaitlist reads an entry stored by EncodeWaitlist.
func DecodeWaitlist(body string) (WaitlistEntry, error) {
	var e WaitlistEntry
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		return e, fault.Wrap(err, "decode waitlist entry")
	}
	return e, nil
}

// RefundDue reports whether money is owed back and not yet sent.
func (e WaitlistEntry) RefundDue() bool { return e.RefundFen > 0 && !e.RefundSent }
