package console

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"piao/internal/governance"
)

// Cancel-limit warnings (SPEC G1, G2) come with the answer to a booking or
// a cancel and are not stored. The H5 pages answer both with a redirect to
// the order page, so the warnings travel there in a short-lived cookie
// scoped to that page, read once and cleared. The cookie is signed with a
// key derived from the session secret, so nobody can plant text in a
// passenger's page through it.

// warnCookie carries the warnings of the last booking or cancel.
const warnCookie = "piao_warn"

// warnCookieMax bounds the cookie's value, well under browsers' 4 KB.
const warnCookieMax = 3000

// warnMAC signs a warnings payload for one order page and session.
func warnMAC(secret, path, payload string) []byte {
	key := sha256.Sum256([]byte("warn:" + secret))
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte(path + "\n" + payload))
	return m.Sum(nil)
}

// setWarnings keeps an order's warnings for its page's next view.
func (c *Console) setWarnings(w http.ResponseWriter, r *http.Request, st *state, orderID int64, ws []governance.Warning) {
	if len(ws) == 0 || st.secret == "" {
		return
	}
	msgs := make([]bilingual, 0, len(ws))
	for _, x := range ws {
		msgs = append(msgs, bilingual{ZH: x.ZH, EN: x.EN})
	}
	path := orderPath(orderID)
	for len(msgs) > 0 {
		b, err := json.Marshal(msgs)
		if err != nil {
			return
		}
		payload := base64.RawURLEncoding.EncodeToString(b)
		value := payload + "." + base64.RawURLEncoding.EncodeToString(warnMAC(st.secret, path, payload))
		if len(value) <= warnCookieMax {
			c.setCookie(w, r, &http.Cookie{Name: warnCookie, Value: value, Path: path, MaxAge: 120})
			return
		}
		msgs = msgs[:len(msgs)-1] // the first ones are the most important
	}
}

// takeWarnings returns the warnings kept for the order page of a GET, and
// clears them; a cookie that does not verify is dropped.
func (c *Console) takeWarnings(w http.ResponseWriter, r *http.Request, st *state, orderID int64) []bilingual {
	if r.Method != http.MethodGet || st.secret == "" {
		return nil
	}
	ck, err := r.Cookie(warnCookie)
	if err != nil || ck.Value == "" {
		return nil
	}
	path := orderPath(orderID)
	c.clearCookie(w, r, warnCookie, path)
	payload, sig, ok := strings.Cut(ck.Value, ".")
	if !ok {
		return nil
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, warnMAC(st.secret, path, payload)) {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil
	}
	var msgs []bilingual
	if json.Unmarshal(b, &msgs) != nil {
		return nil
	}
	return msgs
}
