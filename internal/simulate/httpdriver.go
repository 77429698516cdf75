package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"piao/internal/behaviour"
	"piao/internal/booking"
	"piao/internal/demo"
	"piao/internal/fault"
	"piao/internal/governance"
	"piao/internal/identity"
	"piao/internal/network"
	"piao/internal/payment"
)

// HTTPOptions configures NewHTTP.
type HTTPOptions struct {
	// URL is the piao server, e.g. http://127.0.0.1:8080. It must serve the
	// demo network (`piao serve --demo`): Z66 and T168 running from today.
	URL string
	// Admin and Password log in an operator who may create accounts
	// (default: the demo admin login).
	Admin, Password string
	// Client sends the requests (default: a client with a 30 s timeout).
	Client *http.Client
	// Days is how many days the server's trains run from today (default
	// demo.Days).
	Days int
}

// HTTP drives a piao server through its public API as passengers do:
// accounts are created by an operator (POST /api/v1/accounts) and log in,
// orders are booked, cancelled and paid on the sandbox's payment page,
// whose notification the server receives and applies.
//
// The server keeps real time: holds run out after the server's hold time
// (30 minutes by default), its daily limits reset at its midnight, and
// every order is placed now, whatever simulated day a passenger thinks it
// is — simulated days collapse into the run's wall time. Now and Advance
// only move the simulation's own clock, which starts at midnight today
// (Asia/Shanghai). A hold a passenger leaves to run out is counted as
// expired when the simulated clock passes its end, though the server
// releases it only when its real hold time is up; meanwhile that account's
// next booking is refused with unpaid_order_exists. A run is not
// deterministic.
type HTTP struct {
	base     string
	client   *http.Client
	admin    string // operator token
	tokens   map[int64]string
	sessions map[int64]string // console session cookies, for the payment pages
	first    network.Date
	days     int
	now      time.Time
	prefix   string
	password string
}

// NewHTTP logs the operator in and checks the server carries the demo trains.
func NewHTTP(ctx context.Context, o HTTPOptions) (*HTTP, error) {
	u, err := url.Parse(strings.TrimRight(o.URL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--url must be an absolute http(s) URL, not %q", o.URL)
	}
	if o.Admin == "" {
		o.Admin, o.Password = demo.Logins[0].Username, demo.Logins[0].Password
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if o.Days <= 0 {
		o.Days = demo.Days
	}
	// Do not follow the payment page's redirect to the merchant.
	client := *o.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	h := &HTTP{base: u.String(), client: &client, tokens: map[int64]string{}, sessions: map[int64]string{}, days: o.Days,
		prefix: "sim" + strconv.FormatInt(time.Now().UnixNano()/1e6, 36) + "-", password: "sim-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	h.first = network.DateOf(time.Now().In(governance.Shanghai))
	h.now = h.first.In(governance.Shanghai)
	tok, err := h.login(ctx, o.Admin, o.Password)
	if err != nil {
		return nil, fmt.Errorf("log in as %s: %w", o.Admin, err)
	}
	h.admin = tok
	var rem struct{ Offers []booking.Offer }
	q := url.Values{"from": {"NCG"}, "to": {"BXP"}, "date": {h.first.AddDays(1).String()}}
	if err := h.do(ctx, "GET", "/api/v1/remaining?"+q.Encode(), "", nil, &rem); err != nil {
		return nil, fmt.Errorf("query remaining tickets: %w", err)
	}
	if !hasOffer(rem.Offers, "Z66") {
		return nil, fmt.Errorf("%s has no train Z66 from NCG to BXP tomorrow: start it with the demo data (piao serve --demo)", h.base)
	}
	return h, nil
}

func hasOffer(os []booking.Offer, number string) bool {
	for _, o := range os {
		if o.Number == number {
			return true
		}
	}
	return false
}

// Calendar implements Driver: the demo trains run from the server's today.
func (h *HTTP) Calendar() (network.Date, int) { return h.first, h.days }

// Now implements Driver: the simulation's clock, not the server's.
func (h *HTTP) Now() time.Time { return h.now }

// Advance implements Driver: it moves the simulation's clock only.
func (h *HTTP) Advance(_ context.Context, t time.Time) error {
	if t.After(h.now) {
		h.now = t
	}
	return nil
}

func (h *HTTP) login(ctx context.Context, user, password string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	body := map[string]string{"username": user, "password": password}
	if err := h.do(ctx, "POST", "/api/v1/auth/login", "", body, &out); err != nil {
		return "", err
	}
	return out.Token, nil
}

// NewAccount implements Driver: the operator creates a passenger account
// (its username prefixed to be unique to this run), which then logs in.
func (h *HTTP) NewAccount(ctx context.Context, username string) (int64, error) {
	name := h.prefix + username
	var a identity.Account
	err := h.do(ctx, "POST", "/api/v1/accounts", h.admin, identity.NewAccount{Username: name, Role: identity.Passenger, Password: h.password}, &a)
	if err != nil {
		return 0, err
	}
	tok, err := h.login(ctx, name, h.password)
	if err != nil {
		return 0, err
	}
	h.tokens[a.ID] = tok
	if h.sessions[a.ID], err = h.consoleLogin(ctx, name, h.password); err != nil {
		return 0, err
	}
	return a.ID, nil
}

// consoleLogin logs in on the console's form, as a browser does, and
// returns the session cookie: the sandbox's payment pages open only for
// the payer's own session.
func (h *HTTP) consoleLogin(ctx context.Context, user, password string) (string, error) {
	page, status, err := h.raw(ctx, "GET", h.base+"/login", "", "", nil)
	m := loginCSRF.FindSubmatch(page)
	if err != nil || status != http.StatusOK || m == nil {
		return "", fault.Newf(fault.Unavailable, "login_page", "无法打开登录页", "the login page did not open (HTTP %d, %v)", status, err)
	}
	form := url.Values{"username": {user}, "password": {password}, "csrf": {string(m[1])}, "next": {"/"}}
	resp, err := h.send(ctx, "POST", h.base+"/login", "application/x-www-form-urlencoded", "piao_login_csrf="+string(m[1]), strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == identity.SessionCookie && ck.Value != "" {
			return ck.Name + "=" + ck.Value, nil
		}
	}
	return "", fault.Newf(fault.Unauthorized, "console_login_failed", "控制台登录失败", "the console login of %s failed (HTTP %d)", user, resp.StatusCode)
}

// Book implements Driver.
func (h *HTTP) Book(ctx context.Context, r booking.BookRequest) (booking.Order, error) {
	var out booking.Booked
	err := h.do(ctx, "POST", "/api/v1/orders", h.tokens[r.AccountID], r, &out)
	return out.Order, err
}

// Cancel implements Driver.
func (h *HTTP) Cancel(ctx context.Context, accountID, orderID int64) error {
	return h.do(ctx, "POST", fmt.Sprintf("/api/v1/orders/%d/cancel", orderID), h.tokens[accountID], nil, nil)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// loginCSRF finds the console login form's token (base64url).
var loginCSRF = regexp.MustCompile(`name="csrf" value="([A-Za-z0-9_-]+)"`)

// Pay implements Driver as a payer does: ask for the payment, open its
// page, press 支付 Pay, and wait for the server to apply the notification.
func (h *HTTP) Pay(ctx context.Context, accountID, orderID int64) error {
	tok := h.tokens[accountID]
	var p payment.Payment
	if err := h.do(ctx, "POST", fmt.Sprintf("/api/v1/orders/%d/payment", orderID), tok, nil, &p); err != nil {
		return err
	}
	if err := h.payPage(ctx, h.sessions[accountID], p); err != nil {
		return err
	}
	return h.await(ctx, fmt.Sprintf("order %d", orderID), func() (bool, error) {
		var o booking.Order
		if err := h.do(ctx, "GET", fmt.Sprintf("/api/v1/orders/%d", orderID), tok, nil, &o); err != nil {
			return false, err
		}
		switch o.Status {
		case booking.Paid:
			return true, nil
		case booking.Held:
			return false, nil
		}
		return false, fault.New(fault.Conflict, "order_not_held", "订单保留已结束，款项已退回", "the hold ended before the payment; the money went back")
	})
}

// JoinWaitlist implements Driver (POST /api/v1/waitlist).
func (h *HTTP) JoinWaitlist(ctx context.Context, r booking.WaitlistRequest) (booking.WaitlistEntry, error) {
	var e booking.WaitlistEntry
	err := h.do(ctx, "POST", "/api/v1/waitlist", h.tokens[r.AccountID], r, &e)
	return e, err
}

// PayWaitlist implements Driver as Pay does, for the entry's prepayment:
// done once the entry waits in the queue (or was served at once).
func (h *HTTP) PayWaitlist(ctx context.Context, accountID, entryID int64) error {
	tok := h.tokens[accountID]
	var p payment.Payment
	if err := h.do(ctx, "POST", fmt.Sprintf("/api/v1/waitlist/%d/payment", entryID), tok, nil, &p); err != nil {
		return err
	}
	if err := h.payPage(ctx, h.sessions[accountID], p); err != nil {
		return err
	}
	return h.await(ctx, fmt.Sprintf("waitlist entry %d", entryID), func() (bool, error) {
		e, err := h.Waitlist(ctx, accountID, entryID)
		if err != nil {
			return false, err
		}
		switch e.Status {
		case booking.WaitWaiting, booking.WaitFulfilled:
			return true, nil
		case booking.WaitUnpaid:
			return false, nil
		}
		return false, fault.New(fault.Conflict, "waitlist_not_unpaid", "候补订单已结束，款项已退回", "the waitlist entry ended before the payment; the money went back")
	})
}

// Waitlist implements Driver (GET /api/v1/waitlist/{id}).
func (h *HTTP) Waitlist(ctx context.Context, accountID, entryID int64) (booking.WaitlistEntry, error) {
	var e booking.WaitlistEntry
	err := h.do(ctx, "GET", fmt.Sprintf("/api/v1/waitlist/%d", entryID), h.tokens[accountID], nil, &e)
	return e, err
}

// payPage opens the sandbox's page of p and presses 支付 Pay.
func (h *HTTP) payPage(ctx context.Context, session string, p payment.Payment) error {
	page, status, err := h.raw(ctx, "GET", p.PayURL, "", session, nil)
	if err != nil {
		return err
	}
	m := csrfField.FindSubmatch(page)
	if status != http.StatusOK || m == nil {
		return fault.Newf(fault.Conflict, "payment_not_payable", "支付页不可支付", "the payment page of %s cannot be paid (HTTP %d)", p.ID, status)
	}
	form := url.Values{"action": {"pay"}, "csrf": {string(m[1])}}
	_, status, err = h.raw(ctx, "POST", p.PayURL, "application/x-www-form-urlencoded", session, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	if status != http.StatusSeeOther {
		return fault.Newf(fault.Conflict, "payment_refused", "沙箱拒绝支付", "the sandbox refused to pay %s (HTTP %d)", p.ID, status)
	}
	return nil
}

// await polls applied until the server has applied a payment's
// notification to what (true), refused it (an error), or 15 s pass.
func (h *HTTP) await(ctx context.Context, what string, applied func() (bool, error)) error {
	deadline := time.Now().Add(15 * time.Second)
	for delay := 5 * time.Millisecond; ; delay = min(2*delay, 200*time.Millisecond) {
		if ok, err := applied(); ok || err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fault.Newf(fault.Unavailable, "notification_not_applied", "支付通知未送达", "the payment notification of %s was not applied within 15 s", what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

// Close implements Driver.
func (h *HTTP) Close() error {
	h.client.CloseIdleConnections()
	return nil
}

// EvaluateLists implements Governed (POST /api/v1/governance/evaluate).
func (h *HTTP) EvaluateLists(ctx context.Context) (governance.Evaluation, error) {
	var ev governance.Evaluation
	err := h.do(ctx, "POST", "/api/v1/governance/evaluate", h.admin, nil, &ev)
	return ev, err
}

// ListMembers implements Governed: the memberships in force on the server,
// at the real time of asking.
func (h *HTTP) ListMembers(ctx context.Context) ([]governance.Membership, time.Time, error) {
	at := time.Now()
	var all []governance.Membership
	const page = 1000
	for off := 0; ; off += page {
		var out struct {
			Members []governance.Membership `json:"members"`
		}
		q := url.Values{"active": {"true"}, "limit": {strconv.Itoa(page)}, "offset": {strconv.Itoa(off)}}
		if err := h.do(ctx, "GET", "/api/v1/governance/members?"+q.Encode(), h.admin, nil, &out); err != nil {
			return nil, at, err
		}
		all = append(all, out.Members...)
		if len(out.Members) < page {
			return all, at, nil
		}
	}
}

// Report implements Governed over the server's report. Every order of an
// HTTP run was placed today, so the days asked for are the run's real ones.
func (h *HTTP) Report(ctx context.Context, _, _ network.Date) (behaviour.Report, error) {
	today := network.DateOf(time.Now().In(governance.Shanghai)).String()
	var out struct {
		Report behaviour.Report `json:"report"`
	}
	q := url.Values{"from": {h.first.String()}, "to": {today}}
	err := h.do(ctx, "GET", "/api/v1/governance/report?"+q.Encode(), h.admin, nil, &out)
	return out.Report, err
}

// do sends a JSON request and decodes a JSON answer into out; a problem
// answer becomes a *fault.Error with the server's code and reason.
func (h *HTTP) do(ctx context.Context, method, path, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept-Language", "en")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return fault.Newf(fault.Unavailable, "server_unreachable", "无法连接服务器", "%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fault.Newf(fault.Unavailable, "server_unreachable", "读取响应失败", "%s %s: %v", method, path, err)
	}
	if resp.StatusCode >= 400 {
		return problemError(method, path, resp.StatusCode, data)
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fault.Newf(fault.Internal, "bad_response", "响应格式错误", "%s %s: %v", method, path, err)
	}
	return nil
}

// raw sends a request to an absolute URL (the sandbox's page) and returns
// the body and status.
func (h *HTTP) raw(ctx context.Context, method, u, contentType, cookie string, body io.Reader) ([]byte, int, error) {
	resp, err := h.send(ctx, method, u, contentType, cookie, body)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return data, resp.StatusCode, err
}

// send sends a browser-like request with an optional Cookie header.
func (h *HTTP) send(ctx context.Context, method, u, contentType, cookie string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, fault.Newf(fault.Unavailable, "server_unreachable", "无法连接支付页", "%s %s: %v", method, u, err)
	}
	return resp, nil
}

// problemError turns a problem+json answer into a *fault.Error.
func problemError(method, path string, status int, data []byte) error {
	var p struct {
		Code      fault.Code `json:"code"`
		Reason    string     `json:"reason"`
		MessageZH string     `json:"message_zh"`
		MessageEN string     `json:"message_en"`
		RetryAt   *time.Time `json:"retry_at"`
	}
	if json.Unmarshal(data, &p) != nil || p.Code == "" {
		p.Code, p.Reason = fault.Internal, "http_"+strconv.Itoa(status)
		if status >= 500 {
			p.Code = fault.Unavailable
		}
		p.MessageEN = fmt.Sprintf("%s %s: HTTP %d", method, path, status)
	}
	e := &fault.Error{Code: p.Code, Reason: p.Reason, ZH: p.MessageZH, EN: p.MessageEN}
	if p.RetryAt != nil {
		e.RetryAt = *p.RetryAt
	}
	return e
}
