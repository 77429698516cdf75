package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"piao/internal/fault"
	"piao/internal/payment"
	"piao/internal/problem"
)

// Handler serves the sandbox's payer-facing and machine endpoints:
//
//	GET  /sandbox/pay/{id}      the bilingual payment page
//	POST /sandbox/pay/{id}      the page's form: action=pay|fail, csrf=<page token>
//	POST /sandbox/api/pay/{id}  pay without a browser: header X-Piao-Sandbox-Key
//	                            (APIKey), optional JSON body {"action":"pay"|"fail"}
//	GET  /sandbox/statements/{day}  the day's statement (YYYY-MM-DD) as a CSV
//	                            bill: header X-Piao-Sandbox-Key (StatementKey)
//
// The form is guarded by http.CrossOriginProtection and a per-page token
// derived from the secret and the payment ID. A successful form post
// redirects (303) to the payment's ReturnURL with ?payment_id=….
func (g *Gateway) Handler() http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.renderError(w, http.StatusForbidden, "跨站请求被拒绝", "cross-origin request refused")
	}))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sandbox/pay/{id}", g.page)
	mux.Handle("POST /sandbox/pay/{id}", cop.Handler(http.HandlerFunc(g.submit)))
	mux.HandleFunc("POST /sandbox/api/pay/{id}", g.apiPay)
	mux.HandleFunc("GET /sandbox/statements/{day}", g.statementFile)
	return mux
}

// APIKeyHeader carries the key of POST /sandbox/api/pay/{id}.
const APIKeyHeader = "X-Piao-Sandbox-Key"

// APIKey is the key that lets a program pay payment id through the machine
// endpoint: the hex HMAC-SHA256 of the ID under the gateway's secret.
func APIKey(secret []byte, paymentID string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(paymentID))
	return hex.EncodeToString(m.Sum(nil))
}

// csrfToken is the payment page's form token. Its "csrf\n" prefix keeps it
// apart from APIKey, which hashes a bare ID that has no newline.
func (g *Gateway) csrfToken(id string) string {
	m := hmac.New(sha256.New, g.cfg.Secret)
	m.Write([]byte("csrf\n" + id))
	return hex.EncodeToString(m.Sum(nil))
}

// hexEqual compares two hex strings' bytes in constant time; malformed or
// empty strings never match.
func hexEqual(a, b string) bool {
	x, err1 := hex.DecodeString(a)
	y, err2 := hex.DecodeString(b)
	return err1 == nil && err2 == nil && len(x) > 0 && hmac.Equal(x, y)
}

// maxFormBytes bounds the bodies of the POST endpoints.
const maxFormBytes = 16 << 10

// shanghai is where displayed times are.
var shanghai = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}()

// yuan formats fen as ¥12.50.
func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return sign + "¥" + strconv.FormatInt(fen/100, 10) + "." + strconv.FormatInt(fen%100/10, 10) + strconv.FormatInt(fen%10, 10)
}

// statusText is how the page names a status, in zh-CN and English.
var statusText = map[payment.Status][2]string{
	payment.Pending: {"待支付", "Awaiting payment"},
	payment.Paid:    {"已支付", "Paid"},
	payment.Failed:  {"支付失败", "Failed"},
	payment.Closed:  {"已关闭（超时未支付）", "Closed (expired)"},
}

// pageCSS is the pages' only style; the CSP admits it by hash.
const pageCSS = `body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;background:#f4f5f7;color:#1d2129}
main{max-width:32rem;margin:2rem auto;background:#fff;border:1px solid #dcdfe6;border-radius:8px;padding:1.5rem}
h1{font-size:1.25rem;margin:0 0 .5rem}.en{color:#4e5969}.note{font-size:.875rem;color:#86909c}
dl{display:grid;grid-template-columns:auto 1fr;gap:.5rem 1rem}dt{color:#4e5969}dd{margin:0;word-break:break-all}
.amount{font-size:1.5rem;font-weight:600;color:#c9302c}.alert{border-left:4px solid #c9302c;padding:.5rem .75rem;background:#fff2f0}
form{display:flex;gap:.75rem;margin-top:1rem}button{font:inherit;padding:.6rem 1.2rem;border-radius:6px;border:1px solid #1677ff;background:#1677ff;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#1d2129;border-color:#c9cdd4}`

// styleHash is the CSP source of pageCSS.
var styleHash = func() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

const pageHead = `<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>沙箱支付 Sandbox payment · piao</title>
<link rel="icon" href="data:,">
<style>` + pageCSS + `</style>
</head>
<body>
<main>
<h1>沙箱支付 <span class="en" lang="en">Sandbox payment</span></h1>
<p class="note">测试用模拟支付，不会产生真实扣款。<span lang="en">A simulated payment for testing: no real money moves.</span></p>
`

const pageFoot = `</main>
</body>
</html>
`

var (
	payPage = template.Must(template.New("pay").Parse(pageHead + `
{{- if .MsgZH}}<p class="alert" role="alert">{{.MsgZH}} <span lang="en">{{.MsgEN}}</span></p>{{end}}
<dl>
<dt>商户订单号 <span class="en" lang="en">Merchant order</span></dt><dd>{{.OrderRef}}</dd>
<dt>商品 <span class="en" lang="en">Subject</span></dt><dd>{{.Subject}}</dd>
<dt>金额 <span class="en" lang="en">Amount</span></dt><dd class="amount">{{.Amount}}</dd>
<dt>状态 <span class="en" lang="en">Status</span></dt><dd id="status" data-status="{{.Status}}">{{.StatusZH}} <span lang="en">{{.StatusEN}}</span></dd>
{{- if .Refunded}}
<dt>已退款 <span class="en" lang="en">Refunded</span></dt><dd>{{.Refunded}}</dd>
{{- end}}
{{- if .PaidAt}}
<dt>支付时间 <span class="en" lang="en">Paid at</span></dt><dd>{{.PaidAt}}</dd>
{{- end}}
<dt>支付截止 <span class="en" lang="en">Pay before</span></dt><dd><time datetime="{{.ExpiresISO}}">{{.Expires}}</time>（北京时间 <span lang="en">Beijing time</span>）</dd>
<dt>支付单号 <span class="en" lang="en">Payment ID</span></dt><dd>{{.ID}}</dd>
</dl>
{{- if .Payable}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<button type="submit" name="action" value="pay">支付 Pay</button>
<button type="submit" name="action" value="fail" class="secondary">模拟失败 Fail</button>
</form>
{{- else if .Expired}}
<p>支付已超时，请返回商户重新发起支付。<span lang="en">This payment has expired: return to the merchant to pay again.</span></p>
{{- end}}
{{- if .ReturnURL}}
<p><a href="{{.ReturnURL}}">返回商户 <span lang="en">Return to merchant</span></a></p>
{{- end}}
` + pageFoot))

	errorPage = template.Must(template.New("error").Parse(pageHead + `<p class="alert" role="alert">{{.ZH}} <span lang="en">{{.EN}}</span></p>
` + pageFoot))
)

// pageData is what the payment page shows.
type pageData struct {
	ID, OrderRef, Subject, Amount, Refunded string
	Status                                  payment.Status
	StatusZH, StatusEN                      string
	PaidAt, Expires, ExpiresISO             string
	Payable, Expired                        bool
	Action, CSRF, ReturnURL                 string
	MsgZH, MsgEN                            string
}

// securityHeaders sets the headers of every HTML answer; formTarget is an
// extra origin the page's form may end up at (the merchant's, through the
// redirect after paying), or "".
func securityHeaders(w http.ResponseWriter, formTarget string) {
	h := w.Header()
	action := "'self'"
	if formTarget != "" {
		action += " " + formTarget
	}
	h.Set("Content-Security-Policy", "default-src 'none'; style-src "+styleHash+"; img-src data:; form-action "+action+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/html; charset=utf-8")
}

// originOf returns the scheme://host of an absolute http(s) URL, if its
// host is plain enough to put in a CSP, else "".
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	for _, c := range u.Host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)) {
			return ""
		}
	}
	return u.Scheme + "://" + u.Host
}

// returnTo is where the payer goes after acting on rec: its ReturnURL with
// payment_id added, or else its payment page.
func (g *Gateway) returnTo(rec Record) string {
	if rec.ReturnURL != "" {
		if u, err := url.Parse(rec.ReturnURL); err == nil {
			q := u.Query()
			q.Set("payment_id", rec.ID)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return "/sandbox/pay/" + url.PathEscape(rec.ID)
}

// renderError shows a bilingual error page.
func (g *Gateway) renderError(w http.ResponseWriter, status int, zh, en string) {
	securityHeaders(w, "")
	w.WriteHeader(status)
	errorPage.Execute(w, struct{ ZH, EN string }{zh, en})
}

// renderFault shows err as an error page, logging internal errors.
func (g *Gateway) renderFault(w http.ResponseWriter, r *http.Request, err error) {
	fe := fault.As(err)
	if fe.Code == fault.Internal {
		slog.ErrorContext(r.Context(), "sandbox payment page", "path", r.URL.Path, "err", err.Error())
	}
	g.renderError(w, problem.StatusOf(fe.Code), fe.ZH, fe.EN)
}

// renderPage shows the payment page of rec with an optional message.
func (g *Gateway) renderPage(w http.ResponseWriter, status int, rec Record, msg *fault.Error) {
	now := g.now()
	p := g.view(rec, now)
	st := statusText[p.Status]
	d := pageData{
		ID: p.ID, OrderRef: p.OrderRef, Subject: rec.Subject, Amount: yuan(p.AmountFen),
		Status: p.Status, StatusZH: st[0], StatusEN: st[1],
		Expires:    p.ExpiresAt.In(shanghai).Format("2006-01-02 15:04:05"),
		ExpiresISO: p.ExpiresAt.In(shanghai).Format(time.RFC3339),
		Payable:    p.Status == payment.Pending,
		Expired:    p.Status == payment.Closed,
		Action:     "/sandbox/pay/" + url.PathEscape(p.ID),
		CSRF:       g.csrfToken(p.ID),
	}
	if p.RefundedFen > 0 {
		d.Refunded = yuan(p.RefundedFen)
	}
	if !p.PaidAt.IsZero() {
		d.PaidAt = p.PaidAt.In(shanghai).Format("2006-01-02 15:04:05")
	}
	if !d.Payable && rec.ReturnURL != "" {
		d.ReturnURL = g.returnTo(rec)
	}
	if msg != nil {
		d.MsgZH, d.MsgEN = msg.ZH, msg.EN
	}
	securityHeaders(w, originOf(rec.ReturnURL))
	w.WriteHeader(status)
	if err := payPage.Execute(w, d); err != nil {
		slog.Error("sandbox payment page", "payment", p.ID, "err", err.Error())
	}
}

// page serves GET /sandbox/pay/{id}.
func (g *Gateway) page(w http.ResponseWriter, r *http.Request) {
	rec, err := g.store.Payment(r.Context(), r.PathValue("id"))
	if err != nil {
		g.renderFault(w, r, err)
		return
	}
	if !g.payerHere(w, r, rec) {
		return
	}
	g.renderPage(w, http.StatusOK, rec, nil)
}

// payerHere reports whether the request comes from the payment's payer.
// If not, it has answered: a visitor who is not logged in is sent to log
// in (or told to), anyone else is refused. A payment without a payer is
// open to whoever has its link, as the gateway's own tests use it.
func (g *Gateway) payerHere(w http.ResponseWriter, r *http.Request, rec Record) bool {
	if rec.Payer == "" {
		return true
	}
	var who string
	var ok bool
	if g.cfg.Payer != nil {
		who, ok = g.cfg.Payer(r)
	}
	switch {
	case ok && who == rec.Payer:
		return true
	case ok:
		g.renderError(w, http.StatusForbidden, "此支付单属于另一个账号，请以付款人身份登录", "this payment belongs to another account: log in as the payer")
	case r.Method == http.MethodGet && g.cfg.LoginURL != "":
		http.Redirect(w, r, g.cfg.LoginURL+"?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
	default:
		g.renderError(w, http.StatusUnauthorized, "请先以付款人身份登录", "log in as the payer first")
	}
	return false
}

// actionStatus maps a form or API action to the status it settles to.
func actionStatus(action string) (payment.Status, bool) {
	switch action {
	case "pay":
		return payment.Paid, true
	case "fail":
		return payment.Failed, true
	}
	return "", false
}

// submit serves POST /sandbox/pay/{id}, the page's buttons.
func (g *Gateway) submit(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if !hexEqual(r.PostFormValue("csrf"), g.csrfToken(id)) {
		g.renderError(w, http.StatusForbidden, "页面已失效，请刷新后重试", "the page is no longer valid: reload it and try again")
		return
	}
	to, ok := actionStatus(r.PostFormValue("action"))
	if !ok {
		g.renderFault(w, r, errBadAction)
		return
	}
	rec, err := g.store.Payment(r.Context(), id)
	if err != nil {
		g.renderFault(w, r, err)
		return
	}
	if !g.payerHere(w, r, rec) {
		return
	}
	_, err = g.settle(r.Context(), id, to)
	if err == nil {
		rec, err := g.store.Payment(r.Context(), id)
		if err != nil {
			g.renderFault(w, r, err)
			return
		}
		http.Redirect(w, r, g.returnTo(rec), http.StatusSeeOther)
		return
	}
	fe := fault.As(err)
	if fe.Code != fault.Conflict {
		g.renderFault(w, r, err)
		return
	}
	rec, rerr := g.store.Payment(r.Context(), id)
	if rerr != nil {
		g.renderFault(w, r, rerr)
		return
	}
	if to == payment.Paid && rec.Status == payment.Paid {
		// A second click on 支付 Pay: the first one paid; go on as it did.
		http.Redirect(w, r, g.returnTo(rec), http.StatusSeeOther)
		return
	}
	g.renderPage(w, http.StatusConflict, rec, fe)
}

// apiPay serves POST /sandbox/api/pay/{id}: it pays (or fails) a payment
// for a program and answers the payment as JSON. Paying a paid payment
// again answers it unchanged, so retries are safe.
func (g *Gateway) apiPay(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !hexEqual(r.Header.Get(APIKeyHeader), APIKey(g.cfg.Secret, id)) {
		writeProblem(w, r, fault.New(fault.Unauthorized, "sandbox_key_invalid", "沙箱支付密钥无效", "the sandbox key is invalid"))
		return
	}
	var in struct {
		Action string `json:"action"`
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err != nil {
		writeProblem(w, r, fault.New(fault.Invalid, "malformed_request", "请求格式错误", "the request is malformed"))
		return
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			writeProblem(w, r, fault.New(fault.Invalid, "malformed_request", "请求格式错误", "the request is malformed"))
			return
		}
	}
	if in.Action == "" {
		in.Action = "pay"
	}
	to, ok := actionStatus(in.Action)
	if !ok {
		writeProblem(w, r, errBadAction)
		return
	}
	p, err := g.settle(r.Context(), id, to)
	if fault.Is(err, fault.Conflict) && to == payment.Paid {
		if cur, qerr := g.Query(r.Context(), id); qerr == nil && cur.Status == payment.Paid {
			p, err = cur, nil
		}
	}
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(p)
}

// writeProblem answers err as problem+json, logging internal errors.
func writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	fe := fault.As(err)
	if fe.Code == fault.Internal {
		slog.ErrorContext(r.Context(), "sandbox api", "path", r.URL.Path, "err", err.Error())
	}
	status := problem.StatusOf(fe.Code)
	lang := "zh"
	if strings.HasPrefix(strings.ToLower(r.Header.Get("Accept-Language")), "en") {
		lang = "en"
	}
	p := problem.New(status, fe.Code, fe.Reason, fe.ZH, fe.EN, lang)
	p.RequestID = w.Header().Get("X-Request-Id")
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(p)
}
