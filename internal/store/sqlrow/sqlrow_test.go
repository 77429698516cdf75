package sqlrow_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"piao/internal/store/sqlrow"
)

// fakeRows yields ints, then an optional error.
type fakeRows struct {
	vals []int
	i    int
	err  error
}

func (f *fakeRows) Next() bool { f.i++; return f.i <= len(f.vals) }
func (f *fakeRows) Err() error { return f.err }
func (f *fakeRows) Scan(dest ...any) error {
	*dest[0].(*int) = f.vals[f.i-1]
	return nil
}

func scanInt(r sqlrow.Row) (int, error) {
	var v int
	err := r.Scan(&v)
	return v, err
}

func TestCollect(t *testing.T) {
	got, err := sqlrow.Collect(&fakeRows{vals: []int{3, 1, 2}}, "ints", scanInt)
	if err != nil || len(got) != 3 || got[0] != 3 || got[2] != 2 {
		t.Fatalf("Collect = %v, %v", got, err)
	}
	got, err = sqlrow.Collect(&fakeRows{}, "ints", scanInt)
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("empty Collect = %#v, %v; want [] and no error", got, err)
	}
	boom := errors.New("boom")
	if _, err := sqlrow.Collect(&fakeRows{vals: []int{1}, err: boom}, "ints", scanInt); !errors.Is(err, boom) {
		t.Fatalf("Collect error = %v, want boom", err)
	}
	_, err = sqlrow.Collect(&fakeRows{vals: []int{1}}, "ints", func(sqlrow.Row) (int, error) { return 0, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("scan error = %v, want boom", err)
	}
}

func TestTimeRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 7, 21, 30, 0, 123456789, time.FixedZone("CST", 8*3600))
	v, err := sqlrow.At(at).Value()
	if err != nil {
		t.Fatal(err)
	}
	if v != "2026-12-07T13:30:00.123456789Z" {
		t.Fatalf("stored %q, want the time in UTC to the nanosecond", v)
	}
	for _, src := range []any{v, []byte(v.(string)), at} {
		var got sqlrow.Time
		if err := got.Scan(src); err != nil {
			t.Fatal(err)
		}
		if !got.Equal(at) || got.Location() != time.UTC {
			t.Fatalf("Scan(%T) = %v, want %v in UTC", src, got.Time, at)
		}
	}
	// Fixed width keeps text order equal to time order.
	a, _ := sqlrow.At(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)).Value()
	b, _ := sqlrow.At(time.Date(2026, 1, 1, 0, 0, 0, 5, time.UTC)).Value()
	if !(a.(string) < b.(string)) {
		t.Fatalf("%v does not sort before %v", a, b)
	}
	var bad sqlrow.Time
	if err := bad.Scan("yesterday"); err == nil {
		t.Fatal("Scan of a non-time succeeded")
	}
}

func TestNullTime(t *testing.T) {
	if v, _ := sqlrow.AtOrNull(time.Time{}).Value(); v != nil {
		t.Fatalf("zero time stored as %v, want NULL", v)
	}
	var got sqlrow.NullTime
	if err := got.Scan(nil); err != nil || !got.IsZero() {
		t.Fatalf("Scan(NULL) = %v, %v", got.Time, err)
	}
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	v, _ := sqlrow.AtOrNull(at).Value()
	if err := got.Scan(v); err != nil || !got.Equal(at) {
		t.Fatalf("round trip = %v, %v", got.Time, err)
	}
}

func TestTimeBinaryPostgres(t *testing.T) {
	at := time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.FixedZone("CST", 8*3600))
	v, err := sqlrow.At(at).TimestamptzValue()
	if err != nil || !v.Valid || !v.Time.Equal(at.Truncate(time.Microsecond)) {
		t.Fatalf("TimestamptzValue = %+v, %v; want the time cut to the microsecond", v, err)
	}
	var got sqlrow.Time
	if err := got.ScanTimestamptz(v); err != nil || !got.Equal(v.Time) || got.Location() != time.UTC {
		t.Fatalf("ScanTimestamptz = %v, %v", got.Time, err)
	}
	if v, _ := sqlrow.AtOrNull(time.Time{}).TimestamptzValue(); v.Valid {
		t.Fatal("zero NullTime written as a time, want NULL")
	}
	var null sqlrow.NullTime
	null.Time = at
	if err := null.ScanTimestamptz(pgtype.Timestamptz{}); err != nil || !null.IsZero() {
		t.Fatalf("NULL scanned as %v", null.Time)
	}
}
