package merchant

import (
	"strings"
	"testing"

	"pgregory.net/rapid"

	"piao/internal/fault"
)

// Real codes published on licences.
func TestCreditCodeKnown(t *testing.T) {
	for _, c := range []string{"91350100M000100Y43", " 91350100m000100y43 ", "9144030071526726XG", "91330100716105852F", "914403001922038216"} {
		if _, err := CheckCreditCode(c); err != nil {
			t.Errorf("%q: %v", c, err)
		}
	}
	for c, reason := range map[string]string{
		"91350100M000100Y44":  "credit_code_check", // 18th character wrong
		"91350100M000100Y4":   "bad_credit_code",   // 17 characters
		"91350100M000100I43":  "bad_credit_code",   // I is not in the alphabet
		"9135010OM000100Y43":  "bad_credit_code",   // O neither
		"913501A0M000100Y43":  "bad_credit_code",   // letter in the division code
		"":                    "bad_credit_code",
		"91350100M000100Y43x": "bad_credit_code",
	} {
		_, err := CheckCreditCode(c)
		if fe := fault.As(err); fe == nil || fe.Reason != reason {
			t.Errorf("%q: got %v, want %s", c, err, reason)
		}
	}
}

// A code whose 18th character is right but whose organisation code's
// check is wrong is refused.
func TestCreditCodeOrganisationCheck(t *testing.T) {
	prefix := "91350100M000100Y" + "5" // org check should be 4
	code := CompleteCreditCode(prefix)
	if _, err := CheckCreditCode(code); !fault.Is(err, fault.Invalid) {
		t.Fatalf("%s: %v, want the organisation check to fail", code, err)
	}
}

func genCreditCode(t *rapid.T) string {
	pick := func(label, alphabet string) byte {
		return alphabet[rapid.IntRange(0, len(alphabet)-1).Draw(t, label)]
	}
	var b strings.Builder
	b.WriteByte(pick("authority", creditCharset))
	b.WriteByte(pick("category", creditCharset))
	for range 6 {
		b.WriteByte(pick("division", "0123456789"))
	}
	var body strings.Builder
	for range 8 {
		body.WriteByte(pick("org", creditCharset))
	}
	b.WriteString(OrganisationCode(body.String()))
	return CompleteCreditCode(b.String())
}

// Every generated code passes; every single-character substitution of it
// fails (MOD 31 over a 31-character alphabet with weights prime to 31
// catches any one change).
func TestCreditCodeProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		code := genCreditCode(t)
		if _, err := CheckCreditCode(code); err != nil {
			t.Fatalf("%s: %v", code, err)
		}
		if _, err := CheckCreditCode(strings.ToLower(code)); err != nil {
			t.Fatalf("lower %s: %v", code, err)
		}
		i := rapid.IntRange(0, 17).Draw(t, "position")
		c := rapid.ByteRange(0x21, 0x7e).Draw(t, "char")
		if c == code[i] || (c >= 'a' && c <= 'z' && c-'a'+'A' == code[i]) {
			t.Skip("same character")
		}
		changed := code[:i] + string(c) + code[i+1:]
		if _, err := CheckCreditCode(changed); err == nil {
			t.Fatalf("%s → %s (position %d) passed", code, changed, i+1)
		}
	})
}

func FuzzCheckCreditCode(f *testing.F) {
	f.Add("91350100M000100Y43")
	f.Add("9144030071526726XG")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		code, err := CheckCreditCode(s)
		if err != nil {
			if !fault.Is(err, fault.Invalid) {
				t.Fatalf("%q: %v is not invalid", s, err)
			}
			return
		}
		if len(code) != 18 || code != NormalizeCreditCode(code) {
			t.Fatalf("%q passed as %q", s, code)
		}
		if again, err := CheckCreditCode(code); err != nil || again != code {
			t.Fatalf("%q: normalised %q does not pass again: %v", s, code, err)
		}
	})
}
