package storetest_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/store/storetest"
	"piao/internal/tenant"
)

// bnMerchantCampaign stores a product and a draft campaign owned by
// merchant m, with one batch of two codes.
func bnMerchantCampaign(t *testing.T, s storetest.Stores, m int64) (benefits.Product, benefits.Campaign, benefits.CodeBatch) {
	t.Helper()
	ctx, scope := context.Background(), tenant.Merchant(m)
	p := benefits.Product{Owner: tenant.OwnerOf(m), Kind: benefits.SingleRide, NameZH: "商户单程票", Feed: "nbmetro",
		Valid: benefits.Validity{Days: 30}, CreatedBy: "test", CreatedAt: bnT0}
	if err := s.Benefits.CreateProduct(ctx, scope, &p); err != nil {
		t.Fatal(err)
	}
	c := benefits.Campaign{ProductID: p.ID, Owner: tenant.OwnerOf(m), NameZH: "商户活动", Status: benefits.Draft,
		Starts: bnT0, Ends: bnT0.Add(48 * time.Hour), Channels: []benefits.Channel{benefits.CodeChannel}, Stock: 10,
		CreatedBy: "account:1", CreatedAt: bnT0, UpdatedAt: bnT0}
	if err := s.Benefits.CreateCampaign(ctx, scope, &c, benefits.Event{At: bnT0, By: "account:1", Action: "create", To: benefits.Draft}); err != nil {
		t.Fatal(err)
	}
	b := benefits.CodeBatch{CampaignID: c.ID, CreatedBy: "account:1", CreatedAt: bnT0}
	codes := []string{"M" + string(rune('A'+m)) + "CODE0000000001", "M" + string(rune('A'+m)) + "CODE0000000002"}
	if err := s.Benefits.AddCodes(ctx, scope, &b, codes); err != nil {
		t.Fatal(err)
	}
	return p, c, b
}

// TestBenefitsTenancy: a merchant's scope reads and changes its own
// products, campaigns, events, code batches, codes and stats, and finds
// another merchant's not found, exactly as if they did not exist; the
// operator's scope sees both; the zero scope sees neither.
func TestBenefitsTenancy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		pa, ca, ba := bnMerchantCampaign(t, s, 1)
		pb, cb, bb := bnMerchantCampaign(t, s, 2)
		op := bnCampaign(t, s, 5, 0)
		a := tenant.Merchant(1)

		notFound := func(what string, err error) {
			t.Helper()
			if !fault.Is(err, fault.NotFound) {
				t.Errorf("%s of merchant 2 as merchant 1: %v, want not found", what, err)
			}
		}
		// Merchant 1 sees its own rows.
		if p, err := s.Benefits.Product(ctx, a, pa.ID); err != nil || p.ID != pa.ID {
			t.Fatalf("own product: %+v, %v", p, err)
		}
		if c, err := s.Benefits.Campaign(ctx, a, ca.ID); err != nil || c.ID != ca.ID {
			t.Fatalf("own campaign: %+v, %v", c, err)
		}
		if ev, err := s.Benefits.Events(ctx, a, ca.ID); err != nil || len(ev) != 1 {
			t.Fatalf("own events: %v, %v", ev, err)
		}
		if bs, err := s.Benefits.CodeBatches(ctx, a, ca.ID); err != nil || len(bs) != 1 || bs[0].ID != ba.ID {
			t.Fatalf("own batches: %v, %v", bs, err)
		}
		n := 0
		if err := s.Benefits.Codes(ctx, a, ba.ID, func(benefits.CodeRow) error { n++; return nil }); err != nil || n != 2 {
			t.Fatalf("own codes: %d, %v", n, err)
		}
		if st, err := s.Benefits.Stats(ctx, a, ca.ID, bnT0); err != nil || st.Codes != 2 {
			t.Fatalf("own stats: %+v, %v", st, err)
		}

		// Merchant 2's rows, and the operator's, do not exist for merchant 1.
		for _, id := range []int64{pb.ID, op.ProductID} {
			_, err := s.Benefits.Product(ctx, a, id)
			notFound("product", err)
		}
		for _, id := range []int64{cb.ID, op.ID} {
			_, err := s.Benefits.Campaign(ctx, a, id)
			notFound("campaign", err)
			_, err = s.Benefits.Events(ctx, a, id)
			notFound("events", err)
			_, err = s.Benefits.CodeBatches(ctx, a, id)
			notFound("code batches", err)
			_, err = s.Benefits.Stats(ctx, a, id, bnT0)
			notFound("stats", err)
			called := false
			_, err = s.Benefits.UpdateCampaign(ctx, a, id, func(c *benefits.Campaign) (benefits.Event, error) {
				called = true
				return c.Apply(benefits.Submit, bnT0, "account:9", "")
			})
			notFound("update", err)
			if called {
				t.Errorf("update of campaign %d ran for merchant 1", id)
			}
			b := benefits.CodeBatch{CampaignID: id, CreatedBy: "x", CreatedAt: bnT0}
			notFound("add codes", s.Benefits.AddCodes(ctx, a, &b, []string{"STRAYCODE00000001"}))
		}
		notFound("codes", s.Benefits.Codes(ctx, a, bb.ID, func(benefits.CodeRow) error {
			t.Error("merchant 1 read a code of merchant 2")
			return nil
		}))
		// Merchant 1 cannot create rows for merchant 2, nor a campaign of
		// merchant 2's product.
		p := pb
		p.ID = 0
		notFound("create product", s.Benefits.CreateProduct(ctx, a, &p))
		c := benefits.Campaign{ProductID: pb.ID, Owner: tenant.OwnerOf(1), NameZH: "x", Status: benefits.Draft, Starts: bnT0, Ends: bnT0.Add(time.Hour),
			Channels: []benefits.Channel{benefits.ClaimChannel}, Stock: 1, CreatedAt: bnT0, UpdatedAt: bnT0}
		notFound("create campaign", s.Benefits.CreateCampaign(ctx, a, &c, benefits.Event{At: bnT0, By: "x", Action: "create", To: benefits.Draft}))

		// Lists hold only what the scope sees.
		ps, err := s.Benefits.Products(ctx, a, "")
		if err != nil || len(ps) != 1 || ps[0].ID != pa.ID {
			t.Errorf("merchant 1 products = %v, %v", ps, err)
		}
		if ps, err := s.Benefits.Products(ctx, a, tenant.OwnerOf(2)); err != nil || len(ps) != 0 {
			t.Errorf("merchant 1 asking for merchant 2's products = %v, %v", ps, err)
		}
		cs, err := s.Benefits.Campaigns(ctx, a, benefits.CampaignFilter{})
		if err != nil || len(cs) != 1 || cs[0].ID != ca.ID {
			t.Errorf("merchant 1 campaigns = %v, %v", cs, err)
		}
		if cs, err := s.Benefits.Campaigns(ctx, tenant.All(), benefits.CampaignFilter{}); err != nil || len(cs) != 3 {
			t.Errorf("operator campaigns = %d, %v", len(cs), err)
		}
		if cs, err := s.Benefits.Campaigns(ctx, tenant.Scope{}, benefits.CampaignFilter{}); err != nil || len(cs) != 0 {
			t.Errorf("zero scope campaigns = %d, %v", len(cs), err)
		}
		if _, err := s.Benefits.Campaign(ctx, tenant.Scope{}, ca.ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("zero scope campaign: %v", err)
		}
		// Merchant 2's campaign is untouched by merchant 1's attempts.
		if got, err := s.Benefits.Campaign(ctx, tenant.All(), cb.ID); err != nil || got.Status != benefits.Draft {
			t.Errorf("merchant 2's campaign = %+v, %v", got, err)
		}
		if bs, err := s.Benefits.CodeBatches(ctx, tenant.Merchant(2), cb.ID); err != nil || len(bs) != 1 {
			t.Errorf("merchant 2's batches = %v, %v", bs, err)
		}
	})
}

// TestBenefitsMerchantStore: templates are stored and deactivated; a
// cover is set only on a product the scope sees and read by anyone;
// funding changes a campaign once per key, and a key is never reused for
// another campaign; on every engine.
func TestBenefitsMerchantStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		tpl := benefits.Template{Kind: benefits.SingleRide, NameZH: "单程票", UnitPrice: 300, Active: true, CreatedBy: "account:1", CreatedAt: bnT0}
		if err := s.Benefits.CreateTemplate(ctx, &tpl); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Benefits.Template(ctx, tpl.ID); err != nil || got.UnitPrice != 300 || !got.Active || !got.CreatedAt.Equal(bnT0) {
			t.Fatalf("Template = %+v, %v", got, err)
		}
		if got, err := s.Benefits.DeactivateTemplate(ctx, tpl.ID); err != nil || got.Active {
			t.Fatalf("DeactivateTemplate = %+v, %v", got, err)
		}
		if ts, err := s.Benefits.Templates(ctx, true); err != nil || len(ts) != 0 {
			t.Errorf("active templates = %v, %v", ts, err)
		}
		if ts, err := s.Benefits.Templates(ctx, false); err != nil || len(ts) != 1 {
			t.Errorf("all templates = %v, %v", ts, err)
		}
		if _, err := s.Benefits.Template(ctx, tpl.ID+1); !fault.Is(err, fault.NotFound) {
			t.Errorf("missing template: %v", err)
		}

		pa, ca, _ := bnMerchantCampaign(t, s, 1)
		img := benefits.CoverImage{ProductID: pa.ID, Name: "logo.png", ContentType: "image/png", SHA256: "ab", Data: []byte("\x89PNG..."), UpdatedBy: "account:7", UpdatedAt: bnT0}
		if err := s.Benefits.SetCover(ctx, tenant.Merchant(2), img); !fault.Is(err, fault.NotFound) {
			t.Errorf("merchant 2 set merchant 1's cover: %v", err)
		}
		if _, err := s.Benefits.Cover(ctx, pa.ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("a cover before any was set: %v", err)
		}
		if err := s.Benefits.SetCover(ctx, tenant.Merchant(1), img); err != nil {
			t.Fatal(err)
		}
		img.Data, img.Name = []byte("\xff\xd8\xffjpeg"), "logo.jpg"
		if err := s.Benefits.SetCover(ctx, tenant.Merchant(1), img); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Benefits.Cover(ctx, pa.ID); err != nil || string(got.Data) != string(img.Data) || got.Name != "logo.jpg" || got.Size != len(img.Data) {
			t.Fatalf("Cover = %+v, %v", got, err)
		}

		fund := func(scope tenant.Scope, id int64, key string) (benefits.Funding, error) {
			return s.Benefits.FundCampaign(ctx, scope, id, key, func(c *benefits.Campaign) (benefits.Event, int64, error) {
				c.Stock += 5
				c.BudgetValue += 1500
				return benefits.Event{At: bnT0, By: "test", Action: "top_up", From: c.Status, To: c.Status}, 1500, nil
			})
		}
		f, err := fund(tenant.Merchant(1), ca.ID, "k1")
		if err != nil || f.Again || f.Campaign.Stock != 15 || f.Value != 1500 {
			t.Fatalf("FundCampaign = %+v, %v", f, err)
		}
		if f, err = fund(tenant.Merchant(1), ca.ID, "k1"); err != nil || !f.Again || f.Campaign.Stock != 15 || f.Value != 1500 {
			t.Fatalf("repeated FundCampaign = %+v, %v", f, err)
		}
		if _, err := fund(tenant.Merchant(2), ca.ID, "k2"); !fault.Is(err, fault.NotFound) {
			t.Errorf("merchant 2 funded merchant 1's campaign: %v", err)
		}
		_, cb, _ := bnMerchantCampaign(t, s, 2)
		if _, err := fund(tenant.Merchant(2), cb.ID, "k1"); fault.As(err).Reason != "key_reused" {
			t.Errorf("a key reused for another campaign: %v", err)
		}
		if got, err := s.Benefits.Campaign(ctx, tenant.All(), ca.ID); err != nil || got.Stock != 15 || got.BudgetValue != 1500 {
			t.Errorf("campaign after funding = %+v, %v", got, err)
		}
		ev, err := s.Benefits.Events(ctx, tenant.All(), ca.ID)
		if err != nil || len(ev) != 2 || ev[1].Action != "top_up" {
			t.Errorf("events = %v, %v", ev, err)
		}
	})
}

// TestBenefitsFundingRace races funding of one campaign: eight callers
// with one key change it once, eight with their own keys eight times,
// and two merchants' campaigns never take each other's stock; on every
// engine (run with -race).
func TestBenefitsFundingRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := context.Background()
		_, ca, _ := bnMerchantCampaign(t, s, 1)
		_, cb, _ := bnMerchantCampaign(t, s, 2)
		fund := func(m, id int64, key string) (benefits.Funding, error) {
			return s.Benefits.FundCampaign(ctx, tenant.Merchant(m), id, key, func(c *benefits.Campaign) (benefits.Event, int64, error) {
				c.Stock++
				c.BudgetValue += 100
				return benefits.Event{At: bnT0, By: "test", Action: "top_up", From: c.Status, To: c.Status}, 100, nil
			})
		}
		var wg sync.WaitGroup
		var again atomic.Int64
		for i := range 8 {
			wg.Go(func() {
				f, err := fund(1, ca.ID, "same")
				if err != nil {
					t.Error(err)
				} else if f.Again {
					again.Add(1)
				}
			})
			wg.Go(func() {
				if _, err := fund(1, ca.ID, fmt.Sprintf("own-%d", i)); err != nil {
					t.Error(err)
				}
			})
			wg.Go(func() {
				if _, err := fund(2, cb.ID, fmt.Sprintf("b-%d", i)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if again.Load() != 7 {
			t.Errorf("%d of 8 calls with one key were repeats, want 7", again.Load())
		}
		for _, c := range []struct {
			id    int64
			stock int
		}{{ca.ID, 10 + 1 + 8}, {cb.ID, 10 + 8}} {
			got, err := s.Benefits.Campaign(ctx, tenant.All(), c.id)
			if err != nil || got.Stock != c.stock || got.BudgetValue != int64(c.stock-10)*100 {
				t.Errorf("campaign %d: stock %d, budget %d, %v; want stock %d", c.id, got.Stock, got.BudgetValue, err, c.stock)
			}
		}
	})
}
