package httpapi

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// selfWritten writes itself: its time is not the encoder's to move.
type selfWritten struct{ At time.Time }

func (s selfWritten) MarshalJSON() ([]byte, error) {
	return json.Marshal(s.At.UTC().Format(time.RFC3339))
}

// chain is recursive, with a time on every link.
type chain struct {
	At   time.Time `json:"at"`
	Next *chain    `json:"next,omitempty"`
}

type answer struct {
	At      time.Time            `json:"at"`
	Zero    time.Time            `json:"zero"`
	Paid    *time.Time           `json:"paid"`
	NoTime  *time.Time           `json:"no_time"`
	Times   []time.Time          `json:"times"`
	Empty   []time.Time          `json:"empty"`
	ByName  map[string]time.Time `json:"by_name"`
	Any     any                  `json:"any"`
	Array   [2]time.Time         `json:"array"`
	Self    selfWritten          `json:"self"`
	Chain   chain                `json:"chain"`
	Hidden  time.Time            `json:"-"`
	private time.Time
	Count   int    `json:"count"`
	Name    string `json:"name"`
}

// TestInBusinessTime: every time encoding/json writes is moved to
// Asia/Shanghai with its instant kept, through pointers, slices, maps,
// interfaces, arrays and recursive types; zero times, types that write
// themselves and fields the encoder skips are left as they are, and the
// value given is not changed.
func TestInBusinessTime(t *testing.T) {
	utc := time.Date(2026, 3, 1, 0, 30, 0, 0, time.UTC)
	paid := utc.Add(time.Minute)
	in := answer{
		At: utc, Paid: &paid, Times: []time.Time{utc, utc.Add(time.Hour)}, Empty: []time.Time{},
		ByName: map[string]time.Time{"a": utc}, Any: map[string]any{"t": utc, "n": 1}, Array: [2]time.Time{utc, utc},
		Self: selfWritten{utc}, Chain: chain{At: utc, Next: &chain{At: utc}}, Hidden: utc, private: utc, Count: 3, Name: "n",
	}
	var before bytes.Buffer
	json.NewEncoder(&before).Encode(in)

	var out bytes.Buffer
	if err := jsonEncode(&out, &in); err != nil {
		t.Fatal(err)
	}
	want := `{"at":"2026-03-01T08:30:00+08:00","zero":"0001-01-01T00:00:00Z","paid":"2026-03-01T08:31:00+08:00","no_time":null,` +
		`"times":["2026-03-01T08:30:00+08:00","2026-03-01T09:30:00+08:00"],"empty":[],"by_name":{"a":"2026-03-01T08:30:00+08:00"},` +
		`"any":{"n":1,"t":"2026-03-01T08:30:00+08:00"},"array":["2026-03-01T08:30:00+08:00","2026-03-01T08:30:00+08:00"],` +
		`"self":"2026-03-01T00:30:00Z","chain":{"at":"2026-03-01T08:30:00+08:00","next":{"at":"2026-03-01T08:30:00+08:00"}},"count":3,"name":"n"}`
	if got := strings.TrimSpace(out.String()); got != want {
		t.Errorf("encoded\n%s\nwant\n%s", got, want)
	}

	// The value given is untouched: a cache may share it.
	var after bytes.Buffer
	json.NewEncoder(&after).Encode(in)
	if after.String() != before.String() || in.Paid != &paid || paid.Location() != time.UTC || in.private.Location() != time.UTC || in.Hidden.Location() != time.UTC {
		t.Errorf("the answer was changed:\n%s\nwas\n%s", after.String(), before.String())
	}

	// Values without times are passed through as they are.
	for _, v := range []any{nil, 3, "x", []int{1}, map[string]string{"a": "b"}, selfWritten{utc}} {
		var got, want bytes.Buffer
		jsonEncode(&got, v)
		json.NewEncoder(&want).Encode(v)
		if got.String() != want.String() {
			t.Errorf("%#v: %s, want %s", v, got.String(), want.String())
		}
	}
}
