package invoice

import "strings"

var (
	capitalDigits   = []string{"零", "壹", "贰", "叁", "肆", "伍", "陆", "柒", "捌", "玖"}
	capitalUnits    = []string{"仟", "佰", "拾", ""}
	capitalSections = []string{"", "万", "亿", "万亿", "亿亿"}
)

// Capital writes an amount in fen in Chinese capital numerals (大写), as
// invoices and cheques do: 12345 is 壹佰贰拾叁元肆角伍分, 100 is 壹元整,
// 1005 is 壹拾元零伍分, 100500 is 壹仟零伍元整; a negative amount starts
// with 负. Zeros inside the figure are read once (零), a whole yuan ends
// with 整.
func Capital(fen int64) string {
	var b strings.Builder
	u := uint64(fen)
	if fen < 0 {
		b.WriteString("负")
		u = uint64(-(fen + 1)) + 1 // the smallest int64 too
	}
	yuan, jiao, cents := u/100, u/10%10, u%10
	if yuan > 0 {
		b.WriteString(capitalYuan(yuan))
		b.WriteString("元")
	}
	switch {
	case yuan == 0 && jiao == 0 && cents == 0:
		b.WriteString("零元整")
	case jiao == 0 && cents == 0:
		b.WriteString("整")
	default:
		if jiao > 0 {
			b.WriteString(capitalDigits[jiao] + "角")
		} else if yuan > 0 {
			b.WriteString("零") // 壹元零伍分
		}
		if cents > 0 {
			b.WriteString(capitalDigits[cents] + "分")
		}
	}
	return b.String()
}

// capitalYuan writes a positive whole number in sections of four digits
// (个, 万, 亿, …), each read with 仟佰拾 and one 零 for any run of zeros.
func capitalYuan(n uint64) string {
	var sections []uint64
	for n > 0 {
		sections = append(sections, n%10000)
		n /= 10000
	}
	var b strings.Builder
	started, zero := false, false
	for i := len(sections) - 1; i >= 0; i-- {
		s := sections[i]
		if s == 0 {
			zero = zero || started
			continue
		}
		if started && (zero || s < 1000) {
			b.WriteString("零")
		}
		zero = false
		b.WriteString(capitalSection(s))
		b.WriteString(capitalSections[i])
		started = true
	}
	return b.String()
}

// capitalSection writes 1–9999 with 仟佰拾, zeros between digits as one 零.
func capitalSection(s uint64) string {
	digits := [4]uint64{s / 1000, s / 100 % 10, s / 10 % 10, s % 10}
	var b strings.Builder
	started, zero := false, false
	for i, d := range digits {
		if d == 0 {
			zero = zero || started
			continue
		}
		if zero {
			b.WriteString("零")
			zero = false
		}
		b.WriteString(capitalDigits[d] + capitalUnits[i])
		started = true
	}
	return b.String()
}
