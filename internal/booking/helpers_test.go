package booking_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"piao/internal/booking"
	"piao/internal/demo"
	"piao/internal/identity"
	"piao/internal/network"
	"piao/internal/realname"
	"piao/internal/store/storetest"
	"piao/internal/testclock"
)

// startTime is 06:00 in Shanghai on the first demo day, before any demo train leaves.
var (
	shanghai, _ = time.LoadLocation("Asia/Shanghai")
	day0        = network.MustDate("2026-11-23")
	startTime   = time.Date(2026, 11, 23, 6, 0, 0, 0, shanghai)
)

// env is a booking service over one engine with the demo network.
type env struct {
	stores storetest.Stores
	svc    *booking.Service
	clock  *testclock.Clock
	cancel context.CancelFunc
	done   chan struct{}
}

func newEnv(t *testing.T, s storetest.Stores, cfg booking.Config, bundles ...*network.Bundle) *env {
	t.Helper()
	ctx := context.Background()
	if len(bundles) == 0 {
		bundles = []*network.Bundle{demo.Rail(day0, demo.Days)}
	}
	for _, b := range bundles {
		if _, err := s.Network.ImportBundle(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{stores: s, clock: testclock.New(startTime)}
	if cfg.Now == nil {
		cfg.Now = e.clock.Now
	}
	e.start(t, cfg)
	return e
}

// start runs a booking service; restart stops it and starts a new one on
// the same database, as a process restart does.
func (e *env) start(t *testing.T, cfg booking.Config) {
	t.Helper()
	e.svc = booking.New(e.stores.Booking, e.stores.Network, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan struct{})
	go func() { e.svc.Run(ctx); close(e.done) }()
	t.Cleanup(e.stop)
}

func (e *env) stop() {
	e.cancel()
	<-e.done
}

// accounts creates n booking accounts and returns their IDs.
func (e *env) accounts(t *testing.T, n int) []int64 {
	t.Helper()
	ids := make([]int64, n)
	for i := range ids {
		a, err := e.stores.Identity.CreateAccount(context.Background(), identity.Account{
			Username: fmt.Sprintf("p%05d-%d", i, time.Now().UnixNano()), DisplayName: "p", Role: identity.Passenger, PasswordHash: "x", CreatedAt: startTime,
		})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = a.ID
	}
	return ids
}

// passenger returns a valid passenger with a distinct ID number.
func passenger(i int, class network.SeatClass, berth network.Berth) booking.PassengerRequest {
	id := realname.MakeID("360102", time.Date(1980+i%30, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC), i%1000)
	return booking.PassengerRequest{Name: name(i), DocType: string(realname.IDCard), DocNumber: id, SeatClass: class, Berth: berth}
}

func mustCheck(t *testing.T, svc *booking.Service) {
	t.Helper()
	reps, err := svc.CheckAll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reps {
		if len(r.Problems) > 0 {
			t.Fatalf("inventory check of %s: %v", r.Train, r.Problems)
		}
	}
}

// name makes a distinct plausible Chinese name for passenger i.
func name(i int) string {
	family := []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
	given := []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂")
	return string(family[i%len(family)]) + string(given[(i/len(family))%len(given)]) + string(given[(i/len(family)/len(given))%len(given)])
}
