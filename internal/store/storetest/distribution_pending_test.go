package storetest_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"piao/internal/audit"
	"piao/internal/benefits"
	"piao/internal/distribution"
	"piao/internal/fault"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
)

// stopBeforeRecord is a distribution store whose SetOutcomes fails while
// armed: an upload stopped after issuing its tickets and before
// recording them, as if the process died there.
type stopBeforeRecord struct {
	distribution.Store
	armed atomic.Bool
}

func (s *stopBeforeRecord) SetOutcomes(ctx context.Context, listID int64, entries []distribution.Entry) (distribution.List, bool, error) {
	if s.armed.Load() {
		return distribution.List{}, false, fault.New(fault.Unavailable, "injected", "注入的故障", "injected failure")
	}
	return s.Store.SetOutcomes(ctx, listID, entries)
}

// dsStoppable is dsService over a store that can stop before recording.
func dsStoppable(s storetest.Stores) (*distribution.Service, *stopBeforeRecord, *audit.Log) {
	now := func() time.Time { return bnT0 }
	bn := benefits.NewService(s.Benefits, benefits.Config{Now: now})
	st := &stopBeforeRecord{Store: s.Distribution}
	log := audit.New(s.Audit, now)
	return distribution.NewService(st, distribution.Config{Benefits: bn, Audit: log, Now: now}), st, log
}

// dsHeld counts the tickets of campaign c each account holds.
func dsHeld(t *testing.T, s storetest.Stores, c int64, accounts []int64) []int {
	t.Helper()
	n := make([]int, len(accounts))
	for i, a := range accounts {
		ts, err := s.Benefits.Tickets(context.Background(), a)
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range ts {
			if tk.CampaignID == c {
				n[i]++
			}
		}
	}
	return n
}

// TestDistributionUploadStoppedBeforeRecord stops uploads between issuing
// and recording: the upload answers the list pending (not an error a
// client would retry), every recipient holds one ticket, and the next
// read — or a revocation — finishes the list with those same tickets, so
// revoking it takes every one of them back and nobody got two.
func TestDistributionUploadStoppedBeforeRecord(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		svc, st, log := dsStoppable(s)
		acc, _ := dsPassengers(t, s, "5", 3)
		roster := "account\n"
		for _, a := range acc {
			roster += fmt.Sprintf("%d\n", a)
		}
		one := []int{1, 1, 1}

		// Healed by reading it.
		c := dsCampaign(t, s, 10, 1, benefits.DirectChannel)
		st.armed.Store(true)
		l, _, err := svc.Upload(ctx, dsMerchant, c.ID, []byte(roster), "account:70")
		if err != nil || !l.Pending || l.ID == 0 {
			t.Fatalf("stopped upload = %+v, %v; want the list pending", l, err)
		}
		if raw, err := s.Distribution.List(ctx, dsMerchant, l.ID); err != nil || !raw.Pending || raw.Issued != 0 {
			t.Fatalf("stored list = %+v, %v; want pending with nothing recorded", raw, err)
		}
		if got := dsHeld(t, s, c.ID, acc); fmt.Sprint(got) != fmt.Sprint(one) {
			t.Fatalf("tickets held before the list is finished = %v", got)
		}
		// A read that fails to finish it too issues nothing more.
		if _, _, err := svc.List(ctx, dsMerchant, l.ID); err == nil {
			t.Fatal("a read whose finish failed answered no error")
		}
		st.armed.Store(false)
		if _, _, err := svc.List(ctx, dsOther, l.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("another merchant reading the pending list: %v", err)
		}
		ls, err := svc.Lists(ctx, dsMerchant, c.ID)
		if err != nil || len(ls) != 1 || ls[0].Pending || ls[0].Issued != 3 || ls[0].Refused != 0 {
			t.Fatalf("lists after the stop = %+v, %v; want one list of 3 issued", ls, err)
		}
		got, es, err := svc.List(ctx, dsMerchant, l.ID)
		if err != nil || got.Pending || got.Issued != 3 || len(es) != 3 {
			t.Fatalf("list = %+v %+v, %v", got, es, err)
		}
		seen := map[int64]bool{}
		for _, e := range es {
			if e.TicketID == 0 || seen[e.TicketID] {
				t.Fatalf("entries = %+v: want a distinct ticket on every line", es)
			}
			seen[e.TicketID] = true
		}
		if got := dsHeld(t, s, c.ID, acc); fmt.Sprint(got) != fmt.Sprint(one) {
			t.Fatalf("tickets held after finishing = %v; want one each", got)
		}
		if camp, _ := s.Benefits.Campaign(ctx, tenant.All(), c.ID); camp.Issued != 3 {
			t.Fatalf("campaign issued %d, want 3", camp.Issued)
		}
		page, err := log.Entries(ctx, audit.Filter{Action: "distribution.list.issue", Subject: fmt.Sprintf("distribution_list:%d", l.ID)})
		if err != nil || len(page.Entries) != 1 {
			t.Fatalf("issue audited %d times (%v), want once", len(page.Entries), err)
		}
		r, err := svc.RevokeList(ctx, dsMerchant, l.ID, 0, "account:70", "")
		if err != nil || r.Revoked != 3 || r.NotIssued != 0 {
			t.Fatalf("revoke = %+v, %v; want 3 revoked", r, err)
		}

		// Healed by revoking it: revocation sees every ticket issued.
		c2 := dsCampaign(t, s, 10, 1, benefits.DirectChannel)
		st.armed.Store(true)
		l2, _, err := svc.Upload(ctx, dsMerchant, c2.ID, []byte(roster), "account:70")
		if err != nil || !l2.Pending {
			t.Fatalf("stopped upload = %+v, %v", l2, err)
		}
		st.armed.Store(false)
		r, err = svc.RevokeList(ctx, dsMerchant, l2.ID, 0, "account:70", "")
		if err != nil || r.Revoked != 3 || r.NotIssued != 0 {
			t.Fatalf("revoking the pending list = %+v, %v; want all 3 revoked", r, err)
		}
		if got := dsHeld(t, s, c2.ID, acc); fmt.Sprint(got) != fmt.Sprint(one) {
			t.Fatalf("tickets after revoking = %v; want one each (revoked)", got)
		}
		for _, a := range acc {
			ts, _ := s.Benefits.Tickets(ctx, a)
			for _, tk := range ts {
				if tk.CampaignID == c2.ID && tk.State != benefits.Revoked {
					t.Fatalf("ticket %d of the revoked list is %s", tk.ID, tk.State)
				}
			}
		}
		if got, _, err := svc.List(ctx, dsMerchant, l2.ID); err != nil || got.Issued != 3 || got.Revoked != 3 {
			t.Fatalf("the revoked list = %+v, %v", got, err)
		}
	})
}

// TestDistributionPendingFinishRace reads a pending list from several
// goroutines at once: each finishes it or finds it finished, the list
// records one ticket a line, no recipient gets a second and the issue is
// audited once.
func TestDistributionPendingFinishRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		svc, st, log := dsStoppable(s)
		acc, _ := dsPassengers(t, s, "6", 4)
		roster := "account\n"
		for _, a := range acc {
			roster += fmt.Sprintf("%d\n", a)
		}
		// A stock of 3 for 4 lines: one line is refused, whoever finishes.
		c := dsCampaign(t, s, 3, 1, benefits.DirectChannel)
		st.armed.Store(true)
		l, _, err := svc.Upload(ctx, dsMerchant, c.ID, []byte(roster), "account:70")
		if err != nil || !l.Pending {
			t.Fatalf("stopped upload = %+v, %v", l, err)
		}
		st.armed.Store(false)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				if _, _, err := svc.List(ctx, dsMerchant, l.ID); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent read: %v", err)
		}
		got, es, err := svc.List(ctx, dsMerchant, l.ID)
		if err != nil || got.Pending || got.Issued != 3 || got.Refused != 1 {
			t.Fatalf("list = %+v, %v; want 3 issued, 1 refused", got, err)
		}
		held := dsHeld(t, s, c.ID, acc)
		for i, e := range es {
			if (e.TicketID != 0) != (held[i] == 1) || held[i] > 1 {
				t.Fatalf("line %d records ticket %d, account holds %d", e.Line, e.TicketID, held[i])
			}
		}
		page, err := log.Entries(ctx, audit.Filter{Action: "distribution.list.issue", Subject: fmt.Sprintf("distribution_list:%d", l.ID)})
		if err != nil || len(page.Entries) != 1 {
			t.Fatalf("issue audited %d times (%v), want once", len(page.Entries), err)
		}
	})
}
