package console_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"piao/internal/demo"
	"piao/internal/identity"
)

var consolePDF = []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")

// postMultipart posts a multipart form with fields and files (field, name, bytes).
func (c *client) postMultipart(path string, fields map[string]string, files [][3]string) (*http.Response, string) {
	c.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	for _, f := range files {
		part, _ := w.CreateFormFile(f[0], f[1])
		part.Write([]byte(f[2]))
	}
	w.Close()
	req, err := http.NewRequest("POST", c.base+path, &b)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

var codeRE = regexp.MustCompile(`<code id="(?:mc-applicant-token|mc-invitation-token)">([^<]+)</code>`)

// TestMerchantPages walks the console's onboarding: a stranger applies
// with a licence (a wrong file is refused, nothing kept), follows the
// application with the token; the reviewer asks for more, the applicant
// adds a paper and resubmits, the reviewer downloads it and approves; the
// merchant's admin invites staff with one grant, who accepts and logs in.
func TestMerchantPages(t *testing.T) {
	e := newEnv(t)
	stranger := e.client(t)
	_, page := stranger.get("/merchants/apply")
	fields := map[string]string{"csrf": csrfIn(page), "legal_name": "万象商城有限公司", "credit_code": "91350100M000100Y43", "contact_name": "王经理",
		"contact_phone": "13912345678", "admin_username": "mall-admin", "admin_password": "correct horse", "admin_password2": "correct horse"}
	resp, body := stranger.postMultipart("/merchants/apply", fields, [][3]string{{"licence", "执照.txt", "not a pdf"}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "不支持的文件类型", `value="万象商城有限公司"`)
	if strings.Contains(body, "correct horse") {
		t.Error("the refused form shows the password again")
	}
	resp, body = stranger.postMultipart("/merchants/apply", fields, [][3]string{{"licence", "执照.pdf", string(consolePDF)}})
	wantStatus(t, resp, body, http.StatusOK)
	m := codeRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no applicant token shown:\n%s", body)
	}
	applicant := m[1]

	_, page = stranger.get("/merchants/application")
	resp, body = stranger.post("/merchants/application", url.Values{"csrf": {csrfIn(page)}, "applicant": {applicant}})
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `data-status="applied"`, "执照.pdf", "139****5678")
	if strings.Contains(body, "13912345678") {
		t.Error("the status page shows the contact's phone in full")
	}

	reviewer := e.client(t)
	reviewer.login(loginFor(t, identity.OperatorReviewer))
	resp, body = reviewer.get("/merchants?status=applied")
	wantStatus(t, resp, body, http.StatusOK)
	id := regexp.MustCompile(`data-merchant="(\d+)"`).FindStringSubmatch(body)
	if id == nil {
		t.Fatalf("the queue lacks the application:\n%s", body)
	}
	detail := "/merchants/" + id[1]
	csrf := reviewer.csrfFor(detail)
	resp, body = reviewer.post(detail+"/request_info", url.Values{"csrf": {csrf}})
	wantStatus(t, resp, body, http.StatusUnprocessableEntity)
	wantContains(t, body, "请填写原因")
	resp, body = reviewer.post(detail+"/request_info", url.Values{"csrf": {csrf}, "reason": {"请补充门头照片"}})
	wantStatus(t, resp, body, http.StatusSeeOther)

	_, page = stranger.get("/merchants/application")
	png := "\x89PNG\r\n\x1a\n" + strings.Repeat("\x01", 64)
	resp, body = stranger.postMultipart("/merchants/application/papers", map[string]string{"csrf": csrfIn(page), "applicant": applicant}, [][3]string{{"other", "门头.png", png}})
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "门头.png", `data-status="info_requested"`, "请补充门头照片")
	resp, body = stranger.post("/merchants/application/resubmit", url.Values{"csrf": {csrfIn(page)}, "applicant": {applicant}, "note": {"已补充"}})
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, `data-status="applied"`)

	_, body = reviewer.get(detail)
	link := regexp.MustCompile(`href="(` + detail + `/papers/\d+)" download>门头.png`).FindStringSubmatch(body)
	if link == nil {
		t.Fatalf("no download link for the paper:\n%s", body)
	}
	resp, body = reviewer.get(link[1])
	if resp.StatusCode != 200 || body != png || resp.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("paper download: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body = reviewer.post(detail+"/approve", url.Values{"csrf": {csrf}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	_, body = reviewer.get(detail + "?done=approve")
	wantContains(t, body, `data-status="approved"`, "mc-suspend")

	admin := e.client(t)
	admin.login(demoLogin("mall-admin", "correct horse"))
	resp, body = admin.get("/merchant/staff")
	wantStatus(t, resp, body, http.StatusOK)
	resp, body = admin.post("/merchant/staff", url.Values{"csrf": {admin.csrfFor("/merchant/staff")}, "username": {"clerk"}, "display_name": {"店员"}, "grants": {"merchant:reports"}})
	wantStatus(t, resp, body, http.StatusOK)
	m = codeRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no invitation token shown:\n%s", body)
	}
	invitee := e.client(t)
	_, page = invitee.get("/merchant/invitations/accept")
	resp, body = invitee.post("/merchant/invitations/accept", url.Values{"csrf": {csrfIn(page)}, "invitation": {m[1]}, "password": {"clerk password"}, "password2": {"clerk password"}})
	wantStatus(t, resp, body, http.StatusOK)
	wantContains(t, body, "clerk")
	clerk, err := e.app.Identity.Store.AccountByLogin(t.Context(), "clerk")
	if err != nil || clerk.Role != identity.MerchantStaff || len(clerk.Grants) != 1 || clerk.Grants[0] != identity.MerchantReports {
		t.Fatalf("clerk %+v (%v)", clerk, err)
	}
	invitee.login(demoLogin("clerk", "clerk password"))
	resp, _ = invitee.get("/merchant/staff")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("staff opened the staff page: %d", resp.StatusCode)
	}
	// The admin takes the grant away and disables the clerk.
	_, body = admin.get("/merchant/staff")
	wantContains(t, body, `data-account="`)
	csrf = admin.csrfFor("/merchant/staff")
	path := "/merchant/staff/" + itoa(clerk.ID)
	resp, body = admin.post(path+"/disable", url.Values{"csrf": {csrf}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if resp, _ := invitee.get("/network"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a disabled staff's session still works: %d", resp.StatusCode)
	}
}

// demoLogin is a login that is not one of the demo's.
func demoLogin(username, password string) demo.Login {
	return demo.Login{Username: username, Password: password}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
