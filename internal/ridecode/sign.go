package ridecode

import (
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/binary"
	"io"
	"math/big"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"

	"piao/internal/fault"
)

// DefaultUID is the signer ID of GB/T 32918.2 used when none is agreed
// ("1234567812345678"); issuers and gates both use it.
var DefaultUID = []byte("1234567812345678")

// DefaultSkew is the clock skew a gate usually tolerates either side of a code's window.
const DefaultSkew = 5 * time.Second

// za is the SM2 signer hash Z_A = SM3(ENTL‖ID‖a‖b‖xG‖yG‖xA‖yA) of a public key
// under DefaultUID; it depends only on the key, so it is computed once.
func za(pub *ecdsa.PublicKey) ([]byte, error) {
	return sm2.CalculateZA(pub, DefaultUID)
}

// digest is e = SM3(Z_A ‖ M), the value SM2 signs (GB/T 32918.2 §6.1).
func digest(za, msg []byte) []byte {
	h := sm3.New()
	h.Write(za)
	h.Write(msg)
	return h.Sum(nil)
}

// Issuer signs ride codes with one SM2 private key; it is safe for concurrent use.
type Issuer struct {
	id  string
	key *sm2.PrivateKey
	za  []byte
	// Rand is where serials and signature nonces come from; nil means crypto/rand.
	Rand io.Reader
}

// NewIssuer returns an issuer named id signing with key.
func NewIssuer(id string, key *sm2.PrivateKey) (*Issuer, error) {
	if !validID(id, MaxIssuerLen) {
		return nil, claimsErr("签发方标识 %q 无效（1–%d 个字母、数字或 . _ -）", "issuer ID %q is not valid (1–%d letters, digits or . _ -)", id, MaxIssuerLen)
	}
	if key == nil || !sm2.IsSM2PublicKey(&key.PublicKey) {
		return nil, keyErr("私钥不是 SM2 密钥", "the private key is not an SM2 key", nil)
	}
	z, err := za(&key.PublicKey)
	if err != nil {
		return nil, keyErr("无法使用该 SM2 私钥", "cannot use the SM2 private key", err)
	}
	return &Issuer{id: id, key: key, za: z}, nil
}

// ID is the issuer ID written into every code it signs.
func (is *Issuer) ID() string { return is.id }

// PublicKey is the key gates verify this issuer's codes with.
func (is *Issuer) PublicKey() *ecdsa.PublicKey { return &is.key.PublicKey }

func (is *Issuer) random() io.Reader {
	if is.Rand != nil {
		return is.Rand
	}
	return rand.Reader
}

// Sign encodes and signs c and returns the code's text.
//
// c.IssuedAt is required (the clock is the caller's). An empty c.Issuer
// becomes the issuer's ID, a zero c.Serial a random one, a zero c.ExpiresAt
// IssuedAt + DefaultTTL(c.Kind), a zero c.Kind KindRide.
func (is *Issuer) Sign(c Claims) (string, error) {
	if c.Kind == 0 {
		c.Kind = KindRide
	}
	if c.Issuer == "" {
		c.Issuer = is.id
	}
	if c.Issuer != is.id {
		return "", claimsErr("签发方 %q 不能以 %q 的名义签发", "issuer %q cannot sign as %q", is.id, c.Issuer)
	}
	if c.IssuedAt.IsZero() {
		return "", claimsErr("缺少签发时间", "the issue time is missing")
	}
	if c.ExpiresAt.IsZero() {
		c.ExpiresAt = c.IssuedAt.Add(DefaultTTL(c.Kind))
	}
	for c.Serial == 0 {
		var b [8]byte
		if _, err := io.ReadFull(is.random(), b[:]); err != nil {
			return "", fault.Wrap(err, "ride code serial")
		}
		c.Serial = binary.BigEndian.Uint64(b[:])
	}
	payload, err := Marshal(c)
	if err != nil {
		return "", err
	}
	r, s, err := sm2.Sign(is.random(), &is.key.PrivateKey, digest(is.za, payload))
	if err != nil {
		return "", fault.Wrap(err, "sm2 sign")
	}
	code := make([]byte, len(payload)+SignatureLen)
	copy(code, payload)
	r.FillBytes(code[len(payload) : len(payload)+32])
	s.FillBytes(code[len(payload)+32:])
	return EncodeBase45(code), nil
}

// VerifierConfig says which issuers a gate trusts and how strict it is.
type VerifierConfig struct {
	// Keys maps issuer IDs to their SM2 public keys.
	Keys map[string]*ecdsa.PublicKey
	// Skew is the clock difference tolerated either side of a code's
	// validity window (DefaultSkew is usual; 0 tolerates none).
	Skew time.Duration
	// Network, when set, is the only network whose codes are accepted.
	Network string
}

type verifyKey struct {
	pub *ecdsa.PublicKey
	za  []byte
}

// Verifier checks ride codes offline; it is safe for concurrent use.
type Verifier struct {
	keys    map[string]verifyKey
	skew    time.Duration
	network string
}

// NewVerifier returns a verifier for cfg, refusing keys that are not SM2 keys.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if cfg.Skew < 0 {
		return nil, fault.New(fault.Invalid, ReasonClaims, "时钟容差不能为负", "the clock skew cannot be negative")
	}
	v := &Verifier{keys: map[string]verifyKey{}, skew: cfg.Skew, network: cfg.Network}
	for id, pub := range cfg.Keys {
		if !validID(id, MaxIssuerLen) {
			return nil, claimsErr("签发方标识 %q 无效（1–%d 个字母、数字或 . _ -）", "issuer ID %q is not valid (1–%d letters, digits or . _ -)", id, MaxIssuerLen)
		}
		if pub == nil || !sm2.IsSM2PublicKey(pub) || pub.X == nil || pub.Y == nil || !pub.Curve.IsOnCurve(pub.X, pub.Y) {
			return nil, keyErr("签发方 "+id+" 的公钥不是 SM2 公钥", "the public key of issuer "+id+" is not an SM2 public key", nil)
		}
		z, err := za(pub)
		if err != nil {
			return nil, keyErr("签发方 "+id+" 的公钥无法使用", "the public key of issuer "+id+" cannot be used", err)
		}
		v.keys[id] = verifyKey{pub: pub, za: z}
	}
	return v, nil
}

// Skew is the clock skew the verifier tolerates.
func (v *Verifier) Skew() time.Duration { return v.skew }

// Verify checks a code's text at time now and returns its claims.
//
// In order: the text and layout (ReasonMalformed, ReasonVersion,
// ReasonTooLong), the issuer (ReasonUnknownIssuer), the SM2 signature
// (ReasonSignature), the network (ReasonNetwork), then the validity window
// widened by the skew (ReasonNotYetValid, ReasonExpired). Every error is a
// fault.Invalid *fault.Error.
func (v *Verifier) Verify(text string, now time.Time) (Claims, error) {
	c, payload, sig, err := split(text)
	if err != nil {
		return Claims{}, err
	}
	k, ok := v.keys[c.Issuer]
	if !ok {
		return Claims{}, fault.Newf(fault.Invalid, ReasonUnknownIssuer, "未知的签发方 %q", "unknown issuer %q", c.Issuer)
	}
	r := new(big.Int).SetBytes(sig[:32])
	s := new(big.Int).SetBytes(sig[32:])
	if !sm2.Verify(k.pub, digest(k.za, payload), r, s) {
		return Claims{}, fault.New(fault.Invalid, ReasonSignature, "乘车码签名无效", "the ride code's signature does not verify")
	}
	if v.network != "" && c.Network != v.network {
		return Claims{}, fault.Newf(fault.Invalid, ReasonNetwork, "该乘车码属于线网 %q，不能在本线网使用", "the ride code is for network %q, not this one", c.Network)
	}
	if now.Add(v.skew).Before(c.IssuedAt) {
		return Claims{}, fault.New(fault.Invalid, ReasonNotYetValid, "乘车码尚未生效，请检查手机时间", "the ride code is not valid yet; check the phone's clock")
	}
	if !now.Add(-v.skew).Before(c.ExpiresAt) {
		return Claims{}, fault.New(fault.Invalid, ReasonExpired, "乘车码已过期，请刷新", "the ride code has expired; refresh it")
	}
	return c, nil
}
