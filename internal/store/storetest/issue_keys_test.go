package storetest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"piao/internal/benefits"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
)

// TestBenefitsIssueKeys: a keyed issue happens once per key — sent again,
// in the same batch, from many writers at once, or after the campaign
// ran out — and answers the first ticket with Again set.
func TestBenefitsIssueKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		acc := bnAccounts(t, s, "keyed", 6)
		c := bnCampaign(t, s, 12, 0, benefits.DirectChannel)
		req := func(i int) benefits.IssueRequest {
			return benefits.IssueRequest{CampaignID: c.ID, Account: acc[i%len(acc)], Channel: benefits.DirectChannel, Key: fmt.Sprintf("ridemore:test:2026-11:%d:day:%d", acc[i%len(acc)], i)}
		}
		res, err := s.Benefits.Issue(ctx, bnT0, []benefits.IssueRequest{req(0), req(0), req(1)})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Err != nil || res[0].Again || res[1].Err != nil || !res[1].Again || res[1].Ticket.ID != res[0].Ticket.ID || res[2].Again {
			t.Fatalf("first batch: %+v", res)
		}
		// Ten keys from eight writers at once, each writer sending all ten.
		var wg sync.WaitGroup
		fresh := make(chan int64, 80)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var reqs []benefits.IssueRequest
				for i := range 10 {
					reqs = append(reqs, req(i))
				}
				res, err := s.Benefits.Issue(ctx, bnT0, reqs)
				if err != nil {
					t.Error(err)
					return
				}
				for _, r := range res {
					if r.Err != nil {
						t.Error(r.Err)
					} else if !r.Again {
						fresh <- r.Ticket.ID
					}
				}
			}()
		}
		wg.Wait()
		close(fresh)
		n := 0
		for range fresh {
			n++
		}
		if n != 8 { // keys 2–9 are new; 0 and 1 were issued above
			t.Fatalf("%d tickets issued fresh, want 8", n)
		}
		got, err := s.Benefits.Campaign(ctx, tenant.All(), c.ID)
		if err != nil || got.Issued != 10 {
			t.Fatalf("campaign issued %d, want 10 (%v)", got.Issued, err)
		}
		// Stock is 12: two more new keys fit, the third is refused, and a
		// key issued before still answers its ticket.
		res, err = s.Benefits.Issue(ctx, bnT0, []benefits.IssueRequest{req(10), req(11), req(12), req(3)})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Err != nil || res[1].Err != nil || res[2].Err == nil || res[3].Err != nil || !res[3].Again {
			t.Fatalf("at the stock: %+v", res)
		}
		// A request with no key is not deduplicated.
		c2 := bnCampaign(t, s, 10, 0, benefits.DirectChannel)
		plain := benefits.IssueRequest{CampaignID: c2.ID, Account: acc[0], Channel: benefits.DirectChannel}
		res, err = s.Benefits.Issue(ctx, bnT0, []benefits.IssueRequest{plain, plain})
		if err != nil || res[0].Err != nil || res[1].Err != nil || res[0].Ticket.ID == res[1].Ticket.ID {
			t.Fatalf("keyless: %+v %v", res, err)
		}
	})
}
