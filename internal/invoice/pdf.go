package invoice

import (
	"bytes"
	_ "embed" // the invoice font
	"strconv"
	"strings"

	"codeberg.org/go-pdf/fpdf"

	"piao/internal/fault"
)

// fontTTF is Droid Sans Fallback (Apache-2.0; font/README.md), a TrueType
// font with the CJK ideographs: fpdf embeds the subset an invoice uses.
//
//go:embed font/DroidSansFallbackFull.ttf
var fontTTF []byte

const fontFamily = "droid"

// page layout, in millimetres (A4 portrait, 15 mm margins).
const (
	margin    = 15.0
	pageWidth = 210.0 - 2*margin
	lineH     = 7.0
)

// item table columns: name, quantity, unit price, amount.
var columns = []float64{pageWidth - 3*32, 32, 32, 32}

// Render prints an invoice as a PDF: the title (发票 / Invoice, or 红字发票
// / Reversing invoice with the number of the invoice it reverses), its
// number and issue date, buyer and seller with their tax numbers, the lines,
// the total in figures and in capital numerals, and the tax included. It
// is a pure function: the same invoice gives the same bytes.
func Render(inv Invoice) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(false, margin)
	pdf.AddUTF8FontFromBytes(fontFamily, "", fontTTF)
	pdf.SetCreationDate(inv.IssuedAt)
	pdf.SetModificationDate(inv.IssuedAt)
	pdf.SetCatalogSort(true)
	pdf.SetTitle(inv.Number, true)
	pdf.SetCreator("piao", true)
	pdf.SetProducer("piao", true)
	pdf.AddPage()
	w := &writer{pdf: pdf, latin: pdf.UnicodeTranslatorFromDescriptor(""), size: 20}

	red := inv.Kind == Red
	title := "发票 / Invoice"
	if red {
		title = "红字发票 / Reversing invoice"
		pdf.SetTextColor(200, 20, 20)
	}
	w.cell(pageWidth, 12, title, false, true, "C")
	if red {
		w.size = 11
		w.cell(pageWidth, lineH, "红字 / Reversing: 冲销发票 "+inv.Reverses+" (reverses invoice "+inv.Reverses+")", false, true, "C")
	}
	pdf.SetTextColor(0, 0, 0)
	pdf.Ln(3)

	w.size = 10.5
	field := func(label, value string) {
		w.cell(56, lineH, label, false, false, "L")
		w.cell(pageWidth-56, lineH, value, false, true, "L")
	}
	field("发票号码 Number", inv.Number)
	field("开票日期 Date", inv.IssuedAt.In(Shanghai).Format("2006-01-02"))
	if red {
		field("原发票号码 Original", inv.Reverses)
	}
	pdf.Ln(2)

	party := func(heading string, p Party) {
		y := pdf.GetY()
		w.size = 11
		w.cell(pageWidth, lineH, heading, false, true, "L")
		w.size = 10.5
		field("  名称 Name", p.Name)
		tax := p.TaxNumber
		if tax == "" {
			tax = "—"
		}
		field("  纳税人识别号 Tax No.", tax)
		pdf.Rect(margin, y, pageWidth, pdf.GetY()-y+1, "D")
		pdf.Ln(3)
	}
	party("购买方 Buyer", inv.Buyer)
	party("销售方 Seller", inv.Seller)

	// The lines.
	w.size = 10
	pdf.SetFillColor(235, 235, 235)
	heads := []string{"项目 Item", "数量 Qty", "单价 Unit price", "金额 Amount"}
	pdf.Rect(margin, pdf.GetY(), pageWidth, lineH, "F")
	for i, h := range heads {
		align := "R"
		if i == 0 {
			align = "L"
		}
		w.cell(columns[i], lineH, h, true, i == len(heads)-1, align)
	}
	for _, it := range inv.Items {
		lines := w.wrap(it.Name, columns[0]-2*pdf.GetCellMargin())
		h := lineH * float64(len(lines))
		if pdf.GetY()+h > 297-margin-lineH {
			pdf.AddPage()
		}
		x, y := pdf.GetXY()
		for i, l := range lines {
			pdf.SetXY(x, y+float64(i)*lineH)
			w.cell(columns[0], lineH, l, false, false, "L")
		}
		pdf.Rect(x, y, columns[0], h, "D")
		pdf.SetXY(x+columns[0], y)
		w.cell(columns[1], h, strconv.FormatInt(it.Quantity, 10), true, false, "R")
		w.cell(columns[2], h, Yuan(it.UnitPriceFen), true, false, "R")
		w.cell(columns[3], h, Yuan(it.AmountFen), true, true, "R")
	}
	if pdf.GetY() > 297-margin-70 {
		pdf.AddPage()
	}
	w.cell(pageWidth-columns[3], lineH, "合计 Total", true, false, "R")
	w.cell(columns[3], lineH, Yuan(inv.TotalFen), true, true, "R")
	pdf.Ln(3)

	w.size = 10.5
	field("价税合计（大写）In words", Capital(inv.TotalFen))
	field("价税合计（小写）In figures", Yuan(inv.TotalFen))
	field("税率 Tax rate", Rate(inv.TaxRateBP))
	field("其中税额 Tax included", Yuan(inv.TaxFen))
	field("不含税金额 Excl. tax", Yuan(inv.TotalFen-inv.TaxFen))
	pdf.Ln(4)
	w.size = 8.5
	pdf.SetTextColor(90, 90, 90)
	note := "业务 Business event: " + inv.Ref + "。金额含税，税额 = 价税合计 × 税率 ÷ (1 + 税率)，四舍五入到分。Amounts include tax: tax = total × rate ÷ (1 + rate), rounded to the fen, halves away from zero."
	for _, l := range w.wrap(note, pageWidth-2*pdf.GetCellMargin()) {
		w.cell(pageWidth, 5, l, false, true, "L")
	}

	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		return nil, fault.Wrap(err, "render invoice pdf")
	}
	return b.Bytes(), nil
}

// writer prints text that mixes Chinese and Latin script. The Chinese font
// has no Latin letters, so Latin runs (Windows-1252's repertoire, which
// holds ¥, ×, · and the dashes) go in the PDF's standard Helvetica and the
// rest in the embedded font.
type writer struct {
	pdf   *fpdf.Fpdf
	latin func(string) string // UTF-8 to Windows-1252, Helvetica's encoding
	size  float64
}

// isLatin reports whether Helvetica prints r.
func isLatin(r rune) bool {
	if r < 0x100 {
		return r >= 0x20
	}
	switch r {
	case '—', '–', '…', '‘', '’', '“', '”', '•', '€', '™':
		return true
	}
	return false
}

// run is a stretch of text in one font.
type run struct {
	text  string
	latin bool
}

func runs(s string) []run {
	var out []run
	start, latin := 0, false
	for i, r := range s {
		l := isLatin(r)
		if i == 0 {
			latin = l
			continue
		}
		if l != latin {
			out = append(out, run{s[start:i], latin})
			start, latin = i, l
		}
	}
	if start < len(s) {
		out = append(out, run{s[start:], latin})
	}
	return out
}

func (w *writer) font(latin bool) {
	if latin {
		w.pdf.SetFont("Helvetica", "", w.size)
	} else {
		w.pdf.SetFont(fontFamily, "", w.size)
	}
}

func (w *writer) width(s string) float64 {
	var total float64
	for _, r := range runs(s) {
		w.font(r.latin)
		if r.latin {
			total += w.pdf.GetStringWidth(w.latin(r.text))
		} else {
			total += w.pdf.GetStringWidth(r.text)
		}
	}
	return total
}

// cell prints s in a cell of width cw and height h at the current position,
// aligned L, C or R, with a border if asked, then moves right (or to the
// next line when newline).
func (w *writer) cell(cw, h float64, s string, border, newline bool, align string) {
	pdf := w.pdf
	x, y := pdf.GetXY()
	if border {
		pdf.Rect(x, y, cw, h, "D")
	}
	m := pdf.GetCellMargin()
	tw := w.width(s)
	tx := x + m
	switch align {
	case "R":
		tx = x + cw - m - tw
	case "C":
		tx = x + (cw-tw)/2
	}
	// Text sits on a baseline about a third of the font size below the
	// middle of the cell.
	_, unit := pdf.GetFontSize()
	base := y + h/2 + 0.3*unit
	for _, r := range runs(s) {
		w.font(r.latin)
		t := r.text
		if r.latin {
			t = w.latin(t)
		}
		pdf.Text(tx, base, t)
		tx += pdf.GetStringWidth(t)
	}
	if newline {
		pdf.SetXY(margin, y+h)
	} else {
		pdf.SetXY(x+cw, y)
	}
}

// wrap breaks s into lines no wider than width, between words or between
// Chinese characters.
func (w *writer) wrap(s string, width float64) []string {
	var lines []string
	rs := []rune(s)
	start, lastBreak := 0, -1
	for i := 0; i < len(rs); i++ {
		if rs[i] == ' ' || !isLatin(rs[i]) {
			lastBreak = i
		}
		if i > start && w.width(string(rs[start:i+1])) > width {
			cut := i
			if lastBreak > start {
				cut = lastBreak // at a space, or before a Chinese character
			}
			lines = append(lines, strings.TrimRight(string(rs[start:cut]), " "))
			start = cut
			for start < len(rs) && rs[start] == ' ' {
				start++
			}
			lastBreak = -1
			i = start - 1
		}
	}
	if start < len(rs) || len(lines) == 0 {
		lines = append(lines, string(rs[start:]))
	}
	return lines
}
