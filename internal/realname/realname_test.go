package realname_test

import (
	"testing"
	"time"

	"pgregory.net/rapid"

	"piao/internal/fault"
	"piao/internal/realname"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// reason returns the fault reason of err, or "" for nil.
func reason(t testing.TB, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	if !fault.Is(err, fault.Invalid) {
		t.Fatalf("error %v is not fault.Invalid", err)
	}
	fe := fault.As(err)
	if fe.ZH == "" || fe.EN == "" {
		t.Fatalf("error %q lacks a bilingual message", fe.Reason)
	}
	return fe.Reason
}

func TestIDCard(t *testing.T) {
	tests := []struct {
		number string
		want   string // normalised number, or ""
		reason string
	}{
		{"11010519491231002X", "11010519491231002X", ""},
		{"11010519491231002x", "11010519491231002X", ""},
		{"  11010519491231002x \t", "11010519491231002X", ""},
		{"１１０１０５１９４９１２３１００２ｘ", "11010519491231002X", ""}, // full-width input
		{"440304199001010011", "440304199001010011", ""},
		{"320102198511201234", "320102198511201234", ""},
		{"110101200002290018", "110101200002290018", ""}, // 29 Feb in a leap year
		{"110105194912310021", "", "bad_id_checksum"},
		{"11010519491231002Y", "", "bad_id_number"},
		{"1101051949123100X2", "", "bad_id_number"},
		{"11010519491231002", "", "bad_id_number"},
		{"11010519491231002XX", "", "bad_id_number"},
		{"", "", "bad_id_number"},
		{"110105 19491231002X", "", "bad_id_number"},
		{"440304199001010012", "", "bad_id_checksum"},
		{fix("11010119990230001"), "", "bad_id_birth_date"}, // 30 Feb 1999
		{fix("11010119000229001"), "", "bad_id_birth_date"}, // 1900 was not a leap year
		{fix("11010118991231001"), "", "bad_id_birth_date"}, // before 1900
		{fix("11010119991301001"), "", "bad_id_birth_date"},
		{fix("11010119991200001"), "", "bad_id_birth_date"},
		{fix("01010119900101001"), "", "bad_id_region"},
	}
	for _, tc := range tests {
		p, err := realname.Passenger{Name: "张三", DocType: realname.IDCard, DocNumber: tc.number}.Validate()
		if got := reason(t, err); got != tc.reason {
			t.Errorf("%q: reason %q, want %q (%v)", tc.number, got, tc.reason, err)
			continue
		}
		if err == nil && p.DocNumber != tc.want {
			t.Errorf("%q normalised to %q, want %q", tc.number, p.DocNumber, tc.want)
		}
	}
}

// fix appends the right check character to 17 digits.
func fix(d17 string) string {
	for _, c := range "0123456789X" {
		s := d17 + string(c)
		_, err := realname.Passenger{Name: "A", DocType: realname.IDCard, DocNumber: s}.Validate()
		if err == nil || fault.As(err).Reason != "bad_id_checksum" {
			return s
		}
	}
	panic("no check character for " + d17)
}

func TestMakeIDKnown(t *testing.T) {
	if got := realname.MakeID("110105", date(1949, 12, 31), 2); got != "11010519491231002X" {
		t.Errorf("MakeID = %q, want 11010519491231002X", got)
	}
	if got := realname.MakeID("440304", date(1990, 1, 1), 1); got != "440304199001010011" {
		t.Errorf("MakeID = %q", got)
	}
	for _, bad := range []func(){
		func() { realname.MakeID("010101", date(1990, 1, 1), 1) },
		func() { realname.MakeID("11010", date(1990, 1, 1), 1) },
		func() { realname.MakeID("110101", date(1990, 1, 1), 1000) },
		func() { realname.MakeID("110101", date(1899, 1, 1), 1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("MakeID accepted a bad argument")
				}
			}()
			bad()
		}()
	}
}

func TestValidateAt(t *testing.T) {
	today := time.Date(2025, 6, 1, 23, 0, 0, 0, time.FixedZone("CST", 8*3600))
	p := realname.Passenger{Name: "李四", DocType: realname.IDCard}
	p.DocNumber = realname.MakeID("310101", date(2025, 6, 1), 7)
	if _, err := p.ValidateAt(today); err != nil {
		t.Errorf("born today: %v", err)
	}
	p.DocNumber = realname.MakeID("310101", date(2025, 6, 2), 7)
	if _, err := p.Validate(); err != nil {
		t.Errorf("Validate has no clock but rejected a future date: %v", err)
	}
	if got := reason(t, func() error { _, err := p.ValidateAt(today); return err }()); got != "bad_id_birth_date" {
		t.Errorf("born tomorrow: reason %q", got)
	}
	// Documents without a birth date are not affected.
	q := realname.Passenger{Name: "John Smith", DocType: realname.Passport, DocNumber: "E12345678"}
	if _, err := q.ValidateAt(today); err != nil {
		t.Error(err)
	}
	// Errors from Validate come through.
	q.DocNumber = "E1"
	if got := reason(t, func() error { _, err := q.ValidateAt(today); return err }()); got != "bad_passport" {
		t.Errorf("reason %q", got)
	}
}

func TestBirthDateAndAge(t *testing.T) {
	p := realname.Passenger{Name: "王五", DocType: realname.IDCard, DocNumber: realname.MakeID("110101", date(1960, 3, 15), 3)}
	b, ok := p.BirthDate()
	if !ok || !b.Equal(date(1960, 3, 15)) {
		t.Fatalf("BirthDate = %v, %v", b, ok)
	}
	for _, tc := range []struct {
		day  time.Time
		want int
	}{
		{date(2020, 3, 14), 59},
		{date(2020, 3, 15), 60},
		{time.Date(2020, 3, 15, 0, 30, 0, 0, time.FixedZone("CST", 8*3600)), 60}, // calendar date in day's zone
		{date(1960, 3, 15), 0},
		{date(1960, 3, 14), -1},
	} {
		if got := p.AgeOn(tc.day); got != tc.want {
			t.Errorf("AgeOn(%v) = %d, want %d", tc.day, got, tc.want)
		}
	}
	leap := realname.Passenger{DocType: realname.IDCard, DocNumber: "110101200002290018"}
	if got := leap.AgeOn(date(2021, 2, 28)); got != 20 {
		t.Errorf("29 Feb birthday on 28 Feb: %d", got)
	}
	if got := leap.AgeOn(date(2021, 3, 1)); got != 21 {
		t.Errorf("29 Feb birthday on 1 Mar: %d", got)
	}
	// Lower-case, unvalidated input still works.
	low := realname.Passenger{DocType: " ID_CARD ", DocNumber: "11010519491231002x"}
	if got := low.AgeOn(date(2000, 1, 1)); got != 50 {
		t.Errorf("age %d", got)
	}
	// No birth date: passports and broken numbers.
	for _, q := range []realname.Passenger{
		{DocType: realname.Passport, DocNumber: "E12345678"},
		{DocType: realname.IDCard, DocNumber: "110105194912310021"},
		{DocType: realname.ForeignPermanentID, DocNumber: "USA110075041803"},
	} {
		if _, ok := q.BirthDate(); ok {
			t.Errorf("%+v has a birth date", q)
		}
		if got := q.AgeOn(date(2020, 1, 1)); got != -1 {
			t.Errorf("%+v: age %d", q, got)
		}
	}
	// New-style foreigner permanent IDs carry a birth date too.
	f := realname.Passenger{DocType: realname.ForeignPermanentID, DocNumber: fix("91184019800704012")}
	if got := f.AgeOn(date(2024, 7, 4)); got != 44 {
		t.Errorf("foreigner age %d (%s)", got, f.DocNumber)
	}
}

func TestOtherDocuments(t *testing.T) {
	tests := []struct {
		dt     realname.DocType
		number string
		want   string
		reason string
	}{
		{realname.Passport, "E12345678", "E12345678", ""},
		{realname.Passport, " e1234567a ", "E1234567A", ""},
		{realname.Passport, "AB123", "AB123", ""},
		{realname.Passport, "12345678901234567", "12345678901234567", ""},
		{realname.Passport, "AB12", "", "bad_passport"},
		{realname.Passport, "123456789012345678", "", "bad_passport"},
		{realname.Passport, "E1234-5678", "", "bad_passport"},
		{realname.Passport, "E 12345678", "", "bad_passport"},
		{realname.HKMacauPermit, "H12345678", "H12345678", ""},
		{realname.HKMacauPermit, "m1234567890", "M1234567890", ""},
		{realname.HKMacauPermit, "H1234567", "", "bad_hk_macau_permit"},
		{realname.HKMacauPermit, "H123456789", "", "bad_hk_macau_permit"},
		{realname.HKMacauPermit, "A12345678", "", "bad_hk_macau_permit"},
		{realname.HKMacauPermit, "H1234567X", "", "bad_hk_macau_permit"},
		{realname.TaiwanPermit, "12345678", "12345678", ""},
		{realname.TaiwanPermit, "1234567890", "1234567890", ""},
		{realname.TaiwanPermit, "123456789", "", "bad_taiwan_permit"},
		{realname.TaiwanPermit, "T1234567", "", "bad_taiwan_permit"},
		{realname.ForeignPermanentID, "usa110075041803", "USA110075041803", ""},
		{realname.ForeignPermanentID, fix("91184019800704012"), fix("91184019800704012"), ""},
		{realname.ForeignPermanentID, "USA11007504180", "", "bad_foreign_permanent_id"},
		{realname.ForeignPermanentID, fix("81184019800704012"), "", "bad_foreign_permanent_id"},
		{realname.ForeignPermanentID, "91184019800704012Z", "", "bad_foreign_permanent_id"},
		{realname.ForeignPermanentID, "1234567890123456", "", "bad_foreign_permanent_id"},
		{realname.ForeignPermanentID, fix("91184019800230012"), "", "bad_id_birth_date"},
		{"driving_licence", "12345678", "", "bad_doc_type"},
		{"", "12345678", "", "bad_doc_type"},
	}
	for _, tc := range tests {
		p, err := realname.Passenger{Name: "Anna", DocType: tc.dt, DocNumber: tc.number}.Validate()
		if got := reason(t, err); got != tc.reason {
			t.Errorf("%s %q: reason %q, want %q", tc.dt, tc.number, got, tc.reason)
			continue
		}
		if err == nil && (p.DocNumber != tc.want || p.DocType != tc.dt) {
			t.Errorf("%s %q normalised to %+v", tc.dt, tc.number, p)
		}
	}
	// A broken checksum on a new foreigner ID is reported as such.
	good := fix("91184019800704012")
	bad := good[:17] + string("0123456789X"[(indexOf(good[17])+1)%11])
	if got := reason(t, validate(realname.ForeignPermanentID, bad)); got != "bad_id_checksum" {
		t.Errorf("reason %q", got)
	}
	// Doc types are trimmed and lower-cased.
	if p, err := (realname.Passenger{Name: "A", DocType: " Passport ", DocNumber: "E12345678"}).Validate(); err != nil || p.DocType != realname.Passport {
		t.Errorf("%+v %v", p, err)
	}
}

func indexOf(c byte) int {
	for i := range 11 {
		if "0123456789X"[i] == c {
			return i
		}
	}
	return -1
}

func validate(dt realname.DocType, n string) error {
	_, err := realname.Passenger{Name: "A", DocType: dt, DocNumber: n}.Validate()
	return err
}

func TestNames(t *testing.T) {
	valid := map[string]string{
		"张三":                     "张三",
		"  欧阳娜娜 ":                "欧阳娜娜",
		"阿依古丽·买买提":               "阿依古丽·买买提",
		"阿依古丽•买买提":               "阿依古丽·买买提", // bullet normalised
		"阿依古丽・买买提":               "阿依古丽·买买提", // katakana middle dot normalised
		"John  Smith":            "John Smith",
		"Mary-Jane O":            "Mary-Jane O",
		"Martin Luther King Jr.": "Martin Luther King Jr.",
		"José":                   "José",
		"Jose\u0301":             "Jose\u0301", // combining accent
		"Иван Петров":            "Иван Петров",
		"김민수":                    "김민수",
		"李":                      "李",
		"一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十": "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十",
	}
	for in, want := range valid {
		p, err := realname.Passenger{Name: in, DocType: realname.Passport, DocNumber: "E12345678"}.Validate()
		if err != nil {
			t.Errorf("%q: %v", in, err)
		} else if p.Name != want {
			t.Errorf("%q normalised to %q, want %q", in, p.Name, want)
		}
	}
	for _, in := range []string{
		"", "   ", "张3", "R2D2", "张\x00三", "张\n三", "张\t三", "张三!", "·张三", "张三·", "张三-", "-Ann",
		"\u0301abc", "张三\xff", "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一",
		"😀", "张_三", "张,三",
		// Invisible "letters": a name of Hangul fillers displays as empty (the
		// issue's passenger booked with an empty real name); variation
		// selectors and the grapheme joiner hide in a name.
		"\u3164", "\u3164\u3164", "\u115f", "\u1160", "\uffa0", "张\u3164三", "张\ufe0f", "a\u034f",
	} {
		_, err := realname.Passenger{Name: in, DocType: realname.Passport, DocNumber: "E12345678"}.Validate()
		if got := reason(t, err); got != "bad_name" {
			t.Errorf("%q: reason %q, want bad_name", in, got)
		}
	}
}

func TestMaskPhoneAndDocument(t *testing.T) {
	for in, want := range map[string]string{"13812345678": "138****5678", "": "", "021-6666": "021*6666", "12345": "***45",
		"360102199001011234": "3601**********1234", "E12345678": "E1*****78"} {
		got := realname.MaskPhone(in)
		if in == "360102199001011234" || in == "E12345678" {
			got = realname.MaskDocument(in)
		}
		if got != want {
			t.Errorf("mask %q = %q, want %q", in, got, want)
		}
	}
}

func TestMasking(t *testing.T) {
	for _, tc := range []struct {
		p    realname.Passenger
		want string
	}{
		{realname.Passenger{DocType: realname.IDCard, DocNumber: "360102199001011234"}, "3601**********1234"},
		{realname.Passenger{DocType: realname.IDCard, DocNumber: "11010519491231002x"}, "1101**********002X"},
		{realname.Passenger{DocType: realname.Passport, DocNumber: "E12345678"}, "E1*****78"},
		{realname.Passenger{DocType: realname.HKMacauPermit, DocNumber: "H12345678"}, "H1*****78"},
		{realname.Passenger{DocType: realname.Passport, DocNumber: "AB123"}, "A***3"},
		{realname.Passenger{DocType: realname.Passport, DocNumber: "ABCD"}, "****"},
		{realname.Passenger{DocType: realname.Passport, DocNumber: ""}, ""},
	} {
		if got := tc.p.Masked(); got != tc.want {
			t.Errorf("%+v masked to %q, want %q", tc.p, got, tc.want)
		}
	}
	for in, want := range map[string]string{
		"":           "",
		"李":          "*",
		"张三":         "张*",
		"张三丰":        "张*丰",
		"欧阳娜娜":       "欧**娜",
		" 张三 ":       "张*",
		"John Smith": "J********h",
	} {
		if got := realname.MaskName(in); got != want {
			t.Errorf("MaskName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDocTypes(t *testing.T) {
	seen := map[realname.DocType]bool{}
	for _, d := range realname.DocTypes {
		if !d.Valid() || d.ZH() == string(d) || d.EN() == string(d) || seen[d] {
			t.Errorf("doc type %q: valid %v zh %q en %q", d, d.Valid(), d.ZH(), d.EN())
		}
		seen[d] = true
	}
	if realname.DocType("x").Valid() || realname.DocType("x").ZH() != "x" || realname.DocType("x").EN() != "x" {
		t.Error("unknown doc type")
	}
}

// Property: MakeID always validates, round-trips its birth date, and
// changing any one character of a valid number is caught by the checksum.
func TestIDProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		region := rapid.StringMatching(`[1-9][0-9]{5}`).Draw(t, "region")
		birth := date(1900, 1, 1).AddDate(0, 0, rapid.IntRange(0, 80000).Draw(t, "days"))
		seq := rapid.IntRange(0, 999).Draw(t, "seq")
		id := realname.MakeID(region, birth, seq)
		p, err := realname.Passenger{Name: "测试", DocType: realname.IDCard, DocNumber: id}.Validate()
		if err != nil {
			t.Fatalf("MakeID(%s, %v, %d) = %s: %v", region, birth, seq, id, err)
		}
		if p.DocNumber != id {
			t.Fatalf("normalised %s to %s", id, p.DocNumber)
		}
		if b, ok := p.BirthDate(); !ok || !b.Equal(birth) {
			t.Fatalf("birth date %v %v, want %v", b, ok, birth)
		}
		pos := rapid.IntRange(0, 17).Draw(t, "pos")
		alphabet := "0123456789"
		if pos == 17 {
			alphabet = "0123456789X"
		}
		c := rapid.SampledFrom([]byte(alphabet)).Filter(func(c byte) bool { return c != id[pos] }).Draw(t, "char")
		flipped := id[:pos] + string(c) + id[pos+1:]
		_, err = realname.Passenger{Name: "测试", DocType: realname.IDCard, DocNumber: flipped}.Validate()
		if err == nil || fault.As(err).Reason != "bad_id_checksum" {
			t.Fatalf("%s → %s: %v, want bad_id_checksum", id, flipped, err)
		}
	})
}

func FuzzValidate(f *testing.F) {
	f.Add("张三", "id_card", "11010519491231002X")
	f.Add("John Smith", "passport", "e12345678")
	f.Add("阿依古丽·买买提", "foreign_permanent_id", "911840198007040123")
	f.Add("", "hk_macau_permit", "H12345678")
	f.Add("\xff", "taiwan_permit", "１２３４５６７８")
	f.Fuzz(func(t *testing.T, name, dt, number string) {
		in := realname.Passenger{Name: name, DocType: realname.DocType(dt), DocNumber: number}
		p, err := in.Validate()
		_ = in.Masked()
		_ = realname.MaskName(name)
		_ = in.AgeOn(date(2025, 1, 1))
		if err != nil {
			if !fault.Is(err, fault.Invalid) {
				t.Fatalf("non-Invalid error %v", err)
			}
			return
		}
		// Validation is idempotent.
		q, err := p.Validate()
		if err != nil || q != p {
			t.Fatalf("re-validating %+v: %+v %v", p, q, err)
		}
	})
}
