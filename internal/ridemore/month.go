package ridemore

import (
	"encoding/json"
	"fmt"
	"time"

	"piao/internal/benefits"
	"piao/internal/fault"
	"piao/internal/network"
)

// Month is a calendar month, the period both rule kinds count over.
type Month struct {
	y int
	m time.Month
}

// NewMonth returns the month m of year y, normalising a month out of 1–12.
func NewMonth(y int, m time.Month) Month {
	t := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	return Month{t.Year(), t.Month()}
}

// MonthOf returns the month t falls in, Asia/Shanghai time, whatever t's location.
func MonthOf(t time.Time) Month {
	y, m, _ := t.In(benefits.Shanghai).Date()
	return Month{y, m}
}

// ParseMonth parses "YYYY-MM".
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return Month{}, fault.Newf(fault.Invalid, "bad_month", "月份 %q 格式错误，应为 YYYY-MM", "month %q is not a YYYY-MM month", s)
	}
	return Month{t.Year(), t.Month()}, nil
}

// MustMonth parses a month known to be valid, for tests and presets.
func MustMonth(s string) Month {
	m, err := ParseMonth(s)
	if err != nil {
		panic(err)
	}
	return m
}

// Year returns the month's year.
func (m Month) Year() int { return m.y }

// Month returns the month of the year.
func (m Month) Month() time.Month { return m.m }

// IsZero reports whether the month is unset.
func (m Month) IsZero() bool { return m.y == 0 && m.m == 0 }

// String formats the month as YYYY-MM.
func (m Month) String() string {
	if m.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d", m.y, int(m.m))
}

// Next returns the month after m.
func (m Month) Next() Month { return NewMonth(m.y, m.m+1) }

// FirstDay returns the first day of the month.
func (m Month) FirstDay() network.Date {
	return network.DateOf(time.Date(m.y, m.m, 1, 0, 0, 0, 0, time.UTC))
}

// Start returns midnight of the month's first day, Asia/Shanghai.
func (m Month) Start() time.Time { return time.Date(m.y, m.m, 1, 0, 0, 0, 0, benefits.Shanghai) }

// Window returns the month as [start, start of next month), Asia/Shanghai.
func (m Month) Window() benefits.Window {
	return benefits.Window{From: m.Start(), Until: m.Next().Start()}
}

// Contains reports whether t falls in the month, Asia/Shanghai time.
func (m Month) Contains(t time.Time) bool { return MonthOf(t) == m }

// MarshalJSON writes "YYYY-MM".
func (m Month) MarshalJSON() ([]byte, error) { return json.Marshal(m.String()) }

// UnmarshalJSON reads "YYYY-MM".
func (m *Month) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == "" {
		*m = Month{}
		return nil
	}
	v, err := ParseMonth(s)
	if err != nil {
		return err
	}
	*m = v
	return nil
}
