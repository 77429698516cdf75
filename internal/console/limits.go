package console

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"piao/internal/abuse"
	"piao/internal/fault"
)

// allow takes a token of action for the request's client IP and, when
// someone is logged in, for their account: the same buckets the API uses.
func (c *Console) allow(r *http.Request, st *state, a abuse.Action) error {
	if err := c.deps.Guard.Allow(a, abuse.PerIP, c.deps.Guard.ClientIP(r)); err != nil {
		return err
	}
	if !st.principal.Anonymous() {
		return c.deps.Guard.Allow(a, abuse.PerAccount, "account:"+strconv.FormatInt(st.principal.Account.ID, 10))
	}
	return nil
}

// setRetryAfter sets the Retry-After header of a refusal that says when it
// lifts (a rate limit, a login lock).
func setRetryAfter(w http.ResponseWriter, err error) {
	fe := fault.As(err)
	if fe.RetryAt.IsZero() {
		return
	}
	secs := int(math.Ceil(time.Until(fe.RetryAt).Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
}

// limitsPage lists every abuse limit with its value and default, read-only:
// limits are set when the server starts (piao serve --limit …).
func (c *Console) limitsPage(w http.ResponseWriter, r *http.Request, st *state) {
	v := c.newView(r, st, "limits.title")
	v.Data = c.deps.Guard.Config().Settings()
	c.render(w, r, http.StatusOK, "limits.html", v)
}
