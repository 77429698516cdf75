package booking_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"piao/internal/booking"
	"piao/internal/fault"
	"piao/internal/network"
	"piao/internal/store/storetest"
)

func book(t *testing.T, e *env, account int64, train, from, to string, ps ...booking.PassengerRequest) (booking.Order, error) {
	t.Helper()
	res, err := e.svc.Book(context.Background(), booking.BookRequest{AccountID: account, Train: train, Date: day0.String(), From: from, To: to, Passengers: ps})
	return res.Order, err
}

func remaining(t *testing.T, e *env, from, to, number string, class network.SeatClass, berth network.Berth) int {
	t.Helper()
	offers, err := e.svc.Remaining(context.Background(), from, to, day0)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range offers {
		if o.Number != number {
			continue
		}
		for _, a := range o.Seats {
			if a.SeatClass == class && a.Berth == berth {
				return a.Remaining
			}
		}
	}
	t.Fatalf("no %s %s %s in the offers for %s→%s", number, class, berth, from, to)
	return 0
}

func TestBookHoldCancel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, booking.Config{})
		acct := e.accounts(t, 2)
		before := remaining(t, e, "NCG", "BXP", "Z66", network.HardSleeper, network.Lower)
		o, err := book(t, e, acct[0], "Z66", "NCG", "BXP", passenger(1, network.HardSleeper, network.Lower), passenger(2, network.SoftSleeper, ""))
		if err != nil {
			t.Fatal(err)
		}
		if o.Status != booking.Held || len(o.Tickets) != 2 || o.Tickets[0].Berth != network.Lower || o.Tickets[1].SeatClass != network.SoftSleeper {
			t.Fatalf("order %+v", o)
		}
		if o.TotalFen != o.Tickets[0].FareFen+o.Tickets[1].FareFen || !o.HoldExpiresAt.Equal(startTime.Add(30*time.Minute)) {
			t.Fatalf("total %d, hold until %s", o.TotalFen, o.HoldExpiresAt)
		}
		if got := remaining(t, e, "NCG", "BXP", "Z66", network.HardSleeper, network.Lower); got != before-1 {
			t.Fatalf("remaining lower berths %d, want %d", got, before-1)
		}
		// One unpaid order per account; one ticket per document per train and date.
		if _, err := book(t, e, acct[0], "T168", "NCG", "BXP", passenger(3, network.HardSleeper, "")); !hasReason(err, "unpaid_order_exists") {
			t.Fatalf("second unpaid order: %v", err)
		}
		if _, err := book(t, e, acct[1], "Z66", "NCG", "BXP", passenger(1, network.HardSleeper, "")); !hasReason(err, "document_already_booked") {
			t.Fatalf("same document twice: %v", err)
		}
		mustCheck(t, e.svc)
		// Cancel returns the seats at once.
		c, err := e.svc.Cancel(context.Background(), o.ID, acct[0])
		if err != nil || c.Status != booking.Cancelled {
			t.Fatalf("cancel: %+v %v", c.Status, err)
		}
		if got := remaining(t, e, "NCG", "BXP", "Z66", network.HardSleeper, network.Lower); got != before {
			t.Fatalf("after cancel %d lower berths, want %d", got, before)
		}
		if _, err := e.svc.Cancel(context.Background(), o.ID, acct[0]); !hasReason(err, "order_not_held") {
			t.Fatalf("cancel twice: %v", err)
		}
		if _, err := e.svc.Cancel(context.Background(), o.ID, acct[1]); !fault.Is(err, fault.NotFound) {
			t.Fatalf("another account cancels: %v", err)
		}
		got, err := e.svc.Order(context.Background(), o.ID, acct[0])
		if err != nil || len(got.Events) != 2 || got.Events[0].Action != "book" || got.Events[1].To != booking.Cancelled {
			t.Fatalf("events: %+v %v", got.Events, err)
		}
		// The document may book again once its ticket is cancelled.
		if _, err := book(t, e, acct[1], "Z66", "NCG", "BXP", passenger(1, network.HardSleeper, "")); err != nil {
			t.Fatalf("rebook after cancel: %v", err)
		}
		mustCheck(t, e.svc)
	})
}

func hasReason(err error, reason string) bool {
	return err != nil && fault.As(err).Reason == reason
}

// A seat sold Nanchang → Jiujiang is free again from Jiujiang, and best fit
// gives the Jiujiang → Beijing journey that same seat.
func TestSegmentsReuseSeats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, booking.Config{})
		acct := e.accounts(t, 3)
		a, err := book(t, e, acct[0], "T168", "NCG", "JJG", passenger(1, network.HardSleeper, network.Upper))
		if err != nil {
			t.Fatal(err)
		}
		b, err := book(t, e, acct[1], "T168", "JJG", "BXP", passenger(2, network.HardSleeper, network.Upper))
		if err != nil {
			t.Fatal(err)
		}
		if a.Tickets[0].Car != b.Tickets[0].Car || a.Tickets[0].Seat != b.Tickets[0].Seat {
			t.Fatalf("NCG→JJG got %d/%s, JJG→BXP got %d/%s: want the same berth", a.Tickets[0].Car, a.Tickets[0].Seat, b.Tickets[0].Car, b.Tickets[0].Seat)
		}
		full := remaining(t, e, "NCG", "BXP", "T168", network.HardSleeper, network.Upper)
		if full != 220-1 {
			t.Fatalf("whole-journey upper berths %d, want 219", full)
		}
		mustCheck(t, e.svc)
	})
}

// A group gets seats for all its passengers or none.
func TestGroupAllOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, booking.Config{})
		acct := e.accounts(t, 30)
		// G488 has 24 business seats: 4 orders of 5 and one of 3 leave 1.
		n := 0
		for i := 0; i < 4; i++ {
			var ps []booking.PassengerRequest
			for j := 0; j < 5; j++ {
				ps = append(ps, passenger(100+n, network.Business, ""))
				n++
			}
			if _, err := book(t, e, acct[i], "G488", "NXG", "BXP", ps...); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := book(t, e, acct[4], "G488", "NXG", "BXP", passenger(200, network.Business, ""), passenger(201, network.Business, ""), passenger(202, network.Business, "")); err != nil {
			t.Fatal(err)
		}
		_, err := book(t, e, acct[5], "G488", "NXG", "BXP", passenger(300, network.Business, ""), passenger(301, network.Business, ""))
		if !hasReason(err, "sold_out") || fault.CodeOf(err) != fault.Conflict {
			t.Fatalf("two passengers for one seat: %v", err)
		}
		if got := remaining(t, e, "NXG", "BXP", "G488", network.Business, ""); got != 1 {
			t.Fatalf("a refused group took seats: %d left, want 1", got)
		}
		mustCheck(t, e.svc)
	})
}

func TestBadBookings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, booking.Config{})
		acct := e.accounts(t, 1)[0]
		good := passenger(1, network.HardSleeper, "")
		bad := good
		bad.DocNumber = bad.DocNumber[:17] + map[bool]string{true: "0", false: "1"}[bad.DocNumber[17] != '0']
		cases := []struct {
			name, train, from, to, date string
			ps                          []booking.PassengerRequest
			reason                      string
		}{
			{"no passengers", "Z66", "NCG", "BXP", day0.String(), nil, "bad_passenger_count"},
			{"six passengers", "Z66", "NCG", "BXP", day0.String(), []booking.PassengerRequest{good, good, good, good, good, good}, "bad_passenger_count"},
			{"bad check digit", "Z66", "NCG", "BXP", day0.String(), []booking.PassengerRequest{bad}, "bad_id_checksum"},
			{"same passenger twice", "Z66", "NCG", "BXP", day0.String(), []booking.PassengerRequest{good, good}, "duplicate_passenger"},
			{"unknown train", "Z99", "NCG", "BXP", day0.String(), []booking.PassengerRequest{good}, "train_not_found"},
			{"against the direction", "Z66", "BXP", "NCG", day0.String(), []booking.PassengerRequest{good}, "stations_not_on_train"},
			{"not running", "Z66", "NCG", "BXP", day0.AddDays(45).String(), []booking.PassengerRequest{good}, "train_not_running"},
			{"bad date", "Z66", "NCG", "BXP", "2026-02-30", []booking.PassengerRequest{good}, "invalid_date"},
			{"class not on train", "Z66", "NCG", "BXP", day0.String(), []booking.PassengerRequest{passenger(2, network.SecondClass, "")}, "class_not_on_train"},
			{"berth of another class", "Z66", "NCG", "BXP", day0.String(), []booking.PassengerRequest{passenger(2, network.SoftSleeper, network.Middle)}, "bad_berth"},
		}
		for _, c := range cases {
			_, err := e.svc.Book(context.Background(), booking.BookRequest{AccountID: acct, Train: c.train, Date: c.date, From: c.from, To: c.to, Passengers: c.ps})
			if !hasReason(err, c.reason) {
				t.Errorf("%s: %v, want %s", c.name, err, c.reason)
			}
		}
		e.clock.Advance(15 * time.Hour) // 21:00: Z66 left at 20:06
		if _, err := book(t, e, acct, "Z66", "NCG", "BXP", good); !hasReason(err, "train_departed") {
			t.Errorf("booking a train that left: %v", err)
		}
		mustCheck(t, e.svc)
	})
}

// Holds end on time, durably: a restarted service releases holds that
// expired while it was down, exactly once.
func TestExpiryAfterRestart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		cfg := booking.Config{Hold: 10 * time.Minute, SweepEvery: time.Hour}
		e := newEnv(t, s, cfg)
		acct := e.accounts(t, 1)[0]
		before := remaining(t, e, "NCG", "BXP", "T168", network.SoftSleeper, network.Lower)
		o, err := book(t, e, acct, "T168", "NCG", "BXP", passenger(1, network.SoftSleeper, network.Lower))
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := e.svc.ExpireDue(context.Background()); n != 0 {
			t.Fatalf("expired %d before the hold ended", n)
		}
		e.stop() // the process goes away with a held order
		e.clock.Advance(11 * time.Minute)
		cfg.Now = e.clock.Now
		e.start(t, cfg) // its sweeper runs at once on start
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, err := e.svc.Order(context.Background(), o.ID, acct)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status == booking.Expired {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the restarted service did not release the expired hold: %s", got.Status)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if n, _ := e.svc.ExpireDue(context.Background()); n != 0 {
			t.Fatalf("expired again: %d", n)
		}
		got, _ := e.svc.Order(context.Background(), o.ID, acct)
		if got.Status != booking.Expired || got.Tickets[0].Status != booking.Expired {
			t.Fatalf("order after expiry: %s", got.Status)
		}
		if r := remaining(t, e, "NCG", "BXP", "T168", network.SoftSleeper, network.Lower); r != before {
			t.Fatalf("berths after expiry %d, want %d", r, before)
		}
		if _, err := e.svc.Cancel(context.Background(), o.ID, acct); !hasReason(err, "order_not_held") {
			t.Fatalf("cancel after expiry: %v", err)
		}
		mustCheck(t, e.svc)
	})
}

// TestConcurrentBookingsNeverOversell fires 2,000 concurrent single-passenger
// bookings with mixed journeys at a 1,000-seat train: no leg of any seat is
// sold twice, counters equal a recount, every refusal says sold out.
func TestConcurrentBookingsNeverOversell(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, booking.Config{}, thousandSeatTrain())
		const n = 2000
		acct := e.accounts(t, n)
		stations := []string{"A", "B", "C", "D", "E"}
		var wg sync.WaitGroup
		var mu sync.Mutex
		booked, soldOut := 0, 0
		legsSold := 0
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(i), 7))
				from := r.IntN(4)
				to := from + 1 + r.IntN(4-from)
				_, err := e.svc.Book(context.Background(), booking.BookRequest{AccountID: acct[i], Train: "K1000", Date: day0.String(),
					From: stations[from], To: stations[to], Passengers: []booking.PassengerRequest{passenger(i, network.SecondClass, "")}})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					booked++
					legsSold += to - from
				case hasReason(err, "sold_out"):
					soldOut++
				default:
					errs <- err
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("booking failed other than sold out: %v", err)
		}
		if booked+soldOut != n || booked == 0 || soldOut == 0 {
			t.Fatalf("%d booked, %d sold out of %d: want both, adding up", booked, soldOut, n)
		}
		if legsSold > 1000*4 {
			t.Fatalf("%d seat-legs sold on a train of 4,000", legsSold)
		}
		mustCheck(t, e.svc)
		t.Logf("%s: %d booked (%d seat-legs of 4,000), %d sold out", s.Engine, booked, legsSold, soldOut)
	})
}

// thousandSeatTrain is a five-stop train of ten 100-seat second-class cars.
func thousandSeatTrain() *network.Bundle {
	b := &network.Bundle{
		Feed:      network.Feed{ID: "k", Name: "test", Mode: network.ModeRail, Timezone: "Asia/Shanghai", Digest: "k1"},
		Agencies:  []network.Agency{{ID: "k:A", FeedID: "k", Name: "Test Rail"}},
		Calendars: []network.Calendar{network.Daily("k:daily", "k", day0, 30)},
		CarTypes:  []network.CarType{network.SeatLayout("K100", network.SecondClass, "二等座", "Second", 20, "ABCDF")},
	}
	svc := network.Service{ID: "k:K1000", FeedID: "k", Number: "K1000", CalendarID: "k:daily"}
	for i, code := range []string{"A", "B", "C", "D", "E"} {
		b.Stations = append(b.Stations, network.Station{ID: "k:" + code, FeedID: "k", Code: code, NameEN: "Station " + code})
		secs := 10*3600 + i*3600
		svc.Stops = append(svc.Stops, network.Stop{Seq: i + 1, StationID: "k:" + code, Arrive: secs, Depart: secs + 120, Metres: i * 100000})
	}
	for c := 1; c <= 10; c++ {
		svc.Cars = append(svc.Cars, network.Car{No: c, CarType: "K100"})
	}
	b.Services = []network.Service{svc}
	for i := range svc.Stops {
		for j := i + 1; j < len(svc.Stops); j++ {
			b.Fares = append(b.Fares, network.Fare{ServiceID: svc.ID, FromStationID: svc.Stops[i].StationID, ToStationID: svc.Stops[j].StationID, SeatClass: network.SecondClass, Fen: int64(1000 * (j - i))})
		}
	}
	return b
}
