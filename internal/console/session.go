package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"piao/internal/identity"
	"strings"
	"time"
)

// Cookie names.
const (
	sessionCookie = identity.SessionCookie
	// loginCSRFCookie carries the pre-session CSRF token of the login form.
	loginCSRFCookie = "piao_login_csrf"
	// csrfField is the hidden form field every POST form carries.
	csrfField = "csrf"
)

// loginCSRFTTL bounds how long a login form stays usable.
const loginCSRFTTL = time.Hour

// CSRF defence has two layers.
//
// Every route is wrapped in http.CrossOriginProtection, which refuses
// unsafe requests that browsers mark as cross-origin (Sec-Fetch-Site) or
// whose Origin differs from Host.
//
// Behind it, every POST form carries a synchronizer token in the field
// "csrf". With a session, the token is derived from the session secret
// (sessionCSRF), so it needs no storage and dies with the session.
//
// The login form has no session yet. It uses a pre-session double-submit
// token: GET /login sets a random value in an HttpOnly, SameSite=Strict
// cookie scoped to /login and puts the same value in the form; POST /login
// accepts only if both match. We chose this over a server-signed token
// because it needs no signing key shared between instances or kept across
// restarts. Its known weakness, a sibling subdomain planting the cookie, is
// covered by CrossOriginProtection, which also refuses same-site requests
// from another origin; and the worst a forged login can do is sign the
// victim into the attacker's account.

// sessionCSRF derives the CSRF token of a session from its secret.
func sessionCSRF(secret string) string {
	sum := sha256.Sum256([]byte("csrf:" + secret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// tokensEqual compares two tokens in constant time; empty tokens never match.
func tokensEqual(a, b string) bool {
	return a != "" && b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// randomToken returns 32 random bytes, base64url-encoded.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics on failure since Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// setCookie writes a cookie with the console's common attributes: HttpOnly,
// SameSite=Lax unless given, and Secure when the console's public URL is
// https (Deps.SecureCookies: TLS usually ends at a proxy in front of piao)
// or the request itself came over TLS.
func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, ck *http.Cookie) {
	ck.HttpOnly = true
	ck.Secure = c.deps.SecureCookies || r.TLS != nil
	if ck.SameSite == 0 {
		ck.SameSite = http.SameSiteLaxMode
	}
	if ck.Path == "" {
		ck.Path = "/"
	}
	http.SetCookie(w, ck)
}

// clearCookie removes a cookie set with setCookie on path.
func (c *Console) clearCookie(w http.ResponseWriter, r *http.Request, name, path string) {
	c.setCookie(w, r, &http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1})
}

// localPath returns p if it is a path on this site ("/network?x=1"), else "/".
// It refuses absolute URLs, scheme-relative "//host" and "/\host" forms that
// some browsers treat as hosts, and control characters.
func localPath(p string) string {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || len(p) > 2048 {
		return "/"
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return p
}
