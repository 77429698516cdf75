package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"piao/internal/identity"
	"piao/internal/realname"
)

// Personal data in answers (SPEC S4): every JSON answer of the API has its
// document numbers ("doc_number"), phone numbers ("phone") and document
// subjects ("subject": "doc:TYPE:NUMBER") masked, in this one place rather
// than in each handler. A principal with identity.PIIRead may ask for the
// full values with ?full=true; each such view is recorded in the audit
// trail (action "pii.view").

// piiViewKey carries the request's *piiView from maskPII to authorize.
const piiViewKey ctxKey = 100

// piiView is what authorize decided about a request's personal data.
type piiView struct{ full bool }

// maskPII masks the personal data of the JSON answers of /api/ requests,
// unless authorize allowed the full view. It wraps the idempotency guard,
// so stored answers (sealed at rest) are masked when replayed too.
func (s *Server) maskPII(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		view := &piiView{}
		mw := &maskingWriter{ResponseWriter: w, view: view}
		inner := r.WithContext(context.WithValue(r.Context(), piiViewKey, view))
		next.ServeHTTP(mw, inner)
		r.Pattern = inner.Pattern // the route the mux matched, for the log line and metrics
		mw.finish()
	})
}

// allowFullView lets a request see full personal data if it asked
// (?full=true) and may (identity.PIIRead), and records the view; asking
// without the permission is refused. It reports whether to go on.
func (s *Server) allowFullView(ctx huma.Context, p identity.Principal, lang string) bool {
	if ctx.Query("full") != "true" {
		return true
	}
	view, _ := ctx.Context().Value(piiViewKey).(*piiView)
	if view == nil {
		return true
	}
	if !identity.Allowed(p.Role(), identity.PIIRead) {
		writeHumaProblem(s.api, ctx, newProblem(ctx.Context(), lang, http.StatusForbidden, "forbidden", "pii_read_forbidden",
			"您的角色无权查看完整证件号与手机号："+string(identity.PIIRead), "your role may not see full ID and phone numbers: it lacks "+string(identity.PIIRead)))
		return false
	}
	subject := viewSubject(ctx)
	if err := s.deps.Audit.Record(ctx.Context(), "pii.view", subject, nil, nil, "full=true on "+ctx.Operation().Method+" "+ctx.Operation().Path); err != nil {
		writeHumaProblem(s.api, ctx, problemFor(ctx.Context(), lang, err)) // no view without its record
		return false
	}
	view.full = true
	return true
}

// viewSubject names what a full view showed: "order:42", "account:7",
// "list_member:3", or the route for anything else.
func viewSubject(ctx huma.Context) string {
	op := ctx.Operation()
	id := ctx.Param("id")
	kind := map[string]string{"adminGetOrder": "order", "getOrder": "order", "getAccount": "account", "getMember": "list_member", "getWaitlist": "waitlist"}[op.OperationID]
	if kind != "" && id != "" {
		return kind + ":" + id
	}
	return "route:" + op.Method + " " + op.Path
}

// maskingWriter holds a JSON answer back to mask it; other answers (CSV,
// streams) pass straight through.
type maskingWriter struct {
	http.ResponseWriter
	view    *piiView
	decided bool // whether the answer is held back is known
	hold    bool
	status  int
	buf     bytes.Buffer
}

func (m *maskingWriter) decide() {
	if m.decided {
		return
	}
	m.decided = true
	ct := m.Header().Get("Content-Type")
	m.hold = !m.view.full && (strings.HasPrefix(ct, "application/json") || strings.HasPrefix(ct, "application/problem+json"))
	if m.hold {
		m.Header().Del("Content-Length") // masking may change it
	}
}

// WriteHeader holds the status of a held answer until it is written.
func (m *maskingWriter) WriteHeader(code int) {
	m.decide()
	if m.hold {
		if m.status == 0 {
			m.status = code
		}
		return
	}
	m.ResponseWriter.WriteHeader(code)
}

// Write holds a JSON answer back, or passes the bytes on.
func (m *maskingWriter) Write(b []byte) (int, error) {
	m.decide()
	if m.hold {
		return m.buf.Write(b)
	}
	return m.ResponseWriter.Write(b)
}

// Flush passes a flush on for answers that are not held back (streams).
func (m *maskingWriter) Flush() {
	if f, ok := m.ResponseWriter.(http.Flusher); ok && !m.hold {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the writer underneath.
func (m *maskingWriter) Unwrap() http.ResponseWriter { return m.ResponseWriter }

// finish writes a held answer, masked.
func (m *maskingWriter) finish() {
	if !m.hold {
		return
	}
	if m.status != 0 {
		m.ResponseWriter.WriteHeader(m.status)
	}
	m.ResponseWriter.Write(MaskJSON(m.buf.Bytes()))
}

// The fields MaskJSON masks, as our encoder writes them (compact, no
// spaces); the value is a JSON string with its escapes.
var (
	docNumberField = regexp.MustCompile(`"doc_number":"((?:[^"\\]|\\.)*)"`)
	phoneField     = regexp.MustCompile(`"phone":"((?:[^"\\]|\\.)*)"`)
	subjectField   = regexp.MustCompile(`"subject":"doc:((?:[^"\\:]|\\.)*):((?:[^"\\]|\\.)*)"`)
)

// MaskJSON masks the document numbers, phone numbers and document subjects
// of a JSON answer.
func MaskJSON(b []byte) []byte {
	if !bytes.Contains(b, []byte(`"doc_number":`)) && !bytes.Contains(b, []byte(`"phone":`)) && !bytes.Contains(b, []byte(`"subject":"doc:`)) {
		return b // most answers: nothing to look for
	}
	b = docNumberField.ReplaceAllFunc(b, func(m []byte) []byte {
		v := docNumberField.FindSubmatch(m)[1]
		return []byte(`"doc_number":` + strconv.Quote(realname.MaskDocument(unquote(v))))
	})
	b = phoneField.ReplaceAllFunc(b, func(m []byte) []byte {
		v := phoneField.FindSubmatch(m)[1]
		return []byte(`"phone":` + strconv.Quote(realname.MaskPhone(unquote(v))))
	})
	return subjectField.ReplaceAllFunc(b, func(m []byte) []byte {
		sm := subjectField.FindSubmatch(m)
		typ := unquote(sm[1])
		return []byte(`"subject":` + strconv.Quote("doc:"+typ+":"+realname.Passenger{DocType: realname.DocType(typ), DocNumber: unquote(sm[2])}.Masked()))
	})
}

// unquote reads the inside of a JSON string.
func unquote(v []byte) string {
	s, err := strconv.Unquote(`"` + string(v) + `"`)
	if err != nil {
		return string(v)
	}
	return s
}
