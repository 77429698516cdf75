package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"piao/internal/app"
	"piao/internal/app/apptest"
	"piao/internal/benefits"
	"piao/internal/httpapi"
	"piao/internal/identity"
	"piao/internal/tenant"
)

// merchantFixture is one merchant's resources, shared with the console's
// tenancy matrix (see apptest.MerchantFixture).
type merchantFixture = apptest.MerchantFixture

// newMerchantFixture makes merchant m's product from tpl, a campaign of it
// with 10 tickets bought, and a batch of 2 codes.
func newMerchantFixture(t *testing.T, a *app.App, m int64, tpl benefits.Template) *merchantFixture {
	t.Helper()
	return apptest.NewMerchantFixture(t, a, m, tpl)
}

// onboardedMerchant applies as a merchant with code and approves it: a
// merchant whose record exists, as the onboarding routes need.
func onboardedMerchant(t *testing.T, a *app.App, code, admin string) int64 {
	t.Helper()
	return apptest.OnboardedMerchant(t, a, code, admin)
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

// tenancyParam is one path parameter of one route.
type tenancyParam struct{ Path, Param string }

// tenancyParams names, for every path parameter of every merchant route,
// the resource of the given merchant it is filled with. The matrix fills
// it with merchant B's resource as merchant A (expecting 404) and with
// A's own (expecting no 404/403/5xx). A merchant route whose parameter is
// missing here fails TestTenancyMatrix: a new route cannot escape it.
//
// To add a route, add one line per parameter: the route's path as
// registered, the parameter's name, and a function returning the value
// for f's merchant — a field of merchantFixture, or a resource made on the
// spot through f.App with f.Scope (make it once per fixture if it is
// costly, e.g. in a field you add to merchantFixture).
var tenancyParams = map[tenancyParam]func(t *testing.T, f *merchantFixture) string{
	{"/api/v1/merchant/products/{id}", "id"}:            func(_ *testing.T, f *merchantFixture) string { return id(f.Product.ID) },
	{"/api/v1/merchant/products/{id}/cover", "id"}:      func(_ *testing.T, f *merchantFixture) string { return id(f.Product.ID) },
	{"/api/v1/merchant/campaigns/{id}", "id"}:           func(_ *testing.T, f *merchantFixture) string { return id(f.Campaign.ID) },
	{"/api/v1/merchant/campaigns/{id}/submit", "id"}:    func(_ *testing.T, f *merchantFixture) string { return id(f.Campaign.ID) },
	{"/api/v1/merchant/campaigns/{id}/stats", "id"}:     func(_ *testing.T, f *merchantFixture) string { return id(f.Campaign.ID) },
	{"/api/v1/merchant/campaigns/{id}/stats.csv", "id"}: func(_ *testing.T, f *merchantFixture) string { return id(f.Campaign.ID) },
	{"/api/v1/merchant/staff/{id}/grants", "id"}:        func(_ *testing.T, f *merchantFixture) string { return id(f.Staff.ID) },
	{"/api/v1/merchant/staff/{id}/disable", "id"}:       func(_ *testing.T, f *merchantFixture) string { return id(f.Staff.ID) },
	{"/api/v1/merchant/staff/{id}/enable", "id"}:        func(_ *testing.T, f *merchantFixture) string { return id(f.Staff.ID) },
}

// tenancyOwnOnly are merchant routes whose path parameters name no
// merchant resource (a month): the same value is the caller's own for
// every merchant, so no 404 is expected for B's; why, by path.
var tenancyOwnOnly = map[string]string{}

// tenancyBodies are request bodies for merchant routes that take one,
// keyed by "METHOD path"; a route not listed is sent {}. Give a body
// valid for the merchant's own resource, so the check as the owner gets
// past input validation. header, if set, is its Content-Type.
var tenancyBodies = map[string]func(t *testing.T, f *merchantFixture) (body []byte, header string){
	"PUT /api/v1/merchant/products/{id}/cover": func(t *testing.T, _ *merchantFixture) ([]byte, string) { return testPNG(t), "image/png" },
}

// testPNG is a small valid PNG image.
func testPNG(t *testing.T) []byte { return apptest.PNG(t) }

// merchantPermission reports whether perm is one only merchants' users hold.
func merchantPermission(perm identity.Permission) bool {
	return slices.Contains(identity.Delegable, perm) || perm == identity.MerchantUsers
}

// merchantLogin makes an account of merchant m with role and grants and
// returns an API token of it.
func merchantLogin(t *testing.T, a *app.App, m int64, role identity.Role, grants []identity.Permission) string {
	t.Helper()
	ctx := context.Background()
	acct, err := a.Identity.CreateAccount(ctx, identity.NewAccount{Username: fmt.Sprintf("m%d-%s-%d", m, role, time.Now().UnixNano()), DisplayName: "商户用户",
		Role: role, Password: "fixture-password", Merchant: m, Grants: grants})
	if err != nil {
		t.Fatal(err)
	}
	token, err := a.Identity.Issue(ctx, acct.ID, identity.APIToken)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// TestTenancyMatrix walks every merchant route of the route table (SPEC
// S2), on SQLite and on PostgreSQL: as merchant A's admin with merchant
// B's resources every route with a path parameter answers 404, as if they
// did not exist; as a staff account of A holding every permission but
// the route's, 403; as A's admin on A's own resources, neither 404 nor
// 403 nor a server error, and nothing of B in the answer (B's markers,
// IDs, owner) — B has a row of every kind the routes show, which B's own
// answers prove. Query parameters and body fields naming a resource
// (tenancyRefs, derived from the OpenAPI operations) are checked too:
// B's resource is not found (nothing written) or filters to nothing.
func TestTenancyMatrix(t *testing.T) {
	for _, engine := range []struct {
		name string
		opts []apptest.Option
	}{{"sqlite", nil}, {"postgres", []apptest.Option{apptest.OnPostgres()}}} {
		t.Run(engine.name, func(t *testing.T) {
			a := apptest.NewDemo(t, engine.opts...)
			ts, srv := apptest.Serve(t, a, nil)
			s := &testServer{Server: ts, app: a, api: srv}
			tpl, err := a.Benefits.CreateTemplate(context.Background(), benefits.Template{Kind: benefits.SingleRide, NameZH: "单程票", UnitPrice: 400}, "fixture")
			if err != nil {
				t.Fatal(err)
			}
			merchantA, merchantB := onboardedMerchant(t, a, "91350100M000100Y43", "fixture-a"), onboardedMerchant(t, a, "9144030071526726XG", "fixture-b")
			fa, fb := newMerchantFixture(t, a, merchantA, tpl), newMerchantFixture(t, a, merchantB, tpl)
			// Every resource a path names exists before the walk (some are
			// made on first use), so the lists have a row of each kind.
			for _, v := range tenancyParams {
				v(t, fa)
				v(t, fb)
			}
			addCharged(t, fb)
			adminA, adminB := merchantLogin(t, a, merchantA, identity.MerchantAdmin, nil), merchantLogin(t, a, merchantB, identity.MerchantAdmin, nil)
			signsB := signsOf(t, fb)

			routes := srv.Routes()
			slices.SortFunc(routes, func(x, y httpapi.Route) int { return strings.Compare(x.Method+x.Path, y.Method+y.Path) })
			walked := 0
			for _, rt := range routes {
				if !merchantPermission(rt.Permission) {
					continue
				}
				walked++
				fill := func(t *testing.T, f *merchantFixture) (string, bool) {
					ok := true
					p := pathParam.ReplaceAllStringFunc(rt.Path, func(m string) string {
						name := m[1 : len(m)-1]
						v, known := tenancyParams[tenancyParam{rt.Path, name}]
						if !known {
							ok = false
							return m
						}
						return v(t, f)
					})
					if q, ok := tenancyQueries[rt.Path]; ok {
						p += q(f)
					}
					return p, ok
				}
				send := func(t *testing.T, path, token string, f *merchantFixture) response {
					var body io.Reader
					var header []string
					if rt.Method != http.MethodGet {
						body = strings.NewReader("{}")
						if mk, ok := tenancyBodies[rt.Method+" "+rt.Path]; ok {
							b, h := mk(t, f)
							body = bytes.NewReader(b)
							if h != "" {
								header = []string{"Content-Type", h}
							}
						}
					}
					return s.do(t, rt.Method, path, token, body, header...)
				}
				t.Run(rt.Method+" "+rt.Path, func(t *testing.T) {
					if _, own := tenancyOwnOnly[rt.Path]; strings.Contains(rt.Path, "{") && !own {
						path, ok := fill(t, fb)
						if !ok {
							t.Fatalf("a path parameter of %s is not in tenancyParams: add the merchant resource it names", rt.Path)
						}
						if res := send(t, path, adminA, fb); res.status != http.StatusNotFound {
							t.Errorf("merchant A on merchant B's %s: %d, want 404: %.300s", path, res.status, res.body)
						}
					}
					grants := slices.DeleteFunc(slices.Clone(identity.Delegable), func(p identity.Permission) bool { return p == rt.Permission })
					staff := merchantLogin(t, a, merchantA, identity.MerchantStaff, grants)
					path, _ := fill(t, fa)
					if res := send(t, path, staff, fa); res.status != http.StatusForbidden {
						t.Errorf("merchant A's staff without %s on %s: %d, want 403: %.300s", rt.Permission, path, res.status, res.body)
					}
					res := send(t, path, adminA, fa)
					if res.status == http.StatusNotFound || res.status == http.StatusForbidden || res.status >= 500 {
						t.Errorf("merchant A's admin on its own %s: %d: %.300s", path, res.status, res.body)
					}
					if hit := signsB.find(res.body, rootKind(rt.Method, rt.Path)); hit != "" {
						t.Errorf("merchant A's admin on its own %s sees merchant B's data: %s: %.300s", path, hit, res.body)
					}
					if _, blind := tenancyBlind[rt.Path]; rt.Method == http.MethodGet && !blind {
						pathB, _ := fill(t, fb)
						if res := send(t, pathB, adminB, fb); res.status != http.StatusOK || signsB.find(res.body, rootKind(rt.Method, rt.Path)) == "" {
							t.Errorf("merchant B's admin on its own %s sees no sign of B (%d), so A's answer is not checked for B's rows: "+
								"give merchant B's fixture a row this route shows, or say in tenancyBlind why it shows none: %.300s", pathB, res.status, res.body)
						}
					}
					checkRefs(t, s, rt.Method, rt.Path, path, adminA, fa, fb)
				})
			}
			if walked < 10 {
				t.Errorf("only %d merchant routes walked", walked)
			}
		})
	}
}

// merchantTimePaths makes the demo merchant's (merchant 1's) product with
// a cover and a campaign, and returns answering paths of the merchant
// campaign routes with parameters, for TestAnswersGiveBusinessTime.
func merchantTimePaths(t *testing.T, s *testServer) map[string]string {
	t.Helper()
	ctx := context.Background()
	tpl, err := s.app.Benefits.CreateTemplate(ctx, benefits.Template{Kind: benefits.SingleRide, NameZH: "单程票", UnitPrice: 400}, "fixture")
	if err != nil {
		t.Fatal(err)
	}
	f := newMerchantFixture(t, s.app, 1, tpl)
	if _, err := s.app.Benefits.SetCover(ctx, f.Scope, benefits.CoverImage{ProductID: f.Product.ID, Name: "logo.png", ContentType: "image/png", SHA256: "ab", Data: testPNG(t)}, "fixture"); err != nil {
		t.Fatal(err)
	}
	product, campaign := "/api/v1/merchant/products/"+id(f.Product.ID), "/api/v1/merchant/campaigns/"+id(f.Campaign.ID)
	return map[string]string{
		"/api/v1/merchant/products/{id}":            product,
		"/api/v1/merchant/campaigns/{id}":           campaign,
		"/api/v1/merchant/campaigns/{id}/stats":     campaign + "/stats",
		"/api/v1/merchant/campaigns/{id}/stats.csv": campaign + "/stats.csv",
		"/api/v1/benefit-products/{id}/cover":       "/api/v1/benefit-products/" + id(f.Product.ID) + "/cover",
		"/api/v1/merchants/{id}/charges":            "/api/v1/merchants/1/charges",
	}
}

// TestMerchantCampaignAPI walks a merchant's campaign through the API:
// the operator's template bounds the product, the cover is sniffed and
// served with its type, a prepaid campaign is not submitted before stock
// is bought, and the operator reviews it; a deactivated template makes
// no more products.
func TestMerchantCampaignAPI(t *testing.T) {
	s := newTestServer(t)
	admin, reviewer, merchant, rider := s.token(t, identity.OperatorAdmin), s.token(t, identity.OperatorReviewer), s.token(t, identity.MerchantAdmin), s.token(t, identity.Passenger)
	call := func(method, path, token, body string, want int, out any) response {
		t.Helper()
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		res := s.do(t, method, path, token, r)
		if res.status != want {
			t.Fatalf("%s %s: %d, want %d: %.400s", method, path, res.status, want, res.body)
		}
		if out != nil {
			if err := json.Unmarshal(res.body, out); err != nil {
				t.Fatal(err)
			}
		}
		return res
	}
	reason := func(res response) string { return decodeProblem(t, res).Reason }

	var tpl benefits.Template
	call("POST", "/api/v1/benefit-templates", admin, `{"kind":"amount_off","name_zh":"抵用券","unit_price":0,"max_amount_off":500}`, 200, &tpl)
	call("POST", "/api/v1/benefit-templates", merchant, `{"kind":"amount_off","name_zh":"x","unit_price":0}`, 403, nil)
	var offered struct{ Templates []benefits.Template }
	call("GET", "/api/v1/merchant/templates", merchant, "", 200, &offered)
	if len(offered.Templates) != 1 || offered.Templates[0].ID != tpl.ID {
		t.Fatalf("templates offered = %+v", offered)
	}

	product := func(off int) string {
		return fmt.Sprintf(`{"template_id":%d,"name_zh":"商场两元券","feed":"nbmetro","terms":{"amount_off":%d},"scope":{"lines":["nbmetro:L1"]},"validity":{"days":30}}`, tpl.ID, off)
	}
	if r := reason(call("POST", "/api/v1/merchant/products", merchant, product(600), 422, nil)); r != "amount_off_over_template" {
		t.Errorf("a product past the template's bound: %s", r)
	}
	var p benefits.Product
	call("POST", "/api/v1/merchant/products", merchant, product(200), 200, &p)
	if p.Owner != "merchant:1" || p.Kind != benefits.AmountOff || p.TemplateID != tpl.ID {
		t.Fatalf("merchant product = %+v", p)
	}

	cover := "/api/v1/merchant/products/" + id(p.ID) + "/cover?name=logo.png"
	if res := s.do(t, "PUT", cover, merchant, strings.NewReader("<svg onload=alert(1)>"), "Content-Type", "image/png"); res.status/100 != 4 || reason(res) != "file_type" {
		t.Errorf("an SVG as a cover: %d %s", res.status, res.body)
	}
	img := testPNG(t)
	if res := s.do(t, "PUT", cover, merchant, bytes.NewReader(img), "Content-Type", "image/png"); res.status != 200 {
		t.Fatalf("cover upload: %d %s", res.status, res.body)
	}
	res := s.do(t, "GET", "/api/v1/benefit-products/"+id(p.ID)+"/cover", "", nil)
	if res.status != 200 || !bytes.Equal(res.body, img) || res.header.Get("Content-Type") != "image/png" ||
		res.header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(res.header.Get("Cache-Control"), "max-age") {
		t.Errorf("public cover: %d %v", res.status, res.header)
	}

	now := time.Now()
	var v struct {
		Campaign benefits.Campaign `json:"campaign"`
	}
	call("POST", "/api/v1/merchant/campaigns", merchant, fmt.Sprintf(`{"product_id":%d,"name_zh":"商场送券","starts":%q,"ends":%q,"channels":["claim"]}`,
		p.ID, now.Add(-time.Minute).Format(time.RFC3339), now.Add(48*time.Hour).Format(time.RFC3339)), 200, &v)
	c := v.Campaign
	if !c.Prepaid || c.Stock != 0 || c.Owner != "merchant:1" {
		t.Fatalf("merchant campaign = %+v", c)
	}
	path := "/api/v1/merchant/campaigns/" + id(c.ID)
	if r := reason(call("POST", path+"/submit", merchant, `{}`, 409, nil)); r != "no_stock" {
		t.Errorf("submitting with no stock: %s", r)
	}
	if _, err := s.app.Benefits.AddStock(context.Background(), tenant.Merchant(1), c.ID, "api-test-purchase", 5, 1000); err != nil {
		t.Fatal(err)
	}
	call("POST", path+"/submit", merchant, `{}`, 200, nil)
	call("POST", "/api/v1/campaigns/"+id(c.ID)+"/approve", reviewer, `{}`, 200, &v)
	if v.Campaign.Status != benefits.Approved {
		t.Errorf("after approval: %s", v.Campaign.Status)
	}
	var ticket benefits.Ticket
	call("POST", "/api/v1/campaigns/"+id(c.ID)+"/claim", rider, "", 200, &ticket)
	var stats benefits.Stats
	call("GET", path+"/stats", merchant, "", 200, &stats)
	if stats.Issued != 1 || stats.Stock != 5 {
		t.Errorf("merchant stats = %+v", stats)
	}

	// The rider's ticket pays a ride: the merchant is charged its saving.
	riderAcct, err := s.app.Identity.Store.AccountByLogin(context.Background(), "passenger")
	if err != nil {
		t.Fatal(err)
	}
	before := s.app.Benefits.Now()
	red, _, err := s.app.Benefits.Redeem(context.Background(), benefits.Ride{ID: "merchant-api-ride", Fare: 500, From: "nbmetro:GL", To: "nbmetro:DMK", FromLine: "nbmetro:L1", ToLine: "nbmetro:L1", EnteredAt: time.Now()}, riderAcct.ID)
	if err != nil || len(red.Applied) != 1 || red.Applied[0].CampaignID != c.ID {
		t.Fatalf("redemption = %+v, %v", red, err)
	}
	// An explicit period around the ride, so the default (this month so
	// far) turning at midnight on the 1st cannot drop it.
	period := "?from=" + before.In(benefits.Shanghai).Format(time.DateOnly) + "&to=" + s.app.Benefits.Now().In(benefits.Shanghai).Format(time.DateOnly)
	var charges struct {
		Fen     int64
		Rides   int
		Charges []benefits.Charge
	}
	call("GET", "/api/v1/merchant/charges"+period, merchant, "", 200, &charges)
	if charges.Fen != red.Applied[0].Saving || charges.Rides != 1 || len(charges.Charges) != 1 || charges.Charges[0].CampaignID != c.ID {
		t.Errorf("merchant charges = %+v, want the ride's %d fen", charges, red.Applied[0].Saving)
	}
	call("GET", "/api/v1/merchants/1/charges"+period, admin, "", 200, &charges)
	if charges.Fen != red.Applied[0].Saving {
		t.Errorf("the operator's view of merchant 1's charges = %+v", charges)
	}
	call("GET", "/api/v1/merchants/2/charges"+period, admin, "", 200, &charges)
	if charges.Fen != 0 || len(charges.Charges) != 0 {
		t.Errorf("merchant 2's charges = %+v, want none", charges)
	}
	call("GET", "/api/v1/merchant/charges", s.token(t, identity.MerchantStaff), "", 403, nil)
	if r := reason(call("GET", "/api/v1/merchant/charges?from=2026-13-01", merchant, "", 422, nil)); r == "" {
		t.Error("a bad date gave no reason")
	}

	call("POST", "/api/v1/benefit-templates/"+id(tpl.ID)+"/deactivate", admin, `{}`, 200, nil)
	call("GET", "/api/v1/merchant/templates", merchant, "", 200, &offered)
	if len(offered.Templates) != 0 {
		t.Errorf("a deactivated template is still offered: %+v", offered)
	}
	if r := reason(call("POST", "/api/v1/merchant/products", merchant, product(200), 409, nil)); r != "template_inactive" {
		t.Errorf("a product from a deactivated template: %s", r)
	}
}
