// Package console is piao's server-rendered web console: one skeleton of
// html/template pages, embedded CSS and plain forms shared by the operator
// back office, the merchant platform and the passenger H5 pages.
//
// It only translates between browsers and the domain services (identity,
// network, booking, governance): it reads forms, calls the services and
// renders what they return. It must never hold business rules, touch storage
// directly or need JavaScript, a build step or anything from the internet.
// The one script is optional: the behaviour report draws its charts with the
// vendored ECharts (static/vendor/echarts), from data the page also shows as
// tables.
package console

import (
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"piao/internal/abuse"
	"piao/internal/audit"
	"piao/internal/benefits"
	"piao/internal/booking"
	"piao/internal/distribution"
	"piao/internal/employer"
	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/identity"
	"piao/internal/invoice"
	"piao/internal/ledger"
	"piao/internal/merchant"
	"piao/internal/metro"
	"piao/internal/network"
	"piao/internal/problem"
	"piao/internal/purchase"
	"piao/internal/reconcile"
	"piao/internal/sale"
	"piao/internal/subsidy"
)

// Deps are the domain services the console calls.
type Deps struct {
	Identity *identity.Service // logins, sessions and who holds them
	Catalog  *network.Catalog  // stations, lines and timetables
	// Booking sells tickets on the passenger pages (/h5/…); it runs once
	// app.App.Start has been called. Without it those pages answer 503.
	Booking *booking.Service
	// Governance keeps the cancel limits, lists and behaviour reports
	// (/governance/…). Without it those pages answer 503.
	Governance *governance.Service
	// Benefits runs value-added tickets: the operator's /benefits pages
	// and the passenger's wallet. Without it those pages answer 503.
	Benefits *benefits.Service
	// Metro keeps cleared and settled trips: the benefit-use statistics
	// by station and hour. Without it that page says so.
	Metro   *metro.Service
	Version string // shown in the footer
	// Subsidy runs subsidy schemes and enrolments: the operator's review
	// queue and the rider's page. Without it those pages answer 503.
	Subsidy *subsidy.Service
	// SecureCookies marks every cookie Secure: set it when the console's
	// public URL is https, also when TLS ends at a proxy in front of piao.
	SecureCookies bool
	// Guard applies the abuse limits (SPEC S5), shared with the API so a
	// form and its API route count together; nil applies the defaults.
	Guard *abuse.Guard
	// Audit is the audit trail the services record in: the auditors'
	// /audit page reads it.
	Audit *audit.Log
	// Merchants runs merchant onboarding: the application pages, the
	// operator's review and the merchant admin's staff. Without it those
	// pages answer 503.
	Merchants *merchant.Service
	// Purchases runs merchants' batch purchases and refunds: the
	// merchant's /merchant/purchases pages. Without them they answer 503.
	Purchases *purchase.Service
	// Sales runs passengers' purchases of tickets on sale: the H5 shop
	// and refunds of bought tickets. Without it those pages answer 503.
	Sales *sale.Service
	// Invoices serves invoices: /merchant/invoices and the operator's
	// /invoices. Without it they answer 503.
	Invoices *invoice.Service
	// Employers runs employee benefits: rosters, allowances, top-ups and
	// bills; nil when off.
	Employers *employer.Service
	// Distribution hands merchants' tickets to lists, codes and claim
	// links: the merchant's /merchant/distribution pages. Without it
	// they answer 503.
	Distribution *distribution.Service
	// Ledger is the journal: the finance team's /ledger pages and the
	// merchant's /merchant/balance. Without it those pages answer 503.
	Ledger *ledger.Service
	// Reconcile runs reconciliations and monthly statements: the finance
	// team's /reconciliations and /statements and the merchant's
	// /merchant/statements. Without it those pages answer 503.
	Reconcile *reconcile.Service
	// PublicURL is where the console is reached (https://host), for the
	// absolute claim links on posters; "" uses the request's host.
	PublicURL string
}

// Console serves the web console's pages.
type Console struct {
	deps  Deps
	pages templates
	cop   *http.CrossOriginProtection
	now   func() time.Time
}

// Page is one console route and the permission it needs.
type Page struct {
	Method     string              // GET or POST
	Path       string              // a http.ServeMux pattern path, e.g. "/network/lines/{id}"
	Permission identity.Permission // what the user's role must hold
}

// New builds the console; it panics if the embedded templates do not parse,
// which tests catch.
func New(d Deps) *Console {
	if d.Guard == nil {
		d.Guard = abuse.New(abuse.Defaults(), nil)
	}
	c := &Console{deps: d, pages: mustParseTemplates(), now: time.Now}
	c.cop = http.NewCrossOriginProtection()
	c.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.renderError(w, r, &state{lang: langOf(r)}, http.StatusForbidden, msg("cross.origin"))
	}))
	return c
}

// route is a Page with its handler.
type route struct {
	Page
	handle func(http.ResponseWriter, *http.Request, *state)
	// preSession marks the login POST, whose CSRF token comes from the
	// pre-session cookie instead of the session (see session.go).
	preSession bool
	// identify resolves the session of a Public page too, for pages that
	// anyone may open but that show a logged-in user their menu.
	identify bool
	// scripts lets the page load the console's own static scripts (the
	// charts); every other page runs no JavaScript at all.
	scripts bool
	// readOnly marks a handler that changes nothing whatever the method
	// (the page for unknown paths), so it needs no CSRF token.
	readOnly bool
	// off is the fault the page answers (503) while the service it needs
	// does not run in this process; nil when it runs or the page needs none.
	off error
	// limit is the abuse limit the page counts against (per client IP and
	// account); beyond it the page answers 429 with Retry-After.
	limit abuse.Action
}

// unless returns err when the service a page needs is not running (runs is
// false), nil when it runs.
func unless(runs bool, err error) error {
	if runs {
		return nil
	}
	return err
}

// routes is the console's route table: every page with its permission.
// Future sections (营销 marketing…) add rows here and an item in navigation.
func (c *Console) routes() []route {
	noBooking := unless(c.deps.Booking != nil, booking.ErrNotRunning)
	noGovernance := unless(c.deps.Governance != nil, governance.ErrNotRunning)
	noBenefits := unless(c.deps.Benefits != nil, benefits.ErrNotRunning)
	noSubsidy := unless(c.deps.Subsidy != nil, subsidy.ErrNotRunning)
	return slices.Concat([]route{
		{Page: Page{"GET", "/static/{file...}", identity.Public}, handle: c.static},
		{Page: Page{"GET", "/lang", identity.Public}, handle: c.switchLang},
		{Page: Page{"GET", "/login", identity.Public}, handle: c.loginForm},
		{Page: Page{"POST", "/login", identity.Public}, handle: c.login, preSession: true, limit: abuse.Login},
		{Page: Page{"POST", "/logout", identity.Authenticated}, handle: c.logout},
		{Page: Page{"GET", sessionsPath, identity.Authenticated}, handle: c.sessions},
		{Page: Page{"POST", sessionsPath + "/{id}/revoke", identity.Authenticated}, handle: c.revokeSession},
		{Page: Page{"POST", sessionsPath + "/revoke-all", identity.Authenticated}, handle: c.revokeAllSessions},
		{Page: Page{"GET", "/{$}", identity.Authenticated}, handle: c.workbench},
		{Page: Page{"GET", "/network", identity.Authenticated}, handle: c.network},
		{Page: Page{"GET", "/network/lines/{id}", identity.Authenticated}, handle: c.line},
		// The abuse limits in force (SPEC S5), read-only.
		{Page: Page{"GET", "/limits", identity.AccountsRead}, handle: c.limitsPage},
		// Passenger H5 pages: anyone may look for trains; booking needs a login.
		{Page: Page{"GET", "/h5", identity.Public}, handle: c.h5Home, identify: true},
		{Page: Page{"GET", "/h5/search", identity.Public}, handle: c.h5Search, identify: true, off: noBooking, limit: abuse.Search},
		{Page: Page{"GET", "/h5/recommend", identity.Public}, handle: c.h5Recommend, identify: true, off: noBooking, limit: abuse.Search},
		{Page: Page{"GET", "/h5/book", identity.OrdersOwn}, handle: c.h5BookForm, off: noBooking},
		{Page: Page{"POST", "/h5/book", identity.OrdersOwn}, handle: c.h5Book, off: noBooking, limit: abuse.Book},
		{Page: Page{"GET", "/h5/orders", identity.OrdersOwn}, handle: c.h5Orders, off: noBooking},
		{Page: Page{"GET", "/h5/orders/{id}", identity.OrdersOwn}, handle: c.h5Order, off: noBooking},
		{Page: Page{"POST", "/h5/orders/{id}/pay", identity.OrdersOwn}, handle: c.h5Pay, off: noBooking},
		{Page: Page{"POST", "/h5/orders/{id}/cancel", identity.OrdersOwn}, handle: c.h5Cancel, off: noBooking, limit: abuse.Cancel},
		{Page: Page{"POST", "/h5/orders/{id}/refund", identity.OrdersOwn}, handle: c.h5Refund, off: noBooking, limit: abuse.Cancel},
		{Page: Page{"GET", "/h5/orders/{id}/change", identity.OrdersOwn}, handle: c.h5ChangeForm, off: noBooking},
		{Page: Page{"POST", "/h5/orders/{id}/change", identity.OrdersOwn}, handle: c.h5Change, off: noBooking, limit: abuse.Book},
		{Page: Page{"GET", "/h5/waitlist", identity.OrdersOwn}, handle: c.h5Waitlists, off: noBooking},
		{Page: Page{"GET", "/h5/waitlist/{id}", identity.OrdersOwn}, handle: c.h5Waitlist, off: noBooking},
		{Page: Page{"POST", "/h5/waitlist/{id}/pay", identity.OrdersOwn}, handle: c.h5WaitlistPay, off: noBooking},
		{Page: Page{"POST", "/h5/waitlist/{id}/cancel", identity.OrdersOwn}, handle: c.h5WaitlistCancel, off: noBooking, limit: abuse.Cancel},
		// Cancellation governance (治理): lists, rules and behaviour analytics.
		{Page: Page{"GET", "/governance", identity.GovernanceRead}, handle: c.govOverview, off: noGovernance},
		{Page: Page{"POST", "/governance/evaluate", identity.GovernanceEdit}, handle: c.govEvaluate, off: noGovernance},
		{Page: Page{"GET", "/governance/members", identity.GovernanceRead}, handle: c.govMembers, off: noGovernance},
		{Page: Page{"POST", "/governance/members", identity.GovernanceEdit}, handle: c.govAdd, off: noGovernance},
		{Page: Page{"GET", "/governance/members/{id}", identity.GovernanceRead}, handle: c.govMember, off: noGovernance},
		{Page: Page{"POST", "/governance/members/{id}/lift", identity.GovernanceEdit}, handle: c.govLift, off: noGovernance},
		{Page: Page{"POST", "/governance/members/{id}/extend", identity.GovernanceEdit}, handle: c.govExtend, off: noGovernance},
		{Page: Page{"GET", "/governance/rules", identity.GovernanceRead}, handle: c.govRules, off: noGovernance},
		{Page: Page{"POST", "/governance/rules", identity.BookingAdmin}, handle: c.govSetRules, off: noGovernance},
		{Page: Page{"GET", "/governance/report", identity.GovernanceRead}, handle: c.govReport, scripts: true, off: noGovernance},
		{Page: Page{"GET", "/governance/report.csv", identity.GovernanceRead}, handle: c.govReportCSV, off: noGovernance},
		// Value-added tickets (增值票务): products, campaigns and their review.
		{Page: Page{"GET", "/benefits", identity.BenefitsRead}, handle: c.benefitsHome, off: noBenefits},
		{Page: Page{"GET", "/benefits/products/new", identity.BenefitsEdit}, handle: c.productNew},
		{Page: Page{"POST", "/benefits/products", identity.BenefitsEdit}, handle: c.productCreate, off: noBenefits},
		{Page: Page{"GET", "/benefits/campaigns/new", identity.BenefitsEdit}, handle: c.campaignNew, off: noBenefits},
		{Page: Page{"POST", "/benefits/campaigns", identity.BenefitsEdit}, handle: c.campaignCreate, off: noBenefits},
		{Page: Page{"GET", "/benefits/campaigns/{id}", identity.BenefitsRead}, handle: c.campaignShow, scripts: true, off: noBenefits},
		{Page: Page{"GET", "/benefits/campaigns/{id}/stats.csv", identity.BenefitsRead}, handle: c.campaignStatsCSV, off: noBenefits},
		{Page: Page{"GET", "/benefits/campaigns/{id}/uses", identity.MetroRead}, handle: c.campaignUses, scripts: true, off: noBenefits},
		// Benefit use on metro trips, every campaign's (地铁乘车优惠统计).
		{Page: Page{"GET", "/metro", identity.MetroRead}, handle: c.metroUses, off: noBenefits},
		{Page: Page{"POST", "/benefits/campaigns/{id}/codes", identity.BenefitsEdit}, handle: c.campaignCodes, off: noBenefits},
		{Page: Page{"POST", "/benefits/campaigns/{id}/issue", identity.BenefitsEdit}, handle: c.campaignIssue, off: noBenefits},
		{Page: Page{"POST", "/benefits/campaigns/{id}/submit", identity.BenefitsEdit}, handle: c.campaignAction(benefits.Submit), off: noBenefits},
		{Page: Page{"POST", "/benefits/campaigns/{id}/approve", identity.BenefitsReview}, handle: c.campaignAction(benefits.Approve), off: noBenefits},
		{Page: Page{"POST", "/benefits/campaigns/{id}/reject", identity.BenefitsReview}, handle: c.campaignAction(benefits.Reject), off: noBenefits},
		{Page: Page{"POST", "/benefits/campaigns/{id}/pause", identity.BenefitsReview}, handle: c.campaignAction(benefits.Pause), off: noBenefits},
		{Page: Page{"POST", "/benefits/campaigns/{id}/resume", identity.BenefitsReview}, handle: c.campaignAction(benefits.Resume), off: noBenefits},
		{Page: Page{"POST", "/benefits/campaigns/{id}/terminate", identity.BenefitsReview}, handle: c.campaignAction(benefits.Terminate), off: noBenefits},
		{Page: Page{"GET", "/benefits/code-batches/{id}/codes.csv", identity.BenefitsEdit}, handle: c.codesCSV, off: noBenefits},
		{Page: Page{"GET", "/benefits/campaigns/{id}/code-batches/{batch}/print", identity.BenefitsEdit}, handle: c.codesPrint, off: noBenefits},
		// The passenger's wallet, claims, codes and gifts.
		{Page: Page{"GET", "/h5/wallet", identity.WalletOwn}, handle: c.h5Wallet, off: noBenefits},
		{Page: Page{"POST", "/h5/campaigns/{id}/claim", identity.WalletOwn}, handle: c.h5Claim, off: noBenefits, limit: abuse.Claim},
		{Page: Page{"POST", "/h5/redeem", identity.WalletOwn}, handle: c.h5Redeem, off: noBenefits, limit: abuse.Redeem},
		{Page: Page{"GET", "/h5/wallet/{id}/gift", identity.WalletOwn}, handle: c.h5GiftForm, off: noBenefits},
		{Page: Page{"POST", "/h5/wallet/{id}/gift", identity.WalletOwn}, handle: c.h5Gift, off: noBenefits, limit: abuse.Gift},
		{Page: Page{"GET", "/h5/gifts/{token}", identity.WalletOwn}, handle: c.h5GiftShow, off: noBenefits, limit: abuse.Gift},
		{Page: Page{"POST", "/h5/gifts/{token}/accept", identity.WalletOwn}, handle: c.h5GiftSettle(benefits.GiftAccepted), off: noBenefits, limit: abuse.Gift},
		{Page: Page{"POST", "/h5/gifts/{token}/decline", identity.WalletOwn}, handle: c.h5GiftSettle(benefits.GiftDeclined), off: noBenefits, limit: abuse.Gift},
		{Page: Page{"POST", "/h5/gifts/{token}/cancel", identity.WalletOwn}, handle: c.h5GiftSettle(benefits.GiftCancelled), off: noBenefits, limit: abuse.Gift},
		// Subsidies for special groups: the operator's review, the rider's enrolments.
		{Page: Page{"GET", "/subsidy", identity.SubsidyRead}, handle: c.subsidyReview, off: noSubsidy},
		{Page: Page{"POST", "/subsidy/enrolments/{id}/verify", identity.SubsidyReview}, handle: c.subsidyDecide("verify"), off: noSubsidy},
		{Page: Page{"POST", "/subsidy/enrolments/{id}/reject", identity.SubsidyReview}, handle: c.subsidyDecide("reject"), off: noSubsidy},
		{Page: Page{"POST", "/subsidy/enrolments/{id}/revoke", identity.SubsidyReview}, handle: c.subsidyDecide("revoke"), off: noSubsidy},
		// The passenger's documents: passenger list, claims and approvals.
		{Page: Page{"GET", "/h5/documents", identity.OrdersOwn}, handle: c.h5Documents, off: noGovernance},
		{Page: Page{"POST", "/h5/documents/claims", identity.OrdersOwn}, handle: c.h5DocumentClaim, off: noGovernance, limit: abuse.Claim},
		{Page: Page{"POST", "/h5/documents/claims/{id}/approvals", identity.OrdersOwn}, handle: c.h5DocumentApproval, off: noGovernance, limit: abuse.Claim},
		{Page: Page{"GET", "/h5/subsidy", identity.SubsidyOwn}, handle: c.h5Subsidy, off: noSubsidy},
		{Page: Page{"POST", "/h5/subsidy/apply", identity.SubsidyOwn}, handle: c.h5SubsidyApply, off: noSubsidy, limit: abuse.Claim},
		{Page: Page{"POST", "/h5/subsidy/{id}/renew", identity.SubsidyOwn}, handle: c.h5SubsidyRenew, off: noSubsidy},
		// The audit trail (审计日志) and the fee tables whose changes it records.
		{Page: Page{"GET", "/audit", identity.AuditRead}, handle: c.auditPage},
		{Page: Page{"GET", "/audit.csv", identity.AuditRead}, handle: c.auditCSV},
		{Page: Page{"GET", "/booking/fees", identity.BookingAdmin}, handle: c.feesPage, off: noBooking},
		{Page: Page{"POST", "/booking/fees/{kind}", identity.BookingAdmin}, handle: c.feesSave, off: noBooking},
	}, c.merchantRoutes(), c.merchantConsoleRoutes(), c.merchantNewRoutes(), c.merchantPurchaseRoutes(), c.distributionPages(), c.merchantDistributionRoutes(),
		c.ledgerRoutes(), c.saleRoutes(), c.saleOfferRoutes(), c.invoiceRoutes(), c.employerRoutes(), c.reconcileRoutes(), c.h5InvoiceRoutes())
}

// Pages lists every console route with the permission it needs.
func (c *Console) Pages() []Page {
	rs := c.routes()
	out := make([]Page, len(rs))
	for i, r := range rs {
		out[i] = r.Page
	}
	return out
}

// Mount adds the console's routes to mux, and under them the page for
// paths that nothing serves.
func (c *Console) Mount(mux *http.ServeMux) {
	for _, rt := range c.routes() {
		mux.Handle(rt.Method+" "+rt.Path, c.cop.Handler(c.guard(rt)))
	}
	// "/" is the least specific pattern: it gets only the requests that no
	// other route of mux (the console's, the API's, the sandbox's) takes.
	unknown := route{Page: Page{Path: "/", Permission: identity.Public}, identify: true, readOnly: true,
		handle: func(w http.ResponseWriter, r *http.Request, st *state) { c.unknownPath(mux, w, r, st) }}
	mux.Handle("/", c.cop.Handler(c.guard(unknown)))
}

// unknownPath answers a request no route takes with the error page, in the
// user's language and with the menu: 405 and the methods it allows if a
// route serves the path with another method, else 404.
func (c *Console) unknownPath(mux *http.ServeMux, w http.ResponseWriter, r *http.Request, st *state) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		c.renderError(w, r, st, http.StatusMethodNotAllowed, msg("method.not_allowed"))
		return
	}
	v := c.newView(r, st, "title.not_found")
	m := msg("page.not_found")
	v.Error = &m
	c.render(w, r, http.StatusNotFound, "error.html", v)
}

// permission returns what GET path needs, for hiding navigation items.
func (c *Console) permission(path string) identity.Permission {
	if path == "/" {
		path = "/{$}"
	}
	for _, rt := range c.routes() {
		if rt.Method == http.MethodGet && rt.Path == path {
			return rt.Permission
		}
	}
	return "unknown:" + identity.Permission(path) // never allowed
}

// state is what the console knows about a request.
type state struct {
	lang      lang
	principal identity.Principal
	secret    string // the session secret, empty if anonymous
}

// csrf is the token the request's POST forms must carry.
func (s *state) csrf() string {
	if s.secret == "" {
		return ""
	}
	return sessionCSRF(s.secret)
}

// guard resolves the session, enforces the route's permission and the
// session CSRF token, sets security headers, answers 503 while the page's
// service is off and calls the handler.
func (c *Console) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		csp := "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
		if rt.scripts {
			csp += "; script-src 'self'" // files from /static only: no inline script, no eval
		}
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store") // pages carry tokens and personal data
		st := &state{lang: langOf(r)}
		if rt.Permission != identity.Public || rt.identify {
			if err := c.authenticate(w, r, st); err != nil {
				c.internalError(w, r, st, err)
				return
			}
		}
		if !st.principal.Can(rt.Permission) {
			if st.principal.Anonymous() {
				next := "/"
				if r.Method == http.MethodGet {
					next = r.URL.RequestURI()
				}
				http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
				return
			}
			c.renderError(w, r, st, http.StatusForbidden, bilingual{
				ZH: zh.Tf("denied.text", zh.T("role."+string(st.principal.Role()))),
				EN: en.Tf("denied.text", en.T("role."+string(st.principal.Role()))),
			})
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !rt.preSession && !rt.readOnly {
			if !tokensEqual(r.PostFormValue(csrfField), st.csrf()) {
				c.renderError(w, r, st, http.StatusForbidden, msg("csrf.invalid"))
				return
			}
		}
		if rt.off != nil {
			c.renderError(w, r, st, http.StatusServiceUnavailable, faultMsg(rt.off))
			return
		}
		if rt.limit != "" {
			if err := c.allow(r, st, rt.limit); err != nil {
				setRetryAfter(w, err)
				c.renderError(w, r, st, statusOf(err), faultMsg(err))
				return
			}
		}
		if !st.principal.Anonymous() {
			// The changes this request makes are the user's.
			r = r.WithContext(audit.WithActor(r.Context(), st.principal.Actor()))
		}
		// Upload forms parsed on this copy of the request spill to
		// temporary files that only their request's owner removes.
		defer func() {
			if r.MultipartForm != nil {
				_ = r.MultipartForm.RemoveAll()
			}
		}()
		rt.handle(w, r, st)
	})
}

// authenticate fills st from the session cookie. A missing, expired or
// revoked session leaves st anonymous (and clears the cookie); only
// failures of the identity service itself are returned.
func (c *Console) authenticate(w http.ResponseWriter, r *http.Request, st *state) error {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil
	}
	p, err := c.deps.Identity.Authenticate(r.Context(), ck.Value, identity.SessionToken)
	if fault.Is(err, fault.Unauthorized) {
		c.clearCookie(w, r, sessionCookie, "/")
		return nil
	}
	if err != nil {
		return err
	}
	st.principal, st.secret = p, ck.Value
	return nil
}

// internalError logs err and renders a 500 page that hides its cause.
func (c *Console) internalError(w http.ResponseWriter, r *http.Request, st *state, err error) {
	// The route pattern, never the path: paths carry gift tokens and IDs.
	slog.ErrorContext(r.Context(), "console error", "request_id", w.Header().Get("X-Request-Id"), "route", r.Pattern, "err", err.Error())
	c.renderError(w, r, st, http.StatusInternalServerError, msg("internal.error"))
}

// statusOf is the HTTP status of the page showing err, by the API's mapping.
func statusOf(err error) int { return problem.StatusOf(fault.CodeOf(err)) }
