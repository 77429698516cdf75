package main_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGateRoundTrip runs keygen → sign → verify through the command line,
// then the refusals: expired, unknown issuer, another key, a changed code.
func TestGateRoundTrip(t *testing.T) {
	bin := piaoBinary(t)
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	if out, err := run(t, bin, "gate", "keygen", "--out", keys); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	if out, err := run(t, bin, "gate", "keygen", "--out", keys); err == nil || !strings.Contains(out, "--force") {
		t.Errorf("keygen over existing keys: %v\n%s", err, out)
	}
	if out, err := run(t, bin, "gate", "keygen", "--out", keys, "--name", "other"); err != nil {
		t.Fatalf("keygen other: %v\n%s", err, out)
	}
	st, err := os.Stat(filepath.Join(keys, "issuer.key.pem"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("private key file: %v %v", st, err)
	}
	priv := filepath.Join(keys, "issuer.key.pem")
	pub := "nb1=" + filepath.Join(keys, "issuer.pub.pem")
	png := filepath.Join(dir, "code.png")
	const at = "2026-03-01T08:30:00+08:00"
	out, err := run(t, bin, "gate", "sign", "--key", priv, "--issuer", "nb1", "--account", "42", "--ttl", "90s", "--at", at, "--png", png)
	if err != nil {
		t.Fatalf("sign: %v\n%s", err, out)
	}
	code := strings.TrimRight(out, "\n")
	if strings.Contains(code, "\n") || len(code) < 100 {
		t.Fatalf("sign printed %q", out)
	}
	if b, err := os.ReadFile(png); err != nil || !strings.HasPrefix(string(b), "\x89PNG") {
		t.Errorf("PNG: %v", err)
	}

	out, err = run(t, bin, "gate", "verify", "--pub", pub, "--at", "2026-03-01T08:31:00+08:00", code)
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	var claims struct {
		Kind, Issuer, Network string
		Account               int64
		IssuedAt              string `json:"issued_at"`
		ExpiresAt             string `json:"expires_at"`
		CodeID                string `json:"code_id"`
	}
	if err := json.Unmarshal([]byte(out), &claims); err != nil {
		t.Fatalf("verify output %q: %v", out, err)
	}
	if claims.Kind != "ride" || claims.Issuer != "nb1" || claims.Network != "nbmetro" || claims.Account != 42 ||
		claims.IssuedAt != "2026-03-01T00:30:00Z" || claims.ExpiresAt != "2026-03-01T00:31:30Z" || !strings.HasPrefix(claims.CodeID, "nb1/") {
		t.Errorf("claims %+v", claims)
	}

	// From standard input.
	cmd := exec.Command(bin, "gate", "verify", "--pub", pub, "--at", at, "-")
	cmd.Stdin = strings.NewReader(code + "\n")
	if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), `"account": 42`) {
		t.Errorf("verify -: %v\n%s", err, b)
	}

	changed := []byte(code)
	changed[10] = map[bool]byte{true: 'B', false: 'A'}[changed[10] == 'A']
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"expired", []string{"--pub", pub, "--at", "2026-03-01T08:32:00+08:00", code}, "ridecode_expired"},
		{"not yet valid", []string{"--pub", pub, "--at", "2026-03-01T08:29:00+08:00", code}, "ridecode_not_yet_valid"},
		{"unknown issuer", []string{"--pub", "nb2=" + filepath.Join(keys, "issuer.pub.pem"), "--at", at, code}, "ridecode_unknown_issuer"},
		{"another key", []string{"--pub", "nb1=" + filepath.Join(keys, "other.pub.pem"), "--at", at, code}, "ridecode_bad_signature"},
		{"changed", []string{"--pub", pub, "--at", at, string(changed)}, "ridecode_"},
		{"garbage", []string{"--pub", pub, "--at", at, "hello"}, "ridecode_malformed"},
		{"wrong network", []string{"--pub", pub, "--network", "hzmetro", "--at", at, code}, "ridecode_wrong_network"},
		{"bad --pub", []string{"--pub", "nb1", code}, "ID=PUB.pem"},
		{"private key as --pub", []string{"--pub", "nb1=" + priv, code}, "ridecode_bad_key"},
	} {
		out, err := run(t, bin, append([]string{"gate", "verify"}, tc.args...)...)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("%s: %v\n%s", tc.name, err, out)
		}
	}
	// Two trusted issuers: both verify.
	out2, err := run(t, bin, "gate", "sign", "--key", filepath.Join(keys, "other.key.pem"), "--issuer", "nb2", "--account", "7", "--kind", "count", "--ticket", "99", "--at", at)
	if err != nil {
		t.Fatal(err, out2)
	}
	for _, c := range []string{code, strings.TrimRight(out2, "\n")} {
		if out, err := run(t, bin, "gate", "verify", "--pub", pub, "--pub", "nb2="+filepath.Join(keys, "other.pub.pem"), "--at", at, c); err != nil {
			t.Errorf("two issuers: %v\n%s", err, out)
		}
	}
	// A count code needs its ticket.
	if out, err := run(t, bin, "gate", "sign", "--key", priv, "--issuer", "nb1", "--account", "7", "--kind", "count", "--at", at); err == nil || !strings.Contains(out, "ridecode_bad_claims") {
		t.Errorf("count code without ticket: %v\n%s", err, out)
	}
}

// TestServeRideCodeKeys: serve refuses to start with a ride-code key it
// cannot read, rather than run without the keys it was given.
func TestServeRideCodeKeys(t *testing.T) {
	bin := piaoBinary(t)
	dir := t.TempDir()
	notKey := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notKey, []byte("not a key"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"nb1=" + filepath.Join(dir, "missing.pem"), "nb1=" + notKey, "no-equals-sign"} {
		// A server that starts anyway is stopped after a minute and fails.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "--data-dir", filepath.Join(dir, "data"), "serve", "--addr", "127.0.0.1:0", "--ride-code-key", key)
		cmd.Env = append(os.Environ(), "PIAO_DATABASE=")
		out, err := cmd.CombinedOutput()
		if err == nil || ctx.Err() != nil {
			t.Errorf("serve --ride-code-key %s started:\n%s", key, out)
		}
	}
}
