package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"piao/internal/app/apptest"
	"piao/internal/audit"
	"piao/internal/booking"
	"piao/internal/httpapi"
	"piao/internal/identity"
	"piao/internal/realname"
)

// memAudit keeps audit entries in memory.
type memAudit struct {
	mu      sync.Mutex
	entries []audit.Entry
}

func (m *memAudit) AppendAudit(_ context.Context, e audit.Entry) (audit.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e.ID = int64(len(m.entries) + 1)
	m.entries = append(m.entries, e)
	return e, nil
}

func (m *memAudit) AuditEntries(context.Context, audit.Filter) ([]audit.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]audit.Entry(nil), m.entries...), nil
}

// TestPersonalDataMaskedInAnswers books with an ID number, makes an
// account with a phone and lists a document: every answer shows them
// masked; an operator with pii:read sees the full ID on request, and the
// view is in the audit trail; one without is refused.
func TestPersonalDataMaskedInAnswers(t *testing.T) {
	a := apptest.NewDemo(t)
	trail := &memAudit{}
	a.Audit = audit.New(trail, nil)
	ts, srv := apptest.Serve(t, a, nil)
	s := &testServer{Server: ts, app: a, api: srv}

	token := s.token(t, identity.Passenger)
	date := apptest.Today().AddDays(2).String()
	id := realname.MakeID("360102", time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC), 123)
	masked := id[:4] + "**********" + id[14:]
	noFull := func(what string, res response) {
		t.Helper()
		if bytes.Contains(res.body, []byte(id)) || bytes.Contains(res.body, []byte("13912345678")) {
			t.Errorf("%s shows a full ID or phone number: %s", what, res.body)
		}
	}
	body := fmt.Sprintf(`{"train":"Z66","date":%q,"from":"NCG","to":"BXP","passengers":[{"name":"张伟","doc_type":"id_card","doc_number":%q,"seat_class":"hard_sleeper"}]}`, date, id)
	res := s.do(t, "POST", "/api/v1/orders", token, strings.NewReader(body))
	var booked booking.Booked
	if err := json.Unmarshal(res.body, &booked); err != nil || res.status != 200 {
		t.Fatalf("book: %d %s", res.status, res.body)
	}
	noFull("the booking's answer", res)
	if got := booked.Order.Tickets[0].DocNumber; got != masked {
		t.Errorf("the booked ticket's document reads %q, want %q", got, masked)
	}
	orderPath := fmt.Sprintf("/api/v1/orders/%d", booked.Order.ID)
	noFull("the passenger's order", s.do(t, "GET", orderPath, token, nil))
	noFull("the passenger's orders", s.do(t, "GET", "/api/v1/orders", token, nil))

	admin := fmt.Sprintf("/api/v1/admin/orders/%d", booked.Order.ID)
	noFull("the admin order view", s.do(t, "GET", admin, s.token(t, identity.OperatorAdmin), nil))
	res = s.do(t, "GET", admin+"?full=true", s.token(t, identity.OperatorAuditor), nil)
	if res.status != 403 || decodeProblem(t, res).Reason != "pii_read_forbidden" {
		t.Errorf("full view without pii:read: %d %s", res.status, res.body)
	}
	if len(trail.entries) != 0 {
		t.Errorf("audit entries before any full view: %+v", trail.entries)
	}
	res = s.do(t, "GET", admin+"?full=true", s.token(t, identity.OperatorAdmin), nil)
	if res.status != 200 || !bytes.Contains(res.body, []byte(id)) {
		t.Fatalf("full view with pii:read: %d %s", res.status, res.body)
	}
	if len(trail.entries) != 1 || trail.entries[0].Action != "pii.view" || trail.entries[0].Subject != fmt.Sprintf("order:%d", booked.Order.ID) {
		t.Errorf("audit trail after a full view: %+v", trail.entries)
	}

	// Accounts: the phone is masked, and login by phone works.
	adminToken := s.token(t, identity.OperatorAdmin)
	res = s.do(t, "POST", "/api/v1/accounts", adminToken, strings.NewReader(`{"username":"phoned","phone":"13912345678","role":"passenger","password":"a long password 1"}`))
	if res.status != 200 || !bytes.Contains(res.body, []byte(`"139****5678"`)) {
		t.Fatalf("create account: %d %s", res.status, res.body)
	}
	noFull("the new account", res)
	res = s.do(t, "POST", "/api/v1/auth/login", "", strings.NewReader(`{"username":"13912345678","password":"a long password 1"}`))
	if res.status != 200 {
		t.Fatalf("login by phone: %d %s", res.status, res.body)
	}
	noFull("the login answer", res)

	// Governance: a listed document and its counts are masked.
	subject := "doc:id_card:" + id
	res = s.do(t, "POST", "/api/v1/governance/members", adminToken, strings.NewReader(`{"list":"restricted","subject":"`+subject+`","reason":"test","days":1}`))
	if res.status != 200 || !bytes.Contains(res.body, []byte(`"subject":"doc:id_card:`+masked+`"`)) {
		t.Fatalf("add member: %d %s", res.status, res.body)
	}
	noFull("the new membership", res)
	noFull("the memberships", s.do(t, "GET", "/api/v1/governance/members?subject="+urlQuery(subject), adminToken, nil))
	noFull("the counts", s.do(t, "GET", "/api/v1/governance/counts?subject="+urlQuery(subject)+"&date="+date, adminToken, nil))
}

func TestMaskJSON(t *testing.T) {
	in := `{"doc_number":"360102199005171234","phone":"13812345678","subject":"doc:passport:E12345678","other":"360102199005171234x","s":"say \"doc_number\":\"x\""}`
	want := `{"doc_number":"3601**********1234","phone":"138****5678","subject":"doc:passport:E1*****78","other":"360102199005171234x","s":"say \"doc_number\":\"x\""}`
	if got := string(httpapi.MaskJSON([]byte(in))); got != want {
		t.Errorf("MaskJSON =\n%s, want\n%s", got, want)
	}
}

// TestRequestLogHasRouteNotPath requests a gift by its token: the log line
// names the route pattern, never the token.
func TestRequestLogHasRouteNotPath(t *testing.T) {
	s := newTestServer(t)
	var buf syncBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	const secret = "giftTOKENsecret123"
	s.do(t, "GET", "/api/v1/gifts/"+secret, s.token(t, identity.Passenger), nil)
	out := buf.String()
	if strings.Contains(out, secret) {
		t.Errorf("the log holds the gift token: %s", out)
	}
	if !strings.Contains(out, `"route":"GET /api/v1/gifts/{token}"`) {
		t.Errorf("the log line does not name the route: %s", out)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestRealNameRequired books and waitlists with names that are empty or
// only look like names (Hangul fillers display as nothing): every one is a
// 422 bad_name with Chinese and English text, and nothing is booked.
func TestRealNameRequired(t *testing.T) {
	s := newTestServer(t)
	token := s.token(t, identity.Passenger)
	date := apptest.Today().AddDays(2).String()
	id := realname.MakeID("360102", time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC), 321)
	for _, name := range []string{"", "   ", "\u3164", "\u3164\u3164", "\uffa0", "张\ufe0f", "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一"} {
		q, _ := json.Marshal(name)
		book := fmt.Sprintf(`{"train":"Z66","date":%q,"from":"NCG","to":"BXP","passengers":[{"name":%s,"doc_type":"id_card","doc_number":%q,"seat_class":"hard_sleeper"}]}`, date, q, id)
		wait := fmt.Sprintf(`{"options":[{"train":"Z66","date":%q,"from":"NCG","to":"BXP","seat_class":"hard_sleeper"}],"passengers":[{"name":%s,"doc_type":"id_card","doc_number":%q}]}`, date, q, id)
		for path, body := range map[string]string{"/api/v1/orders": book, "/api/v1/waitlist": wait} {
			res := s.do(t, "POST", path, token, strings.NewReader(body))
			p := decodeProblem(t, res)
			if res.status != 422 || p.Reason != "bad_name" || p.MessageZH == "" || p.MessageEN == "" {
				t.Errorf("POST %s with name %+q: %d %s", path, name, res.status, res.body)
			}
		}
	}
	res := s.do(t, "GET", "/api/v1/orders", token, nil)
	if res.status != 200 || !strings.Contains(string(res.body), `"orders":[]`) {
		t.Errorf("orders after refused bookings: %s", res.body)
	}
}
