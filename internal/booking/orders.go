package booking

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/network"
	"piao/internal/realname"
	"piao/internal/seats"
)

// MaxPassengers is the most passengers one order may carry.
const MaxPassengers = 5

// PassengerRequest is one passenger of a booking and what they want to sit in.
type PassengerRequest struct {
	Name      string            `json:"name" doc:"Real name as on the document"`
	DocType   string            `json:"doc_type" doc:"id_card, passport, hk_macau_permit, taiwan_permit or foreign_permanent_id"`
	DocNumber string            `json:"doc_number"`
	SeatClass network.SeatClass `json:"seat_class" doc:"hard_sleeper, soft_sleeper, second, first or business"`
	Berth     network.Berth     `json:"berth,omitempty" doc:"lower, middle or upper for sleepers; empty for any berth"`
	Seat      string            `json:"seat,omitempty" doc:"Seated classes: window, aisle or a seat letter (A, B, C, D, F); empty for any seat"`
}

// BookRequest asks for seats for 1–5 passengers on one train between two of its stations.
type BookRequest struct {
	AccountID  int64              `json:"-"`
	Train      string             `json:"train" doc:"Train number (Z66) or service ID (cr:Z66)"`
	Date       string             `json:"date" doc:"Service date YYYY-MM-DD (the day the train leaves its origin)"`
	From       string             `json:"from" doc:"Boarding station: ID or telecode"`
	To         string             `json:"to" doc:"Alighting station: ID or telecode"`
	Passengers []PassengerRequest `json:"passengers"`
	// Together asks for the party in one compartment or row, or failing
	// that adjacent ones of one car.
	Together bool `json:"together,omitempty" doc:"Seat the party in one compartment or row (else adjacent ones of one car)"`
	// OnUnmet says what to do when a berth, seat or together preference
	// cannot be met, or the seats are sold out.
	OnUnmet OnUnmet `json:"on_unmet,omitempty" enum:",any,waitlist,alternatives" doc:"When a preference cannot be met or the seats are sold out: any (take any seat of the class), waitlist (join the waitlist for what was asked), alternatives (return other trains); empty refuses with preference_unmet or sold_out"`
}

// plan is a validated booking ready for the committer.
type plan struct {
	key        TrainKey
	si         *serviceInfo
	from, to   int
	depart     time.Time
	arrive     time.Time
	passengers []realname.Passenger
	reqs       []seats.Request
	fares      map[seats.Kind]int64
	hold       time.Duration     // how long the seats stay held
	rules      *governance.Rules // nil when governance is off
	together   bool
	onUnmet    OnUnmet
	seatPrefs  []string // each passenger's seat preference as asked
}

// prepare validates a booking request and reads everything it needs, outside
// the committer.
func (s *Service) prepare(ctx context.Context, r BookRequest) (*plan, error) {
	if len(r.Passengers) == 0 || len(r.Passengers) > MaxPassengers {
		return nil, fault.Newf(fault.Invalid, "bad_passenger_count", "每个订单须有 1–%d 名乘客", "an order carries 1–%d passengers", MaxPassengers)
	}
	date, err := network.ParseDate(r.Date)
	if err != nil {
		return nil, err
	}
	si, err := s.resolveTrain(ctx, r.Train)
	if err != nil {
		return nil, err
	}
	if !si.calendar.Runs(date) {
		return nil, fault.Newf(fault.NotFound, "train_not_running", "车次 %s 在 %s 不开行", "train %s does not run on %s", si.svc.Number, date)
	}
	if !r.OnUnmet.Valid() {
		return nil, fault.Newf(fault.Invalid, "bad_on_unmet", "on_unmet 须为 any、waitlist、alternatives 或留空，不是 %q", "on_unmet must be any, waitlist, alternatives or empty, not %q", r.OnUnmet)
	}
	p := &plan{key: TrainKey{ServiceID: si.svc.ID, Date: date}, si: si, hold: s.cfg.Hold, together: r.Together && len(r.Passengers) > 1, onUnmet: r.OnUnmet}
	p.from, p.to = stopIndex(si.svc, r.From, 0), -1
	if p.from >= 0 {
		p.to = stopIndex(si.svc, r.To, p.from+1)
	}
	if p.from < 0 || p.to < 0 {
		return nil, fault.Newf(fault.NotFound, "stations_not_on_train", "车次 %s 不按此顺序经停 %s 和 %s", "train %s does not call at %s then %s", si.svc.Number, r.From, r.To)
	}
	p.depart = at(date, si.loc, si.svc.Stops[p.from].Depart)
	p.arrive = at(date, si.loc, si.svc.Stops[p.to].Arrive)
	if !s.cfg.Now().Before(p.depart) {
		return nil, fault.New(fault.Invalid, "train_departed", "列车已开出，不能购票", "the train has already left that station")
	}
	fares, err := s.net.Fares(ctx, si.svc.ID, si.svc.Stops[p.from].StationID, si.svc.Stops[p.to].StationID)
	if err != nil {
		return nil, err
	}
	p.fares = map[seats.Kind]int64{}
	for _, f := range fares {
		p.fares[seats.Kind{Class: f.SeatClass, Berth: f.Berth}] = f.Fen
	}
	seen := map[string]bool{}
	for i, pr := range r.Passengers {
		pass, err := realname.Passenger{Name: pr.Name, DocType: realname.DocType(pr.DocType), DocNumber: pr.DocNumber}.Validate()
		if err != nil {
			return nil, passengerError(i, err)
		}
		doc := string(pass.DocType) + ":" + pass.DocNumber
		if seen[doc] {
			return nil, fault.Newf(fault.Invalid, "duplicate_passenger", "第 %d 位乘客的证件在本订单中重复", "passenger %d repeats a document of this order", i+1)
		}
		seen[doc] = true
		req := seats.Request{Kind: seats.Kind{Class: pr.SeatClass, Berth: pr.Berth}, From: p.from, To: p.to}
		berths := pr.SeatClass.Berths()
		switch {
		case !pr.SeatClass.Valid():
			return nil, fault.Newf(fault.Invalid, "bad_seat_class", "第 %d 位乘客的席别 %q 无效", "passenger %d: unknown seat class %q", i+1, pr.SeatClass)
		case pr.Berth == network.NoBerth && berths[0] != network.NoBerth:
			req.AnyBerth = true
		case !containsBerth(berths, pr.Berth):
			return nil, fault.Newf(fault.Invalid, "bad_berth", "第 %d 位乘客：%s 没有铺位 %q", "passenger %d: %s has no berth %q", i+1, pr.SeatClass, pr.Berth)
		}
		if req.Letters, err = seatLetters(pr.SeatClass, pr.Seat); err != nil || pr.Seat != "" && berths[0] != network.NoBerth {
			return nil, fault.Newf(fault.Invalid, "bad_seat_preference", "第 %d 位乘客：座位偏好 %q 无效（坐席可选 window、aisle 或座位字母）", "passenger %d: seat preference %q is not window, aisle or a seat letter of a seated class", i+1, pr.Seat)
		}
		if !s.sells(si, req) {
			return nil, fault.Newf(fault.NotFound, "class_not_on_train", "车次 %s 没有 %s", "train %s carries no %s", si.svc.Number, pr.SeatClass)
		}
		for _, b := range berths {
			if (req.AnyBerth || b == pr.Berth) && p.fares[seats.Kind{Class: pr.SeatClass, Berth: b}] <= 0 {
				return nil, fault.Newf(fault.NotFound, "fare_missing", "%s %s 没有票价", "no fare is set for %s %s", pr.SeatClass, b)
			}
		}
		p.passengers = append(p.passengers, pass)
		p.reqs = append(p.reqs, req)
		p.seatPrefs = append(p.seatPrefs, pr.Seat)
	}
	return p, nil
}

func containsBerth(bs []network.Berth, b network.Berth) bool {
	for _, x := range bs {
		if x == b {
			return true
		}
	}
	return false
}

// sells reports whether the train has seats of what a request asks for, at a fare.
func (s *Service) sells(si *serviceInfo, req seats.Request) bool {
	for _, seat := range si.seats {
		if seat.Kind == req.Kind || req.AnyBerth && seat.Kind.Class == req.Kind.Class {
			return true
		}
	}
	return false
}

func passengerError(i int, err error) error {
	fe := fault.As(err)
	return &fault.Error{Code: fe.Code, Reason: fe.Reason, ZH: fmt.Sprintf("第 %d 位乘客：%s", i+1, fe.ZH), EN: fmt.Sprintf("passenger %d: %s", i+1, fe.EN)}
}

// resolveTrain finds a service by ID or by train number.
func (s *Service) resolveTrain(ctx context.Context, ref string) (*serviceInfo, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" || len(ref) > 64 {
		return nil, fault.New(fault.Invalid, "bad_train", "车次不能为空", "a train is required")
	}
	if strings.Contains(ref, ":") {
		return s.trains.service(ctx, ref)
	}
	if id, ok := s.trains.numberID(ref); ok {
		return s.trains.service(ctx, id)
	}
	svcs, err := s.net.ServicesByNumber(ctx, ref)
	if err != nil {
		return nil, err
	}
	if len(svcs) == 0 {
		return nil, fault.Newf(fault.NotFound, "train_not_found", "没有车次 %s", "there is no train %s", ref)
	}
	s.trains.rememberNumber(ref, svcs[0].ID)
	return s.trains.service(ctx, svcs[0].ID)
}

// stopIndex finds the first stop at or after start whose station is named by ref.
func stopIndex(svc network.Service, ref string, start int) int {
	for i := start; i < len(svc.Stops); i++ {
		id := svc.Stops[i].StationID
		if strings.EqualFold(id, ref) {
			return i
		}
		if j := strings.IndexByte(id, ':'); j >= 0 && strings.EqualFold(id[j+1:], ref) {
			return i
		}
	}
	return -1
}

// at is the wall time secs after midnight of a service date.
func at(d network.Date, loc *time.Location, secs int) time.Time {
	return d.In(loc).AddDate(0, 0, secs/86400).Add(time.Duration(secs%86400) * time.Second)
}

// Booked is the result of a booking: the held order. The payment is
// created when the payer asks for it (Service.Payment), as a real checkout
// does, so a booking costs the gateway nothing until someone pays. When a
// preference could not be met, on_unmet decides: the order lists what it
// gave up (any), or there is no order but a waitlist entry (waitlist) or
// other trains (alternatives).
type Booked struct {
	Outcome      string            `json:"outcome" enum:"booked,waitlisted,alternatives"`
	Order        Order             `json:"order,omitzero"`
	Unmet        []UnmetPreference `json:"unmet,omitempty" doc:"Preferences given up under on_unmet=any"`
	Waitlist     *WaitlistEntry    `json:"waitlist,omitempty" doc:"The unpaid waitlist entry made under on_unmet=waitlist; prepay it to queue"`
	Alternatives []Recommendation  `json:"alternatives,omitempty" doc:"Other trains under on_unmet=alternatives, ranked for the wanted berth and arrival"`
}

var errSoldOut = fault.New(fault.Conflict, "sold_out", "余票不足", "sold out: not enough seats left")

func errDocumentBooked(i int) error {
	return fault.Newf(fault.Conflict, "document_already_booked", "第 %d 位乘客已购买该车次当日车票", "passenger %d already holds a ticket on this train that day", i+1)
}

// Book allocates and holds seats for every passenger atomically, or none.
func (s *Service) Book(ctx context.Context, r BookRequest) (Booked, error) {
	p, err := s.prepare(ctx, r)
	if err != nil {
		return Booked{}, err
	}
	policy, err := s.currentPolicy(ctx)
	if err != nil {
		return Booked{}, err
	}
	if err := s.softPreferences(ctx, p, policy); err != nil {
		return Booked{}, err
	}
	if err := s.screen(ctx, r.AccountID, p); err != nil {
		return Booked{}, err
	}
	bk, err := submit(ctx, s, func(b *batch) (booked, error) { return s.book(b, r.AccountID, p) })
	if reason := fault.As(err).Reason; err != nil && (reason == "preference_unmet" || reason == "sold_out") {
		switch r.OnUnmet {
		case UnmetWaitlist:
			return s.waitlistInstead(ctx, r)
		case UnmetAlternatives:
			return s.alternatives(ctx, r, p)
		}
	}
	if err != nil {
		return Booked{}, err
	}
	return Booked{Outcome: OutcomeBooked, Order: bk.order, Unmet: bk.unmet}, nil
}

// booked is what the committer returns for a booking.
type booked struct {
	order Order
	unmet []UnmetPreference
}

// waitlistInstead joins the waitlist for exactly what a booking asked.
func (s *Service) waitlistInstead(ctx context.Context, r BookRequest) (Booked, error) {
	wr := WaitlistRequest{AccountID: r.AccountID}
	first := r.Passengers[0]
	for i, p := range r.Passengers {
		if p.SeatClass != first.SeatClass || p.Berth != first.Berth {
			return Booked{}, fault.Newf(fault.Invalid, "waitlist_mixed_seats", "候补须所有乘客选同一席别铺位（第 %d 位不同）", "a waitlist entry takes one class and berth for all passengers (passenger %d differs)", i+1)
		}
		wr.Passengers = append(wr.Passengers, WaitPassengerRequest{Name: p.Name, DocType: p.DocType, DocNumber: p.DocNumber})
	}
	wr.Options = []WaitOptionRequest{{Train: r.Train, Date: r.Date, From: r.From, To: r.To, SeatClass: first.SeatClass, Berth: first.Berth}}
	e, err := s.JoinWaitlist(ctx, wr)
	if err != nil {
		return Booked{}, err
	}
	return Booked{Outcome: OutcomeWaitlisted, Waitlist: &e}, nil
}

// alternatives ranks the trains of the booking's journey for its first
// passenger's berth, then arrival.
func (s *Service) alternatives(ctx context.Context, r BookRequest, p *plan) (Booked, error) {
	first := r.Passengers[0]
	pr := Priorities{By: []Factor{ByBerth, ByArrival}, Berth: first.Berth, Classes: []network.SeatClass{first.SeatClass}}
	if first.Berth == network.NoBerth {
		pr.By = []Factor{ByArrival}
	}
	from, to := p.si.svc.Stops[p.from].StationID, p.si.svc.Stops[p.to].StationID
	recs, err := s.Recommendations(ctx, from, to, p.key.Date, pr)
	if err != nil {
		return Booked{}, err
	}
	return Booked{Outcome: OutcomeAlternatives, Alternatives: recs}, nil
}

func (s *Service) book(b *batch, accountID int64, p *plan) (booked, error) {
	// Lock the account, then the train, and check the rules under the locks:
	// another process booking for the same account or train waits.
	if err := b.tx.LockAccount(accountID); err != nil {
		return booked{}, err
	}
	held, err := b.tx.HeldOrderOf(accountID)
	if err != nil {
		return booked{}, err
	}
	if held != 0 {
		return booked{}, fault.Newf(fault.Conflict, "unpaid_order_exists", "您有未支付的订单 %d，请先支付或取消", "you have an unpaid order %d: pay or cancel it first", held)
	}
	owns, err := admit(b.tx, accountID, planDocuments(p), s.cfg.Now())
	if err != nil {
		return booked{}, err
	}
	warnings, err := s.checkLimits(b, accountID, p, owns)
	if err != nil {
		return booked{}, err
	}
	w, err := b.train(p.key)
	if err != nil {
		return booked{}, err
	}
	for i, pass := range p.passengers {
		dup, err := b.tx.ActiveTicketFor(string(pass.DocType), pass.DocNumber, p.key)
		if err != nil {
			return booked{}, err
		}
		if dup {
			return booked{}, errDocumentBooked(i)
		}
	}
	ids, unmet, err := p.allocateWithPreferences(w.train)
	if err != nil {
		return booked{}, err
	}
	w.dirty = true
	now := s.cfg.Now()
	o := Order{AccountID: accountID, Status: Held, Train: p.key, CreatedAt: now, HoldExpiresAt: now.Add(p.hold)}
	stops := p.si.svc.Stops
	for i, id := range ids {
		seat := w.train.Seat(id)
		fare := p.fares[seat.Kind] // prepare checked every kind a request may get has a fare
		pass := p.passengers[i]
		o.Tickets = append(o.Tickets, Ticket{
			Train: p.key, Number: p.si.svc.Number, FromSeq: p.from, ToSeq: p.to,
			FromStationID: stops[p.from].StationID, ToStationID: stops[p.to].StationID,
			Departure: p.depart, Arrival: p.arrive,
			SeatNo: int(id), Car: seat.Car, Seat: seat.Label, SeatClass: seat.Kind.Class, Berth: seat.Kind.Berth,
			PassengerName: pass.Name, DocType: string(pass.DocType), DocNumber: pass.DocNumber,
			FareFen: fare, Status: Held,
		})
		o.TotalFen += fare
	}
	if err := b.tx.InsertOrder(&o); err != nil {
		return booked{}, err
	}
	ev := Event{OrderID: o.ID, At: now, Actor: accountActor(accountID), Action: "book", To: Held,
		Detail: fmt.Sprintf("%s %s %d→%d, %d passengers", p.si.svc.Number, p.key.Date, p.from, p.to, len(ids))}
	if err := b.tx.AppendEvents(ev); err != nil {
		return booked{}, err
	}
	o.Events = []Event{ev}
	o.Warnings = warnings
	return booked{order: o, unmet: unmet}, nil
}

func accountActor(id int64) string { return "account:" + strconv.FormatInt(id, 10) }

// orderRef is the merchant order reference sent to the gateway.
func orderRef(id int64) string { return "piao-order-" + strconv.FormatInt(id, 10) }

// orderIDFromRef parses an order reference back.
func orderIDFromRef(ref string) (int64, bool) {
	s, ok := strings.CutPrefix(ref, "piao-order-")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// loadOwned reads an order and checks it belongs to the account (0: any).
func (s *Service) loadOwned(ctx context.Context, orderID, accountID int64) (Order, error) {
	o, err := s.store.Order(ctx, orderID)
	if err != nil {
		return Order{}, err
	}
	if accountID != 0 && o.AccountID != accountID {
		return Order{}, fault.Newf(fault.NotFound, "order_not_found", "订单 %d 不存在", "order %d does not exist", orderID)
	}
	return o, nil
}

// Order returns an order of an account (accountID 0: any account, for operators).
func (s *Service) Order(ctx context.Context, orderID, accountID int64) (Order, error) {
	return s.loadOwned(ctx, orderID, accountID)
}

// Orders lists an account's orders, newest first.
func (s *Service) Orders(ctx context.Context, accountID int64, limit int) ([]Order, error) {
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	return s.store.OrdersOf(ctx, accountID, limit)
}

// release returns a set of tickets' seats to the inventory.
func release(w *working, tickets []Ticket) error {
	for _, t := range tickets {
		if err := w.train.Release(seats.SeatID(t.SeatNo), t.Legs()); err != nil {
			return fault.Wrap(err, "release seat")
		}
	}
	w.dirty, w.freed = true, true
	return nil
}

// Cancel cancels an account's held order and returns its seats at once.
func (s *Service) Cancel(ctx context.Context, orderID, accountID int64) (Order, error) {
	o, err := s.loadOwned(ctx, orderID, accountID)
	if err != nil {
		return Order{}, err
	}
	rules, err := s.rules(ctx)
	if err != nil {
		return Order{}, err
	}
	return submit(ctx, s, func(b *batch) (Order, error) {
		return s.endHold(b, o.Train, orderID, Cancelled, accountActor(accountID), "cancel", rules)
	})
}

// endHold moves a held order to cancelled or expired and frees its seats.
func (s *Service) endHold(b *batch, k TrainKey, orderID int64, to OrderStatus, actor, action string, rules *governance.Rules) (Order, error) {
	w, err := b.train(k)
	if err != nil {
		return Order{}, err
	}
	o, err := b.tx.OrderForUpdate(orderID)
	if err != nil {
		return Order{}, err
	}
	if o.Status != Held {
		return Order{}, fault.Newf(fault.Conflict, "order_not_held", "订单状态为 %s，不能%s", "the order is %s and cannot be %s", o.Status, map[OrderStatus]string{Cancelled: "cancelled", Expired: "expired"}[to])
	}
	now := s.cfg.Now()
	if to == Expired && now.Before(o.HoldExpiresAt) {
		return Order{}, fault.New(fault.Conflict, "hold_not_ended", "订单保留时间未到", "the hold has not ended yet")
	}
	if err := release(w, o.Tickets); err != nil {
		return Order{}, err
	}
	o.Status = to
	for i := range o.Tickets {
		o.Tickets[i].Status = to
	}
	if err := b.tx.SetOrder(o); err != nil {
		return Order{}, err
	}
	ev := Event{OrderID: o.ID, At: now, Actor: actor, Action: action, From: Held, To: to}
	if err := b.tx.AppendEvents(ev); err != nil {
		return Order{}, err
	}
	o.Events = append(o.Events, ev)
	if rules != nil {
		if o.Warnings, err = countEndedHold(b.tx, rules, o, now); err != nil {
			return Order{}, err
		}
	}
	return o, nil
}

// ExpireDue releases every hold that has ended, exactly once each, and
// returns how many it released.
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	orders, err := s.store.DueExpiries(ctx, s.cfg.Now(), 500)
	if err != nil || len(orders) == 0 {
		return 0, err
	}
	rules, err := s.rules(ctx)
	if err != nil {
		return 0, err
	}
	return submit(ctx, s, func(b *batch) (int, error) {
		n := 0
		for _, o := range orders {
			_, err := s.endHold(b, o.Train, o.ID, Expired, "system:expiry", "expire", rules)
			switch {
			case err == nil:
				n++
			case fault.CodeOf(err) == fault.Internal:
				return 0, err
			}
			// Others were paid or cancelled meanwhile: nothing to do.
		}
		return n, nil
	})
}
