package network

import (
	"encoding/json"
	"time"

	"piao/internal/fault"
)

// Date is a calendar date without a time zone, such as a service day.
type Date struct{ t time.Time }

// ParseDate parses YYYY-MM-DD (or GTFS YYYYMMDD).
func ParseDate(s string) (Date, error) {
	layout := time.DateOnly
	if len(s) == 8 {
		layout = "20060102"
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return Date{}, fault.Newf(fault.Invalid, "invalid_date", "日期 %q 格式错误，应为 YYYY-MM-DD", "date %q is not a YYYY-MM-DD date", s)
	}
	return Date{t}, nil
}

// MustDate parses a date known to be valid, for tests and seeds.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// DateOf returns the local date of t in its location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d.t.IsZero() }

// String formats the date as YYYY-MM-DD.
func (d Date) String() string {
	if d.t.IsZero() {
		return ""
	}
	return d.t.Format(time.DateOnly)
}

// AddDays returns the date n days later.
func (d Date) AddDays(n int) Date { return Date{d.t.AddDate(0, 0, n)} }

// Weekday returns the day of the week.
func (d Date) Weekday() time.Weekday { return d.t.Weekday() }

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.t.Before(e.t) }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.t.After(e.t) }

// In returns midnight of the date in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.t.Year(), d.t.Month(), d.t.Day(), 0, 0, 0, 0, loc)
}

// MarshalJSON writes "YYYY-MM-DD".
func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads "YYYY-MM-DD".
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == "" {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Equal reports whether d and e are the same date.
func (d Date) Equal(e Date) bool { return d.t.Equal(e.t) }
