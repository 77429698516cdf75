package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"piao/internal/benefits"
	"piao/internal/identity"
	"piao/internal/merchant"
	"piao/internal/purchase"
	"piao/internal/tenant"
)

// What the tenancy matrix adds beyond path parameters: the answers of A's
// own routes must carry nothing of merchant B (lists ignoring the scope),
// and IDs carried in query strings and bodies are checked like paths.

// tenancyContainers maps JSON keys, and path segments, whose object or
// array items are rows of a merchant-owned kind: an "id" in them is an ID
// of that kind, as is a key of the kind's name followed by "_id".
var tenancyContainers = map[string]string{
	"merchant": "merchant", "merchants": "merchant",
	"campaign": "campaign", "campaigns": "campaign",
	"product": "product", "products": "product",
	"purchase": "purchase", "purchases": "purchase",
	"list": "list", "lists": "list",
	"batch": "batch", "batches": "batch", "code-batches": "batch",
	"staff": "account", "accounts": "account",
	"invitation": "invitation", "invitations": "invitation",
}

// tenancyIDKeys are JSON keys whose number is an ID of a kind though the
// key does not end in "_id".
var tenancyIDKeys = map[string]string{"merchant": "merchant", "account": "account", "admin_account": "account"}

// tenancySigns are the signs of one merchant's rows in an answer: marker
// strings (names, codes, payment IDs) and its rows' IDs by kind.
type tenancySigns struct {
	markers []string
	ids     map[string]map[int64]bool
	// refs are "kind:id" strings naming its rows (owners, audit subjects).
	refs map[string]bool
}

func (s *tenancySigns) add(kind string, id int64) {
	if s.ids[kind] == nil {
		s.ids[kind] = map[int64]bool{}
	}
	s.ids[kind][id] = true
	s.refs[kind+":"+strconv.FormatInt(id, 10)] = true
}

// signsOf reads every row of f's merchant through its own scope: whatever
// the fixture (and the routes' fixtures) made for it is a sign of it.
func signsOf(t *testing.T, f *merchantFixture) *tenancySigns {
	t.Helper()
	ctx, a := context.Background(), f.App
	s := &tenancySigns{markers: []string{f.Marker}, ids: map[string]map[int64]bool{}, refs: map[string]bool{}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	s.add("merchant", f.Merchant)
	m, err := a.Merchants.Merchant(ctx, f.Scope, f.Merchant)
	must(err)
	s.markers = append(s.markers, m.LegalName, m.CreditCode)
	products, err := a.Benefits.Products(ctx, f.Scope, "")
	must(err)
	for _, p := range products {
		s.add("product", p.ID)
	}
	campaigns, err := a.Benefits.Campaigns(ctx, f.Scope, benefits.CampaignFilter{Limit: 1000})
	must(err)
	for _, c := range campaigns {
		s.add("campaign", c.ID)
		batches, err := a.Benefits.CodeBatches(ctx, f.Scope, c.ID)
		must(err)
		for _, b := range batches {
			s.add("batch", b.ID)
			must(a.Benefits.Codes(ctx, f.Scope, b.ID, func(r benefits.CodeRow) error {
				s.markers = append(s.markers, r.Code, benefits.DisplayCode(r.Code))
				return nil
			}))
		}
	}
	purchases, err := a.Purchases.Purchases(ctx, f.Scope, purchase.Filter{Limit: 500})
	must(err)
	for _, p := range purchases {
		s.add("purchase", p.ID)
		s.markers = append(s.markers, p.PaymentID)
	}
	lists, err := a.DistributionStore.Lists(ctx, f.Scope, 0)
	must(err)
	for _, l := range lists {
		s.add("list", l.ID)
	}
	staff, err := a.Identity.Store.MerchantAccounts(ctx, f.Merchant)
	must(err)
	for _, acct := range staff {
		s.add("account", acct.ID)
		s.markers = append(s.markers, acct.Username)
	}
	invitations, err := a.Merchants.Invitations(ctx, f.Scope)
	must(err)
	for _, inv := range invitations {
		s.markers = append(s.markers, inv.Username)
	}
	if len(s.ids["purchase"]) == 0 || len(s.ids["list"]) == 0 || len(s.ids["batch"]) == 0 || len(invitations) == 0 {
		t.Fatalf("merchant %d's fixture lacks a kind of row: %v, %d invitations", f.Merchant, s.ids, len(invitations))
	}
	return s
}

// find names the first sign of the merchant in an answer, or "". The
// body is searched for the markers, then walked as JSON (if it is): an ID
// of the merchant's rows where the key says its kind, or a "kind:id"
// string naming one. root is the kind of the answer's top object, if
// known.
func (s *tenancySigns) find(body []byte, root string) string {
	for _, m := range s.markers {
		if bytes.Contains(body, []byte(m)) {
			return fmt.Sprintf("the marker %q", m)
		}
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return "" // CSV or an image: the markers were its check
	}
	return s.walk(v, root, "$")
}

func (s *tenancySigns) walk(v any, kind, at string) string {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			here := at + "." + k
			switch x := v[k].(type) {
			case json.Number:
				idKind := tenancyIDKeys[k]
				if k == "id" {
					idKind = kind
				} else if base, ok := strings.CutSuffix(k, "_id"); ok {
					idKind = tenancyContainers[base]
				}
				if n, err := x.Int64(); err == nil && s.ids[idKind][n] {
					return fmt.Sprintf("%s = %d, its %s", here, n, idKind)
				}
			default:
				if hit := s.walk(x, tenancyContainers[k], here); hit != "" {
					return hit
				}
			}
		}
	case []any:
		for i, x := range v {
			if n, ok := x.(json.Number); ok {
				if id, err := n.Int64(); err == nil && s.ids[kind][id] {
					return fmt.Sprintf("%s[%d] = %d, its %s", at, i, id, kind)
				}
				continue
			}
			if hit := s.walk(x, kind, fmt.Sprintf("%s[%d]", at, i)); hit != "" {
				return hit
			}
		}
	case string:
		if s.refs[v] {
			return fmt.Sprintf("%s = %q", at, v)
		}
	}
	return ""
}

// rootKind is the kind of a GET answer's top object, from its path: the
// last segment not a parameter, if it names a kind ("/merchant/products/
// {id}" answers a product).
func rootKind(method, path string) string {
	if method != http.MethodGet {
		return ""
	}
	segs := strings.Split(path, "/")
	for i := len(segs) - 1; i >= 0; i-- {
		if !strings.HasPrefix(segs[i], "{") {
			return tenancyContainers[segs[i]]
		}
	}
	return ""
}

// tenancyBlind are the merchant GET routes whose answer shows nothing of
// the merchant whatever its data, with why. Every other GET route's
// answer, as merchant B on its own resources, must show a sign of B: so
// the leak check on A's answer can see B's rows, B's fixture must have a
// row of every kind a route lists.
var tenancyBlind = map[string]string{
	"/api/v1/merchant/templates":                 "the operator's templates, offered to every merchant",
	"/api/v1/merchant/campaigns/{id}/poster.png": "an image",
	"/api/v1/merchant/campaigns/{id}/stats.csv":  "hourly numbers only",
}

// tenancyQueries are query strings the matrix adds to a merchant route's
// path: the charges' period spans the day before to the day after the
// fixture's ride, so the month's turn cannot drop the ride.
var tenancyQueries = map[string]func(f *merchantFixture) string{
	"/api/v1/merchant/charges": func(f *merchantFixture) string {
		now := f.App.Benefits.Now().In(benefits.Shanghai)
		return "?from=" + now.AddDate(0, 0, -1).Format(time.DateOnly) + "&to=" + now.AddDate(0, 0, 1).Format(time.DateOnly)
	},
}

// addCharged gives f's merchant a charge — a second campaign, approved,
// whose ticket a rider claimed and used on a ride — and a staff
// invitation, so its charges and staff answers show them.
func addCharged(t *testing.T, f *merchantFixture) {
	t.Helper()
	ctx, a, actor := context.Background(), f.App, fmt.Sprintf("merchant-%d-admin", f.Merchant)
	now := a.Benefits.Now()
	c, err := a.Benefits.CreateCampaign(ctx, f.Scope, benefits.Campaign{ProductID: f.Product.ID, NameZH: "收费活动 " + f.Marker,
		Starts: now.Add(-time.Hour), Ends: now.Add(7 * 24 * time.Hour), Channels: []benefits.Channel{benefits.ClaimChannel}}, "", actor)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Benefits.AddStock(ctx, f.Scope, c.ID, fmt.Sprintf("charged-%d", c.ID), 2, 800); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Benefits.Act(ctx, f.Scope, c.ID, benefits.Submit, actor, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Benefits.Act(ctx, tenant.All(), c.ID, benefits.Approve, "fixture-reviewer", ""); err != nil {
		t.Fatal(err)
	}
	rider, err := a.Identity.CreateAccount(ctx, identity.NewAccount{Username: fmt.Sprintf("charged-rider-%d", c.ID), Role: identity.Passenger, Password: "fixture-password"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Benefits.Claim(ctx, c.ID, rider.ID); err != nil {
		t.Fatal(err)
	}
	red, _, err := a.Benefits.Redeem(ctx, benefits.Ride{ID: fmt.Sprintf("charged-ride-%d", c.ID), Fare: 500, From: "nbmetro:GL", To: "nbmetro:DMK",
		FromLine: "nbmetro:L1", ToLine: "nbmetro:L1", EnteredAt: a.Benefits.Now()}, rider.ID)
	if err != nil || len(red.Applied) != 1 || red.Applied[0].CampaignID != c.ID {
		t.Fatalf("the fixture's ride: %+v, %v", red, err)
	}
	if _, err := a.Merchants.Invite(ctx, f.Scope, merchant.Invite{Username: fmt.Sprintf("m%d-invitee-%d", f.Merchant, c.ID), DisplayName: "受邀 " + f.Marker,
		Grants: []identity.Permission{identity.MerchantReports}}); err != nil {
		t.Fatal(err)
	}
}

// tenancyRef is a query parameter ("query:campaign") or a request body
// field ("body:product_id") of a merchant route ("METHOD path") that
// names a resource by its ID.
type tenancyRef struct{ Route, Field string }

// tenancyRefCase says how the matrix checks a tenancyRef.
type tenancyRefCase struct {
	// value is the resource of f's merchant the field names.
	value func(t *testing.T, f *merchantFixture) string
	// body is a request body, valid but for what it names, with v in the
	// field (body fields only).
	body func(f *merchantFixture, v string) string
	// list, for a filter of a list, is the answer's list: naming another
	// merchant's resource lists nothing (200, empty), the caller's own
	// lists something. Without it, naming another merchant's resource is
	// 404 and writes nothing, naming its own succeeds.
	list string
	// shared, if set, says why the field names an operator-wide resource
	// any merchant may name: nothing to check.
	shared string
}

// tenancyRefs covers every query parameter and body field of a merchant
// route that names a resource: a field ending in "_id" or named after a
// kind (refField). One the table misses fails TestTenancyMatrix, read
// from the route's OpenAPI operation, so a new field cannot escape.
var tenancyRefs = map[tenancyRef]tenancyRefCase{
	{"GET /api/v1/merchant/purchases", "query:campaign"}: {value: fixtureCampaign, list: "purchases"},
	{"GET /api/v1/merchant/lists", "query:campaign"}:     {value: fixtureCampaign, list: "lists"},
	{"POST /api/v1/merchant/campaigns", "body:product_id"}: {value: func(_ *testing.T, f *merchantFixture) string { return id(f.Product.ID) },
		body: func(f *merchantFixture, v string) string {
			now := f.App.Benefits.Now()
			return fmt.Sprintf(`{"product_id":%s,"name_zh":"矩阵活动","starts":%q,"ends":%q,"channels":["claim"]}`, v,
				now.Add(-time.Minute).Format(time.RFC3339), now.Add(48*time.Hour).Format(time.RFC3339))
		}},
	{"POST /api/v1/merchant/purchases", "body:campaign_id"}: {value: fixtureCampaign,
		body: func(_ *merchantFixture, v string) string { return fmt.Sprintf(`{"campaign_id":%s,"tickets":1}`, v) }},
	{"POST /api/v1/merchant/products", "body:template_id"}: {shared: "templates are the operator's, offered to every merchant"},
}

func fixtureCampaign(_ *testing.T, f *merchantFixture) string { return id(f.Campaign.ID) }

// refField reports whether a query parameter or body field named name
// names a resource by its ID.
func refField(name string) bool {
	if strings.HasSuffix(name, "_id") {
		return true
	}
	_, kind := tenancyContainers[name]
	return kind || slices.Contains([]string{"template", "account", "code", "ticket"}, name)
}

// refFields lists the query parameters and body fields (nested ones
// dotted) of the operation method path that name a resource.
func refFields(t *testing.T, oapi *huma.OpenAPI, method, path string) []string {
	t.Helper()
	item := oapi.Paths[path]
	if item == nil {
		t.Fatalf("%s is not in the OpenAPI document", path)
	}
	op := map[string]*huma.Operation{http.MethodGet: item.Get, http.MethodPost: item.Post, http.MethodPut: item.Put, http.MethodPatch: item.Patch, http.MethodDelete: item.Delete}[method]
	if op == nil {
		t.Fatalf("%s %s is not in the OpenAPI document", method, path)
	}
	var out []string
	for _, p := range op.Parameters {
		if p.In == "query" && refField(p.Name) {
			out = append(out, "query:"+p.Name)
		}
	}
	if op.RequestBody == nil {
		return out
	}
	seen := map[string]bool{}
	var walk func(s *huma.Schema, prefix string)
	walk = func(s *huma.Schema, prefix string) {
		if s == nil {
			return
		}
		if s.Ref != "" {
			if seen[s.Ref] {
				return
			}
			seen[s.Ref] = true
			walk(oapi.Components.Schemas.SchemaFromRef(s.Ref), prefix)
			return
		}
		for name, p := range s.Properties {
			if refField(name) {
				out = append(out, "body:"+prefix+name)
			}
			walk(p, prefix+name+".")
		}
		walk(s.Items, prefix)
		for _, sub := range slices.Concat(s.AllOf, s.AnyOf, s.OneOf) {
			walk(sub, prefix)
		}
	}
	for _, mt := range op.RequestBody.Content {
		walk(mt.Schema, "")
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// tenancyWorld is what a refused request must not change: merchant B's
// campaign (stock, budget, status) and how many campaigns, products,
// purchases and lists there are, every merchant's.
func tenancyWorld(t *testing.T, fb *merchantFixture) string {
	t.Helper()
	ctx, a, all := context.Background(), fb.App, tenant.All()
	c, err := a.Benefits.Campaign(ctx, all, fb.Campaign.ID)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := a.Benefits.Campaigns(ctx, all, benefits.CampaignFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := a.Benefits.Products(ctx, all, "")
	if err != nil {
		t.Fatal(err)
	}
	pus, err := a.Purchases.Purchases(ctx, all, purchase.Filter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := a.DistributionStore.Lists(ctx, all, 0)
	if err != nil {
		t.Fatal(err)
	}
	cj, _ := json.Marshal(c)
	return fmt.Sprintf("B's campaign %s; %d campaigns, %d products, %d purchases, %d lists", cj, len(cs), len(ps), len(pus), len(ls))
}

// checkRefs checks the query parameters and body fields of route rt that
// name a resource: as A (token) naming B's, a list filter lists nothing
// and anything else is 404 and writes nothing; naming A's own, the list
// has A's rows and the request succeeds. path is rt's path filled with
// A's resources.
func checkRefs(t *testing.T, s *testServer, method, route, path, token string, fa, fb *merchantFixture) {
	t.Helper()
	for _, field := range refFields(t, s.api.OpenAPI(), method, route) {
		c, ok := tenancyRefs[tenancyRef{method + " " + route, field}]
		switch {
		case !ok:
			t.Errorf("%s of %s %s names a resource but is not in tenancyRefs: add how the matrix checks it", field, method, route)
			continue
		case c.shared != "":
			continue
		}
		kind, name, _ := strings.Cut(field, ":")
		send := func(f *merchantFixture) response {
			v := c.value(t, f)
			switch {
			case kind == "query":
				sep := "?"
				if strings.Contains(path, "?") {
					sep = "&"
				}
				return s.do(t, method, path+sep+name+"="+v, token, nil)
			case c.body == nil:
				t.Fatalf("tenancyRefs[%s %s, %s] has no body", method, route, field)
			}
			return s.do(t, method, path, token, strings.NewReader(c.body(f, v)))
		}
		if c.list != "" {
			for _, f := range []*merchantFixture{fb, fa} {
				res := send(f)
				var out map[string]json.RawMessage
				var rows []json.RawMessage
				if res.status != http.StatusOK || json.Unmarshal(res.body, &out) != nil || json.Unmarshal(out[c.list], &rows) != nil {
					t.Errorf("%s %s with %s of merchant %d: %d: %.300s", method, route, field, f.Merchant, res.status, res.body)
				} else if mine := f == fa; (len(rows) > 0) != mine {
					t.Errorf("%s %s as merchant A (%d) with %s of merchant %d listed %d rows: %.300s", method, route, fa.Merchant, field, f.Merchant, len(rows), res.body)
				}
			}
			continue
		}
		before := tenancyWorld(t, fb)
		if res := send(fb); res.status != http.StatusNotFound {
			t.Errorf("merchant A naming merchant B's resource in %s of %s %s: %d, want 404: %.300s", field, method, route, res.status, res.body)
		}
		if after := tenancyWorld(t, fb); after != before {
			t.Errorf("merchant A naming merchant B's resource in %s of %s %s wrote:\n before %s\n after  %s", field, method, route, before, after)
		}
		if res := send(fa); res.status/100 != 2 {
			t.Errorf("merchant A naming its own resource in %s of %s %s: %d: %.300s", field, method, route, res.status, res.body)
		}
	}
}

// TestTenancySignsFind: the leak check finds another merchant's marker,
// an ID where the key says its kind, and an owner string; it does not
// take an ID of one kind for another kind's.
func TestTenancySignsFind(t *testing.T) {
	s := &tenancySigns{markers: []string{"TENANCY-M2-7f3a"}, ids: map[string]map[int64]bool{}, refs: map[string]bool{}}
	s.add("merchant", 2)
	s.add("campaign", 7)
	s.add("list", 9)
	for body, want := range map[string]bool{
		`{"purchases":[{"id":7,"merchant_id":1,"campaign_id":3}]}`:             false, // purchase 7 is not campaign 7
		`{"purchases":[{"id":1,"merchant_id":1,"campaign_id":7}]}`:             true,
		`{"campaigns":[{"campaign":{"id":7,"product_id":9}}]}`:                 true,
		`{"campaigns":[{"campaign":{"id":3,"product_id":9,"owner":"x"}}]}`:     false,
		`{"products":[{"id":3,"owner":"merchant:2"}]}`:                         true,
		`{"merchant":2,"charges":[]}`:                                          true,
		`{"accounts":[{"id":9,"display_name":"员工 TENANCY-M2-7f3a"}]}`:          true,
		`{"batches":[{"id":9,"campaign_id":3}],"entries":[{"id":9,"line":2}]}`: false,
		"code,redeemed_by\nABC,\n":                                             false,
	} {
		if got := s.find([]byte(body), ""); (got != "") != want {
			t.Errorf("find(%s) = %q, want a hit: %v", body, got, want)
		}
	}
	if got := s.find([]byte(`{"id":9,"entries":[]}`), "list"); got == "" {
		t.Error("the answer's own ID, of the route's kind, was not checked")
	}
}
