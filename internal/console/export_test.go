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
