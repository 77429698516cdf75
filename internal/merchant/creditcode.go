package merchant

import (
	"strings"

	"piao/internal/fault"
)

// creditCharset is the alphabet of the unified social credit code
// (统一社会信用代码, GB 32100-2015): digits and 21 capital letters, without
// I, O, S, V and Z. A character's value is its index.
const creditCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// creditWeights are the weights of the first 17 characters: 3^i mod 31.
var creditWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// orgWeights are the weights of the 8 body characters of an organisation
// code (组织机构代码, GB 11714-1997).
var orgWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

var errCreditCode = fault.New(fault.Invalid, "bad_credit_code",
	"统一社会信用代码须为 18 位，由数字和大写字母（不含 I、O、S、V、Z）组成",
	"a unified social credit code is 18 digits and capital letters (no I, O, S, V or Z)")

var errCreditCheck = fault.New(fault.Invalid, "credit_code_check",
	"统一社会信用代码校验位不符，请核对",
	"the unified social credit code's check character does not match: check the code")

// NormalizeCreditCode trims a credit code and upper-cases it, the form in
// which it is checked and stored.
func NormalizeCreditCode(code string) string {
	return strings.ToUpper(strings.TrimSpace(code))
}

// CheckCreditCode normalises a unified social credit code and checks it.
// It makes these checks:
//   - 18 characters, each from the GB 32100 alphabet (no I, O, S, V, Z);
//   - characters 3–8 (the administrative division code) are digits;
//   - characters 9–17 are an organisation code whose 9th character is
//     the GB 11714 check of its first 8 (MOD 11, weights 3 7 9 10 5 8 4 2,
//     letters valued A=10 … Z=35, 10 written X, 11 written 0);
//   - the 18th character is the GB 32100 check of the first 17 (MOD 31,
//     weights 3^i mod 31).
//
// It does not check the registration authority and category codes
// (characters 1–2) against their tables, which change over time.
func CheckCreditCode(code string) (string, error) {
	code = NormalizeCreditCode(code)
	if len(code) != 18 {
		return code, errCreditCode
	}
	sum := 0
	for i := 0; i < 18; i++ {
		v := strings.IndexByte(creditCharset, code[i])
		if v < 0 {
			return code, errCreditCode
		}
		if i >= 2 && i < 8 && v > 9 {
			return code, fault.New(fault.Invalid, "bad_credit_code",
				"统一社会信用代码第 3–8 位须为行政区划代码（数字）",
				"characters 3–8 of a unified social credit code are a division code (digits)")
		}
		if i < 17 {
			sum += v * creditWeights[i]
		}
	}
	if code[17] != creditCheck(sum) {
		return code, errCreditCheck
	}
	if orgCheck(code[8:16]) != code[16] {
		return code, errCreditCheck
	}
	return code, nil
}

// creditCheck is the GB 32100 check character of a weighted sum.
func creditCheck(sum int) byte { return creditCharset[(31-sum%31)%31] }

// orgCheck is the GB 11714 check character of an organisation code's 8
// body characters (digits and capital letters).
func orgCheck(body string) byte {
	sum := 0
	for i := 0; i < 8; i++ {
		c := body[i]
		v := int(c - '0')
		if c >= 'A' && c <= 'Z' {
			v = int(c-'A') + 10
		}
		sum += v * orgWeights[i]
	}
	switch c := 11 - sum%11; c {
	case 10:
		return 'X'
	case 11:
		return '0'
	default:
		return byte('0' + c)
	}
}

// CompleteCreditCode returns the 18-character code whose first 17
// characters are prefix, with its check character; characters 9–17 of the
// prefix must already carry their organisation-code check. Tests and the
// demo make valid codes with it.
func CompleteCreditCode(prefix string) string {
	sum := 0
	for i := 0; i < 17 && i < len(prefix); i++ {
		sum += strings.IndexByte(creditCharset, prefix[i]) * creditWeights[i]
	}
	return prefix + string(creditCheck(sum))
}

// OrganisationCode returns the 9-character organisation code of 8 body
// characters: the body and its GB 11714 check character.
func OrganisationCode(body string) string { return body + string(orgCheck(body)) }
