package payment_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"piao/internal/fault"
	"piao/internal/payment"
)

var (
	secret = []byte("0123456789abcdef0123456789abcdef")
	t0     = time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC)
)

func sample() payment.Notification {
	return payment.Notification{ID: "ntf_1", PaymentID: "pay_1", OrderRef: "piao-order-7", Status: payment.Paid, AmountFen: 1250, PaidAt: t0}
}

func wantCode(t *testing.T, err error, code fault.Code) {
	t.Helper()
	if !fault.Is(err, code) {
		t.Errorf("err = %v (%s), want %s", err, fault.CodeOf(err), code)
	}
}

// TestSignKnownVector pins the signing scheme, so that receivers written
// elsewhere can check their implementation against it.
func TestSignKnownVector(t *testing.T) {
	// printf '1777600800\nabc\n{"x":1}' | openssl dgst -sha256 -hmac 0123456789abcdef0123456789abcdef
	got := payment.Sign(secret, "1777600800", "abc", []byte(`{"x":1}`))
	const want = "e805fbe54b379c9858ddde8320405673b71a9b115a6ea2c0330dc1cf297180db"
	if got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

// TestVerifyRoundTrip checks that a signed notification verifies and decodes.
func TestVerifyRoundTrip(t *testing.T) {
	body := payment.EncodeNotification(sample())
	h := payment.SignedHeader(secret, t0, body)
	n, err := payment.Verify(secret, t0.Add(time.Minute), h, body)
	if err != nil {
		t.Fatal(err)
	}
	if n != sample() {
		t.Errorf("notification = %+v, want %+v", n, sample())
	}
	if h.Get(payment.HeaderTimestamp) != strconv.FormatInt(t0.Unix(), 10) || len(h.Get(payment.HeaderNonce)) < 16 {
		t.Errorf("headers = %v", h)
	}
	// Each signing uses a fresh nonce.
	if h2 := payment.SignedHeader(secret, t0, body); h2.Get(payment.HeaderNonce) == h.Get(payment.HeaderNonce) {
		t.Error("nonce repeated")
	}
}

// TestVerifyRejects checks tampered bodies, wrong secrets, stale and
// future timestamps, and missing or malformed headers.
func TestVerifyRejects(t *testing.T) {
	body := payment.EncodeNotification(sample())
	good := func() http.Header { return payment.SignedHeader(secret, t0, body) }

	tampered := []byte(strings.Replace(string(body), "1250", "1", 1))
	_, err := payment.Verify(secret, t0, good(), tampered)
	wantCode(t, err, fault.Unauthorized)

	_, err = payment.Verify([]byte("another secret"), t0, good(), body)
	wantCode(t, err, fault.Unauthorized)

	_, err = payment.Verify(nil, t0, payment.SignedHeader(nil, t0, body), body)
	wantCode(t, err, fault.Unauthorized)

	// Timestamps: 10 minutes either way is fine, more is not.
	if _, err := payment.Verify(secret, t0.Add(payment.MaxSkew), good(), body); err != nil {
		t.Errorf("at +10 min: %v", err)
	}
	if _, err := payment.Verify(secret, t0.Add(-payment.MaxSkew), good(), body); err != nil {
		t.Errorf("at -10 min: %v", err)
	}
	_, err = payment.Verify(secret, t0.Add(payment.MaxSkew+time.Second), good(), body)
	wantCode(t, err, fault.Unauthorized)
	_, err = payment.Verify(secret, t0.Add(-payment.MaxSkew-time.Second), good(), body)
	wantCode(t, err, fault.Unauthorized)

	// A forged timestamp breaks the signature.
	h := good()
	h.Set(payment.HeaderTimestamp, strconv.FormatInt(t0.Add(time.Hour).Unix(), 10))
	_, err = payment.Verify(secret, t0.Add(time.Hour), h, body)
	wantCode(t, err, fault.Unauthorized)

	for _, name := range []string{payment.HeaderTimestamp, payment.HeaderNonce, payment.HeaderSignature} {
		h := good()
		h.Del(name)
		_, err := payment.Verify(secret, t0, h, body)
		wantCode(t, err, fault.Invalid)
	}
	h = good()
	h.Set(payment.HeaderTimestamp, "yesterday")
	_, err = payment.Verify(secret, t0, h, body)
	wantCode(t, err, fault.Invalid)
	h = good()
	h.Set(payment.HeaderSignature, "not hex")
	_, err = payment.Verify(secret, t0, h, body)
	wantCode(t, err, fault.Unauthorized)
}

// TestVerifyForged checks that a notification forged with Sign and the
// right secret verifies, and a signed but incomplete body does not decode.
func TestVerifyForged(t *testing.T) {
	body := []byte(`{"id":"n","payment_id":"p","order_ref":"o","status":"paid","amount_fen":5,"extra":true}`)
	ts := strconv.FormatInt(t0.Unix(), 10)
	h := http.Header{}
	h.Set(payment.HeaderTimestamp, ts)
	h.Set(payment.HeaderNonce, "nonce-1")
	h.Set(payment.HeaderSignature, payment.Sign(secret, ts, "nonce-1", body))
	n, err := payment.Verify(secret, t0, h, body)
	if err != nil || n.ID != "n" || n.AmountFen != 5 || !n.PaidAt.IsZero() {
		t.Errorf("Verify = %+v, %v", n, err)
	}

	for _, bad := range []string{`{"id":"n"}`, `not json`, `{"id":"n","payment_id":"p","order_ref":"o","status":"refunded","amount_fen":5}`} {
		h.Set(payment.HeaderSignature, payment.Sign(secret, ts, "nonce-1", []byte(bad)))
		_, err := payment.Verify(secret, t0, h, []byte(bad))
		wantCode(t, err, fault.Invalid)
	}
}

// TestRequestsValidate checks the requests' own validation.
func TestRequestsValidate(t *testing.T) {
	ok := payment.CreateRequest{OrderRef: "o", AmountFen: 1, NotifyURL: "http://x/n", ExpiresAt: t0}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, mod := range []func(*payment.CreateRequest){
		func(r *payment.CreateRequest) { r.OrderRef = "" },
		func(r *payment.CreateRequest) { r.AmountFen = 0 },
		func(r *payment.CreateRequest) { r.NotifyURL = "/relative" },
		func(r *payment.CreateRequest) { r.NotifyURL = "ftp://x/n" },
		func(r *payment.CreateRequest) { r.ReturnURL = "javascript:alert(1)" },
		func(r *payment.CreateRequest) { r.ExpiresAt = time.Time{} },
	} {
		r := ok
		mod(&r)
		wantCode(t, r.Validate(), fault.Invalid)
	}
	okR := payment.RefundRequest{RefundID: "r", PaymentID: "p", AmountFen: 1}
	if err := okR.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []payment.RefundRequest{{PaymentID: "p", AmountFen: 1}, {RefundID: "r", AmountFen: 1}, {RefundID: "r", PaymentID: "p", AmountFen: -1}} {
		wantCode(t, r.Validate(), fault.Invalid)
	}
}
