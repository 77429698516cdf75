package payment

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"piao/internal/fault"
)

// Notification signing.
//
// A gateway POSTs a notification's JSON body with three headers: the Unix
// time in seconds, a random nonce and the hex HMAC-SHA256, under a secret
// shared with the merchant, of "timestamp\nnonce\nbody". A receiver accepts
// it only if the signature matches and the timestamp is within MaxSkew of
// its own clock. Nonces are not remembered: a replay inside the window is
// just a duplicate notification, which receivers must tolerate anyway.

// Notification request headers.
const (
	HeaderTimestamp = "X-Piao-Pay-Timestamp" // Unix time in seconds, decimal
	HeaderNonce     = "X-Piao-Pay-Nonce"     // random, unique per request
	HeaderSignature = "X-Piao-Pay-Signature" // hex HMAC-SHA256 of "timestamp\nnonce\nbody"
)

// MaxSkew is how far a notification's timestamp may be from the receiver's clock.
const MaxSkew = 10 * time.Minute

// maxNonce bounds the nonce header's length.
const maxNonce = 128

var (
	errMissingHeaders = fault.New(fault.Invalid, "notification_unsigned", "通知缺少签名头", "the notification lacks its signature headers")
	errBadTimestamp   = fault.New(fault.Invalid, "notification_bad_timestamp", "通知时间戳格式错误", "the notification timestamp is malformed")
	errStale          = fault.New(fault.Unauthorized, "notification_stale", "通知时间戳超出允许范围", "the notification timestamp is too far from now")
	errBadSignature   = fault.New(fault.Unauthorized, "notification_bad_signature", "通知签名无效", "the notification signature is invalid")
	errBadBody        = fault.New(fault.Invalid, "notification_malformed", "通知内容格式错误", "the notification body is malformed")
)

// Sign returns the hex HMAC-SHA256 under secret of "ts\nnonce\nbody", the
// value of HeaderSignature for a notification sent with those headers.
func Sign(secret []byte, ts, nonce string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'\n'})
	m.Write([]byte(nonce))
	m.Write([]byte{'\n'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// SignedHeader returns the three signature headers for sending body at
// time at, with a fresh random nonce.
func SignedHeader(secret []byte, at time.Time, body []byte) http.Header {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand panics on failure since Go 1.24)
	ts := strconv.FormatInt(at.Unix(), 10)
	nonce := hex.EncodeToString(b)
	h := http.Header{}
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderNonce, nonce)
	h.Set(HeaderSignature, Sign(secret, ts, nonce, body))
	return h
}

// VerifySignature checks a notification's signature headers against body
// at time now: fault.Invalid if they are missing or malformed,
// fault.Unauthorized if the signature does not match or the timestamp is
// more than MaxSkew from now.
func VerifySignature(secret []byte, now time.Time, header http.Header, body []byte) error {
	ts, nonce, sig := header.Get(HeaderTimestamp), header.Get(HeaderNonce), header.Get(HeaderSignature)
	if ts == "" || nonce == "" || sig == "" || len(nonce) > maxNonce {
		return errMissingHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(ts) > 12 {
		return errBadTimestamp
	}
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return errBadSignature
	}
	want, _ := hex.DecodeString(Sign(secret, ts, nonce, body))
	if len(secret) == 0 || !hmac.Equal(got, want) {
		return errBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > MaxSkew || d < -MaxSkew {
		return errStale
	}
	return nil
}

// Verify authenticates a notification (see VerifySignature) and decodes
// its body; a body that is not a complete notification is fault.Invalid.
func Verify(secret []byte, now time.Time, header http.Header, body []byte) (Notification, error) {
	if err := VerifySignature(secret, now, header, body); err != nil {
		return Notification{}, err
	}
	return DecodeNotification(body)
}

// EncodeNotification renders n as the JSON body a gateway signs and sends.
func EncodeNotification(n Notification) []byte {
	if !n.PaidAt.IsZero() {
		n.PaidAt = n.PaidAt.UTC()
	}
	b, err := json.Marshal(n)
	if err != nil {
		panic("payment: encoding a notification: " + err.Error()) // plain fields cannot fail
	}
	return b
}

// DecodeNotification parses a notification body without checking any
// signature; receivers must call Verify instead.
func DecodeNotification(body []byte) (Notification, error) {
	var n Notification
	if err := json.Unmarshal(body, &n); err != nil {
		return Notification{}, &fault.Error{Code: errBadBody.Code, Reason: errBadBody.Reason, ZH: errBadBody.ZH, EN: errBadBody.EN, Err: err}
	}
	if n.ID == "" || n.PaymentID == "" || n.OrderRef == "" || !n.Status.Valid() || n.AmountFen < 0 {
		return Notification{}, errBadBody
	}
	return n, nil
}
