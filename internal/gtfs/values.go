package gtfs

import (
	"errors"
	"math"
	"strconv"

	"piao/internal/network"
)

// errBadTime is returned by ParseTime for anything but H:MM:SS or HH:MM:SS.
var errBadTime = errors.New("gtfs: time is not H:MM:SS or HH:MM:SS")

// ParseTime parses a GTFS time "H:MM:SS" or "HH:MM:SS" (hours may pass 24)
// into seconds after the service day's midnight.
func ParseTime(s string) (int, error) {
	if v, ok := parseTime(s); ok {
		return v, nil
	}
	return 0, errBadTime
}

func parseTime(s string) (int, bool) {
	var h int
	switch len(s) {
	case 7: // H:MM:SS
		if !isDigit(s[0]) {
			return 0, false
		}
		h = int(s[0] - '0')
		s = s[1:]
	case 8: // HH:MM:SS
		if !isDigit(s[0]) || !isDigit(s[1]) {
			return 0, false
		}
		h = int(s[0]-'0')*10 + int(s[1]-'0')
		s = s[2:]
	default:
		return 0, false
	}
	// s is ":MM:SS"
	if s[0] != ':' || s[3] != ':' || !isDigit(s[1]) || !isDigit(s[2]) || !isDigit(s[4]) || !isDigit(s[5]) {
		return 0, false
	}
	m := int(s[1]-'0')*10 + int(s[2]-'0')
	sec := int(s[4]-'0')*10 + int(s[5]-'0')
	if m > 59 || sec > 59 {
		return 0, false
	}
	return h*3600 + m*60 + sec, true
}

// FormatTime formats seconds after the service day's midnight as GTFS
// "HH:MM:SS", hours passing 24 for times on later days.
func FormatTime(secs int) string {
	neg := secs < 0
	if neg {
		secs = -secs
	}
	h, m, s := secs/3600, secs/60%60, secs%60
	b := make([]byte, 0, 10)
	if neg {
		b = append(b, '-')
	}
	if h < 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, int64(h), 10)
	b = append(b, ':', byte('0'+m/10), byte('0'+m%10), ':', byte('0'+s/10), byte('0'+s%10))
	return string(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parseUint parses a non-negative decimal integer of at most 9 digits.
func parseUint(s string) (int, bool) {
	if len(s) == 0 || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// parseEnum parses an optional small integer in [0, max]; empty means def.
func parseEnum(s string, def, max int) (int, bool) {
	if s == "" {
		return def, true
	}
	n, ok := parseUint(s)
	if !ok || n > max {
		return 0, false
	}
	return n, true
}

// parseDate parses a GTFS date YYYYMMDD.
func parseDate(s string) (network.Date, bool) {
	if len(s) != 8 {
		return network.Date{}, false
	}
	for i := 0; i < 8; i++ {
		if !isDigit(s[i]) {
			return network.Date{}, false
		}
	}
	d, err := network.ParseDate(s)
	return d, err == nil
}

// parseColor checks an optional six-digit hexadecimal colour and returns it upper-cased.
func parseColor(s string) (string, bool) {
	if s == "" {
		return "", true
	}
	if len(s) != 6 {
		return "", false
	}
	b := []byte(s)
	for i, c := range b {
		switch {
		case isDigit(c), c >= 'A' && c <= 'F':
		case c >= 'a' && c <= 'f':
			b[i] = c - 'a' + 'A'
		default:
			return "", false
		}
	}
	return string(b), true
}

// parseCoord parses a latitude or longitude within [-limit, limit].
func parseCoord(s string, limit float64) (float64, bool) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || v < -limit || v > limit {
		return 0, false
	}
	return v, true
}

// parseDistance parses a non-negative finite shape_dist_traveled.
func parseDistance(s string) (float64, bool) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, false
	}
	return v, true
}

// minorDigits is the number of minor-unit digits of ISO 4217 currencies
// that differ from the usual two.
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	"CLF": 4, "UYW": 4,
}

// CurrencyDigits returns the number of minor-unit digits of an ISO 4217
// currency code (2 unless the currency is known to differ).
func CurrencyDigits(currency string) int {
	if d, ok := minorDigits[currency]; ok {
		return d
	}
	return 2
}

// validCurrency reports whether s looks like an ISO 4217 code: three upper-case letters.
func validCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// ParsePrice converts a non-negative decimal price such as "2.50" into
// minor units of a currency with the given number of minor digits (250),
// exactly and without floating point. Extra fraction digits are allowed
// only when they are zeros ("2.500" → 250); "2.505" is rejected.
func ParsePrice(s string, digits int) (int64, bool) {
	if s == "" || digits < 0 || digits > 4 {
		return 0, false
	}
	intPart, frac := s, ""
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			intPart, frac = s[:i], s[i+1:]
			break
		}
	}
	if intPart == "" && frac == "" {
		return 0, false
	}
	var v int64
	ok := true
	push := func(d byte) {
		if v > (math.MaxInt64-int64(d))/10 {
			ok = false
			return
		}
		v = v*10 + int64(d)
	}
	for i := 0; i < len(intPart); i++ {
		if !isDigit(intPart[i]) {
			return 0, false
		}
		push(intPart[i] - '0')
	}
	if len(intPart) < len(s) && frac == "" {
		return 0, false // "2." has no fraction digits
	}
	for i := 0; i < len(frac); i++ {
		if !isDigit(frac[i]) {
			return 0, false
		}
	}
	for i := 0; i < digits; i++ {
		var d byte
		if i < len(frac) {
			d = frac[i] - '0'
		}
		push(d)
	}
	if !ok {
		return 0, false
	}
	for i := digits; i < len(frac); i++ {
		if frac[i] != '0' {
			return 0, false
		}
	}
	return v, true
}
