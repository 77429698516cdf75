package ridecode_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/rand"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"piao/internal/ridecode"
)

const idChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"

func genID(max int) *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		n := rapid.IntRange(1, max).Draw(t, "len")
		b := make([]byte, n)
		for i := range b {
			b[i] = idChars[rapid.IntRange(0, len(idChars)-1).Draw(t, "c")]
		}
		return string(b)
	})
}

// genClaims draws any claims Marshal accepts, times in whole seconds.
func genClaims(issuer string) *rapid.Generator[ridecode.Claims] {
	return rapid.Custom(func(t *rapid.T) ridecode.Claims {
		kind := rapid.SampledFrom([]ridecode.Kind{ridecode.KindRide, ridecode.KindCount, ridecode.KindPaper}).Draw(t, "kind")
		if issuer == "" {
			issuer = genID(ridecode.MaxIssuerLen).Draw(t, "issuer")
		}
		c := ridecode.Claims{
			Kind:    kind,
			Issuer:  issuer,
			Network: genID(ridecode.MaxNetworkLen).Draw(t, "network"),
			Serial:  rapid.Uint64Min(1).Draw(t, "serial"),
			Account: rapid.Int64Range(1, 1<<63-1).Draw(t, "account"),
		}
		if kind != ridecode.KindRide {
			c.Ticket = rapid.Int64Range(1, 1<<63-1).Draw(t, "ticket")
		}
		issued := rapid.Int64Range(0, 253402300799).Draw(t, "issued")
		ttl := rapid.Int64Range(1, int64(ridecode.MaxTTL(kind)/time.Second)).Draw(t, "ttl")
		c.IssuedAt = time.Unix(issued, 0).UTC()
		c.ExpiresAt = time.Unix(issued+ttl, 0).UTC()
		return c
	})
}

func TestPropertyMarshalRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genClaims("").Draw(t, "claims")
		p, err := ridecode.Marshal(c)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", c, err)
		}
		got, err := ridecode.Unmarshal(p)
		if err != nil || got != c {
			t.Fatalf("Unmarshal(Marshal(%+v)) = %+v, %v", c, got, err)
		}
		b, ok := ridecode.DecodeBase45(ridecode.EncodeBase45(p))
		if !ok || string(b) != string(p) {
			t.Fatalf("Base45 round trip of %x = %x", p, b)
		}
	})
}

// TestPropertySignVerify: any claims round-trip through Sign and Verify, and
// any single-character or single-byte change of the code fails.
func TestPropertySignVerify(t *testing.T) {
	is := MustIssuer(t, "nb1")
	keys := map[string]*ecdsa.PublicKey{"nb1": is.PublicKey()}
	v, err := ridecode.NewVerifier(ridecode.VerifierConfig{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
	rapid.Check(t, func(t *rapid.T) {
		c := genClaims("nb1").Draw(t, "claims")
		text, err := is.Sign(c)
		if err != nil {
			t.Fatalf("Sign(%+v): %v", c, err)
		}
		got, err := v.Verify(text, c.IssuedAt)
		if err != nil || got != c {
			t.Fatalf("Verify = %+v, %v; want %+v", got, err, c)
		}
		// One character replaced by another of the alphabet.
		i := rapid.IntRange(0, len(text)-1).Draw(t, "char")
		ch := alphabet[rapid.IntRange(0, len(alphabet)-1).Draw(t, "with")]
		if ch != text[i] {
			bad := text[:i] + string(ch) + text[i+1:]
			if got, err := v.Verify(bad, c.IssuedAt); err == nil {
				t.Fatalf("a code changed at character %d verified: %+v", i, got)
			}
		}
		// One decoded byte changed, re-encoded.
		b, _ := ridecode.DecodeBase45(text)
		j := rapid.IntRange(0, len(b)-1).Draw(t, "byte")
		delta := byte(rapid.IntRange(1, 255).Draw(t, "delta"))
		b[j] += delta
		if got, err := v.Verify(ridecode.EncodeBase45(b), c.IssuedAt); err == nil {
			t.Fatalf("a code changed at byte %d verified: %+v", j, got)
		}
	})
}

// Fixtures for FuzzVerify: a test-only issuer key and codes it signed,
// valid at fixtureNow. Regenerate with: go test -run TestFixtures -update-fixtures
var (
	updateFixtures = flag.Bool("update-fixtures", false, "rewrite testdata/fixture_*")
	fixtureNow     = time.Date(2026, 3, 1, 8, 30, 10, 0, time.UTC)
	fixtureKey     = filepath.Join("testdata", "fixture_issuer_TEST_ONLY.pem")
	fixtureCodes   = filepath.Join("testdata", "fixture_codes.txt")
)

func TestFixtures(t *testing.T) {
	if *updateFixtures {
		k, err := ridecode.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pemBytes, _ := ridecode.MarshalPrivateKeyPEM(k)
		is, _ := ridecode.NewIssuer("fx1", k)
		var lines []string
		at := fixtureNow.Add(-10 * time.Second)
		for _, c := range []ridecode.Claims{
			{Kind: ridecode.KindRide, Network: "nbmetro", Account: 1, IssuedAt: at},
			{Kind: ridecode.KindRide, Network: "nbmetro", Account: 1<<63 - 1, IssuedAt: at, ExpiresAt: at.Add(5 * time.Minute)},
			{Kind: ridecode.KindCount, Network: "nbmetro", Account: 4242, Ticket: 77, IssuedAt: at},
			{Kind: ridecode.KindPaper, Network: "nbmetro", Account: 4242, Ticket: 123456789, IssuedAt: at, ExpiresAt: at.Add(365 * 24 * time.Hour)},
		} {
			lines = append(lines, MustSign(t, is, c))
		}
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(fixtureKey, pemBytes, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fixtureCodes, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	v, codes := loadFixtures(t)
	if len(codes) != 4 {
		t.Fatalf("%d fixture codes", len(codes))
	}
	for _, text := range codes {
		if _, err := v.Verify(text, fixtureNow); err != nil {
			t.Errorf("fixture %q: %v", text, err)
		}
	}
}

func loadFixtures(tb testing.TB) (*ridecode.Verifier, []string) {
	tb.Helper()
	pemBytes, err := os.ReadFile(fixtureKey)
	if err != nil {
		tb.Fatal(err)
	}
	k, err := ridecode.ParsePrivateKeyPEM(pemBytes)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := ridecode.NewVerifier(ridecode.VerifierConfig{Keys: map[string]*ecdsa.PublicKey{"fx1": &k.PublicKey}, Skew: ridecode.DefaultSkew, Network: "nbmetro"})
	if err != nil {
		tb.Fatal(err)
	}
	f, err := os.Open(fixtureCodes)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var codes []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if sc.Text() != "" {
			codes = append(codes, sc.Text())
		}
	}
	return v, codes
}

// FuzzVerify: the parser never panics, and the only texts that verify are
// the fixture codes themselves: no mutation of a signed code is accepted.
func FuzzVerify(f *testing.F) {
	v, codes := loadFixtures(f)
	valid := map[string]bool{}
	for _, c := range codes {
		valid[c] = true
		f.Add(c)
		f.Add(c[:len(c)/2])
		f.Add(c + "0")
	}
	f.Add("")
	f.Add("10")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := v.Verify(text, fixtureNow)
		if err == nil && !valid[text] {
			t.Fatalf("a text that is not a signed code verified: %q → %+v", text, c)
		}
		if err != nil && valid[text] {
			t.Fatalf("a fixture code was refused: %v", err)
		}
		// Parse agrees with Verify on what it reads.
		if p, perr := ridecode.Parse(text); err == nil && (perr != nil || p != c) {
			t.Fatalf("Parse = %+v, %v; Verify = %+v", p, perr, c)
		}
	})
}

// FuzzParse: Unmarshal never panics and whatever it accepts marshals back
// to the same bytes.
func FuzzParse(f *testing.F) {
	_, codes := loadFixtures(f)
	for _, c := range codes {
		b, _ := ridecode.DecodeBase45(c)
		f.Add(b[:len(b)-ridecode.SignatureLen])
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		c, err := ridecode.Unmarshal(p)
		if err != nil {
			return
		}
		again, err := ridecode.Marshal(c)
		if err != nil || string(again) != string(p) {
			t.Fatalf("Unmarshal(%x) = %+v, which marshals to %x, %v", p, c, again, err)
		}
	})
}
