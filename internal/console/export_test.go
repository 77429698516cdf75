package console

import (
	"net/http"

	"piao/internal/identity"
)

// GuardedForTest returns a handler behind the console's guard that needs
// perm, so tests can reach the 403 page with any permission they choose.
func (c *Console) GuardedForTest(perm identity.Permission) http.Handler {
	return c.cop.Handler(c.guard(route{Page: Page{Method: "GET", Path: "/guarded-for-test", Permission: perm},
		handle: func(w http.ResponseWriter, r *http.Request, st *state) { w.WriteHeader(http.StatusNoContent) }}))
}

// RouteForTest is a route's page with the fault it answers while the
// service it needs is off (nil: it runs, or the page needs none).
type RouteForTest struct {
	Page
	Off error
}

// RoutesForTest returns the route table as tests may read it.
func (c *Console) RoutesForTest() []RouteForTest {
	var out []RouteForTest
	for _, rt := range c.routes() {
		out = append(out, RouteForTest{Page: rt.Page, Off: rt.off})
	}
	return out
}
