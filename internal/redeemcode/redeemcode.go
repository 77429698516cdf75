// Package redeemcode makes and checks batch redemption codes (批量兑换码)
// for value-added ticket campaigns.
//
// A code is 14 data symbols from Douglas Crockford's base32 alphabet
// (0-9 A-Z without I L O U) followed by one check symbol, 15 symbols in all,
// shown in groups of five: 7K2QM-X9D4A-P3HVR. The 14 data symbols carry
// EntropyBits (70) bits read from crypto/rand, so a code cannot be guessed;
// single use is enforced by the database, not here.
//
// # Check symbol
//
// The check symbol is Crockford's own: the 70-bit number the data symbols
// spell, taken mod 37, written with the 37-symbol check alphabet
// 0-9 A-Z (without I L O U) * ~ $ = U. Because 37 is a prime larger than 32,
// this check catches every single-symbol substitution and every adjacent
// transposition:
//
//   - The symbol at place k from the right weighs 32^k; changing it by d
//     (0 < |d| < 32) changes the number by d·32^k, which is never 0 mod 37
//     since 37 is prime and divides neither d nor 32.
//   - Swapping neighbours a, b at places k+1 and k changes the number by
//     (a−b)·32^k·31, again never 0 mod 37.
//   - Swapping the last data symbol d with the check symbol c gives a
//     number whose check is 2c−d mod 37, which equals d only when c = d.
//   - A substituted check symbol names a different residue.
//
// Smaller moduli over the 32 data symbols do not: 32 ≡ 0 mod 32, so a mod-32
// check only sees the last symbol; 32 ≡ 1 mod 31, so a mod-31 check is a
// plain digit sum that misses every transposition and cannot tell 0 from Z.
// The price of mod 37 is that about 5 codes in 37 end in one of * ~ $ = U.
// Those are ordinary ASCII: they print in any font and type on any keyboard;
// in a URL query string, $ and = must be percent-encoded like any other value.
//
// # Input
//
// Parse normalises what people type, as Crockford prescribes: letters are
// case-insensitive, hyphens and white space are ignored, O reads as 0 and
// I and L read as 1. U is accepted only as the check symbol; any other
// character, a wrong length or a wrong check symbol is refused with a
// fault.Invalid error whose reason is ReasonMalformed, ReasonLength or
// ReasonCheck respectively.
package redeemcode

import (
	"crypto/rand"
	"errors"
	"io"

	"piao/internal/fault"
)

const (
	// EntropyBits is how many random bits a code carries.
	EntropyBits = DataLen * 5
	// DataLen is how many data symbols a code has.
	DataLen = 14
	// Len is how many symbols a canonical code has, the check symbol included.
	Len = DataLen + 1
	// GroupLen is how many symbols String shows between hyphens.
	GroupLen = 5
	// MaxBatch is the most codes one Batch call makes.
	MaxBatch = 100_000
)

// Fault reasons Parse and Batch return.
const (
	ReasonMalformed = "code_malformed"
	ReasonLength    = "code_length"
	ReasonCheck     = "code_check"
	ReasonBatchSize = "batch_size"
)

// alphabet is Crockford's check alphabet; its first 32 symbols are the
// data alphabet.
const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U"

const (
	dataSymbols  = 32
	checkModulus = len(alphabet) // 37
	randBytes    = (EntropyBits + 7) / 8
	// batchChunk bounds how many codes' worth of randomness Batch reads at once.
	batchChunk = 4096
	// maxCollisions is how many repeated codes a Batch tolerates before it
	// blames the random source. With 70 random bits even one repeat in
	// 100,000 codes has odds of about 4·10⁻¹²; many mean r is not random.
	maxCollisions = 16
)

const (
	invalid  = -1
	separate = -2
)

// decode maps an input byte to its symbol value, invalid, or separate.
var decode = func() (t [256]int8) {
	for i := range t {
		t[i] = invalid
	}
	for v := 0; v < len(alphabet); v++ {
		c := alphabet[v]
		t[c] = int8(v)
		if c >= 'A' && c <= 'Z' {
			t[c+'a'-'A'] = int8(v)
		}
	}
	for _, c := range "Oo" {
		t[c] = 0
	}
	for _, c := range "IiLl" {
		t[c] = 1
	}
	for _, c := range "- \t\r\n" {
		t[c] = separate
	}
	return t
}()

// Code is a redemption code in canonical form: Len upper-case symbols,
// no hyphens. Only New, Batch and Parse make valid Codes.
type Code string

// String returns the display form, groups of GroupLen symbols joined by
// hyphens, e.g. 7K2QM-X9D4A-P3HVR. A Code not of length Len is returned
// as it is.
func (c Code) String() string {
	if len(c) != Len {
		return string(c)
	}
	var b [Len + Len/GroupLen - 1]byte
	n := 0
	for i := 0; i < Len; i++ {
		if i > 0 && i%GroupLen == 0 {
			b[n] = '-'
			n++
		}
		b[n] = c[i]
		n++
	}
	return string(b[:n])
}

// New makes one code from r, which should be crypto/rand.Reader; nil means
// crypto/rand.Reader. It reads exactly 9 bytes.
func New(r io.Reader) (Code, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [randBytes]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fault.Wrap(err, "redeemcode: read random bytes")
	}
	return encode(b[:]), nil
}

// Batch makes n distinct codes from r (nil means crypto/rand.Reader),
// 0 ≤ n ≤ MaxBatch. A code repeating an earlier one is replaced by a fresh
// one; if r keeps repeating itself, Batch fails rather than loop. The codes
// are those n successive New calls on r would make, repeats skipped.
func Batch(r io.Reader, n int) ([]Code, error) {
	if n < 0 || n > MaxBatch {
		return nil, fault.Newf(fault.Invalid, ReasonBatchSize,
			"每批兑换码数量须在 0 到 %d 之间，收到 %d",
			"a batch holds 0 to %d redemption codes, not %d", MaxBatch, n)
	}
	if r == nil {
		r = rand.Reader
	}
	codes := make([]Code, 0, n)
	seen := make(map[Code]struct{}, n)
	buf := make([]byte, min(n, batchChunk)*randBytes)
	collisions := 0
	for len(codes) < n {
		want := min(n-len(codes), batchChunk)
		chunk := buf[:want*randBytes]
		if _, err := io.ReadFull(r, chunk); err != nil {
			return nil, fault.Wrap(err, "redeemcode: read random bytes")
		}
		for ; len(chunk) > 0; chunk = chunk[randBytes:] {
			c := encode(chunk[:randBytes])
			if _, dup := seen[c]; dup {
				collisions++
				if collisions > maxCollisions {
					return nil, fault.Wrap(errRepeats, "redeemcode: batch")
				}
				continue
			}
			seen[c] = struct{}{}
			codes = append(codes, c)
		}
	}
	return codes, nil
}

var errRepeats = errors.New("random source keeps repeating codes")

// encode turns randBytes random bytes into a code: their first EntropyBits
// bits, five at a time, then the check symbol.
func encode(b []byte) Code {
	var out [Len]byte
	var acc uint32
	bits, j, check := 0, 0, 0
	for i := 0; i < DataLen; i++ {
		if bits < 5 {
			acc = acc<<8 | uint32(b[j])
			j++
			bits += 8
		}
		bits -= 5
		v := int(acc>>bits) & (dataSymbols - 1)
		out[i] = alphabet[v]
		check = (check*dataSymbols + v) % checkModulus
	}
	out[DataLen] = alphabet[check]
	return Code(out[:])
}

// Parse reads a code as a person typed it; see the package doc for the
// rules. It returns the canonical Code or a fault.Invalid error with reason
// ReasonMalformed, ReasonLength or ReasonCheck.
func Parse(s string) (Code, error) {
	var v [Len]int8
	n := 0
	for i := 0; i < len(s); i++ {
		switch d := decode[s[i]]; d {
		case separate:
		case invalid:
			return "", errMalformed()
		default:
			if n < Len {
				v[n] = d
			}
			n++
		}
	}
	if n != Len {
		return "", fault.Newf(fault.Invalid, ReasonLength,
			"兑换码应为 %d 位（不计连字符），收到 %d 位",
			"a redemption code has %d characters, not counting hyphens; got %d", Len, n)
	}
	var out [Len]byte
	check := 0
	for i := 0; i < DataLen; i++ {
		if int(v[i]) >= dataSymbols {
			return "", errMalformed()
		}
		out[i] = alphabet[v[i]]
		check = (check*dataSymbols + int(v[i])) % checkModulus
	}
	if int(v[DataLen]) != check {
		return "", fault.New(fault.Invalid, ReasonCheck,
			"兑换码校验位不符，请核对是否输错",
			"the redemption code's check character does not match; please check it for typos")
	}
	out[DataLen] = alphabet[check]
	return Code(out[:]), nil
}

func errMalformed() error {
	return fault.New(fault.Invalid, ReasonMalformed,
		"兑换码只能包含数字和除 U 以外的字母（末位校验符还可能是 * ~ $ = U），可用连字符或空格分隔",
		"a redemption code has only digits and letters other than U (its last, check character may also be * ~ $ = or U), optionally separated by hyphens or spaces")
}
