package booking_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"piao/internal/booking"
	"piao/internal/network"
	"piao/internal/realname"
	"piao/internal/store/storetest"
)

// elder is a passenger born in 1950: 76 on the demo days.
func elder(i int) booking.PassengerRequest {
	id := realname.MakeID("360102", time.Date(1950, 3, 9, 0, 0, 0, 0, time.UTC), 500+i)
	return booking.PassengerRequest{Name: name(900 + i), DocType: string(realname.IDCard), DocNumber: id, SeatClass: network.HardSleeper}
}

// Window and aisle seats and seat letters on a high-speed train; bad
// preferences are refused before anything is booked.
func TestSeatPreferences(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, booking.Config{})
		acct := e.accounts(t, 4)
		for i, tc := range []struct{ seat, letters string }{{"window", "AF"}, {"aisle", "CD"}, {"b", "B"}} {
			p := passenger(i, network.SecondClass, "")
			p.Seat = tc.seat
			o, err := book(t, e, acct[i], "G488", "NXG", "BXP", p)
			if err != nil {
				t.Fatal(err)
			}
			if l := o.Tickets[0].Seat[len(o.Tickets[0].Seat)-1:]; !strings.Contains(tc.letters, l) {
				t.Errorf("%s seat: got %s", tc.seat, o.Tickets[0].Seat)
			}
		}
		for _, bad := range []booking.PassengerRequest{
			func() booking.PassengerRequest { p := passenger(7, network.SecondClass, ""); p.Seat = "roof"; return p }(),
			func() booking.PassengerRequest {
				p := passenger(8, network.HardSleeper, "")
				p.Seat = "window"
				return p
			}(),
		} {
			if _, err := book(t, e, acct[3], "Z66", "NCG", "BXP", bad); !hasReason(err, "bad_seat_preference") && !hasReason(err, "class_not_on_train") {
				t.Errorf("seat %q in %s: %v", bad.Seat, bad.SeatClass, err)
			}
		}
		mustCheck(t, e.svc)
	})
}

// A party asking to sit together gets one compartment.
func TestTogether(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, booking.Config{})
		acct := e.accounts(t, 2)
		// Break up the first compartments so that best fit alone would not
		// keep a party together.
		if _, err := book(t, e, acct[0], "Z66", "NCG", "BXP", passenger(1, network.HardSleeper, ""), passenger(2, network.HardSleeper, "")); err != nil {
			t.Fatal(err)
		}
		res, err := e.svc.Book(context.Background(), booking.BookRequest{AccountID: acct[1], Train: "Z66", Date: day0.String(), From: "NCG", To: "BXP", Together: true,
			Passengers: []booking.PassengerRequest{passenger(3, network.HardSleeper, ""), passenger(4, network.HardSleeper, ""), passenger(5, network.HardSleeper, ""), passenger(6, network.HardSleeper, "")}})
		if err != nil {
			t.Fatal(err)
		}
		car := res.Order.Tickets[0].Car
		compartment := func(label string) string { // "01L" and "02M" share compartment 1
			n := (int(label[0]-'0')*10 + int(label[1]-'0') + 1) / 2
			return string(rune('0'+n/10)) + string(rune('0'+n%10))
		}
		want := compartment(res.Order.Tickets[0].Seat)
		for _, tk := range res.Order.Tickets {
			if tk.Car != car || compartment(tk.Seat) != want {
				t.Fatalf("together: %+v", res.Order.Tickets)
			}
		}
		mustCheck(t, e.svc)
	})
}

// Passengers of 60 and over asking for any berth get a lower one first,
// while lower berths last.
func TestElderlyLowerBerth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		e := newEnv(t, s, booking.Config{}, sixBerthTrain())
		acct := e.accounts(t, 6)
		for i := 0; i < 2; i++ {
			o, err := book(t, e, acct[i], "W6", "A", "C", elder(i))
			if err != nil {
				t.Fatal(err)
			}
			if o.Tickets[0].Berth != network.Lower {
				t.Fatalf("passenger of 76 got %s", o.Tickets[0].Berth)
			}
		}
		// Lower berths gone: the preference is soft, so the third still books.
		o, err := book(t, e, acct[2], "W6", "A", "C", elder(2))
		if err != nil || o.Tickets[0].Berth == network.Lower {
			t.Fatalf("third elder with no lower left: %+v %v", o, err)
		}
		mustCheck(t, e.svc)
	})
}

// A berth that is gone is never silently swapped: the booking is refused
// with preference_unmet unless it says to take any berth (and is told what
// it gave up), to join the waitlist, or to see alternatives.
func TestUnmetPreference(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		pe := newPayEnv(t, s, booking.Config{}, 0, sixBerthTrain())
		acct := pe.accounts(t, 8)
		for i := 0; i < 2; i++ {
			if _, err := pe.bookW6(t, acct[i], 100+i, network.Lower); err != nil {
				t.Fatal(err)
			}
		}
		req := func(a int64, i int, on booking.OnUnmet) booking.BookRequest {
			return booking.BookRequest{AccountID: a, Train: "W6", Date: day0.String(), From: "A", To: "C", OnUnmet: on,
				Passengers: []booking.PassengerRequest{passenger(i, network.HardSleeper, network.Lower)}}
		}
		if _, err := pe.svc.Book(ctx, req(acct[2], 200, "")); !hasReason(err, "preference_unmet") {
			t.Fatalf("lower berth gone, no choice given: %v", err)
		}
		if _, err := pe.svc.Book(ctx, req(acct[2], 200, "upgrade")); !hasReason(err, "bad_on_unmet") {
			t.Fatalf("unknown on_unmet: %v", err)
		}
		got, err := pe.svc.Book(ctx, req(acct[2], 200, booking.UnmetAny))
		if err != nil {
			t.Fatal(err)
		}
		if got.Outcome != booking.OutcomeBooked || got.Order.Tickets[0].Berth == network.Lower || len(got.Unmet) != 1 || got.Unmet[0].Wanted != "lower" || got.Unmet[0].ZH == "" {
			t.Fatalf("on_unmet=any: %+v", got)
		}
		if got.Order.Tickets[0].Berth != network.Middle {
			t.Errorf("on_unmet=any keeps the berth as a wish and then fits best: got %s", got.Order.Tickets[0].Berth)
		}
		alt, err := pe.svc.Book(ctx, req(acct[3], 201, booking.UnmetAlternatives))
		if err != nil || alt.Outcome != booking.OutcomeAlternatives || len(alt.Alternatives) == 0 || alt.Order.ID != 0 {
			t.Fatalf("on_unmet=alternatives: %+v %v", alt, err)
		}
		wl, err := pe.svc.Book(ctx, req(acct[3], 201, booking.UnmetWaitlist))
		if err != nil || wl.Outcome != booking.OutcomeWaitlisted || wl.Waitlist == nil || wl.Waitlist.Status != booking.WaitUnpaid || wl.Waitlist.Options[0].Berth != network.Lower {
			t.Fatalf("on_unmet=waitlist: %+v %v", wl, err)
		}
		// Sold out entirely: sold_out, not preference_unmet.
		for i := 4; i < 7; i++ {
			if _, err := pe.bookW6(t, acct[i], 300+i, ""); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := pe.svc.Book(ctx, req(acct[7], 400, "")); !hasReason(err, "sold_out") {
			t.Fatalf("every berth gone: %v", err)
		}
		mustCheck(t, pe.svc)
	})
}

// Proposal 1: a passenger who cancelled middle or upper berths of a train
// date twice gets a lower berth first when booking it again for any berth.
func TestRepeatBerthFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		e := newEnv(t, s, booking.Config{}, sixBerthTrain())
		acct := e.accounts(t, 3)
		seeker := passenger(50, network.HardSleeper, "")
		for _, berth := range []network.Berth{network.Upper, network.Middle} {
			p := seeker
			p.Berth = berth
			o, err := book(t, e, acct[0], "W6", "A", "C", p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Cancel(ctx, o.ID, acct[0]); err != nil {
				t.Fatal(err)
			}
		}
		// Best fit alone would give the next any-berth booking the first
		// free seat; make that an upper by taking one lower first.
		if _, err := book(t, e, acct[1], "W6", "A", "C", passenger(51, network.HardSleeper, network.Lower)); err != nil {
			t.Fatal(err)
		}
		o, err := book(t, e, acct[0], "W6", "A", "C", seeker)
		if err != nil {
			t.Fatal(err)
		}
		if o.Tickets[0].Berth != network.Lower {
			t.Fatalf("after two cancels for the berth: %s", o.Tickets[0].Berth)
		}
		mustCheck(t, e.svc)
	})
}
