package ridecode_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"image/png"
	"testing"

	"github.com/emmansun/gmsm/smx509"

	"piao/internal/ridecode"
)

func TestKeysPEMRoundTrip(t *testing.T) {
	k, err := ridecode.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	privPEM, err := ridecode.MarshalPrivateKeyPEM(k)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := ridecode.MarshalPublicKeyPEM(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(privPEM, []byte("-----BEGIN PRIVATE KEY-----")) || !bytes.HasPrefix(pubPEM, []byte("-----BEGIN PUBLIC KEY-----")) {
		t.Errorf("PEM headers:\n%s\n%s", privPEM, pubPEM)
	}
	k2, err := ridecode.ParsePrivateKeyPEM(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !k2.Equal(k) {
		t.Error("private key changed in the round trip")
	}
	pub, err := ridecode.ParsePublicKeyPEM(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(&k.PublicKey) {
		t.Error("public key changed in the round trip")
	}
	// A code signed with the parsed private key verifies with the parsed public key.
	is, err := ridecode.NewIssuer("nb1", k2)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ridecode.NewVerifier(ridecode.VerifierConfig{Keys: map[string]*ecdsa.PublicKey{"nb1": pub}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(MustSign(t, is, rideClaims(3)), t0); err != nil {
		t.Error(err)
	}
	// SEC 1 "EC PRIVATE KEY" is read too.
	der, err := smx509.MarshalECPrivateKey(&k.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	k3, err := ridecode.ParsePrivateKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	if err != nil || !k3.Equal(k) {
		t.Errorf("SEC 1 key: %v", err)
	}
}

func TestKeysPEMErrors(t *testing.T) {
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	nistPriv, _ := x509.MarshalPKCS8PrivateKey(p256)
	nistPub, _ := x509.MarshalPKIXPublicKey(&p256.PublicKey)
	k, _ := ridecode.GenerateKey(rand.Reader)
	pubPEM, _ := ridecode.MarshalPublicKeyPEM(&k.PublicKey)
	privPEM, _ := ridecode.MarshalPrivateKeyPEM(k)
	block := func(typ string, b []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}) }
	for name, data := range map[string][]byte{
		"empty":          nil,
		"not PEM":        []byte("hello"),
		"public as priv": pubPEM,
		"garbage DER":    block("PRIVATE KEY", []byte{1, 2, 3}),
		"NIST P-256":     block("PRIVATE KEY", nistPriv),
		"certificate":    block("CERTIFICATE", []byte{1}),
	} {
		if _, err := ridecode.ParsePrivateKeyPEM(data); reasonOf(err) != ridecode.ReasonKey {
			t.Errorf("private %s: %v", name, err)
		}
	}
	for name, data := range map[string][]byte{
		"empty":          nil,
		"private as pub": privPEM,
		"garbage DER":    block("PUBLIC KEY", []byte{1, 2, 3}),
		"NIST P-256":     block("PUBLIC KEY", nistPub),
	} {
		if _, err := ridecode.ParsePublicKeyPEM(data); reasonOf(err) != ridecode.ReasonKey {
			t.Errorf("public %s: %v", name, err)
		}
	}
	if _, err := ridecode.MarshalPublicKeyPEM(&p256.PublicKey); reasonOf(err) != ridecode.ReasonKey {
		t.Errorf("marshal a NIST key: %v", err)
	}
}

func TestPNG(t *testing.T) {
	text := MustSign(t, MustIssuer(t, "nb1"), rideClaims(8))
	b, err := ridecode.PNG(text, 256)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if r := img.Bounds(); r.Dx() != 256 || r.Dy() != 256 {
		t.Errorf("image %v, want 256×256", r)
	}
	// The image is the QR symbol of the text: sample the centre of every
	// module at -4 pixels a module (with go-qrcode's 4-module border).
	q, err := ridecode.QR(text)
	if err != nil {
		t.Fatal(err)
	}
	q.DisableBorder = true
	bits := q.Bitmap()
	b, err = ridecode.PNG(text, -4)
	if err != nil {
		t.Fatal(err)
	}
	img, err = png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	const border = 4
	for y, row := range bits {
		for x, dark := range row {
			r, _, _, _ := img.At((x+border)*4+2, (y+border)*4+2).RGBA()
			if (r < 0x8000) != dark {
				t.Fatalf("module (%d,%d): dark=%v in the bitmap, red=%#x in the image", x, y, dark, r)
			}
		}
	}
}
