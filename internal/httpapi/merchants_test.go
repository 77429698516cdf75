package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"piao/internal/abuse"
	"piao/internal/audit"
	"piao/internal/httpapi"
	"piao/internal/identity"
	"piao/internal/testclock"
)

var testPDF = []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")

// paperFile is one file of a multipart form: its field, name and bytes.
type paperFile struct {
	field, name string
	data        []byte
}

// postForm posts a multipart form with fields and files.
func (s *testServer) postForm(t *testing.T, path string, fields map[string]string, files []paperFile, header ...string) response {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	for _, f := range files {
		part, err := w.CreateFormFile(f.field, f.name)
		if err != nil {
			t.Fatal(err)
		}
		part.Write(f.data)
	}
	w.Close()
	req, err := http.NewRequest("POST", s.URL+path, &b)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out bytes.Buffer
	out.ReadFrom(res.Body)
	return response{res.StatusCode, res.Header, out.Bytes()}
}

func application(name, code, admin string) map[string]string {
	return map[string]string{"legal_name": name, "credit_code": code, "contact_name": "王经理", "contact_phone": "13912345678",
		"admin_username": admin, "admin_password": "correct horse battery"}
}

func decodeJSON[T any](t *testing.T, res response, want int) T {
	t.Helper()
	var v T
	if res.status != want {
		t.Fatalf("status %d, want %d: %s", res.status, want, res.body)
	}
	if err := json.Unmarshal(res.body, &v); err != nil {
		t.Fatalf("%v: %s", err, res.body)
	}
	return v
}

type merchantJSON struct {
	ID           int64  `json:"id"`
	Status       string `json:"status"`
	AdminAccount int64  `json:"admin_account"`
	Contact      struct {
		Phone string `json:"phone"`
	} `json:"contact"`
}

type dossierJSON struct {
	Merchant merchantJSON `json:"merchant"`
	Papers   []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
		Kind string `json:"kind"`
	} `json:"papers"`
	Events []struct {
		From, To, Reason, Actor string
	} `json:"events"`
}

func wantRefusal(t *testing.T, res response, status int, reason string) {
	t.Helper()
	if res.status != status {
		t.Fatalf("status %d, want %d %s: %s", res.status, status, reason, res.body)
	}
	if p := decodeProblem(t, res); p.Reason != reason {
		t.Fatalf("reason %s, want %s: %s", p.Reason, reason, res.body)
	}
}

func (s *testServer) login(t *testing.T, username, password string) (string, response) {
	t.Helper()
	res := s.do(t, "POST", "/api/v1/auth/login", "", strings.NewReader(`{"username":"`+username+`","password":"`+password+`"}`))
	var out struct {
		Token string `json:"token"`
	}
	json.Unmarshal(res.body, &out)
	return out.Token, res
}

func (s *testServer) merchantCount(t *testing.T, op string) int {
	t.Helper()
	list := decodeJSON[struct {
		Merchants []merchantJSON `json:"merchants"`
	}](t, s.do(t, "GET", "/api/v1/merchants", op, nil), 200)
	return len(list.Merchants)
}

// TestMerchantApplicationRefusals: a bad application is refused with a
// reason naming what is wrong, and nothing is written.
func TestMerchantApplicationRefusals(t *testing.T) {
	s := newTestServer(t)
	op := s.token(t, identity.OperatorReviewer)
	licence := []paperFile{{"licence", "执照.pdf", testPDF}}
	decodeJSON[struct{ Token string }](t, s.postForm(t, "/api/v1/merchant-applications", application("万象商城有限公司", "91350100M000100Y43", "mall-admin"), licence), 200)
	before := s.merchantCount(t, op)
	big := append(append([]byte{}, testPDF...), bytes.Repeat([]byte{' '}, 5<<20)...)
	for _, c := range []struct {
		name   string
		fields map[string]string
		files  []paperFile
		status int
		reason string
	}{
		{"duplicate code", application("另一家公司", " 91350100m000100y43", "other-admin"), licence, 409, "credit_code_taken"},
		{"bad check character", application("另一家公司", "91350100M000100Y44", "other-admin"), licence, 422, "credit_code_check"},
		{"taken username", application("另一家公司", "9144030071526726XG", "mall-admin"), licence, 409, "username_taken"},
		{"demo username", application("另一家公司", "9144030071526726XG", "admin"), licence, 409, "username_taken"},
		// A phone-shaped username would tell a stranger whether the phone
		// has an account (the demo passenger's, or nobody's): refused the
		// same way either way.
		{"phone as username", application("另一家公司", "9144030071526726XG", "13800138000"), licence, 422, "numeric_username"},
		{"unknown phone as username", application("另一家公司", "9144030071526726XG", "13933334444"), licence, 422, "numeric_username"},
		{"no licence", application("另一家公司", "9144030071526726XG", "other-admin"), []paperFile{{"other", "门头.pdf", testPDF}}, 422, "licence_required"},
		{"wrong type", application("另一家公司", "9144030071526726XG", "other-admin"), []paperFile{{"licence", "执照.pdf", []byte("just text, named pdf")}}, 422, "file_type"},
		{"oversized", application("另一家公司", "9144030071526726XG", "other-admin"), []paperFile{{"licence", "执照.pdf", big}}, 422, "file_too_large"},
		{"weak password", func() map[string]string {
			f := application("另一家公司", "9144030071526726XG", "other-admin")
			f["admin_password"] = "short"
			return f
		}(), licence, 422, "weak_password"},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantRefusal(t, s.postForm(t, "/api/v1/merchant-applications", c.fields, c.files), c.status, c.reason)
		})
	}
	if after := s.merchantCount(t, op); after != before {
		t.Errorf("%d merchants after the refusals, want %d", after, before)
	}
	if _, err := s.app.Identity.Store.AccountByLogin(context.Background(), "other-admin"); err == nil {
		t.Error("a refused application made an account")
	}
	// A body over the request limit is refused before it is read.
	huge := bytes.Repeat([]byte{' '}, 22<<20)
	res := s.postForm(t, "/api/v1/merchant-applications", application("另一家公司", "9144030071526726XG", "other-admin"), []paperFile{{"licence", "a.pdf", huge}})
	if res.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a 22 MiB request: %d, want 413", res.status)
	}
}

// TestMerchantOnboardingFlow walks apply → ask for more → resubmit →
// approve → the admin logs in → invites staff → staff accepts with exactly
// its grants → another merchant cannot touch that staff → suspension locks
// everyone out → reinstatement lets back in all but the staff the admin
// had disabled.
func TestMerchantOnboardingFlow(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	op := s.token(t, identity.OperatorReviewer)
	auditor := s.token(t, identity.OperatorAuditor)

	receipt := decodeJSON[struct {
		Merchant merchantJSON `json:"merchant"`
		Token    string       `json:"token"`
	}](t, s.postForm(t, "/api/v1/merchant-applications", application("万象商城有限公司", "91350100M000100Y43", "mall-admin"),
		[]paperFile{{"licence", "执照.pdf", testPDF}}), 200)
	if receipt.Token == "" || receipt.Merchant.Status != "applied" || receipt.Merchant.Contact.Phone == "13912345678" {
		t.Fatalf("receipt %+v: want a token, applied, the phone masked", receipt)
	}
	id := strconv.FormatInt(receipt.Merchant.ID, 10)
	tok := []string{"X-Applicant-Token", receipt.Token}

	status := decodeJSON[dossierJSON](t, s.do(t, "GET", "/api/v1/merchant-applications/status", "", nil, tok...), 200)
	if status.Merchant.ID != receipt.Merchant.ID || len(status.Papers) != 1 || len(status.Events) != 1 {
		t.Fatalf("status %+v", status)
	}
	wantRefusal(t, s.do(t, "GET", "/api/v1/merchant-applications/status", "", nil, "X-Applicant-Token", "pma_nope"), 404, "application_not_found")

	// The auditor reads but does not decide; a reviewer must say why.
	if res := s.do(t, "POST", "/api/v1/merchants/"+id+"/request-info", auditor, strings.NewReader(`{"reason":"x"}`)); res.status != 403 {
		t.Fatalf("auditor asked for more: %d", res.status)
	}
	wantRefusal(t, s.do(t, "POST", "/api/v1/merchants/"+id+"/request-info", op, strings.NewReader(`{}`)), 422, "reason_required")
	m := decodeJSON[merchantJSON](t, s.do(t, "POST", "/api/v1/merchants/"+id+"/request-info", op, strings.NewReader(`{"reason":"请补充门头照片"}`)), 200)
	if m.Status != "info_requested" {
		t.Fatalf("after request-info: %s", m.Status)
	}
	wantRefusal(t, s.do(t, "POST", "/api/v1/merchants/"+id+"/approve", op, strings.NewReader(`{}`)), 409, "merchant_status")

	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1}, 64)...)
	decodeJSON[struct{ Papers []any }](t, s.postForm(t, "/api/v1/merchant-applications/papers", nil, []paperFile{{"other", "门头.png", png}}, tok...), 200)
	m = decodeJSON[merchantJSON](t, s.do(t, "POST", "/api/v1/merchant-applications/resubmit", "", strings.NewReader(`{"note":"已补充"}`), tok...), 200)
	if m.Status != "applied" {
		t.Fatalf("after resubmit: %s", m.Status)
	}

	d := decodeJSON[dossierJSON](t, s.do(t, "GET", "/api/v1/merchants/"+id, auditor, nil), 200)
	if len(d.Papers) != 2 || len(d.Events) != 3 || d.Events[1].Reason != "请补充门头照片" || d.Events[1].To != "info_requested" || d.Events[2].Actor != "applicant" {
		t.Fatalf("dossier %+v", d)
	}
	res := s.do(t, "GET", "/api/v1/merchants/"+id+"/papers/"+strconv.FormatInt(d.Papers[1].ID, 10), auditor, nil)
	if res.status != 200 || !bytes.Equal(res.body, png) || res.header.Get("Content-Type") != "image/png" ||
		!strings.HasPrefix(res.header.Get("Content-Disposition"), "attachment;") || res.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("paper: %d %v", res.status, res.header)
	}

	m = decodeJSON[merchantJSON](t, s.do(t, "POST", "/api/v1/merchants/"+id+"/approve", op, strings.NewReader(`{}`)), 200)
	if m.Status != "approved" || m.AdminAccount == 0 {
		t.Fatalf("approved %+v", m)
	}
	admin, res := s.login(t, "mall-admin", "correct horse battery")
	if admin == "" {
		t.Fatalf("the admin cannot log in: %d %s", res.status, res.body)
	}
	own := decodeJSON[merchantJSON](t, s.do(t, "GET", "/api/v1/merchant", admin, nil), 200)
	if own.ID != receipt.Merchant.ID {
		t.Fatalf("own merchant %d, want %s", own.ID, id)
	}

	// Staff: invited with reports only, accepted, exactly that.
	wantRefusal(t, s.do(t, "POST", "/api/v1/merchant/staff", admin, strings.NewReader(`{"username":"clerk","grants":["merchant:users"]}`)), 422, "bad_grant")
	invite := func(name string, grants string) string {
		inv := decodeJSON[struct{ Token string }](t, s.do(t, "POST", "/api/v1/merchant/staff", admin, strings.NewReader(`{"username":"`+name+`","display_name":"店员","grants":`+grants+`}`)), 200)
		return inv.Token
	}
	accept := func(token string) int64 {
		acc := decodeJSON[struct{ ID int64 }](t, s.do(t, "POST", "/api/v1/merchant-invitations/accept", "", strings.NewReader(`{"token":"`+token+`","password":"clerk password"}`)), 200)
		return acc.ID
	}
	clerkInv := invite("clerk", `["merchant:reports"]`)
	clerkID := accept(clerkInv)
	wantRefusal(t, s.do(t, "POST", "/api/v1/merchant-invitations/accept", "", strings.NewReader(`{"token":"`+clerkInv+`","password":"clerk password"}`)), 409, "invitation_used")
	clerk, _ := s.login(t, "clerk", "clerk password")
	me := decodeJSON[struct {
		Role     string   `json:"role"`
		Merchant int64    `json:"merchant"`
		Grants   []string `json:"grants"`
	}](t, s.do(t, "GET", "/api/v1/me", clerk, nil), 200)
	if me.Role != "merchant_staff" || me.Merchant != receipt.Merchant.ID || len(me.Grants) != 1 || me.Grants[0] != "merchant:reports" {
		t.Fatalf("clerk %+v", me)
	}
	if res := s.do(t, "GET", "/api/v1/merchant/staff", clerk, nil); res.status != 403 {
		t.Errorf("staff listed staff: %d", res.status)
	}
	leaver := invite("leaver", `[]`)
	leaverID := accept(leaver)
	if res := s.do(t, "POST", "/api/v1/merchant/staff/"+strconv.FormatInt(leaverID, 10)+"/disable", admin, nil); res.status != 200 {
		t.Fatalf("disable leaver: %d %s", res.status, res.body)
	}
	if tok, _ := s.login(t, "leaver", "clerk password"); tok != "" {
		t.Fatal("a disabled staff logged in")
	}
	staff := decodeJSON[struct {
		Accounts []struct {
			ID       int64
			Disabled bool
		}
	}](t, s.do(t, "GET", "/api/v1/merchant/staff", admin, nil), 200)
	listed := map[int64]bool{}
	for _, a := range staff.Accounts {
		listed[a.ID] = a.Disabled
	}
	if d, ok := listed[m.AdminAccount]; !ok || d {
		t.Errorf("staff list %+v: the admin missing or disabled", staff)
	}
	if d, ok := listed[clerkID]; !ok || d {
		t.Errorf("staff list %+v: the clerk missing or disabled", staff)
	}
	if d, ok := listed[leaverID]; !ok || !d {
		t.Errorf("staff list %+v: the leaver missing or enabled", staff)
	}
	grants := decodeJSON[struct{ Grants []string }](t, s.do(t, "PUT", "/api/v1/merchant/staff/"+strconv.FormatInt(clerkID, 10)+"/grants", admin,
		strings.NewReader(`{"grants":["merchant:reports","merchant:campaigns"]}`)), 200)
	if len(grants.Grants) != 2 {
		t.Errorf("grants %v", grants.Grants)
	}

	// Another merchant's admin: the clerk is not found, and its own
	// admin's ID is not a staff account either.
	other := decodeJSON[struct {
		Merchant merchantJSON `json:"merchant"`
	}](t, s.postForm(t, "/api/v1/merchant-applications", application("招商银行某支行", "9144030071526726XG", "bank-admin"), []paperFile{{"licence", "l.pdf", testPDF}}), 200)
	decodeJSON[merchantJSON](t, s.do(t, "POST", "/api/v1/merchants/"+strconv.FormatInt(other.Merchant.ID, 10)+"/approve", op, strings.NewReader(`{}`)), 200)
	bank, _ := s.login(t, "bank-admin", "correct horse battery")
	clerkPath := "/api/v1/merchant/staff/" + strconv.FormatInt(clerkID, 10)
	wantRefusal(t, s.do(t, "PUT", clerkPath+"/grants", bank, strings.NewReader(`{"grants":[]}`)), 404, "staff_not_found")
	wantRefusal(t, s.do(t, "POST", clerkPath+"/disable", bank, nil), 404, "staff_not_found")
	wantRefusal(t, s.do(t, "PUT", clerkPath+"/grants", bank, strings.NewReader(`{}`)), 404, "staff_not_found")
	wantRefusal(t, s.do(t, "POST", clerkPath+"/enable", bank, nil), 404, "staff_not_found")
	wantRefusal(t, s.do(t, "POST", "/api/v1/merchant/staff/"+strconv.FormatInt(m.AdminAccount, 10)+"/disable", admin, nil), 404, "staff_not_found")
	if res := s.do(t, "GET", "/api/v1/me", clerk, nil); res.status != 200 {
		t.Fatalf("the clerk after the other merchant tried: %d", res.status)
	}

	// Suspension locks the admin and staff out; reinstatement lets back
	// in those it locked out, and not the leaver.
	wantRefusal(t, s.do(t, "POST", "/api/v1/merchants/"+id+"/suspend", op, strings.NewReader(`{}`)), 422, "reason_required")
	decodeJSON[merchantJSON](t, s.do(t, "POST", "/api/v1/merchants/"+id+"/suspend", op, strings.NewReader(`{"reason":"投诉核查"}`)), 200)
	for name, token := range map[string]string{"admin": admin, "clerk": clerk} {
		if res := s.do(t, "GET", "/api/v1/me", token, nil); res.status != 401 {
			t.Errorf("%s's token after suspension: %d", name, res.status)
		}
	}
	if tok, _ := s.login(t, "mall-admin", "correct horse battery"); tok != "" {
		t.Error("a suspended merchant's admin logged in")
	}
	if res := s.do(t, "GET", "/api/v1/me", bank, nil); res.status != 200 {
		t.Errorf("the other merchant after the suspension: %d", res.status)
	}
	decodeJSON[merchantJSON](t, s.do(t, "POST", "/api/v1/merchants/"+id+"/reinstate", op, strings.NewReader(`{}`)), 200)
	for _, u := range []struct{ name, pw string }{{"mall-admin", "correct horse battery"}, {"clerk", "clerk password"}} {
		if tok, res := s.login(t, u.name, u.pw); tok == "" {
			t.Errorf("%s after reinstatement: %d %s", u.name, res.status, res.body)
		}
	}
	if tok, _ := s.login(t, "leaver", "clerk password"); tok != "" {
		t.Error("reinstatement enabled the staff its admin had disabled")
	}

	page, err := s.app.Audit.Entries(ctx, audit.Filter{Subject: "merchant:" + id})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]bool{}
	for _, e := range page.Entries {
		actions[e.Action] = true
	}
	for _, a := range []string{"merchant.apply", "merchant.request_info", "merchant.papers.add", "merchant.resubmit", "merchant.approve", "merchant.staff.invite", "merchant.suspend", "merchant.reinstate"} {
		if !actions[a] {
			t.Errorf("no audit entry %s in %v", a, actions)
		}
	}
}

// appliedMerchant applies as a merchant with one licence and returns the
// merchant's ID, its paper's ID and the applicant token: the answers other
// tests need from the onboarding routes.
func (s *testServer) appliedMerchant(t *testing.T, code, admin string) (id, paper int64, token string) {
	t.Helper()
	r := decodeJSON[struct {
		Merchant merchantJSON `json:"merchant"`
		Token    string       `json:"token"`
	}](t, s.postForm(t, "/api/v1/merchant-applications", application("万象商城有限公司", code, admin), []paperFile{{"licence", "执照.pdf", testPDF}}), 200)
	d := decodeJSON[dossierJSON](t, s.do(t, "GET", "/api/v1/merchant-applications/status", "", nil, "X-Applicant-Token", r.Token), 200)
	return r.Merchant.ID, d.Papers[0].ID, r.Token
}

// TestMerchantRoutesLimited: the onboarding routes a stranger can call
// count against a limit, and applications are refused beyond it.
func TestMerchantRoutesLimited(t *testing.T) {
	srv := httpapi.New(httpapi.Deps{Version: "test"})
	want := map[string]abuse.Action{
		"POST /api/v1/merchant-applications":          abuse.Apply,
		"GET /api/v1/merchant-applications/status":    abuse.Apply,
		"POST /api/v1/merchant-applications/papers":   abuse.Apply,
		"POST /api/v1/merchant-applications/resubmit": abuse.Apply,
		"POST /api/v1/merchant-invitations/accept":    abuse.Login,
	}
	for _, r := range srv.Routes() {
		if w, ok := want[r.Method+" "+r.Path]; ok {
			if r.Limit != w {
				t.Errorf("%s %s: limit %q, want %q", r.Method, r.Path, r.Limit, w)
			}
			delete(want, r.Method+" "+r.Path)
		}
	}
	for k := range want {
		t.Errorf("%s: no such route", k)
	}

	cfg := abuse.Defaults()
	cfg.Rules[abuse.Apply] = abuse.Rule{abuse.PerIP: {Events: 2, Per: time.Hour}}
	s := newLimitedServer(t, cfg, testclock.New(time.Now()))
	for i := range 3 {
		res := s.postForm(t, "/api/v1/merchant-applications", application("某公司", "bad", "x"), nil, "X-Forwarded-For", "198.51.100.77")
		if i < 2 && res.status == 429 {
			t.Fatalf("application %d refused as rate limited", i+1)
		}
		if i == 2 {
			want429(t, res, "rate_limited", "the IP's third application")
		}
	}
}
