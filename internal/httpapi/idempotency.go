package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"piao/internal/fault"
	"piao/internal/idempotency"
	"piao/internal/identity"
)

// idempotencyScopeExempt lists path prefixes whose calls are never stored:
// their responses carry credentials (a login's or a new API token's
// secret), which must not be kept in the database. The header is checked
// there but otherwise ignored, and a retry runs again. The tap stream is
// exempt too: its body may be far larger than a stored request should be,
// and taps are idempotent by their own IDs.
var idempotencyScopeExempt = []string{"/api/v1/auth/", "/api/v1/gate/taps/stream"}

// idempotent makes mutating /api/v1 calls (POST, PUT, PATCH, DELETE) honour
// an Idempotency-Key header, and documents the header on those operations
// in the OpenAPI document. Without an idempotency store it only documents.
//
// A key must be 1–255 printable ASCII characters (else 400
// bad_idempotency_key). It is scoped to the calling account: the bearer
// token is resolved here, before the route's own authorization. Anonymous
// calls (login, the payment gateway's notifications) have no account to
// scope a key to — one shared scope would let strangers' keys collide and
// replay each other's responses — so on them the header is ignored; the
// payment notification is idempotent by itself. A call with a token that
// does not authenticate is passed on unchanged and refused by authorize.
//
// The first call with a key claims it atomically, runs, and stores its
// status, Content-Type, Location and body if the status is below 500; a 5xx
// or a panic releases the claim so that a retry runs again. A retry with
// the same method, path (with query) and body (SHA-256) gets the stored
// response replayed byte for byte with Idempotent-Replayed: true. The same
// key with another request is 422 idempotency_key_reused; while the first
// call runs, 409 idempotency_in_progress with Retry-After: 1. Keys expire
// after idempotency.TTL (24 h).
func (s *Server) idempotent(next http.Handler) http.Handler {
	s.documentIdempotency()
	keeper := s.deps.Idempotency
	if keeper == nil {
		return next
	}
	g := &idempotencyGuard{s: s, keeper: keeper, next: next}
	return http.HandlerFunc(g.serve)
}

type idempotencyGuard struct {
	s      *Server
	keeper *idempotency.Keeper
	next   http.Handler
}

func mutating(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

func (g *idempotencyGuard) serve(w http.ResponseWriter, r *http.Request) {
	keys := r.Header.Values(idempotency.Header)
	if len(keys) == 0 || !mutating(r.Method) || !strings.HasPrefix(r.URL.Path, "/api/v1/") {
		g.next.ServeHTTP(w, r)
		return
	}
	if mux, ok := g.next.(*http.ServeMux); ok && r.Pattern == "" {
		// Name the route for the logs and metrics of answers given here.
		_, r.Pattern = mux.Handler(r)
	}
	ctx := r.Context()
	lang := preferredLanguage(r.Header.Get("Accept-Language"))
	if len(keys) > 1 || !idempotency.ValidKey(keys[0]) {
		writeProblem(w, r, newProblem(ctx, lang, http.StatusBadRequest, fault.Invalid, "bad_idempotency_key",
			"Idempotency-Key 须为一个 1–255 个可打印 ASCII 字符的值", "the Idempotency-Key header must be one value of 1–255 printable ASCII characters"))
		return
	}
	for _, p := range idempotencyScopeExempt {
		if strings.HasPrefix(r.URL.Path, p) {
			g.next.ServeHTTP(w, r)
			return
		}
	}
	scope, ok := g.scope(r)
	if !ok {
		g.next.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeProblem(w, r, errBodyTooLarge(ctx, lang, g.s.maxBody(r.Method, r.URL.Path)))
		} else {
			writeProblem(w, r, newProblem(ctx, lang, http.StatusBadRequest, fault.Invalid, "body_unreadable", "无法读取请求体", "the request body could not be read"))
		}
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	path := r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		path += "?" + r.URL.RawQuery
	}
	want := idempotency.Record{Scope: scope, Key: keys[0], Method: r.Method, Path: path, BodyHash: idempotency.BodyHash(body)}
	held, claimed, err := g.keeper.Claim(ctx, want)
	switch {
	case err != nil:
		writeProblem(w, r, problemFor(ctx, lang, err))
	case claimed:
		g.run(w, r, want)
	case !held.SameRequest(want):
		writeProblem(w, r, newProblem(ctx, lang, http.StatusUnprocessableEntity, fault.Invalid, "idempotency_key_reused",
			"此 Idempotency-Key 已用于另一个请求", "this Idempotency-Key was used for a different request"))
	case held.Status == idempotency.InProgress:
		w.Header().Set("Retry-After", "1")
		writeProblem(w, r, newProblem(ctx, lang, http.StatusConflict, fault.Conflict, "idempotency_in_progress",
			"使用此 Idempotency-Key 的请求仍在处理中，请稍后重试", "a request with this Idempotency-Key is still in progress; retry later"))
	default:
		replay(w, held.Response)
	}
}

// scope names the account a key belongs to, or reports false for an
// anonymous call or a token that does not authenticate.
func (g *idempotencyGuard) scope(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	secret, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || g.s.deps.Identity == nil {
		return "", false
	}
	p, err := g.s.deps.Identity.Authenticate(r.Context(), strings.TrimSpace(secret), identity.APIToken)
	if err != nil || p.Anonymous() {
		return "", false
	}
	return "account:" + strconv.FormatInt(p.Account.ID, 10), true
}

// run serves a claimed call, keeping its response for retries or giving
// the key up if the call failed on our side.
func (g *idempotencyGuard) run(w http.ResponseWriter, r *http.Request, rec idempotency.Record) {
	ctx := context.WithoutCancel(r.Context()) // store the result even if the client has gone
	cw := &captureWriter{ResponseWriter: w}
	stored := false
	defer func() {
		if stored {
			return
		}
		// A 5xx or a panic (which goes on up to the recovering middleware).
		if err := g.keeper.Release(ctx, rec.Scope, rec.Key); err != nil {
			slog.ErrorContext(ctx, "release idempotency key", "request_id", requestIDFrom(ctx), "err", err.Error())
		}
	}()
	g.next.ServeHTTP(cw, r)
	status := cw.status
	if status == 0 {
		status = http.StatusOK
	}
	if status >= 500 {
		return
	}
	stored = true
	resp := idempotency.Response{Status: status, ContentType: cw.Header().Get("Content-Type"), Location: cw.Header().Get("Location"), Body: cw.body.Bytes()}
	if err := g.keeper.Complete(ctx, rec.Scope, rec.Key, resp); err != nil {
		// The claim lapses after idempotency.AbandonAfter and a retry then runs again.
		slog.ErrorContext(ctx, "store idempotent response", "request_id", requestIDFrom(ctx), "err", err.Error())
	}
}

// replay writes a stored response.
func replay(w http.ResponseWriter, resp idempotency.Response) {
	h := w.Header()
	if resp.ContentType != "" {
		h.Set("Content-Type", resp.ContentType)
	}
	if resp.Location != "" {
		h.Set("Location", resp.Location)
	}
	h.Set(idempotency.ReplayedHeader, "true")
	w.WriteHeader(resp.Status)
	w.Write(resp.Body)
}

// captureWriter passes a response through and keeps its status and body.
type captureWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 && code >= 200 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	c.body.Write(b)
	return c.ResponseWriter.Write(b)
}

func (c *captureWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// idempotencyParamDoc describes the Idempotency-Key header in the OpenAPI document.
const idempotencyParamDoc = "Makes the call safe to retry. A retry with the same key, method, path and body within 24 hours " +
	"gets the first call's status and body again, with `Idempotent-Replayed: true`, instead of running again " +
	"(a first call that failed with a 5xx runs again). The same key with a different request is refused " +
	"(422 `idempotency_key_reused`); while the first call runs, a retry gets 409 `idempotency_in_progress` with `Retry-After`. " +
	"Keys are per account: on anonymous calls the header is ignored. 1–255 printable ASCII characters, " +
	"e.g. a UUID; a malformed key is 400 `bad_idempotency_key`."

// documentIdempotency adds the Idempotency-Key header and the 409 it may
// cause to every mutating operation that honours it.
func (s *Server) documentIdempotency() {
	one, maxLen := 1, idempotency.MaxKeyLength
	for path, item := range s.api.OpenAPI().Paths {
		exempt := false
		for _, p := range idempotencyScopeExempt {
			exempt = exempt || strings.HasPrefix(path, p)
		}
		if exempt {
			continue
		}
		for _, o := range []*huma.Operation{item.Post, item.Put, item.Patch, item.Delete} {
			if o == nil {
				continue
			}
			o.Parameters = append(o.Parameters, &huma.Param{
				Name: idempotency.Header, In: "header", Description: idempotencyParamDoc,
				Schema: &huma.Schema{Type: "string", MinLength: &one, MaxLength: &maxLen, Pattern: "^[ -~]+$"},
			})
			if _, ok := o.Responses["409"]; !ok && o.Responses["422"] != nil {
				o.Responses["409"] = &huma.Response{Description: "Conflict", Content: o.Responses["422"].Content}
			}
		}
	}
}
