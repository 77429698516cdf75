// Package ridecode makes and checks signed metro ride codes (乘车码, SPEC M1)
// and keeps the replay rules a station gate applies to them.
//
// "Ride first, pay later": the passenger's phone shows a QR code that
// carries who rides (account), which key signed it (issuer), a serial, a
// short validity window, the network and, for count tickets and paper QR
// tickets, the ticket. The issuer signs it with SM2 (GB/T 32918, SM3 hash,
// the standard's default user ID 1234567812345678); a gate verifies it
// offline with the issuer's public key and then asks a Gate whether the tap
// may pass (a code cannot tap in twice, a tap-out needs a tap-in).
//
// The package does no I/O and never reads the clock: times are passed in,
// randomness is an io.Reader the caller may replace, keys and images are
// bytes in and bytes out. The byte layout is documented in docs/RIDECODES.md
// and next to Marshal.
package ridecode

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	"piao/internal/fault"
)

// Version is the payload format version this package writes and reads.
const Version = 1

// Kind says what a code stands for; it decides the validity allowed.
type Kind uint8

// The kinds of code.
const (
	// KindRide is the phone's dynamic ride code: pay per trip, no ticket.
	KindRide Kind = 1
	// KindCount is a count ticket shown on the phone: dynamic, with a ticket.
	KindCount Kind = 2
	// KindPaper is a paper QR count ticket: printed once, long-lived, with a ticket.
	KindPaper Kind = 3
)

// String names the kind as JSON and the CLI show it.
func (k Kind) String() string {
	switch k {
	case KindRide:
		return "ride"
	case KindCount:
		return "count"
	case KindPaper:
		return "paper"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// ParseKind reads a kind name written by String.
func ParseKind(s string) (Kind, error) {
	for _, k := range []Kind{KindRide, KindCount, KindPaper} {
		if k.String() == s {
			return k, nil
		}
	}
	return 0, fault.Newf(fault.Invalid, ReasonClaims, "未知的乘车码类型 %q", "unknown ride code kind %q", s)
}

// MarshalText writes the kind's name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

func (k Kind) valid() bool { return k >= KindRide && k <= KindPaper }

// DefaultTTL is how long a code of kind k is valid when the issuer does not say.
func DefaultTTL(k Kind) time.Duration {
	if k == KindPaper {
		return 30 * 24 * time.Hour
	}
	return 60 * time.Second
}

// MaxTTL is the longest validity a code of kind k may claim; longer is refused.
//
// Dynamic codes live minutes so a screenshot is worth little; paper tickets
// are printed once and live up to a little over a year.
func MaxTTL(k Kind) time.Duration {
	if k == KindPaper {
		return 400 * 24 * time.Hour
	}
	return 5 * time.Minute
}

// Limits of the fields, so a code stays short and a parser stays cheap.
const (
	MaxIssuerLen  = 16  // bytes of an issuer ID
	MaxNetworkLen = 32  // bytes of a network (feed) ID
	SignatureLen  = 64  // bytes of an SM2 signature r‖s
	MaxTextLen    = 256 // characters of a code's text; longer is malformed unread
	// maxUnix is the last second of year 9999, the latest issue time accepted.
	maxUnix = 253402300799
)

// Reasons of the errors this package returns (fault.Error.Reason).
const (
	ReasonMalformed     = "ridecode_malformed"      // not a ride code at all
	ReasonVersion       = "ridecode_version"        // a format version this gate does not read
	ReasonTooLong       = "ridecode_validity_long"  // validity longer than its kind allows
	ReasonUnknownIssuer = "ridecode_unknown_issuer" // no public key for the issuer
	ReasonSignature     = "ridecode_bad_signature"  // signature does not verify
	ReasonNetwork       = "ridecode_wrong_network"  // signed for another network
	ReasonExpired       = "ridecode_expired"        // past its validity
	ReasonNotYetValid   = "ridecode_not_yet_valid"  // issued in the future
	ReasonClaims        = "ridecode_bad_claims"     // Sign was given claims it cannot encode
	ReasonKey           = "ridecode_bad_key"        // a key is not an SM2 key
	ReasonReplayed      = "ridecode_replayed"       // the code was already used that way
	ReasonInside        = "ridecode_already_inside" // the rider has tapped in and not out
	ReasonNoEntry       = "ridecode_no_entry"       // a tap-out with no tap-in to match
)

// Claims is what a ride code says. Times are whole unix seconds in UTC.
type Claims struct {
	Kind    Kind   `json:"kind"`
	Issuer  string `json:"issuer"`  // names the signing key
	Network string `json:"network"` // feed ID of the metro network, e.g. nbmetro
	// Serial tells one code of an issuer from another; Sign draws a random
	// one when it is 0.
	Serial    uint64    `json:"serial,string"`
	Account   int64     `json:"account"`
	Ticket    int64     `json:"ticket,omitempty"` // count or paper ticket ID; 0 for KindRide
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"` // first second the code is no longer valid
}

// CodeID names the code across issuers, as metro.Tap.Code keeps it.
func (c Claims) CodeID() string {
	return c.Issuer + "/" + fmt.Sprintf("%016x", c.Serial)
}

// TTL is how long the code is valid.
func (c Claims) TTL() time.Duration { return c.ExpiresAt.Sub(c.IssuedAt) }

func claimsErr(zh, en string, args ...any) error {
	return fault.Newf(fault.Invalid, ReasonClaims, zh, en, args...)
}

// check says whether c can be encoded, with the first problem found.
func (c Claims) check() error {
	switch {
	case !c.Kind.valid():
		return claimsErr("乘车码类型 %d 无效", "ride code kind %d is not valid", int(c.Kind))
	case !validID(c.Issuer, MaxIssuerLen):
		return claimsErr("签发方标识 %q 无效（1–%d 个字母、数字或 . _ -）", "issuer ID %q is not valid (1–%d letters, digits or . _ -)", c.Issuer, MaxIssuerLen)
	case !validID(c.Network, MaxNetworkLen):
		return claimsErr("线网标识 %q 无效（1–%d 个字母、数字或 . _ -）", "network ID %q is not valid (1–%d letters, digits or . _ -)", c.Network, MaxNetworkLen)
	case c.Account <= 0:
		return claimsErr("账户 %d 无效", "account %d is not valid", c.Account)
	case c.Ticket < 0:
		return claimsErr("票号 %d 无效", "ticket %d is not valid", c.Ticket)
	case c.Kind == KindRide && c.Ticket != 0:
		return claimsErr("单程乘车码不带票号", "a ride code carries no ticket")
	case c.Kind != KindRide && c.Ticket == 0:
		return claimsErr("次票乘车码须带票号", "a count or paper ticket code needs its ticket")
	case c.IssuedAt.Unix() < 0 || c.IssuedAt.Unix() > maxUnix:
		return claimsErr("签发时间 %s 超出范围", "issue time %s is out of range", c.IssuedAt.UTC().Format(time.RFC3339))
	case c.ExpiresAt.Unix() <= c.IssuedAt.Unix():
		return claimsErr("失效时间须晚于签发时间", "expiry must be after the issue time")
	case c.ExpiresAt.Unix()-c.IssuedAt.Unix() > int64(MaxTTL(c.Kind)/time.Second):
		return fault.Newf(fault.Invalid, ReasonTooLong, "有效期超过 %s 的上限 %s", "validity is longer than the %s limit of %s", c.Kind, MaxTTL(c.Kind))
	}
	return nil
}

// validID reports whether s is 1..max bytes of A-Z a-z 0-9 . _ -.
func validID(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '.' || b == '_' || b == '-') {
			return false
		}
	}
	return true
}

// Marshal encodes c as the signed part of a version-1 code (the payload).
//
// Byte layout, in order (uvarint is encoding/binary's unsigned varint, at
// its shortest):
//
//	version   1 byte   = 1
//	kind      1 byte   1 ride, 2 count, 3 paper
//	issuer    1 byte length n (1..16), then n bytes [A-Za-z0-9._-]
//	network   1 byte length m (1..32), then m bytes [A-Za-z0-9._-]
//	serial    8 bytes  big-endian
//	account   uvarint  ≥ 1
//	issued    uvarint  unix seconds
//	validity  uvarint  seconds from issued to expiry, 1..MaxTTL(kind)
//	ticket    uvarint  0 for a ride code, the ticket ID otherwise
//
// The code is the payload followed by the 64-byte SM2 signature r‖s over it.
func Marshal(c Claims) ([]byte, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, 48+len(c.Issuer)+len(c.Network))
	b = append(b, Version, byte(c.Kind))
	b = append(b, byte(len(c.Issuer)))
	b = append(b, c.Issuer...)
	b = append(b, byte(len(c.Network)))
	b = append(b, c.Network...)
	b = binary.BigEndian.AppendUint64(b, c.Serial)
	b = binary.AppendUvarint(b, uint64(c.Account))
	b = binary.AppendUvarint(b, uint64(c.IssuedAt.Unix()))
	b = binary.AppendUvarint(b, uint64(c.ExpiresAt.Unix()-c.IssuedAt.Unix()))
	b = binary.AppendUvarint(b, uint64(c.Ticket))
	return b, nil
}

var errMalformed = fault.New(fault.Invalid, ReasonMalformed, "不是有效的乘车码", "not a valid ride code")

func malformed() error {
	e := *errMalformed
	return &e
}

// reader reads a payload front to back; any short read marks it bad.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if len(r.b) < n {
		r.bad = true
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Unmarshal decodes a payload written by Marshal. It refuses anything Marshal
// would not have written byte for byte, so one set of claims has exactly one
// payload.
func Unmarshal(p []byte) (Claims, error) {
	if len(p) == 0 {
		return Claims{}, malformed()
	}
	if p[0] != Version {
		return Claims{}, fault.Newf(fault.Invalid, ReasonVersion, "不支持的乘车码版本 %d", "unsupported ride code version %d", int(p[0]))
	}
	r := reader{b: p[1:]}
	var c Claims
	c.Kind = Kind(r.byte())
	c.Issuer = string(r.bytes(int(r.byte())))
	c.Network = string(r.bytes(int(r.byte())))
	if s := r.bytes(8); s != nil {
		c.Serial = binary.BigEndian.Uint64(s)
	}
	account := r.uvarint()
	issued := r.uvarint()
	validity := r.uvarint()
	ticket := r.uvarint()
	if r.bad || len(r.b) != 0 || account > 1<<63-1 || issued > maxUnix || validity > 1<<40 || ticket > 1<<63-1 {
		return Claims{}, malformed()
	}
	c.Account = int64(account)
	c.Ticket = int64(ticket)
	c.IssuedAt = time.Unix(int64(issued), 0).UTC()
	c.ExpiresAt = time.Unix(int64(issued+validity), 0).UTC()
	if err := c.check(); err != nil {
		if fault.As(err).Reason == ReasonTooLong {
			return Claims{}, err
		}
		return Claims{}, malformed()
	}
	// Refuse non-shortest varints and any other second spelling.
	again, err := Marshal(c)
	if err != nil || string(again) != string(p) {
		return Claims{}, malformed()
	}
	return c, nil
}

// Codes are written in Base45 (RFC 9285): two bytes as three characters of
// 0-9 A-Z space $ % * + - . / :, a last odd byte as two.
//
// Why Base45: those 45 characters are exactly QR alphanumeric mode, which
// packs a character in 5.5 bits against 8 in byte mode, so a code costs 8.25
// QR bits a byte. Base32 would cost 8.8 and base64url (byte mode) 10.7. A
// phone ride code is about 97 bytes: 146 Base45 characters fit a version-6
// symbol at level M (41×41 modules, 154 characters), where base32's 156
// would need version 7 (45×45). The price is that the text has spaces and
// $ % *: quote it in a shell, percent-encode it in a URL.
const base45Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

var base45Value = func() (v [256]int8) {
	for i := range v {
		v[i] = -1
	}
	for i := 0; i < len(base45Alphabet); i++ {
		v[base45Alphabet[i]] = int8(i)
	}
	return v
}()

// EncodeBase45 writes b in RFC 9285 Base45.
func EncodeBase45(b []byte) string {
	out := make([]byte, 0, len(b)/2*3+2)
	for ; len(b) >= 2; b = b[2:] {
		n := int(b[0])<<8 | int(b[1])
		out = append(out, base45Alphabet[n%45], base45Alphabet[n/45%45], base45Alphabet[n/2025])
	}
	if len(b) == 1 {
		n := int(b[0])
		out = append(out, base45Alphabet[n%45], base45Alphabet[n/45])
	}
	return string(out)
}

// DecodeBase45 reads RFC 9285 Base45, refusing characters outside the
// alphabet, a dangling character and groups worth more than their bytes
// hold, so every string it accepts is the one EncodeBase45 writes.
func DecodeBase45(s string) ([]byte, bool) {
	if len(s)%3 == 1 {
		return nil, false
	}
	out := make([]byte, 0, len(s)/3*2+1)
	for i := 0; i < len(s); i += 3 {
		n, w := 0, 1
		end := min(i+3, len(s))
		for j := i; j < end; j++ {
			d := base45Value[s[j]]
			if d < 0 {
				return nil, false
			}
			n += int(d) * w
			w *= 45
		}
		if end-i == 3 {
			if n > 0xffff {
				return nil, false
			}
			out = append(out, byte(n>>8), byte(n))
		} else {
			if n > 0xff {
				return nil, false
			}
			out = append(out, byte(n))
		}
	}
	return out, true
}

// decodeText turns a code's text back into bytes.
func decodeText(text string) ([]byte, error) {
	if len(text) == 0 || len(text) > MaxTextLen {
		return nil, malformed()
	}
	b, ok := DecodeBase45(text)
	if !ok {
		return nil, malformed()
	}
	return b, nil
}

// split decodes a code's text into its payload, signature and claims.
func split(text string) (Claims, []byte, []byte, error) {
	b, err := decodeText(text)
	if err != nil {
		return Claims{}, nil, nil, err
	}
	if len(b) >= 1 && b[0] != Version {
		return Claims{}, nil, nil, fault.Newf(fault.Invalid, ReasonVersion, "不支持的乘车码版本 %d", "unsupported ride code version %d", int(b[0]))
	}
	if len(b) <= SignatureLen {
		return Claims{}, nil, nil, malformed()
	}
	payload, sig := b[:len(b)-SignatureLen], b[len(b)-SignatureLen:]
	c, err := Unmarshal(payload)
	if err != nil {
		return Claims{}, nil, nil, err
	}
	return c, payload, sig, nil
}

// Parse reads a code's claims WITHOUT checking its signature or validity:
// for display and diagnosis only; a gate calls Verifier.Verify.
func Parse(text string) (Claims, error) {
	c, _, _, err := split(text)
	return c, err
}
