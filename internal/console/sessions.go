package console

import (
	"net/http"

	"piao/internal/identity"
)

// sessionsPath is the page where a user sees and ends their own sessions
// and API tokens.
const sessionsPath = "/account/sessions"

// credentialRow is one session or token as the page lists it.
type credentialRow struct {
	identity.Credential
	KindName, Created, Expires string
}

// sessions lists the user's live console sessions and API tokens.
func (c *Console) sessions(w http.ResponseWriter, r *http.Request, st *state) {
	creds, err := c.deps.Identity.Credentials(r.Context(), st.principal)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	rows := make([]credentialRow, len(creds))
	for i, cr := range creds {
		rows[i] = credentialRow{Credential: cr, KindName: st.lang.T("sessions.kind." + string(cr.Kind)), Created: beijing(cr.CreatedAt), Expires: beijing(cr.ExpiresAt)}
	}
	v := c.newView(r, st, "sessions.title")
	v.Data = rows
	c.render(w, r, http.StatusOK, "sessions.html", v)
}

// revokeSession ends one of the user's sessions or tokens; ending the
// session in use logs the browser out.
func (c *Console) revokeSession(w http.ResponseWriter, r *http.Request, st *state) {
	id := r.PathValue("id")
	creds, err := c.deps.Identity.Credentials(r.Context(), st.principal)
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	if err := c.deps.Identity.Revoke(r.Context(), st.principal, id); err != nil {
		c.fail(w, r, st, err)
		return
	}
	for _, cr := range creds {
		if cr.ID == id && cr.Current {
			c.clearCookie(w, r, sessionCookie, "/")
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
	}
	http.Redirect(w, r, sessionsPath, http.StatusSeeOther)
}

// revokeAllSessions logs the user out everywhere, this browser included.
func (c *Console) revokeAllSessions(w http.ResponseWriter, r *http.Request, st *state) {
	if _, err := c.deps.Identity.RevokeAll(r.Context(), st.principal.Account.ID, "log out everywhere (console)"); err != nil {
		c.fail(w, r, st, err)
		return
	}
	c.clearCookie(w, r, sessionCookie, "/")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
