package ridecode_test

import (
	"crypto/rand"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"piao/internal/ridecode"
)

// TestOpenSSLInterop has OpenSSL 3 (an independent SM2 implementation)
// read our PEM keys and verify a code's signature over its payload with
// SM3 and the default ID; a changed payload must fail. Skipped without
// an openssl binary.
func TestOpenSSLInterop(t *testing.T) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("no openssl binary")
	}
	dir := t.TempDir()
	k, err := ridecode.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	privPEM, _ := ridecode.MarshalPrivateKeyPEM(k)
	pubPEM, _ := ridecode.MarshalPublicKeyPEM(&k.PublicKey)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	priv, pub := write("k.pem", privPEM), write("p.pem", pubPEM)
	if out, err := exec.Command(bin, "pkey", "-in", priv, "-noout").CombinedOutput(); err != nil {
		t.Skipf("this openssl does not read SM2 keys: %v %s", err, out)
	}
	is, err := ridecode.NewIssuer("nb1", k)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ridecode.DecodeBase45(MustSign(t, is, rideClaims(42)))
	payload, sig := b[:len(b)-ridecode.SignatureLen], b[len(b)-ridecode.SignatureLen:]
	var der cryptobyte.Builder
	der.AddASN1(asn1.SEQUENCE, func(c *cryptobyte.Builder) {
		c.AddASN1BigInt(new(big.Int).SetBytes(sig[:32]))
		c.AddASN1BigInt(new(big.Int).SetBytes(sig[32:]))
	})
	sigFile := write("sig.der", der.BytesOrPanic())
	verify := func(msg []byte) ([]byte, error) {
		return exec.Command(bin, "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-digest", "sm3",
			"-pkeyopt", "distid:1234567812345678", "-in", write("msg", msg), "-sigfile", sigFile).CombinedOutput()
	}
	if out, err := verify(payload); err != nil {
		t.Fatalf("openssl refused our signature: %v\n%s", err, out)
	}
	changed := append([]byte(nil), payload...)
	changed[len(changed)-1] ^= 1
	if out, err := verify(changed); err == nil {
		t.Fatalf("openssl accepted a changed payload:\n%s", out)
	}
}
