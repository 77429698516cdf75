// Package httpapi is piao's HTTP adapter: the /api/v1 route table with its
// OpenAPI 3.1 document, problem+json errors, authentication and permission
// checks, request IDs, logs, metrics and health endpoints.
//
// Handlers translate between HTTP and domain services; business rules live
// in the domain packages, never here.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"piao/internal/abuse"
	"piao/internal/audit"
	"piao/internal/benefits"
	"piao/internal/booking"
	"piao/internal/distribution"
	"piao/internal/employer"
	"piao/internal/governance"
	"piao/internal/idempotency"
	"piao/internal/identity"
	"piao/internal/invoice"
	"piao/internal/ledger"
	"piao/internal/merchant"
	"piao/internal/metro"
	"piao/internal/network"
	"piao/internal/payment"
	"piao/internal/problem"
	"piao/internal/purchase"
	"piao/internal/reconcile"
	"piao/internal/sale"
	"piao/internal/subsidy"
)

// MaxBodyBytes is the largest request body any endpoint accepts.
const MaxBodyBytes = 1 << 20

// Deps are the services the API serves.
type Deps struct {
	Version string
	// Catalog reads the network (feeds, stations, lines, timetables, fares)
	// and edits car layouts and fares.
	Catalog  *network.Catalog
	Identity *identity.Service
	// Booking sells seats; nil when this process does not run it.
	Booking *booking.Service
	// Governance keeps the cancel limits, lists and reports; nil when off.
	Governance *governance.Service
	// Payments verifies payment notifications.
	Payments payment.Gateway
	// Ready checks that the service can answer (the database is reachable).
	Ready func(context.Context) error
	// Mount adds non-API routes (the console) to the mux.
	Mount func(mux *http.ServeMux)
	// Idempotency keeps Idempotency-Key results; nil turns the feature off.
	Idempotency *idempotency.Keeper
	// Benefits runs value-added tickets; nil when off.
	Benefits *benefits.Service
	// Metro takes gate taps and clears and settles trips; nil when off.
	Metro *metro.Service
	// Subsidy runs subsidy schemes and enrolments; nil when off.
	Subsidy *subsidy.Service
	// Purchases runs merchants' batch purchases and refunds; nil when off.
	Purchases *purchase.Service
	// Sales runs passengers' purchases of tickets on sale; nil when off.
	Sales *sale.Service
	// Employers runs employee benefits (rosters, allowances, top-ups,
	// bills); nil when off.
	Employers *employer.Service
	// Guard applies the abuse limits (SPEC S5); nil applies the defaults.
	Guard *abuse.Guard
	// Distribution hands merchants' tickets to lists, codes and claim
	// links; nil when off.
	Distribution *distribution.Service
	// PublicURL is where this server is reached (http://host:port), for
	// absolute links such as claim links.
	PublicURL string
	// Audit is the audit trail the services record in (and full views of
	// personal data, pii.view); GET /api/v1/audit reads it (nil: an empty
	// trail, nothing recorded).
	Audit *audit.Log
	// Reconcile runs reconciliations and builds monthly statements; nil when off.
	Reconcile *reconcile.Service
	// Merchants runs merchant onboarding (applications, review, staff);
	// nil when off.
	Merchants *merchant.Service
	// Invoices issues and serves invoices; nil when off.
	Invoices *invoice.Service
	// BodyLimits are routes outside the API (the console's upload forms)
	// that take larger bodies than MaxBodyBytes, by "METHOD /path".
	BodyLimits map[string]int64
	// Ledger is the journal's reads and corrections; nil when off.
	Ledger *ledger.Service
}

// Server is the HTTP front of piao.
type Server struct {
	deps    Deps
	plain   []Route // routes outside the OpenAPI document
	api     huma.API
	mux     *http.ServeMux
	handler http.Handler
	metrics *metrics
	guard   *abuse.Guard
	// bodyLimits are the routes with their own body limit ("POST /path").
	bodyLimits map[string]int64
}

// New builds the server: routes, OpenAPI document, middleware.
func New(deps Deps) *Server {
	installErrorModel()
	s := &Server{deps: deps, mux: http.NewServeMux(), guard: deps.Guard, bodyLimits: map[string]int64{}}
	for route, n := range deps.BodyLimits {
		s.bodyLimits[route] = n
	}
	if s.guard == nil {
		s.guard = abuse.New(abuse.Defaults(), nil)
	}
	s.metrics = newMetrics()
	cfg := huma.DefaultConfig("piao API", deps.Version)
	cfg.OpenAPIPath = "/api/v1/openapi"
	cfg.DocsPath = ""
	cfg.SchemasPath = "/api/v1/schemas"
	cfg.Info.Description = apiDescription
	cfg.Info.Contact = &huma.Contact{Name: "piao", URL: "https://piao.dev"}
	cfg.Info.License = &huma.License{Name: "Proprietary", Identifier: "LicenseRef-Proprietary"}
	cfg.Servers = []*huma.Server{{URL: "/", Description: "this server"}}
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", BearerFormat: "piao token", Description: "A token from POST /api/v1/auth/login"},
	}
	cfg.Components.Schemas = huma.NewMapRegistry("#/components/schemas/", schemaName)
	// Answers are written by jsonEncode, times in business time.
	jsonFormat := huma.Format{Marshal: jsonEncode, Unmarshal: json.Unmarshal}
	cfg.Formats = map[string]huma.Format{"application/json": jsonFormat, "json": jsonFormat}
	// Dates travel as "YYYY-MM-DD" strings (network.Date's JSON form).
	if r, ok := cfg.Components.Schemas.(interface{ RegisterTypeAlias(t, alias reflect.Type) }); ok {
		r.RegisterTypeAlias(reflect.TypeFor[network.Date](), reflect.TypeFor[string]())
	}
	s.api = humago.New(s.mux, cfg)
	s.api.UseMiddleware(s.authorize)
	s.registerRoutes()
	s.mux.HandleFunc("/api/", s.apiNotFound)
	if deps.Mount != nil {
		deps.Mount(s.mux)
	}
	s.handler = s.middleware(s.maskPII(s.idempotent(removeUploads(s.mux))))
	return s
}

// schemaName names a schema after its Go type, prefixing the value-added
// tickets' types with "Benefit" where booking has a type of the same name
// (Ticket, Event), the subsidies' with "Subsidy" (Event), merchants' with
// "Merchant" (Event), and ride-more
// rules' with "RideMore" (Tier, which fees has too).
func schemaName(t reflect.Type, hint string) string {
	name := huma.DefaultSchemaNamer(t, hint)
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.PkgPath() == "piao/internal/benefits" && !strings.HasPrefix(name, "Benefit") {
		return "Benefit" + name
	}
	if t.PkgPath() == "piao/internal/subsidy" && !strings.HasPrefix(name, "Subsidy") {
		return "Subsidy" + name
	}
	if t.PkgPath() == "piao/internal/merchant" && !strings.HasPrefix(name, "Merchant") {
		return "Merchant" + name
	}
	if t.PkgPath() == "piao/internal/ridemore" && !strings.HasPrefix(name, "RideMore") {
		return "RideMore" + name
	}
	if t.PkgPath() == "piao/internal/sale" && !strings.HasPrefix(name, "Sale") {
		return "Sale" + name
	}
	if t.PkgPath() == "piao/internal/distribution" && !strings.HasPrefix(name, "Distribution") {
		return "Distribution" + name
	}
	return name
}

// Handler returns the root handler.
func (s *Server) Handler() http.Handler { return s.handler }

// OpenAPI returns the API description.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

const apiDescription = `piao (票) is an internet ticketing platform for rail operators.

Errors are RFC 9457 problem+json documents with a stable ` + "`code`" + ` and ` + "`reason`" + `
and messages in Simplified Chinese and English; ` + "`detail`" + ` follows Accept-Language
(zh-CN by default). Money is in fen (1/100 yuan). Times in answers are RFC 3339 in
business time, Asia/Shanghai (+08:00); requests may give any offset. Service dates
are YYYY-MM-DD in the network's time zone (Asia/Shanghai by default).
Authenticate with ` + "`Authorization: Bearer <token>`" + ` from POST /api/v1/auth/login.`

// ---- middleware ----

type ctxKey int

const (
	requestIDKey ctxKey = iota
	principalKey
)

func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// PrincipalFrom returns who made the request (anonymous if nobody).
func PrincipalFrom(ctx context.Context) identity.Principal {
	p, _ := ctx.Value(principalKey).(identity.Principal)
	return p
}

func newRequestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// validRequestID accepts a caller's ID only if it is short and plain, so
// logs cannot be forged through it.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// middleware gives every request an ID, a body limit, a recovery from
// panics, a log line and metrics.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		h := w.Header()
		h.Set("X-Request-Id", id)
		if strings.HasPrefix(r.URL.Path, "/api/") {
			// Answers carry tokens and personal data: no cache may keep
			// them, and no browser may guess their type.
			h.Set("Cache-Control", "no-store")
			h.Set("X-Content-Type-Options", "nosniff")
		}
		ctx := audit.WithRequestID(context.WithValue(r.Context(), requestIDKey, id), id)
		ctx = context.WithValue(ctx, clientIPKey{}, s.guard.ClientIP(r))
		r = r.WithContext(ctx)
		limit := s.maxBody(r.Method, r.URL.Path)
		if r.ContentLength > limit {
			writeProblem(w, r, errBodyTooLarge(ctx, preferredLanguage(r.Header.Get("Accept-Language")), limit))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				slog.ErrorContext(ctx, "panic", "request_id", id, "panic", v)
				if rec.status == 0 {
					writeProblem(rec, r, newProblem(ctx, "zh", http.StatusInternalServerError, "internal", "internal", "服务器内部错误", "internal error"))
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			dur := time.Since(start)
			s.metrics.observe(r.Method, route, rec.status, dur)
			// The route pattern, never the path: paths carry gift tokens and IDs.
			slog.InfoContext(ctx, "request", "request_id", id, "method", r.Method, "route", route, "status", rec.status, "bytes", rec.bytes, "duration_ms", float64(dur.Microseconds())/1000, "remote", r.RemoteAddr)
		}()
		next.ServeHTTP(rec, r)
	})
}

// errBodyTooLarge is the refusal of a body over limit bytes.
func errBodyTooLarge(ctx context.Context, lang string, limit int64) *problem.Problem {
	size := strconv.FormatInt(limit, 10) + " bytes"
	if limit%(1<<20) == 0 {
		size = strconv.FormatInt(limit>>20, 10) + " MiB"
	}
	return newProblem(ctx, lang, http.StatusRequestEntityTooLarge, "limit_reached", "body_too_large", "请求体过大（上限 "+size+"）", "the request body is too large (limit "+size+")")
}

// authorize resolves the bearer token and enforces the route's permission.
func (s *Server) authorize(ctx huma.Context, next func(huma.Context)) {
	perm, _ := ctx.Operation().Metadata["permission"].(identity.Permission)
	lang := preferredLanguage(ctx.Header("Accept-Language"))
	var p identity.Principal
	if h := ctx.Header("Authorization"); h != "" {
		secret, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			writeHumaProblem(s.api, ctx, newProblem(ctx.Context(), lang, http.StatusUnauthorized, "unauthorized", "bad_authorization", "Authorization 头须为 Bearer 令牌", "the Authorization header must be a Bearer token"))
			return
		}
		var err error
		p, err = s.deps.Identity.Authenticate(ctx.Context(), strings.TrimSpace(secret), identity.APIToken)
		if err != nil {
			writeHumaProblem(s.api, ctx, problemFor(ctx.Context(), lang, err))
			return
		}
	}
	if !p.Can(perm) {
		if p.Anonymous() {
			writeHumaProblem(s.api, ctx, newProblem(ctx.Context(), lang, http.StatusUnauthorized, "unauthorized", "login_required", "请先登录", "log in first"))
		} else {
			writeHumaProblem(s.api, ctx, newProblem(ctx.Context(), lang, http.StatusForbidden, "forbidden", "permission_denied", "您的角色没有此权限："+string(perm), "your role lacks the permission "+string(perm)))
		}
		return
	}
	c := context.WithValue(ctx.Context(), principalKey, p)
	if !p.Anonymous() {
		c = audit.WithActor(c, p.Actor()) // the changes this request makes are p's
	}
	ctx = huma.WithContext(ctx, c)
	if !s.allowFullView(ctx, p, lang) {
		return
	}
	next(ctx)
}

func writeHumaProblem(api huma.API, ctx huma.Context, p *problem.Problem) {
	if p.Status == http.StatusUnauthorized {
		ctx.SetHeader("WWW-Authenticate", `Bearer realm="piao"`)
	}
	_ = huma.WriteErr(api, ctx, p.Status, "", p)
}

// ---- plain endpoints ----

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"status":"ok","version":`+strconv.Quote(s.deps.Version)+`}`)
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if s.deps.Ready != nil {
		if err := s.deps.Ready(ctx); err != nil {
			slog.WarnContext(ctx, "not ready", "err", err.Error())
			writeProblem(w, r, newProblem(ctx, preferredLanguage(r.Header.Get("Accept-Language")), http.StatusServiceUnavailable, "unavailable", "database_unavailable", "数据库不可用", "the database is unavailable"))
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"status":"ready"}`)
}

func (s *Server) apiNotFound(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, newProblem(r.Context(), preferredLanguage(r.Header.Get("Accept-Language")), http.StatusNotFound, "not_found", "route_not_found", "接口不存在", "no such endpoint"))
}

// jsonEncode writes an answer, its times in business time (see
// inBusinessTime): huma's answers and the problems written around huma are
// all encoded here (the tap stream's lines, which hold no time, are not).
func jsonEncode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(inBusinessTime(v))
}

// ---- metrics ----

type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{registry: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "piao_http_requests_total", Help: "HTTP requests by method, route and status."}, []string{"method", "route", "status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "piao_http_request_duration_seconds", Help: "HTTP request latency by route.", Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 10)}, []string{"route"})
	m.registry.MustRegister(m.requests, m.duration, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// removeUploads removes the temporary files of a multipart body (a
// merchant's papers, a cover) parsed while serving a request. The server
// removes only those of the request it made, and the layers above hand
// the routes copies (WithContext); without this, strangers sending
// applications could fill the disk.
func removeUploads(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if r.MultipartForm != nil {
				_ = r.MultipartForm.RemoveAll()
			}
		}()
		next.ServeHTTP(w, r)
	})
}
