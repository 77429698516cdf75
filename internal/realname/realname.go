// Package realname validates the identity documents that real-name railway
// ticketing (实名制购票) binds to every passenger.
//
// It knows the mainland resident identity card (GB 11643-1999, with its
// ISO 7064 MOD 11-2 check character), passports, the permits for Hong Kong,
// Macau and Taiwan residents and the foreigner permanent residence ID card.
// Validation normalises what people type (surrounding spaces, full-width
// characters, a lower-case check x) and reports problems as fault.Invalid
// errors with a stable reason and zh-CN/English messages.
//
// The package is pure: no I/O and no clock. Checks that need today's date
// (a birth date in the future) take it as a parameter, see
// Passenger.ValidateAt.
package realname

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"piao/internal/fault"
)

// DocType is the kind of identity document a passenger travels on.
type DocType string

// The document types accepted for real-name tickets.
const (
	// IDCard is the mainland resident identity card (居民身份证).
	IDCard DocType = "id_card"
	// Passport is a passport of any country (护照).
	Passport DocType = "passport"
	// HKMacauPermit is the Mainland Travel Permit for Hong Kong and Macau
	// Residents (港澳居民来往内地通行证).
	HKMacauPermit DocType = "hk_macau_permit"
	// TaiwanPermit is the Mainland Travel Permit for Taiwan Residents
	// (台湾居民来往大陆通行证).
	TaiwanPermit DocType = "taiwan_permit"
	// ForeignPermanentID is the Foreign Permanent Resident ID Card
	// (外国人永久居留身份证).
	ForeignPermanentID DocType = "foreign_permanent_id"
)

// DocTypes lists every document type, in display order.
var DocTypes = []DocType{IDCard, Passport, HKMacauPermit, TaiwanPermit, ForeignPermanentID}

// Valid reports whether d is a known document type.
func (d DocType) Valid() bool {
	for _, x := range DocTypes {
		if x == d {
			return true
		}
	}
	return false
}

// ZH returns the document type's name in Simplified Chinese, or the raw
// value when d is unknown.
func (d DocType) ZH() string {
	switch d {
	case IDCard:
		return "居民身份证"
	case Passport:
		return "护照"
	case HKMacauPermit:
		return "港澳居民来往内地通行证"
	case TaiwanPermit:
		return "台湾居民来往大陆通行证"
	case ForeignPermanentID:
		return "外国人永久居留身份证"
	}
	return string(d)
}

// EN returns the document type's name in English, or the raw value when d
// is unknown.
func (d DocType) EN() string {
	switch d {
	case IDCard:
		return "Resident Identity Card"
	case Passport:
		return "Passport"
	case HKMacauPermit:
		return "Mainland Travel Permit for Hong Kong and Macau Residents"
	case TaiwanPermit:
		return "Mainland Travel Permit for Taiwan Residents"
	case ForeignPermanentID:
		return "Foreign Permanent Resident ID Card"
	}
	return string(d)
}

// MaxNameRunes is the longest accepted passenger name, in characters.
const MaxNameRunes = 30

// MiddleDot is the separator used in transliterated minority and foreign
// names, e.g. 阿依古丽·买买提. Look-alike dots are normalised to it.
const MiddleDot = '·'

// Passenger is a traveller as named on their identity document.
type Passenger struct {
	Name      string  `json:"name"`
	DocType   DocType `json:"doc_type"`
	DocNumber string  `json:"doc_number"`
}

// Validate checks p and returns a normalised copy: the name trimmed with
// inner spaces collapsed and look-alike dots turned into MiddleDot,
// the document type trimmed and lower-cased, the document number trimmed,
// folded from full-width to ASCII and upper-cased (so a check "x" becomes
// "X").
//
// Birth dates in identity numbers must be real calendar dates in 1900 or
// later; Validate has no clock, so use ValidateAt to also reject birth dates
// after today. Errors are fault.Invalid with reasons bad_name,
// bad_doc_type, bad_id_number, bad_id_checksum, bad_id_region,
// bad_id_birth_date, bad_passport, bad_hk_macau_permit, bad_taiwan_permit
// or bad_foreign_permanent_id.
func (p Passenger) Validate() (Passenger, error) {
	name, err := normaliseName(p.Name)
	if err != nil {
		return Passenger{}, err
	}
	out := Passenger{
		Name:      name,
		DocType:   DocType(strings.ToLower(strings.TrimSpace(string(p.DocType)))),
		DocNumber: normaliseNumber(p.DocNumber),
	}
	if !out.DocType.Valid() {
		return Passenger{}, fault.New(fault.Invalid, "bad_doc_type", "不支持的证件类型", "unsupported identity document type")
	}
	if err := checkNumber(out.DocType, out.DocNumber); err != nil {
		return Passenger{}, err
	}
	return out, nil
}

// ValidateAt is Validate that also rejects a birth date encoded in the
// document number (ID cards and new-style foreigner permanent IDs) that is
// later than today's calendar date, read in today's location.
func (p Passenger) ValidateAt(today time.Time) (Passenger, error) {
	out, err := p.Validate()
	if err != nil {
		return Passenger{}, err
	}
	if birth, ok := out.BirthDate(); ok {
		y, m, d := today.Date()
		if birth.After(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)) {
			return Passenger{}, errBirthDate
		}
	}
	return out, nil
}

// BirthDate returns the birth date encoded in the document number, at
// midnight UTC. It works for mainland ID cards and the 18-character
// foreigner permanent ID; for other documents, or a number that does not
// validate, ok is false. The number is normalised first, so an unvalidated
// Passenger works too.
func (p Passenger) BirthDate() (birth time.Time, ok bool) {
	dt := DocType(strings.ToLower(strings.TrimSpace(string(p.DocType))))
	n := normaliseNumber(p.DocNumber)
	switch {
	case dt == IDCard:
	case dt == ForeignPermanentID && len(n) == 18:
	default:
		return time.Time{}, false
	}
	if checkNumber(dt, n) != nil {
		return time.Time{}, false
	}
	return parseBirth(n[6:14])
}

// AgeOn returns the passenger's age in whole years on day's calendar date
// (in day's location), from the birth date in the document number. A
// birthday on 29 February counts as reached on 1 March in common years. It
// returns -1 when the birth date is unknown (see BirthDate) or after day.
func (p Passenger) AgeOn(day time.Time) int {
	birth, ok := p.BirthDate()
	if !ok {
		return -1
	}
	y, m, d := day.Date()
	age := y - birth.Year()
	if m < birth.Month() || (m == birth.Month() && d < birth.Day()) {
		age--
	}
	if age < 0 {
		return -1
	}
	return age
}

// Masked returns the document number for display with its middle hidden:
// an ID card keeps its first 4 and last 4 characters
// (3601**********1234); other documents keep the first 2 and last 2, or
// only the first and last character when shorter than 8, and numbers of 4
// characters or fewer are hidden entirely. The number is normalised first.
func (p Passenger) Masked() string {
	n := []rune(normaliseNumber(p.DocNumber))
	keep := 2
	switch {
	case DocType(strings.ToLower(strings.TrimSpace(string(p.DocType)))) == IDCard && len(n) >= 12:
		keep = 4
	case len(n) <= 4:
		keep = 0
	case len(n) < 8:
		keep = 1
	}
	return maskRunes(n, keep, keep)
}

// MaskDocument masks a document number whose type is not at hand: an
// 18-character number is masked as an ID card (3601**********1234), any
// other as Masked masks other documents.
func MaskDocument(number string) string {
	typ := DocType("")
	if len([]rune(normaliseNumber(number))) == 18 {
		typ = IDCard
	}
	return Passenger{DocType: typ, DocNumber: number}.Masked()
}

// MaskPhone hides a phone number for display: a number of 7 digits or
// more keeps its first 3 and last 4 (138****5678), a shorter one only its
// last 2; an empty number stays empty.
func MaskPhone(phone string) string {
	r := []rune(strings.TrimSpace(phone))
	switch {
	case len(r) == 0:
		return ""
	case len(r) >= 7:
		return maskRunes(r, 3, 4)
	}
	return maskRunes(r, 0, min(2, len(r)-1))
}

// MaskName hides a name for display: one character becomes "*", two keep
// the first (张*), longer names keep the first and last (张*三, 欧**娜).
// The name is trimmed first; an empty name stays empty.
func MaskName(name string) string {
	r := []rune(strings.TrimSpace(name))
	switch len(r) {
	case 0:
		return ""
	case 1:
		return "*"
	case 2:
		return maskRunes(r, 1, 0)
	}
	return maskRunes(r, 1, 1)
}

// maskRunes keeps head runes at the start and tail at the end of r and
// replaces the rest with '*'.
func maskRunes(r []rune, head, tail int) string {
	if head+tail > len(r) {
		head, tail = 0, 0
	}
	var b strings.Builder
	b.WriteString(string(r[:head]))
	b.WriteString(strings.Repeat("*", len(r)-head-tail))
	b.WriteString(string(r[len(r)-tail:]))
	return b.String()
}

var errName = fault.Newf(fault.Invalid, "bad_name",
	"姓名须为 1–%d 个字符，只能包含文字、空格、“·”、“.”和“-”", "a name is 1–%d characters: letters, spaces, '·', '.' and '-' only", MaxNameRunes)

// normaliseName trims name, collapses white space to single spaces, maps
// look-alike dots to MiddleDot and checks the result.
func normaliseName(name string) (string, error) {
	var b strings.Builder
	space := false
	n := 0
	prevLetter := false
	for _, r := range strings.TrimSpace(name) {
		if r == utf8.RuneError || unicode.IsControl(r) || invisible(r) {
			return "", errName // inner tabs and line breaks included
		}
		if unicode.IsSpace(r) {
			space = true
			prevLetter = false
			continue
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
		}
		switch r {
		case '•', '‧', '・', '･', '∙', '⋅':
			r = MiddleDot
		case '－':
			r = '-'
		case '．':
			r = '.'
		}
		switch {
		case unicode.IsLetter(r):
			prevLetter = true
		case unicode.IsMark(r) && prevLetter:
			// a combining accent on the letter before it
		case r == MiddleDot || r == '.' || r == '-':
			if n == 0 {
				return "", errName // a name starts with a letter
			}
			prevLetter = false
		default:
			return "", errName
		}
		b.WriteRune(r)
		n++
	}
	out := b.String()
	if n == 0 || n > MaxNameRunes {
		return "", errName
	}
	if last, _ := utf8.DecodeLastRuneInString(out); last == MiddleDot || last == '-' {
		return "", errName // a separator joins two parts of the name
	}
	return out, nil
}

// invisible reports characters that show nothing though Unicode counts
// some of them as letters: the Hangul fillers (U+3164 "ㅤ" and its kin,
// category Lo) made a name that displays as empty pass as one letter. They
// are the default-ignorable code points and the variation selectors.
func invisible(r rune) bool {
	return unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) || unicode.Is(unicode.Variation_Selector, r)
}

// normaliseNumber trims s, folds full-width ASCII (as typed with a Chinese
// input method) to ASCII and upper-cases ASCII letters.
func normaliseNumber(s string) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r >= '！' && r <= '～' {
			r = r - '！' + '!'
		}
		if r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

var (
	errIDNumber  = fault.New(fault.Invalid, "bad_id_number", "身份证号码须为 18 位：17 位数字加 1 位数字或 X", "an ID card number is 18 characters: 17 digits and a digit or X")
	errChecksum  = fault.New(fault.Invalid, "bad_id_checksum", "证件号码校验位不正确，请检查是否输错", "the document number's check character is wrong; please check for typing errors")
	errRegion    = fault.New(fault.Invalid, "bad_id_region", "身份证号码的地区码不正确", "the ID card number has an invalid region code")
	errBirthDate = fault.New(fault.Invalid, "bad_id_birth_date", "证件号码中的出生日期不正确", "the birth date in the document number is not valid")
	errPassport  = fault.New(fault.Invalid, "bad_passport", "护照号码须为 5–17 位字母或数字", "a passport number is 5–17 letters or digits")
	errHKMacau   = fault.New(fault.Invalid, "bad_hk_macau_permit", "港澳居民来往内地通行证号码须为 H 或 M 加 8 位或 10 位数字", "a Hong Kong/Macau permit number is H or M followed by 8 or 10 digits")
	errTaiwan    = fault.New(fault.Invalid, "bad_taiwan_permit", "台湾居民来往大陆通行证号码须为 8 位或 10 位数字", "a Taiwan permit number is 8 or 10 digits")
	errForeign   = fault.New(fault.Invalid, "bad_foreign_permanent_id", "外国人永久居留身份证号码须为 15 位字母或数字，或以 9 开头的 18 位号码", "a foreigner permanent ID number is 15 letters or digits, or 18 characters starting with 9")
)

// checkNumber checks an already normalised document number.
func checkNumber(dt DocType, n string) error {
	switch dt {
	case IDCard:
		if !idShape(n) {
			return errIDNumber
		}
		if err := idBody(n); err != nil {
			return err
		}
		if n[0] == '0' {
			return errRegion
		}
		return nil
	case Passport:
		if len(n) < 5 || len(n) > 17 || !allAlnum(n) {
			return errPassport
		}
	case HKMacauPermit:
		if (len(n) != 9 && len(n) != 11) || (n[0] != 'H' && n[0] != 'M') || !allDigits(n[1:]) {
			return errHKMacau
		}
	case TaiwanPermit:
		if (len(n) != 8 && len(n) != 10) || !allDigits(n) {
			return errTaiwan
		}
	case ForeignPermanentID:
		switch {
		case len(n) == 15 && allAlnum(n):
			return nil
		case len(n) == 18 && n[0] == '9' && idShape(n):
			return idBody(n)
		}
		return errForeign
	default:
		return fault.New(fault.Invalid, "bad_doc_type", "不支持的证件类型", "unsupported identity document type")
	}
	return nil
}

// idShape reports whether n is 17 ASCII digits and a digit or X.
func idShape(n string) bool {
	return len(n) == 18 && allDigits(n[:17]) && (isDigit(n[17]) || n[17] == 'X')
}

// idBody checks the check character and then the birth date of an
// 18-character number of the right shape. The checksum comes first so a
// single mistyped character is reported as such.
func idBody(n string) error {
	if checkChar(n[:17]) != n[17] {
		return errChecksum
	}
	if _, ok := parseBirth(n[6:14]); !ok {
		return errBirthDate
	}
	return nil
}

// idWeights are the ISO 7064 MOD 11-2 weights 2^(17-i) mod 11.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// checkChar returns the GB 11643-1999 check character for 17 digits.
func checkChar(digits17 string) byte {
	sum := 0
	for i := range 17 {
		sum += int(digits17[i]-'0') * idWeights[i]
	}
	return "10X98765432"[sum%11]
}

// parseBirth parses YYYYMMDD as a real calendar date in 1900 or later.
func parseBirth(s string) (time.Time, bool) {
	if len(s) != 8 || !allDigits(s) {
		return time.Time{}, false
	}
	y := atoi(s[:4])
	m := atoi(s[4:6])
	d := atoi(s[6:8])
	if y < 1900 || m < 1 || m > 12 || d < 1 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d { // normalised into the next month: no such day
		return time.Time{}, false
	}
	return t, true
}

// MakeID builds a valid 18-character mainland ID card number from a 6-digit
// region code (not starting with 0), a birth date (its calendar date in its
// own location, year 1900–9999) and a sequence number 0–999 (odd for men,
// even for women), appending the right check character. It is meant for
// demo data and tests and panics on arguments it cannot encode.
func MakeID(region string, birth time.Time, seq int) string {
	if len(region) != 6 || !allDigits(region) || region[0] == '0' {
		panic("realname.MakeID: region must be 6 digits not starting with 0")
	}
	if seq < 0 || seq > 999 {
		panic("realname.MakeID: seq must be 0–999")
	}
	y, m, d := birth.Date()
	if y < 1900 || y > 9999 {
		panic("realname.MakeID: birth year must be 1900–9999")
	}
	b := make([]byte, 0, 18)
	b = append(b, region...)
	b = appendDigits(b, y, 4)
	b = appendDigits(b, int(m), 2)
	b = appendDigits(b, d, 2)
	b = appendDigits(b, seq, 3)
	b = append(b, checkChar(string(b)))
	return string(b)
}

// appendDigits appends v as exactly width decimal digits.
func appendDigits(b []byte, v, width int) []byte {
	for i := width - 1; i >= 0; i-- {
		p := 1
		for range i {
			p *= 10
		}
		b = append(b, byte('0'+v/p%10))
	}
	return b
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func allDigits(s string) bool {
	for i := range len(s) {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func allAlnum(s string) bool {
	for i := range len(s) {
		if c := s[i]; !isDigit(c) && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return s != ""
}

// atoi parses a string of ASCII digits already checked by allDigits.
func atoi(s string) int {
	v := 0
	for i := range len(s) {
		v = v*10 + int(s[i]-'0')
	}
	return v
}
