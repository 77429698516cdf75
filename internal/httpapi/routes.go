package httpapi

import (
	"context"
	"errors"
	"math"
	"net/http"
	"piao/internal/fault"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"piao/internal/abuse"
	"piao/internal/identity"
)

// registerRoutes is the route table: every /api/v1 operation with the
// permission it needs. The route × role test walks this table.
func (s *Server) registerRoutes() {
	g := s.always()
	// Network (P4): public reads, operator writes.
	add(g, identity.Public, op("GET", "/api/v1/feeds", "listFeeds", "network", "List network feeds", "导入或演示的线网数据集"), s.listFeeds)
	add(g.limited(abuse.Search), identity.Public, op("GET", "/api/v1/stations", "searchStations", "network", "Search stations", "按名称、电报码或拼音首字母/前缀查找车站"), s.searchStations)
	add(g, identity.Public, op("GET", "/api/v1/stations/{id}", "getStation", "network", "Get a station", ""), s.getStation)
	add(g, identity.Public, op("GET", "/api/v1/lines", "listLines", "network", "List lines", ""), s.listLines)
	add(g, identity.Public, op("GET", "/api/v1/lines/{id}", "getLine", "network", "Get a line with its stations", ""), s.getLine)
	add(g.limited(abuse.Search), identity.Public, op("GET", "/api/v1/trains/{number}/timetable", "getTimetable", "network", "A train's timetable on a date", "车次在某日的时刻表"), s.getTimetable)
	add(g.limited(abuse.Search), identity.Public, op("GET", "/api/v1/trains/{number}/fares", "getTrainFares", "network", "A train's fares between two stations", "按席别与铺位的票价"), s.getTrainFares)
	add(g.limited(abuse.Search), identity.Public, op("GET", "/api/v1/metro/{feed}/fare", "getMetroFare", "network", "Metro fare over the shortest path", "按最短路径里程分段计价"), s.getMetroFare)
	add(g, identity.Public, op("GET", "/api/v1/car-types", "listCarTypes", "network", "List car layouts", ""), s.listCarTypes)
	add(g, identity.NetworkWrite, op("PUT", "/api/v1/car-types/{code}", "putCarType", "network", "Create or replace a car layout", ""), s.putCarType)
	add(g, identity.NetworkWrite, op("PUT", "/api/v1/fares", "putFare", "network", "Set one fare", "修改某车次某区间某席别铺位的票价"), s.putFare)

	// Identity (S1).
	add(g.limited(abuse.Login), identity.Public, op("POST", "/api/v1/auth/login", "login", "auth", "Log in and get a bearer token", "登录：连续失败将锁定账号一段时间"), s.login)
	add(g, identity.Authenticated, op("POST", "/api/v1/auth/logout", "logout", "auth", "Revoke the bearer token used", ""), s.logout)
	add(g.limited(abuse.Login), identity.Authenticated, op("POST", "/api/v1/auth/token", "issueToken", "auth", "Issue an additional API token for the caller; needs the password again", "凭密码另发一个 API 令牌"), s.issueToken)
	add(g, identity.Authenticated, op("GET", "/api/v1/me/credentials", "listMyCredentials", "auth", "The caller's live console sessions and API tokens", "我的登录会话与令牌"), s.listCredentials)
	add(g, identity.Authenticated, op("DELETE", "/api/v1/me/credentials/{id}", "revokeMyCredential", "auth", "End one of the caller's sessions or tokens", "注销一个会话或令牌"), s.revokeCredential)
	add(g, identity.Authenticated, op("POST", "/api/v1/me/credentials/revoke-all", "revokeAllMyCredentials", "auth", "Log out everywhere: end every session and token of the caller, this one included", "退出所有设备"), s.revokeMyCredentials)
	add(g, identity.Authenticated, op("GET", "/api/v1/me", "getMe", "auth", "Who am I", ""), s.getMe)
	add(g, identity.AccountsRead, op("GET", "/api/v1/accounts/{id}", "getAccount", "accounts", "Get an account", ""), s.getAccount)
	add(g, identity.AccountsEdit, op("POST", "/api/v1/accounts", "createAccount", "accounts", "Create an account", ""), s.createAccount)
	add(g, identity.AccountsEdit, op("POST", "/api/v1/accounts/{id}/revoke-credentials", "revokeAccountCredentials", "accounts", "End every session and token of an account (a stolen credential, a leaver)", "强制下线：注销账号的所有会话与令牌"), s.revokeAccountCredentials)
	add(g, identity.AccountsEdit, op("POST", "/api/v1/accounts/{id}/unlock", "unlockAccount", "accounts", "Lift an account's login lock and forget its failed logins (audited)", "解除账号登录锁定（记入审计日志）"), s.unlockAccount)

	s.bookingRoutes()
	s.waitlistRoutes()
	s.governanceRoutes()
	s.documentRoutes()
	s.benefitsRoutes()
	s.metroRoutes()
	s.ridemoreRoutes()
	s.subsidyRoutes()
	s.auditRoutes()
	s.merchantCampaignRoutes()
	s.merchantOnboardingRoutes()
	s.purchaseRoutes()
	s.employerRoutes()
	s.distributionRoutes()
	s.ledgerRoutes()
	s.reconcileRoutes()
	s.saleRoutes()
	s.invoiceRoutes()

	// Operations endpoints outside the OpenAPI document. Probes and the
	// Prometheus scraper carry no credentials, so these are public and
	// reveal nothing about accounts or orders.
	s.plainRoute("GET", "/api/v1/docs", identity.Public, http.HandlerFunc(s.docs))
	s.plainRoute("GET", "/healthz", identity.Public, http.HandlerFunc(s.healthz))
	s.plainRoute("GET", "/readyz", identity.Public, http.HandlerFunc(s.readyz))
	s.plainRoute("GET", "/metrics", identity.Public, promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
}

// plainRoute registers a handler outside huma. Only public ones exist, so
// no authentication is wired here; a non-public one would need it.
func (s *Server) plainRoute(method, path string, perm identity.Permission, h http.Handler) {
	if perm != identity.Public {
		panic("httpapi: plain routes must be public: " + path)
	}
	s.plain = append(s.plain, Route{Method: method, Path: path, Permission: perm})
	s.mux.Handle(method+" "+path, h)
}

func op(method, path, id, tag, summary, zh string) huma.Operation {
	desc := ""
	if zh != "" {
		desc = zh
	}
	return huma.Operation{Method: method, Path: path, OperationID: id, Tags: []string{tag}, Summary: summary, Description: desc}
}

// group is the routes of one service (booking, governance, benefits…). A
// group is registered whether or not its service runs in this process, so
// the route table, the OpenAPI document and input validation never depend
// on what runs; while the service does not run, each of its routes answers
// off's fault (503, "<service>_unavailable") instead of calling a handler.
type group struct {
	s   *Server
	off error // nil while the group's services run
	// limit is the abuse limit the routes count against (see limited).
	limit abuse.Action
	// maxBody is the routes' own body limit, instead of MaxBodyBytes.
	maxBody int64
}

// always is the group of routes served by every process: the network
// catalogue and identity.
func (s *Server) always() group { return group{s: s} }

// group returns the group of routes of a service: handled when runs,
// answering unavailable otherwise.
func (s *Server) group(runs bool, unavailable error) group {
	g := group{s: s}
	if !runs {
		g.off = unavailable
	}
	return g
}

// and returns g needing one more service: a group that runs only when both
// run answers the first missing service's fault.
func (g group) and(runs bool, unavailable error) group {
	if g.off == nil && !runs {
		g.off = unavailable
	}
	return g
}

// add registers a handler with the permission it needs, documenting the
// security requirement and the error responses it may give. In a group
// whose service does not run, the route answers the group's fault instead.
func add[I, O any](g group, perm identity.Permission, o huma.Operation, h func(context.Context, *I) (*O, error)) {
	s := g.s
	if g.off != nil {
		off := g.off
		h = func(context.Context, *I) (*O, error) { return nil, off }
	}
	o.Metadata = map[string]any{"permission": perm}
	o.MaxBodyBytes = MaxBodyBytes
	o.Errors = []int{http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusInternalServerError}
	if g.maxBody > 0 {
		s.ownBodyLimit(o.Method, o.Path, g.maxBody)
		o.MaxBodyBytes = g.maxBody
	}
	if g.limit != "" {
		o.Metadata["limit"] = g.limit
		o.Errors = append(o.Errors, http.StatusTooManyRequests)
		o.Description += "\n\nCounts against the abuse limit `" + string(g.limit) + "` (per client IP, account or document, as the server is configured); beyond it 429 (`rate_limited`) with Retry-After."
		if g.limit == abuse.Login {
			o.Errors = append(o.Errors, http.StatusServiceUnavailable) // no password-hash slot free (server_busy)
		}
		if g.off == nil {
			h = limitedHandler(s, g.limit, h)
		}
	}
	switch perm {
	case identity.Public:
		o.Security = []map[string][]string{{}, {"bearer": {}}}
	default:
		o.Security = []map[string][]string{{"bearer": {}}}
		o.Errors = append(o.Errors, http.StatusUnauthorized, http.StatusForbidden)
		o.Description += "\n\nPermission: `" + string(perm) + "`."
	}
	if o.Method != http.MethodGet {
		o.Errors = append(o.Errors, http.StatusRequestEntityTooLarge)
	}
	o.Errors = append(o.Errors, http.StatusNotFound)
	huma.Register(s.api, o, func(ctx context.Context, in *I) (*O, error) {
		out, err := h(ctx, in)
		return out, withRetryAfter(err)
	})
}

// withRetryAfter adds a Retry-After header to a refusal that says when it
// lifts (a daily limit, a list membership).
func withRetryAfter(err error) error {
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.RetryAt.IsZero() {
		return err
	}
	secs := int(math.Ceil(time.Until(fe.RetryAt).Seconds()))
	return huma.ErrorWithHeaders(err, http.Header{"Retry-After": {strconv.Itoa(max(secs, 1))}})
}

// Route is one registered API operation and its permission, for tests and docs.
type Route struct {
	Method     string
	Path       string
	Permission identity.Permission
	HasBody    bool // the operation takes a request body
	// Limit is the abuse limit the route counts against; empty for none.
	Limit abuse.Action
}

// Routes lists every route of the server with its permission: the API
// operations and the plain operations endpoints.
func (s *Server) Routes() []Route {
	out := append([]Route(nil), s.plain...)
	for path, item := range s.api.OpenAPI().Paths {
		for _, o := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if o == nil {
				continue
			}
			perm, _ := o.Metadata["permission"].(identity.Permission)
			limit, _ := o.Metadata["limit"].(abuse.Action)
			out = append(out, Route{Method: o.Method, Path: path, Permission: perm, HasBody: o.RequestBody != nil, Limit: limit})
		}
	}
	return out
}
