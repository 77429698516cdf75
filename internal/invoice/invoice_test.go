package invoice

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCapital(t *testing.T) {
	cases := []struct {
		fen  int64
		want string
	}{
		{0, "零元整"},
		{5, "伍分"},
		{10, "壹角"},
		{45, "肆角伍分"},
		{100, "壹元整"},
		{105, "壹元零伍分"},
		{1005, "壹拾元零伍分"},
		{1050, "壹拾元伍角"},
		{12345, "壹佰贰拾叁元肆角伍分"},
		{100000, "壹仟元整"},
		{100500, "壹仟零伍元整"},
		{101000, "壹仟零壹拾元整"},
		{1001000, "壹万零壹拾元整"},
		{1000000, "壹万元整"},
		{10000000, "壹拾万元整"},
		{12000000, "壹拾贰万元整"},
		{100000000, "壹佰万元整"},
		{10000000000, "壹亿元整"},
		{10001000000, "壹亿零壹万元整"},
		{10100000000, "壹亿零壹佰万元整"},
		{1234567890, "壹仟贰佰叁拾肆万伍仟陆佰柒拾捌元玖角"},
		{100000000000000, "壹万亿元整"},
		{-12345, "负壹佰贰拾叁元肆角伍分"},
		{-9223372036854775808, "负玖亿亿贰仟贰佰叁拾叁万亿柒仟贰佰零叁亿陆仟捌佰伍拾肆万柒仟柒佰伍拾捌元零捌分"},
	}
	for _, c := range cases {
		if got := Capital(c.fen); got != c.want {
			t.Errorf("Capital(%d) = %s, want %s", c.fen, got, c.want)
		}
	}
}

func TestTax(t *testing.T) {
	cases := []struct{ total, bp, want int64 }{
		{10600, 600, 600},   // ¥106 at 6% includes ¥6
		{10000, 600, 566},   // 566.04 → 566
		{53, 600, 3},        // 3.0 exactly
		{9, 600, 1},         // 0.509… → 1
		{-10000, 600, -566}, // a red invoice's tax is the blue one's negated
		{10000, 0, 0},
	}
	for _, c := range cases {
		if got := Tax(c.total, c.bp); got != c.want {
			t.Errorf("Tax(%d, %d) = %d, want %d", c.total, c.bp, got, c.want)
		}
	}
	if Rate(600) != "6%" || Rate(150) != "1.5%" || Rate(0) != "0%" || Rate(1305) != "13.05%" {
		t.Errorf("Rate: %s %s %s %s", Rate(600), Rate(150), Rate(0), Rate(1305))
	}
	if Number(2026, 123) != "PIAO2026000123" || Number(2026, 1234567) != "PIAO20261234567" {
		t.Errorf("Number: %s %s", Number(2026, 123), Number(2026, 1234567))
	}
}

func TestRequestCheck(t *testing.T) {
	good := Request{Kind: Blue, Ref: "purchase:1", Buyer: Party{Owner: "merchant:1", Name: "宁波市轨道交通集团有限公司", TaxNumber: testCode},
		Items: []Item{{Name: "单程票", Quantity: 3, UnitPriceFen: 400, AmountFen: 1200}}}
	if total, err := good.Check(); err != nil || total != 1200 {
		t.Fatalf("good request: %d %v", total, err)
	}
	bad := map[string]func(*Request){
		"kind":           func(r *Request) { r.Kind = "green" },
		"no ref":         func(r *Request) { r.Ref = " " },
		"blue reverses":  func(r *Request) { r.Reverses = "purchase:0" },
		"red without":    func(r *Request) { r.Kind = Red },
		"owner":          func(r *Request) { r.Buyer.Owner = "operator" },
		"merchant tax":   func(r *Request) { r.Buyer.TaxNumber = "" },
		"bad tax":        func(r *Request) { r.Buyer.TaxNumber = "91330200MA2AAAAAAA" },
		"no name":        func(r *Request) { r.Buyer.Name = "" },
		"no items":       func(r *Request) { r.Items = nil },
		"amount":         func(r *Request) { r.Items[0].AmountFen = 1201 },
		"zero quantity":  func(r *Request) { r.Items[0].Quantity, r.Items[0].AmountFen = 0, 0 },
		"negative price": func(r *Request) { r.Items[0].UnitPriceFen, r.Items[0].AmountFen = -400, -1200 },
		"zero total":     func(r *Request) { r.Items[0].UnitPriceFen, r.Items[0].AmountFen = 0, 0 },
		"over max": func(r *Request) {
			r.Items = []Item{{Name: "x", Quantity: 2, UnitPriceFen: MaxTotalFen, AmountFen: 2 * MaxTotalFen}}
		},
	}
	for name, change := range bad {
		r := good
		r.Items = append([]Item(nil), good.Items...)
		change(&r)
		if _, err := r.Check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A passenger may leave the tax number out.
	p := good
	p.Buyer = Party{Owner: "account:3", Name: "张三"}
	if _, err := p.Check(); err != nil {
		t.Errorf("passenger without tax number: %v", err)
	}
}

// testCode is a valid unified social credit code (the demo seller's).
var testCode = DefaultSeller().TaxNumber

// pdfText renders inv and extracts its text with poppler's pdftotext. CI
// (CI=true) installs poppler-utils and requires it; elsewhere the test is
// skipped without it.
func pdfText(t *testing.T, inv Invoice) string {
	t.Helper()
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdftotext (poppler-utils) is required under CI to read the invoice PDFs: .ci/run installs it")
		}
		t.Skip("pdftotext not found: install poppler-utils (apt-get install poppler-utils) to check the invoice PDFs' text")
	}
	b, err := Render(inv)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", b[:min(len(b), 16)])
	}
	path := filepath.Join(t.TempDir(), "invoice.pdf")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext could not read the invoice: %v\n%s", err, out)
	}
	return string(out)
}

func sampleInvoice() Invoice {
	at := time.Date(2026, 3, 9, 2, 30, 0, 0, time.UTC) // 10:30 in Shanghai
	return Invoice{ID: 7, Number: "PIAO2026000123", Kind: Blue, Ref: "purchase:12",
		Buyer:  Party{Owner: "merchant:3", Name: "宁波市轨道交通集团有限公司", TaxNumber: testCode},
		Seller: DefaultSeller(),
		Items: []Item{
			{Name: "预付乘车票 Prepaid metro tickets · 毕业季单程票", Quantity: 30, UnitPriceFen: 400, AmountFen: 12000},
			{Name: "预付金额 Prepaid value", Quantity: 1, UnitPriceFen: 345, AmountFen: 345},
		},
		TotalFen: 12345, TaxRateBP: 600, TaxFen: Tax(12345, 600), IssuedAt: at}
}

func TestRenderPDFText(t *testing.T) {
	inv := sampleInvoice()
	text := pdfText(t, inv)
	flat := strings.Join(strings.Fields(text), "")
	for _, want := range []string{"宁波市轨道交通集团有限公司", "¥123.45", "壹佰贰拾叁元肆角伍分", "PIAO2026000123", "2026-03-09", "发票", "Invoice", testCode, DefaultSeller().Name, "毕业季单程票", "¥120.00"} {
		if !strings.Contains(flat, strings.Join(strings.Fields(want), "")) {
			t.Errorf("the PDF's text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(flat, "红字") {
		t.Errorf("a blue invoice is marked as red:\n%s", text)
	}
	// The same invoice renders to the same bytes.
	a, _ := Render(inv)
	b, _ := Render(inv)
	if !bytes.Equal(a, b) {
		t.Error("Render is not deterministic")
	}
	if len(a) > 200_000 {
		t.Errorf("the PDF is %d bytes: the font should be subset", len(a))
	}
}

func TestRenderRedPDFText(t *testing.T) {
	inv := sampleInvoice()
	inv.Kind, inv.Number, inv.Ref, inv.Reverses, inv.ReversesRef = Red, "PIAO2026000124", "refund:mpr-1-12", "PIAO2026000123", "purchase:12"
	inv.Items = []Item{{Name: "退还未用预付金额 Unused prepaid value returned", Quantity: -1, UnitPriceFen: 5000, AmountFen: -5000}}
	inv.TotalFen, inv.TaxFen = -5000, Tax(-5000, 600)
	text := pdfText(t, inv)
	flat := strings.Join(strings.Fields(text), "")
	for _, want := range []string{"红字", "Reversing", "PIAO2026000123", "PIAO2026000124", "-¥50.00", "负伍拾元整", "宁波市轨道交通集团有限公司"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the red PDF's text lacks %q:\n%s", want, text)
		}
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]int64{"6%": 600, "0%": 0, "1.5%": 150, "13.05": 1305, "100%": 10000} {
		if got, err := ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "%", "-1%", "101%", "6.123%", "x%", "6.-1"} {
		if _, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) accepted", in)
		}
	}
}
