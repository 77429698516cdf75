package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skip2/go-qrcode"

	"piao/internal/benefits"
	"piao/internal/distribution"
	"piao/internal/identity"
	"piao/internal/tenant"
)

// dsCampaign stores a product and an approved, running campaign of the
// demo merchant (merchant 1) with the given channels, through the
// benefits service (merchant campaign routes are another slice's).
func dsCampaign(t *testing.T, s *testServer, stock, perUser int, channels ...benefits.Channel) int64 {
	t.Helper()
	ctx := context.Background()
	bn, mall := s.app.Benefits, tenant.Merchant(1)
	p, err := bn.CreateProduct(ctx, mall, benefits.Product{Kind: benefits.AmountOff, NameZH: "商户两元券", NameEN: "Mall ¥2 off", Feed: "nbmetro",
		Terms: benefits.Terms{AmountOff: 200}, Valid: benefits.Validity{Days: 30}}, "merchant:1", "account:9001")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c, err := bn.CreateCampaign(ctx, mall, benefits.Campaign{ProductID: p.ID, NameZH: "商场送券", NameEN: "Mall gives tickets", Starts: now.Add(-time.Hour), Ends: now.Add(7 * 24 * time.Hour),
		Channels: channels, Stock: stock, PerUser: perUser}, "merchant:1", "account:9001")
	if err != nil {
		t.Fatal(err)
	}
	// Merchant campaigns are prepaid: stock is bought before review.
	if _, err := bn.AddStock(ctx, mall, c.ID, fmt.Sprintf("fixture-%d", c.ID), stock, int64(stock)*200); err != nil {
		t.Fatal(err)
	}
	if _, err := bn.Act(ctx, mall, c.ID, benefits.Submit, "account:9001", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := bn.Act(ctx, tenant.All(), c.ID, benefits.Approve, "account:9002", ""); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// dsAccount creates an account and returns its ID and an API token.
func dsAccount(t *testing.T, s *testServer, n identity.NewAccount) (int64, string) {
	t.Helper()
	ctx := context.Background()
	n.Password = "a long enough password"
	a, err := s.app.Identity.CreateAccount(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := s.app.Identity.Issue(ctx, a.ID, identity.APIToken)
	if err != nil {
		t.Fatal(err)
	}
	return a.ID, secret
}

func csvBody(s string) *strings.Reader { return strings.NewReader(s) }

// TestDistributionListsOverHTTP uploads a bad list (422 naming each line
// and column, nothing written) and a good one, reads it with phones
// masked, and revokes what was not delivered; another merchant finds
// none of it and staff without the grant are refused.
func TestDistributionListsOverHTTP(t *testing.T) {
	s := newTestServer(t)
	m := s.token(t, identity.MerchantAdmin)
	staff := s.token(t, identity.MerchantStaff) // granted campaigns and reports only
	_, other := dsAccount(t, s, identity.NewAccount{Username: "ds-bank-admin", Role: identity.MerchantAdmin, Merchant: 2})
	phones := []string{"13611110001", "13611110002", "13611110003"}
	tokens := make([]string, len(phones))
	for i, p := range phones {
		_, tokens[i] = dsAccount(t, s, identity.NewAccount{Username: fmt.Sprintf("ds-rider-%d", i), Phone: p, Role: identity.Passenger})
	}
	id := dsCampaign(t, s, 3, 1, benefits.DirectChannel, benefits.ClaimChannel)
	upload := fmt.Sprintf("/api/v1/merchant/campaigns/%d/lists", id)
	csv := "text/csv; charset=utf-8"

	res := s.do(t, "POST", upload, m, csvBody("phone,note\n"+phones[0]+",a\n1234,b\n"+phones[0]+",c\n13699999999,d\n"+phones[1]+"\n"), "Content-Type", csv)
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad list: %d %s", res.status, res.body)
	}
	p := decodeProblem(t, res)
	var locs []string
	for _, e := range p.Errors {
		locs = append(locs, e.Location)
	}
	if p.Reason != "bad_list" || strings.Join(locs, " ") != "body.line[3].phone body.line[4].phone body.line[5].phone body.line[6]" {
		t.Fatalf("problem = %+v", p)
	}
	if !strings.Contains(p.Errors[1].Message, "第 4 行 phone 列：与第 2 行重复") || !strings.Contains(p.Errors[2].Message, "line 5, column phone: no passenger account has this phone number") {
		t.Errorf("messages: %+v", p.Errors)
	}
	var lists struct{ Lists []distribution.List }
	bnJSON(t, s.do(t, "GET", fmt.Sprintf("/api/v1/merchant/lists?campaign=%d", id), m, nil), &lists)
	if c, _ := s.app.Benefits.Campaign(context.Background(), tenant.All(), id); len(lists.Lists) != 0 || c.Issued != 0 {
		t.Fatalf("a refused list left %d lists, %d issued", len(lists.Lists), c.Issued)
	}
	if res := s.do(t, "POST", upload, staff, csvBody("phone\n"+phones[0]+"\n"), "Content-Type", csv); res.status != http.StatusForbidden {
		t.Fatalf("staff without the grant: %d", res.status)
	}
	if res := s.do(t, "POST", upload, other, csvBody("phone\n"+phones[0]+"\n"), "Content-Type", csv); res.status != http.StatusNotFound {
		t.Fatalf("another merchant's campaign: %d %s", res.status, res.body)
	}

	res = s.do(t, "POST", upload, m, csvBody("\ufeffphone,note\r\n"+strings.Join(phones, ",vip\r\n")+",vip\r\n"), "Content-Type", csv)
	var up struct {
		List    distribution.List
		Entries []distribution.Entry
	}
	bnJSON(t, res, &up)
	if res.status != 200 || up.List.Issued != 3 || up.List.Entries != 3 || len(up.Entries) != 3 {
		t.Fatalf("upload: %d %s", res.status, res.body)
	}
	if strings.Contains(string(res.body), phones[0]) || up.Entries[0].Phone != "136****0001" {
		t.Errorf("answer shows a phone unmasked: %s", res.body)
	}
	list := fmt.Sprintf("/api/v1/merchant/lists/%d", up.List.ID)
	res = s.do(t, "GET", list+"/entries.csv", m, nil)
	if res.status != 200 || strings.Contains(string(res.body), phones[1]) || !strings.Contains(string(res.body), "136****0002") || !strings.Contains(string(res.body), ",issued,") {
		t.Fatalf("entries.csv: %d %s", res.status, res.body)
	}
	for _, path := range []string{list, list + "/entries.csv"} {
		if res := s.do(t, "GET", path, other, nil); res.status != http.StatusNotFound {
			t.Errorf("GET %s as another merchant: %d", path, res.status)
		}
	}

	// Rider 1 offers their ticket as a gift; then the list is revoked.
	if res := s.do(t, "POST", fmt.Sprintf("/api/v1/wallet/%d/gift", up.Entries[1].TicketID), tokens[1], strings.NewReader(`{}`)); res.status != 200 {
		t.Fatalf("gift: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", list+"/revoke", other, strings.NewReader(`{}`)); res.status != http.StatusNotFound {
		t.Fatalf("another merchant revoking: %d", res.status)
	}
	res = s.do(t, "POST", list+"/entries/3/revoke", m, nil)
	var rev distribution.Revocation
	bnJSON(t, res, &rev)
	if res.status != 200 || rev.Gifted != 1 || rev.Revoked != 0 {
		t.Fatalf("revoke the gifted line: %d %s", res.status, res.body)
	}
	res = s.do(t, "POST", list+"/revoke", m, strings.NewReader(`{"reason":"活动取消"}`))
	bnJSON(t, res, &rev)
	if res.status != 200 || rev.Revoked != 2 || rev.Gifted != 1 {
		t.Fatalf("revoke: %d %s", res.status, res.body)
	}
	var w struct{ Tickets []benefits.WalletEntry }
	bnJSON(t, s.do(t, "GET", "/api/v1/wallet", tokens[0], nil), &w)
	if len(w.Tickets) != 1 || w.Tickets[0].Status != benefits.Withdrawn {
		t.Fatalf("the wallet after revoking: %+v", w.Tickets)
	}
	var got struct {
		List    distribution.List
		Entries []distribution.Entry
	}
	bnJSON(t, s.do(t, "GET", list, m, nil), &got)
	if got.List.Revoked != 2 || got.Entries[0].RevokedAt.IsZero() || !got.Entries[1].RevokedAt.IsZero() {
		t.Fatalf("the list after revoking: %+v", got)
	}
}

// TestDistributionCodesOverHTTP generates a merchant's codes, voids the
// unredeemed ones and shows that redeeming one then answers code_revoked.
func TestDistributionCodesOverHTTP(t *testing.T) {
	s := newTestServer(t)
	m := s.token(t, identity.MerchantAdmin)
	admin := s.token(t, identity.OperatorAdmin)
	_, other := dsAccount(t, s, identity.NewAccount{Username: "ds-bank-admin", Role: identity.MerchantAdmin, Merchant: 2})
	_, rider := dsAccount(t, s, identity.NewAccount{Username: "ds-rider", Role: identity.Passenger})
	id := dsCampaign(t, s, 10, 0, benefits.CodeChannel)
	campaign := fmt.Sprintf("/api/v1/merchant/campaigns/%d", id)
	if res := s.do(t, "POST", campaign+"/codes", other, strings.NewReader(`{"count":3}`)); res.status != http.StatusNotFound {
		t.Fatalf("another merchant's codes: %d", res.status)
	}
	var b benefits.CodeBatch
	res := s.do(t, "POST", campaign+"/codes", m, strings.NewReader(`{"count":3}`))
	bnJSON(t, res, &b)
	if res.status != 200 || b.Count != 3 {
		t.Fatalf("codes: %d %s", res.status, res.body)
	}
	batch := fmt.Sprintf("/api/v1/merchant/code-batches/%d", b.ID)
	res = s.do(t, "GET", batch+"/codes.csv", m, nil)
	lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(string(res.body), "\ufeff")), "\n")
	if res.status != 200 || len(lines) != 4 {
		t.Fatalf("codes.csv: %d %s", res.status, res.body)
	}
	if res := s.do(t, "GET", batch+"/codes.csv", other, nil); res.status != http.StatusNotFound {
		t.Fatalf("another merchant's export: %d", res.status)
	}
	code := func(i int) string { return strings.Split(lines[i], ",")[0] }
	if res := s.do(t, "POST", "/api/v1/redeem-codes", rider, strings.NewReader(fmt.Sprintf(`{"code":%q}`, code(1)))); res.status != 200 {
		t.Fatalf("redeem: %d %s", res.status, res.body)
	}
	if res := s.do(t, "POST", batch+"/revoke", other, nil); res.status != http.StatusNotFound {
		t.Fatalf("another merchant revoking: %d", res.status)
	}
	var out struct {
		Batch  distribution.Batch
		Voided int
	}
	res = s.do(t, "POST", batch+"/revoke", m, strings.NewReader(`{"reason":"海报印错"}`))
	bnJSON(t, res, &out)
	if res.status != 200 || out.Voided != 2 || out.Batch.Redeemed != 1 || out.Batch.Revoked != 2 {
		t.Fatalf("revoke: %d %s", res.status, res.body)
	}
	res = s.do(t, "POST", "/api/v1/redeem-codes", rider, strings.NewReader(fmt.Sprintf(`{"code":%q}`, code(2))))
	if p := decodeProblem(t, res); res.status != http.StatusConflict || p.Reason != "code_revoked" {
		t.Fatalf("redeeming a voided code: %d %s", res.status, res.body)
	}
	// The operator's revocation reaches every batch: nothing left to void.
	res = s.do(t, "POST", fmt.Sprintf("/api/v1/code-batches/%d/revoke", b.ID), admin, nil)
	bnJSON(t, res, &out)
	if res.status != 200 || out.Voided != 0 {
		t.Fatalf("operator revoke: %d %s", res.status, res.body)
	}
	var bs struct{ Batches []distribution.Batch }
	bnJSON(t, s.do(t, "GET", campaign+"/code-batches", m, nil), &bs)
	if len(bs.Batches) != 1 || bs.Batches[0].Revoked != 2 || bs.Batches[0].Redeemed != 1 {
		t.Fatalf("batches: %+v", bs)
	}
}

// TestClaimLinkAndPoster reads a campaign's claim link (absolute, on the
// server's public URL) and its QR poster, a 512-pixel PNG.
func TestClaimLinkAndPoster(t *testing.T) {
	s := newTestServer(t)
	m := s.token(t, identity.MerchantAdmin)
	_, other := dsAccount(t, s, identity.NewAccount{Username: "ds-bank-admin", Role: identity.MerchantAdmin, Merchant: 2})
	id := dsCampaign(t, s, 10, 0, benefits.ClaimChannel)
	var link struct {
		CampaignID int64  `json:"campaign_id"`
		URL        string `json:"url"`
		PosterURL  string `json:"poster_url"`
	}
	res := s.do(t, "GET", fmt.Sprintf("/api/v1/merchant/campaigns/%d/claim-link", id), m, nil)
	bnJSON(t, res, &link)
	if want := fmt.Sprintf("%s/h5/campaigns/%d", s.URL, id); res.status != 200 || link.URL != want {
		t.Fatalf("claim link %d %s, want %s", res.status, res.body, want)
	}
	res = s.do(t, "GET", link.PosterURL, m, nil)
	if res.status != 200 || res.header.Get("Content-Type") != "image/png" || !bytes.HasPrefix(res.body, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("poster: %d %q %.20q", res.status, res.header.Get("Content-Type"), res.body)
	}
	// go-qrcode only encodes, and deterministically: the poster is the
	// code of exactly the link.
	if want, err := qrcode.Encode(link.URL, qrcode.Medium, 512); err != nil || !bytes.Equal(res.body, want) {
		t.Errorf("the poster is not the QR code of %s (%v)", link.URL, err)
	}
	img, err := png.Decode(bytes.NewReader(res.body))
	if err != nil || img.Bounds().Dx() != 512 || img.Bounds().Dy() != 512 {
		t.Fatalf("poster image: %v %v", err, img.Bounds())
	}
	for _, path := range []string{"/claim-link", "/poster.png"} {
		if res := s.do(t, "GET", fmt.Sprintf("/api/v1/merchant/campaigns/%d%s", id, path), other, nil); res.status != http.StatusNotFound {
			t.Errorf("%s as another merchant: %d", path, res.status)
		}
	}
	coded := dsCampaign(t, s, 10, 0, benefits.CodeChannel)
	res = s.do(t, "GET", fmt.Sprintf("/api/v1/merchant/campaigns/%d/claim-link", coded), m, nil)
	if p := decodeProblem(t, res); res.status != http.StatusConflict || p.Reason != "channel_closed" {
		t.Fatalf("a campaign without claiming: %d %s", res.status, res.body)
	}
}

// distributionPaths makes a list, a code batch and a claimable campaign
// of the demo merchant and returns the paths of the distribution GET
// routes that read them, for tests that walk every route.
func distributionPaths(t *testing.T, s *testServer, passenger int64) map[string]string {
	t.Helper()
	m := s.token(t, identity.MerchantAdmin)
	id := dsCampaign(t, s, 10, 0, benefits.DirectChannel, benefits.CodeChannel, benefits.ClaimChannel)
	var up struct{ List distribution.List }
	res := s.do(t, "POST", fmt.Sprintf("/api/v1/merchant/campaigns/%d/lists", id), m, csvBody(fmt.Sprintf("account\n%d\n", passenger)), "Content-Type", "text/csv")
	bnJSON(t, res, &up)
	var b benefits.CodeBatch
	bnJSON(t, s.do(t, "POST", fmt.Sprintf("/api/v1/merchant/campaigns/%d/codes", id), m, strings.NewReader(`{"count":2}`)), &b)
	if up.List.ID == 0 || b.ID == 0 {
		t.Fatalf("distribution fixtures: list %+v, batch %+v", up.List, b)
	}
	campaign, list := fmt.Sprintf("/api/v1/merchant/campaigns/%d", id), fmt.Sprintf("/api/v1/merchant/lists/%d", up.List.ID)
	return map[string]string{
		"/api/v1/merchant/lists":                       fmt.Sprintf("/api/v1/merchant/lists?campaign=%d", id),
		"/api/v1/merchant/lists/{id}":                  list,
		"/api/v1/merchant/lists/{id}/entries.csv":      list + "/entries.csv",
		"/api/v1/merchant/campaigns/{id}/code-batches": campaign + "/code-batches",
		"/api/v1/merchant/campaigns/{id}/claim-link":   campaign + "/claim-link",
		"/api/v1/merchant/campaigns/{id}/poster.png":   campaign + "/poster.png",
		"/api/v1/merchant/code-batches/{id}/codes.csv": fmt.Sprintf("/api/v1/merchant/code-batches/%d/codes.csv", b.ID),
	}
}

// fixtureLists are the distribution lists made for merchant fixtures, one
// each, made on first use.
var fixtureLists sync.Map // *merchantFixture → int64

// fixtureList is a distribution list of f's merchant for its campaign,
// with one line (line 2) naming a passenger. It is stored directly: the
// fixture's campaign is a draft, which the service would not issue from.
func fixtureList(t *testing.T, f *merchantFixture) int64 {
	t.Helper()
	if v, ok := fixtureLists.Load(f); ok {
		return v.(int64)
	}
	ctx := context.Background()
	a, err := f.App.Identity.CreateAccount(ctx, identity.NewAccount{Username: fmt.Sprintf("list-rider-%d-%d", f.Merchant, time.Now().UnixNano()), Role: identity.Passenger, Password: "fixture-password"})
	if err != nil {
		t.Fatal(err)
	}
	l := distribution.List{MerchantID: f.Merchant, CampaignID: f.Campaign.ID, Kind: distribution.ByAccount, UploadedBy: "fixture", UploadedAt: time.Now()}
	if err := f.App.DistributionStore.CreateList(ctx, &l, []distribution.Entry{{Line: 2, Account: a.ID, Note: f.Marker}}); err != nil {
		t.Fatal(err)
	}
	fixtureLists.Store(f, l.ID)
	return l.ID
}

// The distribution routes' parameters and bodies in the tenancy matrix.
func init() {
	campaign := func(_ *testing.T, f *merchantFixture) string { return id(f.Campaign.ID) }
	batch := func(_ *testing.T, f *merchantFixture) string { return id(f.Batch.ID) }
	list := func(t *testing.T, f *merchantFixture) string { return id(fixtureList(t, f)) }
	for path, v := range map[string]func(*testing.T, *merchantFixture) string{
		"/api/v1/merchant/campaigns/{id}/lists":             campaign,
		"/api/v1/merchant/campaigns/{id}/codes":             campaign,
		"/api/v1/merchant/campaigns/{id}/code-batches":      campaign,
		"/api/v1/merchant/campaigns/{id}/claim-link":        campaign,
		"/api/v1/merchant/campaigns/{id}/poster.png":        campaign,
		"/api/v1/merchant/code-batches/{id}/codes.csv":      batch,
		"/api/v1/merchant/code-batches/{id}/revoke":         batch,
		"/api/v1/merchant/lists/{id}":                       list,
		"/api/v1/merchant/lists/{id}/entries.csv":           list,
		"/api/v1/merchant/lists/{id}/revoke":                list,
		"/api/v1/merchant/lists/{id}/entries/{line}/revoke": list,
	} {
		tenancyParams[tenancyParam{path, "id"}] = v
	}
	tenancyParams[tenancyParam{"/api/v1/merchant/lists/{id}/entries/{line}/revoke", "line"}] = func(*testing.T, *merchantFixture) string { return "2" }
	tenancyBodies["POST /api/v1/merchant/campaigns/{id}/codes"] = func(*testing.T, *merchantFixture) ([]byte, string) { return []byte(`{"count":1}`), "" }
	tenancyBodies["POST /api/v1/merchant/campaigns/{id}/lists"] = func(*testing.T, *merchantFixture) ([]byte, string) {
		return []byte("account\n1\n"), "text/csv"
	}
}
