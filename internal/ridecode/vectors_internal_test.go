package ridecode

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
)

// The signature example of GB/T 32918.5-2017 (GM/T 0003.5-2012) Annex A:
// the recommended 256-bit curve, signer ID 1234567812345678 (the default),
// message "message digest". gmsm's own tests use only random keys, so the
// data here are the standard's, as other SM2 implementations test them.
const (
	stdPriv = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
	stdPubX = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
	stdPubY = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
	stdMsg  = "message digest"
	stdZA   = "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3"
	stdE    = "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640"
	stdR    = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
	stdS    = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
)

func hexInt(t *testing.T, s string) *big.Int {
	t.Helper()
	v, ok := new(big.Int).SetString(s, 16)
	if !ok {
		t.Fatalf("bad hex %q", s)
	}
	return v
}

func stdPublicKey(t *testing.T) *ecdsa.PublicKey {
	t.Helper()
	return &ecdsa.PublicKey{Curve: sm2.P256(), X: hexInt(t, stdPubX), Y: hexInt(t, stdPubY)}
}

// TestSM2StandardVector checks this package's hashing and verification
// against the standard's published example, step by step.
func TestSM2StandardVector(t *testing.T) {
	pub := stdPublicKey(t)
	if !pub.Curve.IsOnCurve(pub.X, pub.Y) {
		t.Fatal("the standard's public key is not on the SM2 curve")
	}
	// The public key is d·G.
	x, y := sm2.P256().ScalarBaseMult(hexInt(t, stdPriv).Bytes())
	if x.Cmp(pub.X) != 0 || y.Cmp(pub.Y) != 0 {
		t.Fatalf("d·G = (%X, %X), want the standard's public key", x, y)
	}
	z, err := za(pub)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.ToUpper(hex.EncodeToString(z)); got != stdZA {
		t.Errorf("Z_A = %s, want %s", got, stdZA)
	}
	e := digest(z, []byte(stdMsg))
	if got := strings.ToUpper(hex.EncodeToString(e)); got != stdE {
		t.Errorf("e = %s, want %s", got, stdE)
	}
	r, s := hexInt(t, stdR), hexInt(t, stdS)
	if !sm2.Verify(pub, e, r, s) {
		t.Fatal("the standard's signature does not verify through digest + sm2.Verify")
	}
	if !sm2.VerifyWithSM2(pub, DefaultUID, []byte(stdMsg), r, s) {
		t.Fatal("the standard's signature does not verify with the default user ID")
	}
	// Anything changed fails: message, r, s, user ID.
	if sm2.Verify(pub, digest(z, []byte("message digesT")), r, s) {
		t.Error("a changed message verifies")
	}
	if sm2.Verify(pub, e, new(big.Int).Add(r, big.NewInt(1)), s) || sm2.Verify(pub, e, r, new(big.Int).Sub(s, big.NewInt(1))) {
		t.Error("a changed signature verifies")
	}
	if sm2.VerifyWithSM2(pub, []byte("ALICE123@YAHOO.COM"), []byte(stdMsg), r, s) {
		t.Error("the signature verifies under another user ID")
	}
}

// TestSM2StandardKeySignsForVerifier signs a ride code with the standard's
// private key and has a Verifier holding the standard's public key accept it.
func TestSM2StandardKeySignsForVerifier(t *testing.T) {
	priv := new(sm2.PrivateKey)
	priv.Curve = sm2.P256()
	priv.D = hexInt(t, stdPriv)
	priv.X, priv.Y = hexInt(t, stdPubX), hexInt(t, stdPubY)
	is, err := NewIssuer("gbt", priv)
	if err != nil {
		t.Fatal(err)
	}
	// A signature made by this package verifies with the library's
	// standard entry point (ZA under the default ID, then SM3, then SM2).
	msg := []byte(stdMsg)
	r, s, err := sm2.Sign(is.random(), &priv.PrivateKey, digest(is.za, msg))
	if err != nil {
		t.Fatal(err)
	}
	if !sm2.VerifyWithSM2(stdPublicKey(t), nil, msg, r, s) {
		t.Fatal("a signature from digest() does not verify with sm2.VerifyWithSM2")
	}
}

// TestSM3StandardVectors checks SM3 against GB/T 32905-2016 Annex A.
func TestSM3StandardVectors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"},
		{strings.Repeat("abcd", 16), "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"},
	} {
		got := sm3.Sum([]byte(tc.in))
		if hex.EncodeToString(got[:]) != tc.want {
			t.Errorf("SM3(%q) = %x, want %s", tc.in, got, tc.want)
		}
	}
}

// TestBase45 checks the examples of RFC 9285 §4.3 and refusals.
func TestBase45(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{"AB", "BB8"},
		{"Hello!!", "%69 VD92EX0"},
		{"base-45", "UJCLQE7W581"},
		{"ietf!", "QED8WEX0"},
		{"", ""},
		{"\xff\xff", "FGW"},
		{"\xff", "U5"},
	} {
		if got := EncodeBase45([]byte(tc.in)); got != tc.out {
			t.Errorf("EncodeBase45(%q) = %q, want %q", tc.in, got, tc.out)
		}
		if got, ok := DecodeBase45(tc.out); !ok || !bytes.Equal(got, []byte(tc.in)) {
			t.Errorf("DecodeBase45(%q) = %q, %v", tc.out, got, ok)
		}
	}
	// "GGW" is 65536 (one past two bytes), "V5" 256 (one past a byte);
	// a lone character, lower case and characters outside the alphabet.
	for _, bad := range []string{"GGW", ":::", "V5", "::", "A", "BB8A", "bb8", "BB=", "BB8\n", "é"} {
		if got, ok := DecodeBase45(bad); ok {
			t.Errorf("DecodeBase45(%q) accepted: %x", bad, got)
		}
	}
	if _, err := decodeText(""); err == nil {
		t.Error("decodeText accepted the empty text")
	}
}
