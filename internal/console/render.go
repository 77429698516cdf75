package console

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"piao/internal/identity"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// templates holds one parsed template set per page, each with the layout.
type templates map[string]*template.Template

// mustParseTemplates parses every page together with the base layout and
// the shared partials (files named _*.html, which are not pages).
func mustParseTemplates() templates {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	shared := []string{"templates/base.html"}
	for _, n := range names {
		if strings.HasPrefix(n, "templates/_") {
			shared = append(shared, n)
		}
	}
	out := templates{}
	for _, n := range names {
		if n == "templates/base.html" || strings.HasPrefix(n, "templates/_") {
			continue
		}
		out[n[len("templates/"):]] = template.Must(template.New("base.html").ParseFS(templateFS, append(shared, n)...))
	}
	return out
}

// navItem is a link in the main navigation.
type navItem struct {
	Key, Path string
	// Need, if set, is what the role must hold to see the item, instead of
	// what its page needs: the ticket search is public, but only roles that
	// book tickets get it in their menu.
	Need identity.Permission
	// Passenger marks the passenger's own pages (/h5/…), the only ones in
	// a passenger's menu.
	Passenger bool
	// Merchant marks the merchant console's pages (/merchant/…), the only
	// ones in a merchant account's menu.
	Merchant bool
	Current  bool
}

// navigation lists the sections in menu order; items whose page the role
// may not open are hidden. Later sections (营销…) go here once their pages
// exist.
var navigation = []navItem{
	{Key: "nav.home", Path: "/"},
	{Key: "nav.h5", Path: "/h5", Need: identity.OrdersOwn, Passenger: true},
	{Key: "nav.orders", Path: "/h5/orders", Passenger: true},
	{Key: "nav.waitlist", Path: "/h5/waitlist", Passenger: true},
	{Key: "nav.wallet", Path: "/h5/wallet", Passenger: true},
	{Key: "nav.shop", Path: "/h5/shop", Passenger: true},
	{Key: "nav.h5invoices", Path: "/h5/invoices", Passenger: true},
	{Key: "nav.network", Path: "/network"},
	{Key: "nav.governance", Path: "/governance"},
	{Key: "nav.benefits", Path: "/benefits"},
	{Key: "nav.metro", Path: "/metro"},
	{Key: "nav.h5documents", Path: "/h5/documents", Passenger: true},
	{Key: "nav.h5subsidy", Path: "/h5/subsidy", Passenger: true},
	{Key: "nav.subsidy", Path: "/subsidy"},
	{Key: "nav.merchants", Path: "/merchants"},
	{Key: "nav.limits", Path: "/limits"},
	{Key: "nav.fees", Path: "/booking/fees"},
	{Key: "nav.invoices", Path: "/invoices"},
	{Key: "nav.audit", Path: "/audit"},
	{Key: "nav.ledger", Path: "/ledger"},
	{Key: "nav.reconcile", Path: "/reconciliations"},
	{Key: "nav.merchant", Path: merchantHome, Merchant: true},
	{Key: "nav.mcampaigns", Path: merchantHome + "/campaigns", Merchant: true},
	{Key: "nav.mpurchases", Path: merchantHome + "/purchases", Merchant: true},
	{Key: "nav.mbalance", Path: merchantHome + "/balance", Merchant: true},
	{Key: "nav.mstatements", Path: merchantHome + "/statements", Merchant: true},
	{Key: "nav.minvoices", Path: merchantHome + "/invoices", Merchant: true},
	{Key: "nav.mdistribution", Path: merchantHome + "/distribution", Merchant: true},
	{Key: "nav.memployees", Path: merchantHome + "/employees", Merchant: true},
	{Key: "nav.merchantstaff", Path: "/merchant/staff", Merchant: true},
}

// passengerHome is where a passenger's menu and the brand lead: the ticket
// search, instead of the operators' workbench.
const passengerHome = "/h5"

// isPassenger reports whether role books its own tickets: its menu then
// holds the passenger pages only, and its home is the ticket search.
func isPassenger(role identity.Role) bool { return identity.Allowed(role, identity.OrdersOwn) }

// inSection reports whether path is in the section at nav path p.
func inSection(path, p string) bool {
	return path == p || p != "/" && strings.HasPrefix(path, p+"/")
}

// view is what every page template receives.
type view struct {
	Lang      lang
	Title     string
	Principal identity.Principal
	CSRF      string
	Nav       []navItem
	Home      string // where the brand leads: the workbench, or a passenger's ticket search
	LangLinks []langLink
	Version   string
	RequestID string
	Error     *bilingual // shown at the top of the page in both languages
	Refresh   int        // seconds after which the page reloads itself; 0: never
	Scripts   []string   // the page's own scripts, paths under /static
	Data      any        // the page's own data
}

// langLink is one entry of the language switch.
type langLink struct {
	Label, Tag, URL string
	Current         bool
}

// alert is a bilingual message with the page's language first.
type alert struct {
	Lang lang
	Msg  bilingual
}

// Alert pairs a message with the page's language for the "alert" template.
func (v *view) Alert(m *bilingual) alert { return alert{v.Lang, *m} }

// RoleName is the user's role in the page's language.
func (v *view) RoleName() string { return v.Lang.T("role." + string(v.Principal.Role())) }

// newView fills the layout's data for a request. The language switch
// comes back to the page asked for, or for a POST to its path.
func (c *Console) newView(r *http.Request, st *state, titleKey string) *view {
	back := r.URL.RequestURI()
	if r.Method != http.MethodGet {
		back = r.URL.Path
	}
	return c.newViewBack(r, st, titleKey, back)
}

// newViewBack is newView with the page the language switch returns to, for
// a POST answered with a page whose address is another GET page.
func (c *Console) newViewBack(r *http.Request, st *state, titleKey, back string) *view {
	v := &view{Lang: st.lang, Title: st.lang.T(titleKey), Principal: st.principal, CSRF: st.csrf(), Version: c.deps.Version, Home: "/"}
	passenger := isPassenger(st.principal.Role())
	// Someone looking for trains without a login stays with them too.
	if passenger || st.principal.Anonymous() && inSection(r.URL.Path, passengerHome) {
		v.Home = passengerHome
	}
	merchant := isMerchant(st.principal.Role())
	if home := c.merchantStart(st.principal); merchant && home != "" {
		v.Home = home
	}
	if !st.principal.Anonymous() {
		section, current := r.URL.Path, -1
		for _, it := range navigation {
			need := it.Need
			if need == "" {
				need = c.permission(it.Path)
			}
			if !st.principal.Can(need) || passenger && !it.Passenger || merchant != it.Merchant {
				continue
			}
			// The longest matching item is current: /h5/orders, not /h5.
			if inSection(section, it.Path) && (current < 0 || len(it.Path) > len(v.Nav[current].Path)) {
				current = len(v.Nav)
			}
			v.Nav = append(v.Nav, it)
		}
		if current >= 0 {
			v.Nav[current].Current = true
		}
	}
	back = localPath(back)
	for _, l := range []struct {
		to    lang
		label string
	}{{zh, "中文"}, {en, "English"}} {
		v.LangLinks = append(v.LangLinks, langLink{Label: l.label, Tag: l.to.Tag(), Current: l.to == st.lang,
			URL: "/lang?to=" + string(l.to) + "&back=" + url.QueryEscape(back)})
	}
	return v
}

// render executes a page into a buffer, then writes it with status; a
// template failure becomes a plain 500 instead of half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page string, v *view) {
	v.RequestID = w.Header().Get("X-Request-Id")
	var buf bytes.Buffer
	if err := c.pages[page].Execute(&buf, v); err != nil {
		slog.ErrorContext(r.Context(), "console template", "page", page, "err", err.Error())
		http.Error(w, "internal error 服务器内部错误", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderError shows a bilingual message on an error page.
func (c *Console) renderError(w http.ResponseWriter, r *http.Request, st *state, status int, m bilingual) {
	key := "title.error"
	if status == http.StatusForbidden {
		key = "title.denied"
	}
	v := c.newView(r, st, key)
	v.Error = &m
	c.render(w, r, status, "error.html", v)
}

// static serves the embedded stylesheet, scripts and vendored libraries
// (static/vendor/…); it lists no directories.
func (c *Console) static(w http.ResponseWriter, r *http.Request, st *state) {
	name := "static/" + r.PathValue("file")
	if fi, err := fs.Stat(staticFS, name); err != nil || fi.IsDir() {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.ServeFileFS(w, r, staticFS, name)
}
