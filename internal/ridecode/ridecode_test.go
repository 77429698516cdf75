package ridecode_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"piao/internal/fault"
	"piao/internal/ridecode"
)

var t0 = time.Date(2026, 3, 1, 8, 30, 0, 0, time.UTC)

// MustIssuer returns an issuer with a fresh key.
func MustIssuer(tb testing.TB, id string) *ridecode.Issuer {
	tb.Helper()
	k, err := ridecode.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	is, err := ridecode.NewIssuer(id, k)
	if err != nil {
		tb.Fatal(err)
	}
	return is
}

// MustVerifier returns a verifier trusting the issuers, skew DefaultSkew.
func MustVerifier(tb testing.TB, network string, issuers ...*ridecode.Issuer) *ridecode.Verifier {
	tb.Helper()
	keys := map[string]*ecdsa.PublicKey{}
	for _, is := range issuers {
		keys[is.ID()] = is.PublicKey()
	}
	v, err := ridecode.NewVerifier(ridecode.VerifierConfig{Keys: keys, Skew: ridecode.DefaultSkew, Network: network})
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// MustSign signs c or fails the test.
func MustSign(tb testing.TB, is *ridecode.Issuer, c ridecode.Claims) string {
	tb.Helper()
	text, err := is.Sign(c)
	if err != nil {
		tb.Fatal(err)
	}
	return text
}

func rideClaims(account int64) ridecode.Claims {
	return ridecode.Claims{Kind: ridecode.KindRide, Network: "nbmetro", Account: account, IssuedAt: t0}
}

func reasonOf(err error) string {
	if err == nil {
		return ""
	}
	return fault.As(err).Reason
}

func TestRoundTrip(t *testing.T) {
	is := MustIssuer(t, "nb1")
	v := MustVerifier(t, "nbmetro", is)
	for _, c := range []ridecode.Claims{
		rideClaims(1),
		{Kind: ridecode.KindRide, Network: "nbmetro", Account: 1<<63 - 1, Serial: 1<<64 - 1, IssuedAt: t0, ExpiresAt: t0.Add(ridecode.MaxTTL(ridecode.KindRide))},
		{Kind: ridecode.KindCount, Network: "nbmetro", Account: 42, Ticket: 9001, IssuedAt: t0},
		{Kind: ridecode.KindPaper, Network: "nbmetro", Account: 7, Ticket: 1<<63 - 1, IssuedAt: t0, ExpiresAt: t0.Add(ridecode.MaxTTL(ridecode.KindPaper))},
	} {
		text := MustSign(t, is, c)
		got, err := v.Verify(text, t0.Add(time.Second))
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if c.Serial == 0 && got.Serial == 0 {
			t.Errorf("no serial drawn")
		}
		want := c
		want.Issuer = "nb1"
		want.Serial = got.Serial
		want.IssuedAt = c.IssuedAt.UTC()
		want.ExpiresAt = c.ExpiresAt.UTC()
		if c.ExpiresAt.IsZero() {
			want.ExpiresAt = c.IssuedAt.Add(ridecode.DefaultTTL(c.Kind)).UTC()
		}
		if got != want {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
		}
		if p, err := ridecode.Parse(text); err != nil || p != got {
			t.Errorf("Parse = %+v, %v", p, err)
		}
		if strings.Trim(text, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:") != "" {
			t.Errorf("text %q leaves the QR alphanumeric alphabet", text)
		}
	}
}

// TestLength keeps codes short: a phone ride code fits a version-6 QR symbol.
func TestLength(t *testing.T) {
	is := MustIssuer(t, "nb1")
	text := MustSign(t, is, ridecode.Claims{Network: "nbmetro", Account: 123456789, IssuedAt: t0})
	t.Logf("ride code: %d characters: %s", len(text), text)
	if len(text) > 154 {
		t.Errorf("a ride code is %d characters, more than a version-6 QR symbol at level M holds", len(text))
	}
	q, err := ridecode.QR(text)
	if err != nil {
		t.Fatal(err)
	}
	if q.VersionNumber > 6 {
		t.Errorf("QR version %d for %d characters: not alphanumeric mode?", q.VersionNumber, len(text))
	}
}

func TestSerialsDiffer(t *testing.T) {
	is := MustIssuer(t, "nb1")
	seen := map[uint64]bool{}
	for range 200 {
		c, err := ridecode.Parse(MustSign(t, is, rideClaims(5)))
		if err != nil {
			t.Fatal(err)
		}
		if seen[c.Serial] {
			t.Fatalf("serial %d drawn twice", c.Serial)
		}
		seen[c.Serial] = true
	}
}

func TestSignErrors(t *testing.T) {
	is := MustIssuer(t, "nb1")
	long := strings.Repeat("x", 33)
	for name, c := range map[string]ridecode.Claims{
		"no issue time":       {Network: "nbmetro", Account: 1},
		"bad kind":            {Kind: 9, Network: "nbmetro", Account: 1, IssuedAt: t0},
		"other issuer":        {Issuer: "nb2", Network: "nbmetro", Account: 1, IssuedAt: t0},
		"no network":          {Account: 1, IssuedAt: t0},
		"long network":        {Network: long, Account: 1, IssuedAt: t0},
		"network space":       {Network: "nb metro", Account: 1, IssuedAt: t0},
		"zero account":        {Network: "nbmetro", IssuedAt: t0},
		"negative account":    {Network: "nbmetro", Account: -1, IssuedAt: t0},
		"ride with ticket":    {Network: "nbmetro", Account: 1, Ticket: 3, IssuedAt: t0},
		"count no ticket":     {Kind: ridecode.KindCount, Network: "nbmetro", Account: 1, IssuedAt: t0},
		"paper no ticket":     {Kind: ridecode.KindPaper, Network: "nbmetro", Account: 1, IssuedAt: t0},
		"negative ticket":     {Kind: ridecode.KindCount, Network: "nbmetro", Account: 1, Ticket: -3, IssuedAt: t0},
		"expires before":      {Network: "nbmetro", Account: 1, IssuedAt: t0, ExpiresAt: t0.Add(-time.Second)},
		"expires same second": {Network: "nbmetro", Account: 1, IssuedAt: t0, ExpiresAt: t0.Add(500 * time.Millisecond)},
		"before 1970":         {Network: "nbmetro", Account: 1, IssuedAt: time.Unix(-1, 0)},
		"ride too long":       {Network: "nbmetro", Account: 1, IssuedAt: t0, ExpiresAt: t0.Add(ridecode.MaxTTL(ridecode.KindRide) + time.Second)},
		"paper too long":      {Kind: ridecode.KindPaper, Ticket: 1, Network: "nbmetro", Account: 1, IssuedAt: t0, ExpiresAt: t0.Add(ridecode.MaxTTL(ridecode.KindPaper) + time.Second)},
	} {
		text, err := is.Sign(c)
		if err == nil {
			t.Errorf("%s: signed %q", name, text)
			continue
		}
		fe := fault.As(err)
		if fe.Code != fault.Invalid || fe.ZH == "" || fe.EN == "" || (fe.Reason != ridecode.ReasonClaims && fe.Reason != ridecode.ReasonTooLong) {
			t.Errorf("%s: error %#v", name, fe)
		}
	}
	if _, err := ridecode.NewIssuer("has space", nil); reasonOf(err) != ridecode.ReasonClaims {
		t.Errorf("NewIssuer with a bad ID: %v", err)
	}
	if _, err := ridecode.NewIssuer("nb1", nil); reasonOf(err) != ridecode.ReasonKey {
		t.Errorf("NewIssuer without key: %v", err)
	}
}

// reencode changes the decoded bytes of a code with f and writes it back.
func reencode(t *testing.T, text string, f func([]byte) []byte) string {
	t.Helper()
	b, ok := ridecode.DecodeBase45(text)
	if !ok {
		t.Fatalf("%q is not Base45", text)
	}
	return ridecode.EncodeBase45(f(b))
}

func TestVerifyErrors(t *testing.T) {
	is := MustIssuer(t, "nb1")
	other := MustIssuer(t, "nb1") // same name, another key
	stranger := MustIssuer(t, "xx9")
	v := MustVerifier(t, "nbmetro", is)
	good := MustSign(t, is, rideClaims(77)) // valid t0 .. t0+60s
	c, _ := ridecode.Parse(good)
	sigAt := len(good) - 1 // a character inside the signature
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	for _, tc := range []struct {
		name, text string
		now        time.Time
		reason     string
	}{
		{"empty", "", t0, ridecode.ReasonMalformed},
		{"not base45", "hello", t0, ridecode.ReasonMalformed},
		{"dangling character", good + "0", t0, ridecode.ReasonMalformed},
		{"lower case", strings.ToLower(good), t0, ridecode.ReasonMalformed},
		{"padded", good + "=", t0, ridecode.ReasonMalformed},
		{"too long text", strings.Repeat("A", ridecode.MaxTextLen+8), t0, ridecode.ReasonMalformed},
		{"two bytes short", good[:len(good)-3], t0, ridecode.ReasonMalformed},
		{"only a signature", reencode(t, good, func(b []byte) []byte { return append([]byte{1}, b[len(b)-64:]...) }), t0, ridecode.ReasonMalformed},
		{"only a version", "10", t0, ridecode.ReasonMalformed},
		{"payload cut", reencode(t, good, func(b []byte) []byte { return append(b[:10], b[len(b)-64:]...) }), t0, ridecode.ReasonMalformed},
		{"trailing byte", reencode(t, good, func(b []byte) []byte { return append(b, 0) }), t0, ridecode.ReasonMalformed},
		{"version 2", reencode(t, good, func(b []byte) []byte { b[0] = 2; return b }), t0, ridecode.ReasonVersion},
		{"version 0", reencode(t, good, func(b []byte) []byte { b[0] = 0; return b }), t0, ridecode.ReasonVersion},
		{"kind 0", reencode(t, good, func(b []byte) []byte { b[1] = 0; return b }), t0, ridecode.ReasonMalformed},
		{"kind paper without ticket", reencode(t, good, func(b []byte) []byte { b[1] = 3; return b }), t0, ridecode.ReasonMalformed},
		{"issuer length 0", reencode(t, good, func(b []byte) []byte { b[2] = 0; return b }), t0, ridecode.ReasonMalformed},
		{"issuer length 200", reencode(t, good, func(b []byte) []byte { b[2] = 200; return b }), t0, ridecode.ReasonMalformed},
		{"unknown issuer", MustSign(t, stranger, rideClaims(77)), t0, ridecode.ReasonUnknownIssuer},
		{"renamed issuer", reencode(t, good, func(b []byte) []byte { b[3] = 'x'; return b }), t0, ridecode.ReasonUnknownIssuer},
		{"another key", MustSign(t, other, rideClaims(77)), t0, ridecode.ReasonSignature},
		{"signature changed", flip(good, sigAt), t0, ridecode.ReasonSignature},
		{"account changed", reencode(t, good, func(b []byte) []byte { b[len(b)-64-8] ^= 1; return b }), t0, ridecode.ReasonSignature},
		{"zero signature", reencode(t, good, func(b []byte) []byte { clear(b[len(b)-64:]); return b }), t0, ridecode.ReasonSignature},
		{"signature all ones", reencode(t, good, func(b []byte) []byte {
			for i := len(b) - 64; i < len(b); i++ {
				b[i] = 0xff
			}
			return b
		}), t0, ridecode.ReasonSignature},
		{"other network", MustSign(t, is, ridecode.Claims{Network: "hzmetro", Account: 77, IssuedAt: t0}), t0, ridecode.ReasonNetwork},
		{"not yet valid", good, t0.Add(-ridecode.DefaultSkew - time.Second), ridecode.ReasonNotYetValid},
		{"expired", good, c.ExpiresAt.Add(ridecode.DefaultSkew), ridecode.ReasonExpired},
		{"long expired", good, t0.Add(24 * time.Hour), ridecode.ReasonExpired},
		{"ok at issue minus skew", good, t0.Add(-ridecode.DefaultSkew), ""},
		{"ok at issue", good, t0, ""},
		{"ok at expiry plus skew minus 1ns", good, c.ExpiresAt.Add(ridecode.DefaultSkew - 1), ""},
	} {
		_, err := v.Verify(tc.text, tc.now)
		if got := reasonOf(err); got != tc.reason {
			t.Errorf("%s: reason %q (%v), want %q", tc.name, got, err, tc.reason)
			continue
		}
		if err != nil {
			fe := fault.As(err)
			if fe.Code != fault.Invalid || fe.ZH == "" || fe.EN == "" {
				t.Errorf("%s: error %#v", tc.name, fe)
			}
		}
	}
}

func TestVerifyWindowWithoutSkew(t *testing.T) {
	is := MustIssuer(t, "nb1")
	v, err := ridecode.NewVerifier(ridecode.VerifierConfig{Keys: map[string]*ecdsa.PublicKey{"nb1": is.PublicKey()}})
	if err != nil {
		t.Fatal(err)
	}
	text := MustSign(t, is, ridecode.Claims{Network: "nbmetro", Account: 1, IssuedAt: t0, ExpiresAt: t0.Add(10 * time.Second)})
	for _, tc := range []struct {
		now    time.Time
		reason string
	}{
		{t0.Add(-time.Nanosecond), ridecode.ReasonNotYetValid},
		{t0, ""},
		{t0.Add(10*time.Second - time.Nanosecond), ""},
		{t0.Add(10 * time.Second), ridecode.ReasonExpired},
	} {
		if _, err := v.Verify(text, tc.now); reasonOf(err) != tc.reason {
			t.Errorf("at %s: %v, want %q", tc.now.Sub(t0), err, tc.reason)
		}
	}
	// Any network is accepted when the verifier names none.
	if _, err := v.Verify(MustSign(t, is, ridecode.Claims{Network: "hzmetro", Account: 1, IssuedAt: t0}), t0); err != nil {
		t.Errorf("a verifier with no network refused another network: %v", err)
	}
}

func TestNewVerifierErrors(t *testing.T) {
	is := MustIssuer(t, "nb1")
	k, _ := ridecode.GenerateKey(rand.Reader)
	offCurve := &ecdsa.PublicKey{Curve: sm2.P256(), X: k.X, Y: k.X}
	for name, cfg := range map[string]ridecode.VerifierConfig{
		"negative skew": {Keys: map[string]*ecdsa.PublicKey{"nb1": is.PublicKey()}, Skew: -time.Second},
		"bad issuer ID": {Keys: map[string]*ecdsa.PublicKey{"nb 1": is.PublicKey()}},
		"nil key":       {Keys: map[string]*ecdsa.PublicKey{"nb1": nil}},
		"off curve":     {Keys: map[string]*ecdsa.PublicKey{"nb1": offCurve}},
	} {
		if _, err := ridecode.NewVerifier(cfg); err == nil || fault.CodeOf(err) != fault.Invalid {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestKindText(t *testing.T) {
	for _, k := range []ridecode.Kind{ridecode.KindRide, ridecode.KindCount, ridecode.KindPaper} {
		b, _ := k.MarshalText()
		var back ridecode.Kind
		if err := back.UnmarshalText(b); err != nil || back != k {
			t.Errorf("%v: %q → %v, %v", k, b, back, err)
		}
	}
	if _, err := ridecode.ParseKind("bus"); err == nil {
		t.Error("ParseKind accepted bus")
	}
	if ridecode.Kind(9).String() != "kind(9)" {
		t.Error(ridecode.Kind(9).String())
	}
}

func TestCodeID(t *testing.T) {
	c := ridecode.Claims{Issuer: "nb1", Serial: 0xabc}
	if got := c.CodeID(); got != "nb1/0000000000000abc" {
		t.Errorf("CodeID = %q", got)
	}
}
