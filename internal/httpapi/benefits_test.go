package httpapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/identity"
)

// bnJSON decodes a response body into v, failing the test on bad JSON.
func bnJSON(t *testing.T, res response, v any) {
	t.Helper()
	if err := json.Unmarshal(res.body, v); err != nil {
		t.Fatalf("decode %s: %v", res.body, err)
	}
}

type bnCampaignView struct {
	Campaign  benefits.Campaign
	Effective benefits.Status `json:"effective_status"`
	Events    []benefits.Event
}

// bnRunningCampaign defines a product from body and a campaign of it
// (admin), has the reviewer approve it and returns its ID.
func bnRunningCampaign(t *testing.T, s *testServer, admin, reviewer, product, campaign string) int64 {
	t.Helper()
	res := s.do(t, "POST", "/api/v1/benefit-products", admin, strings.NewReader(product))
	var p benefits.Product
	bnJSON(t, res, &p)
	if res.status != 200 || p.ID == 0 {
		t.Fatalf("create product: %d %s", res.status, res.body)
	}
	res = s.do(t, "POST", "/api/v1/campaigns", admin, strings.NewReader(fmt.Sprintf(campaign, p.ID)))
	var v bnCampaignView
	bnJSON(t, res, &v)
	if res.status != 200 || v.Campaign.Status != benefits.Draft {
		t.Fatalf("create campaign: %d %s", res.status, res.body)
	}
	id := v.Campaign.ID
	for _, step := range []struct{ who, action string }{{admin, "submit"}, {reviewer, "approve"}} {
		if res := s.do(t, "POST", fmt.Sprintf("/api/v1/campaigns/%d/%s", id, step.action), step.who, strings.NewReader(`{}`)); res.status != 200 {
			t.Fatalf("%s: %d %s", step.action, res.status, res.body)
		}
	}
	return id
}

func bnWindow() (string, string) {
	now := time.Now()
	return now.Add(-time.Hour).Format(time.RFC3339), now.Add(7 * 24 * time.Hour).Format(time.RFC3339)
}

// TestBenefitsOverHTTP walks a campaign's review, a claim retried with the
// same Idempotency-Key, codes with their CSV, a gift, pause and terminate,
// a ride's redemption once per ride ID, and the statistics.
func TestBenefitsOverHTTP(t *testing.T) {
	s := newTestServer(t)
	admin, reviewer, auditor := s.token(t, identity.OperatorAdmin), s.token(t, identity.OperatorReviewer), s.token(t, identity.OperatorAuditor)
	alice, bob := s.newPassenger(t, "bn-alice"), s.newPassenger(t, "bn-bob")

	// Definitions are validated.
	for _, bad := range []struct{ body, reason string }{
		{`{"kind":"percentage","name_zh":"折","feed":"nbmetro","terms":{"percent_off":150},"validity":{"days":3}}`, "bad_percent_off"},
		{`{"kind":"amount_off","name_zh":"券","feed":"nbmetro","terms":{"amount_off":100},"scope":{"stations":["nbmetro:NOPE"]},"validity":{"days":3}}`, "unknown_station"},
		{`{"kind":"amount_off","name_zh":"券","feed":"nbmetro","terms":{"amount_off":100},"validity":{}}`, "validity_required"},
		{`{"kind":"single_ride","name_zh":"票","feed":"nbmetro","validity":{"until":"2026-13-01"}}`, ""},
	} {
		res := s.do(t, "POST", "/api/v1/benefit-products", admin, strings.NewReader(bad.body))
		if res.status != 422 || bad.reason != "" && decodeProblem(t, res).Reason != bad.reason {
			t.Errorf("bad product %s: %d %s, want 422 %s", bad.body, res.status, res.body, bad.reason)
		}
	}
	if res := s.do(t, "POST", "/api/v1/benefit-products", reviewer, strings.NewReader(`{}`)); res.status != 403 {
		t.Errorf("reviewer defines a product: %d", res.status)
	}

	from, until := bnWindow()
	product := `{"kind":"amount_off","name_zh":"两元乘车券","name_en":"¥2 off","feed":"nbmetro","terms":{"amount_off":200,"min_fare":300},
		"validity":{"days":30},"cover":{"theme":"event","text":"地铁节"},"instructions_zh":"刷乘车码进出站自动抵扣"}`
	campaign := `{"product_id":%d,"name_zh":"地铁节领券","starts":"` + from + `","ends":"` + until + `","channels":["claim","code"],"stock":5,"per_user":2}`

	// The creator may not approve their own campaign.
	res := s.do(t, "POST", "/api/v1/benefit-products", admin, strings.NewReader(product))
	var p benefits.Product
	bnJSON(t, res, &p)
	res = s.do(t, "POST", "/api/v1/campaigns", admin, strings.NewReader(fmt.Sprintf(campaign, p.ID)))
	var draft bnCampaignView
	bnJSON(t, res, &draft)
	s.do(t, "POST", fmt.Sprintf("/api/v1/campaigns/%d/submit", draft.Campaign.ID), admin, strings.NewReader(`{}`))
	if res := s.do(t, "POST", fmt.Sprintf("/api/v1/campaigns/%d/approve", draft.Campaign.ID), admin, strings.NewReader(`{}`)); res.status != 403 || decodeProblem(t, res).Reason != "own_campaign" {
		t.Errorf("self-approval: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", fmt.Sprintf("/api/v1/campaigns/%d/reject", draft.Campaign.ID), reviewer, strings.NewReader(`{}`)); res.status != 422 || decodeProblem(t, res).Reason != "reason_required" {
		t.Errorf("reject without reason: %d %s", res.status, res.body)
	}

	id := bnRunningCampaign(t, s, admin, reviewer, product, campaign)
	base := fmt.Sprintf("/api/v1/campaigns/%d", id)
	var open struct{ Campaigns []bnCampaignView }
	bnJSON(t, s.do(t, "GET", "/api/v1/campaigns/open", "", nil), &open)
	if len(open.Campaigns) != 1 || open.Campaigns[0].Campaign.ID != id || open.Campaigns[0].Effective != benefits.Active {
		t.Fatalf("open campaigns: %+v", open)
	}

	// A claim retried with its key is the first claim, not a second ticket.
	res = s.do(t, "POST", base+"/claim", alice, nil, "Idempotency-Key", "claim-1")
	var tk benefits.Ticket
	bnJSON(t, res, &tk)
	again := s.do(t, "POST", base+"/claim", alice, nil, "Idempotency-Key", "claim-1")
	var tk2 benefits.Ticket
	bnJSON(t, again, &tk2)
	if res.status != 200 || tk.ID == 0 || tk2.ID != tk.ID || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("claim and retry: %d %s / %d %s", res.status, res.body, again.status, again.body)
	}
	s.do(t, "POST", base+"/claim", alice, nil)
	if res := s.do(t, "POST", base+"/claim", alice, nil); res.status != 429 || decodeProblem(t, res).Reason != "per_user_limit" {
		t.Fatalf("third claim, limit 2: %d %s", res.status, res.body)
	}

	// Codes: generated, exported, redeemed once, typos forgiven.
	res = s.do(t, "POST", base+"/codes", admin, strings.NewReader(`{"count":3}`))
	var batch benefits.CodeBatch
	bnJSON(t, res, &batch)
	if res.status != 200 || batch.Count != 3 {
		t.Fatalf("codes: %d %s", res.status, res.body)
	}
	res = s.do(t, "GET", fmt.Sprintf("/api/v1/code-batches/%d/codes.csv", batch.ID), admin, nil)
	lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(string(res.body), "\ufeff")), "\n")
	if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") || len(lines) != 4 || lines[0] != "code,redeemed_by,redeemed_at,ticket_id" {
		t.Fatalf("codes.csv: %d %q", res.status, res.body)
	}
	code := strings.Split(lines[1], ",")[0]
	typed := strings.ToLower(strings.ReplaceAll(code, "-", " "))
	res = s.do(t, "POST", "/api/v1/redeem-codes", bob, strings.NewReader(fmt.Sprintf(`{"code":%q}`, typed)))
	var byCode benefits.Ticket
	bnJSON(t, res, &byCode)
	if res.status != 200 || byCode.Channel != benefits.CodeChannel || byCode.CampaignID != id {
		t.Fatalf("redeem %q: %d %s", typed, res.status, res.body)
	}
	if res := s.do(t, "POST", "/api/v1/redeem-codes", alice, strings.NewReader(fmt.Sprintf(`{"code":%q}`, code))); res.status != 409 || decodeProblem(t, res).Reason != "code_used" {
		t.Errorf("a used code: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", "/api/v1/redeem-codes", alice, strings.NewReader(`{"code":"not-a-code"}`)); res.status != 422 {
		t.Errorf("a malformed code: %d %s", res.status, res.body)
	}

	// A gift: offered by alice, seen and accepted by bob.
	res = s.do(t, "POST", fmt.Sprintf("/api/v1/wallet/%d/gift", tk.ID), alice, strings.NewReader(`{"cover":{"theme":"graduation","text":"毕业快乐"},"message":"一路顺风"}`))
	var g benefits.Gift
	bnJSON(t, res, &g)
	if res.status != 200 || g.Token == "" || g.State != benefits.GiftPending {
		t.Fatalf("gift: %d %s", res.status, res.body)
	}
	res = s.do(t, "GET", "/api/v1/gifts/"+g.Token, bob, nil)
	if res.status != 200 || !strings.Contains(string(res.body), "毕业快乐") || strings.Contains(string(res.body), g.Token) {
		t.Fatalf("gift view: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", "/api/v1/gifts/"+g.Token+"/accept", bob, nil); res.status != 200 {
		t.Fatalf("accept: %d %s", res.status, res.body)
	}
	var wallet struct{ Tickets []benefits.WalletEntry }
	bnJSON(t, s.do(t, "GET", "/api/v1/wallet", bob, nil), &wallet)
	if len(wallet.Tickets) != 2 || wallet.Tickets[0].Status != benefits.Usable || wallet.Tickets[0].Product.NameZH != "两元乘车券" {
		t.Fatalf("bob's wallet: %+v", wallet)
	}

	// Pause takes effect at once; terminate needs a reason.
	if res := s.do(t, "POST", base+"/pause", reviewer, strings.NewReader(`{"reason":"核查异常领取"}`)); res.status != 200 {
		t.Fatalf("pause: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", base+"/claim", bob, nil); res.status != 409 || decodeProblem(t, res).Reason != "campaign_paused" {
		t.Errorf("claim while paused: %d %s", res.status, res.body)
	}
	s.do(t, "POST", base+"/resume", reviewer, strings.NewReader(`{}`))

	// A ride settled once per ride ID: ¥4 fare, ¥2 off; bob's ride code names him.
	ride := rideJSON(rideCode(t, s.rides, s.accountOf(t, bob)), time.Now().Add(2*time.Second))
	res = s.do(t, "POST", "/api/v1/rides/T-1/redemption", admin, strings.NewReader(ride))
	var red benefits.Redemption
	bnJSON(t, res, &red)
	if res.status != 200 || red.Net != 200 || len(red.Applied) != 1 || res.header.Get("Redemption-Replayed") != "false" {
		t.Fatalf("redeem ride: %d %s", res.status, res.body)
	}
	res = s.do(t, "POST", "/api/v1/rides/T-1/redemption", s.token(t, identity.Gate), strings.NewReader(ride))
	var red2 benefits.Redemption
	bnJSON(t, res, &red2)
	if res.status != 200 || res.header.Get("Redemption-Replayed") != "true" || red2.Applied[0].TicketID != red.Applied[0].TicketID {
		t.Fatalf("ride settled again: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", "/api/v1/rides/T-2/redemption", bob, strings.NewReader(ride)); res.status != 403 {
		t.Errorf("a passenger settles rides: %d", res.status)
	}

	// Statistics, live, and as CSV; the auditor may read them.
	res = s.do(t, "GET", base+"/stats", auditor, nil)
	var st benefits.Stats
	bnJSON(t, res, &st)
	if res.status != 200 || st.Issued != 3 || st.ByChannel[benefits.ClaimChannel] != 2 || st.ByChannel[benefits.CodeChannel] != 1 || st.Used != 1 || st.Codes != 3 || st.CodesRedeemed != 1 || st.Spent != 200 {
		t.Fatalf("stats: %d %s", res.status, res.body)
	}
	if res := s.do(t, "GET", base+"/stats.csv", auditor, nil); res.status != 200 || !strings.Contains(string(res.body), "total,3,1") {
		t.Errorf("stats.csv: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", base+"/terminate", reviewer, strings.NewReader(`{}`)); res.status != 422 {
		t.Errorf("terminate without reason: %d", res.status)
	}
	if res := s.do(t, "POST", base+"/terminate", reviewer, strings.NewReader(`{"reason":"预算用完"}`)); res.status != 200 {
		t.Fatalf("terminate: %d %s", res.status, res.body)
	}
	var v bnCampaignView
	bnJSON(t, s.do(t, "GET", base, auditor, nil), &v)
	if v.Campaign.Status != benefits.Terminated || len(v.Events) != 6 || v.Events[5].Reason != "预算用完" {
		t.Errorf("after terminate: %+v", v)
	}
}

// TestBenefitsConcurrentOverHTTP races many passengers for a small stock
// and a few codes through the batching committer, under -race: the stock
// and per-user limit hold and no code is redeemed twice.
func TestBenefitsConcurrentOverHTTP(t *testing.T) {
	s := newTestServer(t)
	admin, reviewer := s.token(t, identity.OperatorAdmin), s.token(t, identity.OperatorReviewer)
	from, until := bnWindow()
	id := bnRunningCampaign(t, s, admin, reviewer,
		`{"kind":"single_ride","name_zh":"免费单程票","feed":"nbmetro","validity":{"days":7}}`,
		`{"product_id":%d,"name_zh":"秒杀","starts":"`+from+`","ends":"`+until+`","channels":["claim","code"],"stock":40,"per_user":1}`)
	res := s.do(t, "POST", fmt.Sprintf("/api/v1/campaigns/%d/codes", id), admin, strings.NewReader(`{"count":10}`))
	var batch benefits.CodeBatch
	bnJSON(t, res, &batch)
	res = s.do(t, "GET", fmt.Sprintf("/api/v1/code-batches/%d/codes.csv", batch.ID), admin, nil)
	var codes []string
	for _, l := range strings.Split(strings.TrimSpace(strings.TrimPrefix(string(res.body), "\ufeff")), "\n")[1:] {
		codes = append(codes, strings.Split(l, ",")[0])
	}
	tokens := make([]string, 60)
	for i := range tokens {
		tokens[i] = s.newPassenger(t, fmt.Sprintf("bn-race-%d", i))
	}
	var mu sync.Mutex
	granted := map[string]int{}
	byCode := map[string]int{}
	var wg sync.WaitGroup
	for i, tok := range tokens {
		for k := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				path, body := fmt.Sprintf("/api/v1/campaigns/%d/claim", id), ""
				if k == 3 {
					path, body = "/api/v1/redeem-codes", fmt.Sprintf(`{"code":%q}`, codes[(i+k)%len(codes)])
				}
				var r response
				if body == "" {
					r = s.do(t, "POST", path, tok, nil)
				} else {
					r = s.do(t, "POST", path, tok, strings.NewReader(body))
				}
				if r.status == 200 {
					mu.Lock()
					granted[tok]++
					if body != "" {
						byCode[body]++
					}
					mu.Unlock()
				} else if r.status != 429 && r.status != 409 {
					t.Errorf("claim: %d %s", r.status, r.body)
				}
			}()
		}
	}
	wg.Wait()
	total := 0
	for tok, n := range granted {
		if n > 1 {
			t.Errorf("%s got %d tickets, limit 1", tok[:12], n)
		}
		total += n
	}
	for c, n := range byCode {
		if n > 1 {
			t.Errorf("code %s redeemed %d times", c, n)
		}
	}
	var st benefits.Stats
	bnJSON(t, s.do(t, "GET", fmt.Sprintf("/api/v1/campaigns/%d/stats", id), admin, nil), &st)
	if total != 40 || st.Issued != 40 || st.Holders != 40 {
		t.Errorf("granted %d, issued %d to %d holders; want exactly the stock 40", total, st.Issued, st.Holders)
	}
}

// TestBenefitsMutationsIdempotent sends every kind of benefits mutation
// twice with the same Idempotency-Key: the second answer is the first,
// replayed, and nothing happens twice.
func TestBenefitsMutationsIdempotent(t *testing.T) {
	s := newTestServer(t)
	admin, reviewer := s.token(t, identity.OperatorAdmin), s.token(t, identity.OperatorReviewer)
	alice, bob := s.newPassenger(t, "idem-alice"), s.newPassenger(t, "idem-bob")
	twice := func(name, method, path, token, body string) response {
		t.Helper()
		send := func() response {
			var rd *strings.Reader
			if body != "" {
				rd = strings.NewReader(body)
			}
			if rd == nil {
				return s.do(t, method, path, token, nil, "Idempotency-Key", "idem-"+name)
			}
			return s.do(t, method, path, token, rd, "Idempotency-Key", "idem-"+name)
		}
		first, second := send(), send()
		if first.status != 200 || second.status != 200 || string(first.body) != string(second.body) || second.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("%s: %d %s then %d %s", name, first.status, first.body, second.status, second.body)
		}
		return first
	}
	from, until := bnWindow()
	var p benefits.Product
	bnJSON(t, twice("product", "POST", "/api/v1/benefit-products", admin, `{"kind":"multi_ride","name_zh":"五次票","feed":"nbmetro","terms":{"rides":5},"validity":{"days":7}}`), &p)
	var v bnCampaignView
	bnJSON(t, twice("campaign", "POST", "/api/v1/campaigns", admin, fmt.Sprintf(`{"product_id":%d,"name_zh":"五次","starts":%q,"ends":%q,"channels":["claim","code","direct"],"stock":10}`, p.ID, from, until)), &v)
	base := fmt.Sprintf("/api/v1/campaigns/%d", v.Campaign.ID)
	twice("submit", "POST", base+"/submit", admin, `{}`)
	twice("approve", "POST", base+"/approve", reviewer, `{}`)
	var batch benefits.CodeBatch
	bnJSON(t, twice("codes", "POST", base+"/codes", admin, `{"count":2}`), &batch)
	var acct struct{ ID int64 }
	bnJSON(t, s.do(t, "GET", "/api/v1/me", bob, nil), &acct)
	twice("issue", "POST", base+"/issue", admin, fmt.Sprintf(`{"accounts":[%d]}`, acct.ID))
	var tk benefits.Ticket
	bnJSON(t, twice("claim", "POST", base+"/claim", alice, ""), &tk)
	res := s.do(t, "GET", fmt.Sprintf("/api/v1/code-batches/%d/codes.csv", batch.ID), admin, nil)
	code := strings.Split(strings.Split(strings.TrimPrefix(string(res.body), "\ufeff"), "\n")[1], ",")[0]
	twice("redeem", "POST", "/api/v1/redeem-codes", alice, fmt.Sprintf(`{"code":%q}`, code))
	var g benefits.Gift
	bnJSON(t, twice("gift", "POST", fmt.Sprintf("/api/v1/wallet/%d/gift", tk.ID), alice, `{}`), &g)
	twice("accept", "POST", "/api/v1/gifts/"+g.Token+"/accept", bob, "")
	twice("ride", "POST", "/api/v1/rides/I-1/redemption", admin, rideJSON(rideCode(t, s.rides, acct.ID), time.Now().Add(2*time.Second)))

	var st benefits.Stats
	bnJSON(t, s.do(t, "GET", base+"/stats", admin, nil), &st)
	if st.Issued != 3 || st.Codes != 2 || st.CodesRedeemed != 1 || st.Rides != 1 {
		t.Errorf("after the retries: issued %d, codes %d (%d redeemed), rides %d; want 3, 2 (1), 1", st.Issued, st.Codes, st.CodesRedeemed, st.Rides)
	}
	var list struct{ Campaigns []bnCampaignView }
	bnJSON(t, s.do(t, "GET", "/api/v1/campaigns", admin, nil), &list)
	if len(list.Campaigns) != 1 {
		t.Errorf("%d campaigns after creating one twice with a key", len(list.Campaigns))
	}
}
