package redeemcode

import (
	"bytes"
	"errors"
	"io"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"piao/internal/fault"
)

// seeded returns a deterministic byte stream standing in for crypto/rand.
func seeded(seed byte) io.Reader {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

func sample(t testing.TB, seed byte, n int) []Code {
	t.Helper()
	codes, err := Batch(seeded(seed), n)
	if err != nil {
		t.Fatal(err)
	}
	return codes
}

// specCheck computes the check symbol the way Crockford's spec states it:
// the whole number the data symbols spell, mod 37.
func specCheck(data string) byte {
	n := new(big.Int)
	for i := 0; i < len(data); i++ {
		n.Lsh(n, 5)
		n.Add(n, big.NewInt(int64(strings.IndexByte(alphabet[:32], data[i]))))
	}
	return alphabet[new(big.Int).Mod(n, big.NewInt(37)).Int64()]
}

func reasonOf(err error) string {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return fe.Reason
	}
	return ""
}

func TestConstants(t *testing.T) {
	if EntropyBits != 70 || EntropyBits < 64 || Len != 15 || len(alphabet) != 37 {
		t.Fatalf("EntropyBits=%d Len=%d alphabet=%d", EntropyBits, Len, len(alphabet))
	}
}

func TestKnownVectors(t *testing.T) {
	zero, err := New(bytes.NewReader(make([]byte, 9)))
	if err != nil {
		t.Fatal(err)
	}
	if zero != "000000000000000" || zero.String() != "00000-00000-00000" {
		t.Errorf("zero bytes gave %q / %q", zero, zero.String())
	}
	ones, err := New(bytes.NewReader(bytes.Repeat([]byte{0xff}, 9)))
	if err != nil {
		t.Fatal(err)
	}
	// 2^36 ≡ 1 (mod 37), so 2^70 - 1 ≡ 2^34 - 1 ≡ 27, which is V.
	if want := Code("ZZZZZZZZZZZZZZV"); ones != want {
		t.Errorf("0xff bytes gave %q, want %q", ones, want)
	}
	// Bits are taken most significant first: a single top bit is 1 in the
	// top symbol's high bit (16 = G).
	top, _ := New(bytes.NewReader([]byte{0x80, 0, 0, 0, 0, 0, 0, 0, 0}))
	if top[:DataLen] != "G0000000000000" || top[DataLen] != specCheck(string(top[:DataLen])) {
		t.Errorf("top bit gave %q", top)
	}
}

func TestCheckMatchesSpec(t *testing.T) {
	seen := map[byte]bool{}
	for _, c := range sample(t, 1, 5000) {
		if len(c) != Len {
			t.Fatalf("%q has length %d", c, len(c))
		}
		if want := specCheck(string(c[:DataLen])); c[DataLen] != want {
			t.Fatalf("%q: check %c, spec says %c", c, c[DataLen], want)
		}
		seen[c[DataLen]] = true
	}
	if len(seen) != 37 {
		t.Errorf("only %d of 37 check symbols appeared in 5000 codes", len(seen))
	}
}

func TestStringGroups(t *testing.T) {
	c := Code("7K2QMX9D4AP3HVR")
	if got := c.String(); got != "7K2QM-X9D4A-P3HVR" {
		t.Errorf("String() = %q", got)
	}
	if got := Code("ABC").String(); got != "ABC" {
		t.Errorf("short Code String() = %q", got)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, c := range sample(t, 2, 1000) {
		s := c.String()
		forms := []string{
			s,
			string(c),
			strings.ToLower(s),
			strings.ReplaceAll(s, "-", " "),
			"  " + strings.ReplaceAll(strings.ToLower(s), "-", "") + "\n",
			strings.Join(strings.Split(string(c), ""), " "),
			"\t" + s + "\r\n",
			strings.NewReplacer("0", "O", "1", "I").Replace(s),
			strings.NewReplacer("0", "o", "1", "l").Replace(s),
			strings.NewReplacer("1", "L").Replace(strings.ToLower(s)),
			"--" + strings.ReplaceAll(s, "-", "--") + "-",
		}
		for _, f := range forms {
			got, err := Parse(f)
			if err != nil {
				t.Fatalf("Parse(%q) of %q: %v", f, c, err)
			}
			if got != c {
				t.Fatalf("Parse(%q) = %q, want %q", f, got, c)
			}
		}
	}
}

func TestCheckSymbolsParse(t *testing.T) {
	want := map[byte]bool{'*': true, '~': true, '$': true, '=': true, 'U': true}
	for _, c := range sample(t, 3, 2000) {
		k := c[DataLen]
		if !want[k] {
			continue
		}
		delete(want, k)
		for _, f := range []string{c.String(), strings.ToLower(c.String())} {
			if got, err := Parse(f); err != nil || got != c {
				t.Errorf("Parse(%q) = %q, %v; want %q", f, got, err, c)
			}
		}
	}
	if len(want) != 0 {
		t.Errorf("check symbols never seen: %v", want)
	}
}

func TestParseErrors(t *testing.T) {
	good := sample(t, 4, 1)[0]
	data := string(good[:DataLen])
	badCheck := data + string(alphabet[(strings.IndexByte(alphabet, good[DataLen])+1)%37])
	cases := []struct {
		in, reason string
	}{
		{"", ReasonLength},
		{"   ", ReasonLength},
		{"---", ReasonLength},
		{data, ReasonLength},
		{string(good) + "0", ReasonLength},
		{good.String()[:16], ReasonLength},
		{strings.Repeat("A", 1000), ReasonLength},
		{"U" + string(good[1:]), ReasonMalformed},
		{"u" + string(good[1:]), ReasonMalformed},
		{"*" + string(good[1:]), ReasonMalformed},
		{data[:13] + "=" + string(good[DataLen]), ReasonMalformed},
		{"!" + string(good[1:]), ReasonMalformed},
		{string(good) + "!", ReasonMalformed},
		{strings.ReplaceAll(good.String(), "-", "_"), ReasonMalformed},
		{strings.ReplaceAll(good.String(), "-", "/"), ReasonMalformed},
		{"０" + string(good[1:]), ReasonMalformed},
		{"Ａ" + string(good[1:]), ReasonMalformed},
		{string(good) + "\x00", ReasonMalformed},
		{"ab", ReasonLength},
		{"a!", ReasonMalformed},
		{badCheck, ReasonCheck},
	}
	for _, tc := range cases {
		got, err := Parse(tc.in)
		if err == nil {
			t.Errorf("Parse(%q) = %q, want error %s", tc.in, got, tc.reason)
			continue
		}
		fe := fault.As(err)
		if fe.Code != fault.Invalid || fe.Reason != tc.reason || fe.ZH == "" || fe.EN == "" {
			t.Errorf("Parse(%q): %+v, want invalid/%s with both messages", tc.in, fe, tc.reason)
		}
		if got != "" {
			t.Errorf("Parse(%q) returned %q with an error", tc.in, got)
		}
	}
}

// canon is what Parse makes of a single typed character: its symbol value,
// or -1 for characters a code may not contain at that place.
func canon(b byte, checkPlace bool) int {
	v := int(decode[b])
	if v < 0 || (!checkPlace && v >= 32) {
		return -1
	}
	return v
}

// TestDetectsEverySubstitution replaces each character of 200 codes with
// every printable ASCII character in turn; any that does not read as the
// same symbol (O for 0, a for A, ...) must be refused.
func TestDetectsEverySubstitution(t *testing.T) {
	tried := 0
	for _, c := range sample(t, 5, 200) {
		b := []byte(c)
		for i := range b {
			orig := b[i]
			for x := byte(0x21); x < 0x7f; x++ {
				if x == '-' || canon(x, i == DataLen) == canon(orig, i == DataLen) {
					continue
				}
				b[i] = x
				got, err := Parse(string(b))
				if err == nil {
					t.Fatalf("%q with place %d changed to %q parsed as %q", c, i, x, got)
				}
				if r := reasonOf(err); r != ReasonCheck && r != ReasonMalformed {
					t.Fatalf("%q: substitution gave reason %q", b, r)
				}
				if canon(x, i == DataLen) >= 0 && reasonOf(err) != ReasonCheck {
					t.Fatalf("%q: valid-symbol substitution gave reason %q", b, reasonOf(err))
				}
				tried++
			}
			b[i] = orig
		}
	}
	if tried < 200*15*30 {
		t.Fatalf("only %d substitutions tried", tried)
	}
}

// TestDetectsEveryAdjacentTransposition swaps every pair of neighbouring
// symbols, the check symbol included, in 200 codes.
func TestDetectsEveryAdjacentTransposition(t *testing.T) {
	tried := 0
	for _, c := range sample(t, 6, 200) {
		for i := 0; i+1 < Len; i++ {
			if c[i] == c[i+1] {
				continue
			}
			b := []byte(c)
			b[i], b[i+1] = b[i+1], b[i]
			for _, f := range []string{string(b), Code(b).String()} {
				got, err := Parse(f)
				if err == nil {
					t.Fatalf("%q with places %d,%d swapped parsed as %q", c, i, i+1, got)
				}
				r := reasonOf(err)
				// Only moving a check-only symbol (* ~ $ = U) into the data
				// may be reported as malformed.
				if r != ReasonCheck && !(r == ReasonMalformed && i+1 == DataLen && canon(c[DataLen], false) < 0) {
					t.Fatalf("%q: transposition gave reason %q", f, r)
				}
			}
			tried++
		}
	}
	if tried < 200*10 {
		t.Fatalf("only %d transpositions tried", tried)
	}
}

// TestCheckWeights states the arithmetic the detection rests on for every
// place and every pair of symbols, independent of any sample.
func TestCheckWeights(t *testing.T) {
	w := 1 // 32^k mod 37
	for k := 0; k < Len; k++ {
		next := w * 32 % 37
		for d := 1; d < 37; d++ {
			if d*w%37 == 0 {
				t.Fatalf("substitution by %d at place %d undetected", d, k)
			}
			if d*(next-w+37)%37 == 0 {
				t.Fatalf("transposition with difference %d at places %d,%d undetected", d, k+1, k)
			}
		}
		w = next
	}
}

func TestBatch(t *testing.T) {
	for _, n := range []int{0, 1, 2, 4095, 4096, 4097, 10_000} {
		codes, err := Batch(seeded(7), n)
		if err != nil {
			t.Fatalf("Batch(%d): %v", n, err)
		}
		if len(codes) != n {
			t.Fatalf("Batch(%d) made %d", n, len(codes))
		}
		seen := make(map[Code]bool, n)
		for _, c := range codes {
			if seen[c] {
				t.Fatalf("Batch(%d) repeated %q", n, c)
			}
			seen[c] = true
			if p, err := Parse(c.String()); err != nil || p != c {
				t.Fatalf("Batch code %q does not parse: %q, %v", c, p, err)
			}
		}
	}
}

func TestBatchMaxWithCryptoRand(t *testing.T) {
	codes, err := Batch(nil, MaxBatch)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != MaxBatch {
		t.Fatalf("made %d codes", len(codes))
	}
	seen := make(map[Code]struct{}, len(codes))
	for _, c := range codes {
		if _, dup := seen[c]; dup {
			t.Fatalf("repeated %q", c)
		}
		seen[c] = struct{}{}
		if len(c) != Len || c[DataLen] != specCheck(string(c[:DataLen])) {
			t.Fatalf("bad code %q", c)
		}
	}
}

func TestBatchSize(t *testing.T) {
	for _, n := range []int{-1, MaxBatch + 1} {
		codes, err := Batch(seeded(8), n)
		if err == nil || codes != nil {
			t.Fatalf("Batch(%d) = %d codes, %v", n, len(codes), err)
		}
		fe := fault.As(err)
		if fe.Code != fault.Invalid || fe.Reason != ReasonBatchSize || fe.ZH == "" || fe.EN == "" {
			t.Errorf("Batch(%d): %+v", n, fe)
		}
	}
}

func TestBatchRegeneratesOnCollision(t *testing.T) {
	a := bytes.Repeat([]byte{0x11}, 9)
	b := bytes.Repeat([]byte{0x22}, 9)
	r := bytes.NewReader(bytes.Join([][]byte{a, a, a, b}, nil))
	codes, err := Batch(r, 2)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := New(bytes.NewReader(a))
	cb, _ := New(bytes.NewReader(b))
	if len(codes) != 2 || codes[0] != ca || codes[1] != cb {
		t.Fatalf("got %q, want [%q %q]", codes, ca, cb)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestBatchRefusesRepeatingSource(t *testing.T) {
	codes, err := Batch(zeros{}, 3)
	if err == nil || codes != nil {
		t.Fatalf("Batch from zeros = %q, %v", codes, err)
	}
	if fault.CodeOf(err) != fault.Internal || !errors.Is(err, errRepeats) {
		t.Fatalf("error %v", err)
	}
}

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("entropy pool on fire") }

func TestReadErrors(t *testing.T) {
	if _, err := New(failing{}); fault.CodeOf(err) != fault.Internal {
		t.Errorf("New(failing) error %v", err)
	}
	if _, err := New(bytes.NewReader(make([]byte, 5))); fault.CodeOf(err) != fault.Internal || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("New(short) error %v", err)
	}
	if _, err := Batch(failing{}, 10); fault.CodeOf(err) != fault.Internal {
		t.Errorf("Batch(failing) error %v", err)
	}
	if _, err := Batch(bytes.NewReader(make([]byte, 9*3)), 10); fault.CodeOf(err) != fault.Internal {
		t.Errorf("Batch(short) error %v", err)
	}
}

// countingReader records how many bytes were read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestDeterministicSource(t *testing.T) {
	a, b := sample(t, 9, 500), sample(t, 9, 500)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, code %d: %q vs %q", i, a[i], b[i])
		}
	}
	if c := sample(t, 10, 500); c[0] == a[0] {
		t.Fatalf("different seeds gave the same first code %q", c[0])
	}
	// Batch makes the codes successive New calls make, and takes exactly
	// 9 bytes (70 bits used) per code.
	r := &countingReader{r: seeded(9)}
	for i := range 500 {
		c, err := New(r)
		if err != nil {
			t.Fatal(err)
		}
		if c != a[i] {
			t.Fatalf("New #%d = %q, Batch gave %q", i, c, a[i])
		}
	}
	if r.n != 500*9 {
		t.Fatalf("500 codes read %d bytes", r.n)
	}
}

func TestCryptoRandDefault(t *testing.T) {
	a, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("two crypto codes equal: %q", a)
	}
	for _, c := range []Code{a, b} {
		if p, err := Parse(c.String()); err != nil || p != c {
			t.Fatalf("Parse(%q) = %q, %v", c, p, err)
		}
	}
}

// TestSymbolsUniform checks the data symbols use the whole alphabet evenly,
// i.e. no bits are wasted or biased.
func TestSymbolsUniform(t *testing.T) {
	const n = 20_000
	var count [DataLen][32]int
	for _, c := range sample(t, 11, n) {
		for i := 0; i < DataLen; i++ {
			count[i][strings.IndexByte(alphabet, c[i])]++
		}
	}
	for i := range count {
		for v, k := range count[i] {
			// Expected 625 each; 5 standard deviations is about ±122.
			if k < 480 || k > 770 {
				t.Errorf("place %d symbol %c seen %d times of %d", i, alphabet[v], k, n)
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, c := range sample(f, 12, 8) {
		f.Add(c.String())
		f.Add(strings.ToLower(string(c)))
	}
	for _, s := range []string{"", "-", "00000-00000-00000", "ZZZZZ-ZZZZZ-ZZZZV", "OOOOO IIIII LLLLL", "UUUUUUUUUUUUUUU", "*~$=U", "０００", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			if c != "" {
				t.Fatalf("Parse(%q) returned %q with error %v", s, c, err)
			}
			fe := fault.As(err)
			switch fe.Reason {
			case ReasonMalformed, ReasonLength, ReasonCheck:
			default:
				t.Fatalf("Parse(%q): unexpected reason %q", s, fe.Reason)
			}
			if fe.Code != fault.Invalid || fe.ZH == "" || fe.EN == "" {
				t.Fatalf("Parse(%q): %+v", s, fe)
			}
			return
		}
		if len(c) != Len || c[DataLen] != specCheck(string(c[:DataLen])) {
			t.Fatalf("Parse(%q) accepted bad code %q", s, c)
		}
		for _, again := range []string{string(c), c.String(), strings.ToLower(c.String())} {
			if p, err := Parse(again); err != nil || p != c {
				t.Fatalf("Parse(%q) = %q, but Parse(%q) = %q, %v", s, c, again, p, err)
			}
		}
	})
}

func BenchmarkBatch100k(b *testing.B) {
	for b.Loop() {
		codes, err := Batch(nil, MaxBatch)
		if err != nil || len(codes) != MaxBatch {
			b.Fatal(len(codes), err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	s := sample(b, 13, 1)[0].String()
	for b.Loop() {
		if _, err := Parse(s); err != nil {
			b.Fatal(err)
		}
	}
}
