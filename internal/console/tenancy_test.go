package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"piao/internal/app/apptest"
	"piao/internal/benefits"
	"piao/internal/console"
	"piao/internal/distribution"
	"piao/internal/identity"
	"piao/internal/purchase"
	"piao/internal/tenant"
)

// consoleParam is one path parameter of one console page.
type consoleParam struct{ Path, Param string }

// fixtureValue gives a path parameter or form field its value for f's
// merchant.
type fixtureValue func(t *testing.T, f *apptest.MerchantFixture) string

var (
	fixtureCampaign fixtureValue = func(_ *testing.T, f *apptest.MerchantFixture) string { return itoa(f.Campaign.ID) }
	fixtureBatch    fixtureValue = func(_ *testing.T, f *apptest.MerchantFixture) string { return itoa(f.Batch.ID) }
	fixtureStaff    fixtureValue = func(_ *testing.T, f *apptest.MerchantFixture) string { return itoa(f.Staff.ID) }
	fixtureList     fixtureValue = func(t *testing.T, f *apptest.MerchantFixture) string { return itoa(f.List(t)) }
	fixturePurchase fixtureValue = func(t *testing.T, f *apptest.MerchantFixture) string { return itoa(f.Purchase(t)) }
	fixtureListLine fixtureValue = func(*testing.T, *apptest.MerchantFixture) string { return strconv.Itoa(apptest.FixtureListLine) }
)

// consoleParams names, for every path parameter of every merchant page of
// the console, the resource of the fixture's merchant it is filled with.
// TestConsoleTenancyMatrix fills it with merchant B's resource as merchant
// A (expecting 404) and with A's own (expecting the page to work). A
// merchant page whose parameter is missing here fails the test: a new
// page cannot escape it. To add a page, add one line per parameter: the
// page's path as in the route table, the parameter's name, and the
// fixture's resource (a field or method of apptest.MerchantFixture; add
// one there if the resource is new).
var consoleParams = map[consoleParam]fixtureValue{
	{"/merchant/campaigns/{id}", "id"}:                                  fixtureCampaign,
	{"/merchant/campaigns/{id}/submit", "id"}:                           fixtureCampaign,
	{"/merchant/purchases/{id}", "id"}:                                  fixturePurchase,
	{"/merchant/invoices/{id}/pdf", "id"}:                               func(t *testing.T, f *apptest.MerchantFixture) string { return itoa(f.Invoice(t)) },
	{"/merchant/refunds/{id}", "id"}:                                    fixtureCampaign,
	{"/merchant/distribution/lists/{id}", "id"}:                         fixtureList,
	{"/merchant/distribution/lists/{id}/revoke", "id"}:                  fixtureList,
	{"/merchant/distribution/lists/{id}/entries/{line}/revoke", "id"}:   fixtureList,
	{"/merchant/distribution/lists/{id}/entries/{line}/revoke", "line"}: fixtureListLine,
	{"/merchant/distribution/campaigns/{id}/codes", "id"}:               fixtureCampaign,
	{"/merchant/distribution/campaigns/{id}/poster", "id"}:              fixtureCampaign,
	{"/merchant/distribution/code-batches/{id}/codes.csv", "id"}:        fixtureBatch,
	{"/merchant/distribution/code-batches/{id}/revoke", "id"}:           fixtureBatch,
	{"/merchant/staff/{id}/grants", "id"}:                               fixtureStaff,
	{"/merchant/staff/{id}/disable", "id"}:                              fixtureStaff,
	{"/merchant/staff/{id}/enable", "id"}:                               fixtureStaff,
}

// consoleForm is what a merchant page's POST sends beside its CSRF token.
type consoleForm struct {
	fields url.Values
	files  [][3]string // (field, file name, content): sent as multipart
	// names marks a form whose fields name a resource of the fixture's
	// merchant: the page is then walked with merchant B's form as
	// merchant A (expecting 404) even if its path has no parameter.
	names bool
}

// consoleForms are the forms of merchant POST pages, by "METHOD path", made
// for f's merchant; a page not listed posts its CSRF token alone. Give a
// form valid for the merchant's own resource, so that the walk as
// merchant B's neighbour gets past input checks to the tenancy check.
var consoleForms = map[string]func(t *testing.T, f *apptest.MerchantFixture) consoleForm{
	"POST /merchant/purchases": func(_ *testing.T, f *apptest.MerchantFixture) consoleForm {
		return consoleForm{fields: url.Values{"campaign": {itoa(f.Campaign.ID)}, "tickets": {"1"}}, names: true}
	},
	"POST /merchant/distribution/lists": func(_ *testing.T, f *apptest.MerchantFixture) consoleForm {
		return consoleForm{fields: url.Values{"campaign": {itoa(f.Campaign.ID)}}, files: [][3]string{{"list", "list.csv", "account\n1\n"}}, names: true}
	},
	"POST /merchant/distribution/campaigns/{id}/codes": func(*testing.T, *apptest.MerchantFixture) consoleForm {
		return consoleForm{fields: url.Values{"count": {"1"}}}
	},
	"POST /merchant/distribution/lists/{id}/revoke": func(*testing.T, *apptest.MerchantFixture) consoleForm {
		return consoleForm{fields: url.Values{"reason": {"tenancy walk"}}}
	},
	"POST /merchant/distribution/code-batches/{id}/revoke": func(*testing.T, *apptest.MerchantFixture) consoleForm {
		return consoleForm{fields: url.Values{"reason": {"tenancy walk"}}}
	},
	"POST /merchant/staff/{id}/grants": func(*testing.T, *apptest.MerchantFixture) consoleForm {
		return consoleForm{fields: url.Values{"grants": {string(identity.MerchantReports)}}}
	},
	"POST /merchant/staff": func(*testing.T, *apptest.MerchantFixture) consoleForm {
		return consoleForm{fields: url.Values{"username": {fmt.Sprintf("walk-invitee-%d", time.Now().UnixNano())}, "display_name": {"巡检员工"},
			"grants": {string(identity.MerchantReports)}}}
	},
}

// isMerchantPermission reports whether perm is one only merchants' users hold.
func isMerchantPermission(perm identity.Permission) bool {
	return slices.Contains(identity.Delegable, perm) || perm == identity.MerchantUsers
}

var pagePathParam = regexp.MustCompile(`\{([^}.]+)(\.\.\.)?\}`)

// fillPage fills a page's path parameters from consoleParams for f's
// merchant; ok is false if one is not there.
func fillPage(t *testing.T, path string, f *apptest.MerchantFixture) (filled string, ok bool) {
	ok = true
	filled = pagePathParam.ReplaceAllStringFunc(path, func(m string) string {
		name := pagePathParam.FindStringSubmatch(m)[1]
		v, known := consoleParams[consoleParam{path, name}]
		if !known {
			ok = false
			return m
		}
		return v(t, f)
	})
	return filled, ok
}

// walker is a logged-in browser of the walk with its session's CSRF token.
type walker struct {
	cl   *client
	csrf string
}

// send requests page p at path as w, with p's form for f's merchant if
// it is a POST, and returns the status and body.
func (w walker) send(t *testing.T, p console.Page, path string, f *apptest.MerchantFixture) (int, string) {
	t.Helper()
	cl := *w.cl
	cl.t = t // fail the subtest, not the walk
	if p.Method == http.MethodGet {
		resp, body := cl.get(path)
		return resp.StatusCode, body
	}
	form := consoleForm{fields: url.Values{}}
	if mk, ok := consoleForms[p.Method+" "+p.Path]; ok {
		form = mk(t, f)
	}
	fields := url.Values{}
	for k, v := range form.fields {
		fields[k] = slices.Clone(v)
	}
	fields.Set("csrf", w.csrf)
	if form.files != nil {
		single := map[string]string{}
		for k := range fields {
			single[k] = fields.Get(k)
		}
		resp, body := cl.postMultipart(path, single, form.files)
		return resp.StatusCode, body
	}
	resp, body := cl.post(path, fields)
	return resp.StatusCode, body
}

// merchantWalker makes an account of merchant m with role and grants,
// logs it in through the login form and reads its CSRF token.
func (e *env) merchantWalker(t *testing.T, m int64, role identity.Role, grants []identity.Permission) walker {
	t.Helper()
	username := fmt.Sprintf("walk-m%d-%s-%d", m, role, time.Now().UnixNano())
	if _, err := e.app.Identity.CreateAccount(context.Background(), identity.NewAccount{Username: username, DisplayName: "巡检", Role: role,
		Password: "walk-password", Merchant: m, Grants: grants}); err != nil {
		t.Fatal(err)
	}
	cl := e.client(t)
	cl.login(demoLogin(username, "walk-password"))
	w := walker{cl: cl, csrf: cl.csrfFor("/merchant")}
	if w.csrf == "" {
		t.Fatalf("no CSRF token for %s", username)
	}
	return w
}

// tenantState is what the walk's POSTs would change of a merchant's
// resources if a page let another merchant reach them.
type tenantState struct {
	Status               benefits.Status
	Stock                int
	BudgetValue          int64
	Batches              []distribution.Batch
	Lists                int
	Entries              []distribution.Entry
	StaffDisabled        bool
	StaffGrants          []identity.Permission
	Purchases            int
	Invitations, Members int
}

// stateOf reads f's merchant's tenantState through its own scope.
func stateOf(t *testing.T, e *env, f *apptest.MerchantFixture) tenantState {
	t.Helper()
	ctx, a := context.Background(), e.app
	list := f.List(t) // made before anything is counted
	f.Purchase(t)
	var s tenantState
	c, err := a.Benefits.Campaign(ctx, f.Scope, f.Campaign.ID)
	if err != nil {
		t.Fatal(err)
	}
	s.Status, s.Stock, s.BudgetValue = c.Status, c.Stock, c.BudgetValue
	if s.Batches, err = a.DistributionStore.CodeBatches(ctx, f.Scope, f.Campaign.ID); err != nil {
		t.Fatal(err)
	}
	lists, err := a.DistributionStore.Lists(ctx, f.Scope, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Lists = len(lists)
	if s.Entries, err = a.DistributionStore.Entries(ctx, f.Scope, list); err != nil {
		t.Fatal(err)
	}
	staff, err := a.Identity.Store.AccountByID(ctx, f.Staff.ID)
	if err != nil {
		t.Fatal(err)
	}
	s.StaffDisabled, s.StaffGrants = staff.Disabled, staff.Grants
	ps, err := a.Purchases.Purchases(ctx, f.Scope, purchase.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	s.Purchases = len(ps)
	invs, err := a.Merchants.Invitations(ctx, f.Scope)
	if err != nil {
		t.Fatal(err)
	}
	members, err := a.Merchants.Staff(ctx, f.Scope)
	if err != nil {
		t.Fatal(err)
	}
	s.Invitations, s.Members = len(invs), len(members)
	return s
}

// TestConsoleTenancyMatrix walks every merchant page of the console's route
// table (SPEC S2), GET and POST, on SQLite and on PostgreSQL: as merchant
// A's admin with merchant B's resources every page with a path parameter
// (or a form naming a resource) answers 404, as if they did not exist,
// and changes nothing of B's; as a staff account of A holding every
// permission but the page's, 403; as A's admin on A's own resources, GET
// pages render (200) and POSTs answer neither 404 nor 403 nor a server
// error.
func TestConsoleTenancyMatrix(t *testing.T) {
	for _, engine := range []struct {
		name string
		opts []apptest.Option
	}{{"sqlite", nil}, {"postgres", []apptest.Option{apptest.OnPostgres()}}} {
		t.Run(engine.name, func(t *testing.T) {
			e := newEnvWith(t, engine.opts)
			a := e.app
			tpl, err := a.Benefits.CreateTemplate(context.Background(), benefits.Template{Kind: benefits.SingleRide, NameZH: "单程票", UnitPrice: 400}, "fixture")
			if err != nil {
				t.Fatal(err)
			}
			merchantA := apptest.OnboardedMerchant(t, a, "91350100M000100Y43", "walk-fixture-a")
			merchantB := apptest.OnboardedMerchant(t, a, "9144030071526726XG", "walk-fixture-b")
			fa, fb := apptest.NewMerchantFixture(t, a, merchantA, tpl), apptest.NewMerchantFixture(t, a, merchantB, tpl)
			if tenant.Merchant(merchantA).Sees(merchantB) {
				t.Fatal("merchant A's scope sees merchant B")
			}
			before := stateOf(t, e, fb)
			admin := e.merchantWalker(t, merchantA, identity.MerchantAdmin, nil)
			staff := map[identity.Permission]walker{} // by the permission the account lacks

			pages := e.console.Pages()
			slices.SortFunc(pages, func(x, y console.Page) int { return strings.Compare(x.Method+x.Path, y.Method+y.Path) })
			walked, crossed := 0, 0
			for _, p := range pages {
				if !isMerchantPermission(p.Permission) {
					continue
				}
				walked++
				form := consoleForm{}
				if mk, ok := consoleForms[p.Method+" "+p.Path]; ok {
					form = mk(t, fa)
				}
				if _, ok := staff[p.Permission]; !ok {
					grants := slices.DeleteFunc(slices.Clone(identity.Delegable), func(g identity.Permission) bool { return g == p.Permission })
					staff[p.Permission] = e.merchantWalker(t, merchantA, identity.MerchantStaff, grants)
				}
				t.Run(p.Method+" "+p.Path, func(t *testing.T) {
					if strings.Contains(p.Path, "{") || form.names {
						crossed++
						path, ok := fillPage(t, p.Path, fb)
						if !ok {
							t.Fatalf("a path parameter of %s is not in consoleParams: add the merchant resource it names", p.Path)
						}
						if status, body := admin.send(t, p, path, fb); status != http.StatusNotFound {
							t.Errorf("merchant A on merchant B's %s: %d, want 404: %.300s", path, status, body)
						}
					}
					path, _ := fillPage(t, p.Path, fa)
					if status, body := staff[p.Permission].send(t, p, path, fa); status != http.StatusForbidden {
						t.Errorf("merchant A's staff without %s on %s: %d, want 403: %.300s", p.Permission, path, status, body)
					}
					status, body := admin.send(t, p, path, fa)
					switch {
					case p.Method == http.MethodGet && status != http.StatusOK:
						t.Errorf("merchant A's admin on its own %s: %d, want 200: %.300s", path, status, body)
					case status == http.StatusNotFound || status == http.StatusForbidden || status >= 500:
						t.Errorf("merchant A's admin posting to its own %s: %d: %.300s", path, status, body)
					}
				})
			}
			if walked < 20 || crossed < 15 {
				t.Errorf("only %d merchant pages walked, %d of them with merchant B's resources", walked, crossed)
			}
			if after := stateOf(t, e, fb); !reflect.DeepEqual(before, after) {
				t.Errorf("merchant B's resources changed by merchant A's walk:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
}
