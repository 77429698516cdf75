package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"piao/internal/realname"
)

// TestLoadCounts checks the generator's accounting against a server that
// answers 200 to even request numbers and 409 to odd ones; no timing.
func TestLoadCounts(t *testing.T) {
	var served atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if n%2 == 1 {
			http.Error(w, "odd", http.StatusConflict)
			return
		}
		w.Write([]byte("even"))
	}))
	defer ts.Close()
	seen := make([]atomic.Bool, 100)
	res, err := Load{Concurrency: 4, Requests: 100, New: func(_ int, seq int64) (*http.Request, error) {
		if seen[seq].Swap(true) {
			t.Errorf("request %d made twice", seq)
		}
		return http.NewRequest(http.MethodGet, ts.URL+"/?n="+strconv.FormatInt(seq, 10), nil)
	}}.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 100 || res.OK != 50 || res.Failed() != 50 || res.Errors["409"] != 50 || len(res.Errors) != 1 {
		t.Fatalf("got %d requests, %d ok, errors %v; want 100, 50, 409×50", res.Requests, res.OK, res.Errors)
	}
	if served.Load() != 100 {
		t.Fatalf("server saw %d requests, want 100", served.Load())
	}
	if res.P50 <= 0 || res.P99 < res.P50 || res.Max < res.P99 || res.Elapsed <= 0 {
		t.Fatalf("latencies p50 %s p99 %s max %s elapsed %s", res.P50, res.P99, res.Max, res.Elapsed)
	}
	if got := res.ErrorSummary(); got != "409×50" {
		t.Fatalf("summary %q", got)
	}
}

// TestLoadTransportErrorsAndStop counts requests that never get an answer
// as transport errors, and stops a worker whose New returns no request.
func TestLoadTransportErrorsAndStop(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close() // nothing listens any more
	res, err := Load{Concurrency: 2, Requests: 1000, New: func(_ int, seq int64) (*http.Request, error) {
		if seq >= 10 {
			return nil, nil
		}
		return http.NewRequest(http.MethodGet, url, nil)
	}}.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 10 || res.OK != 0 || res.Errors["transport"] != 10 {
		t.Fatalf("got %d requests, %d ok, errors %v; want 10 transport errors", res.Requests, res.OK, res.Errors)
	}
}

// TestLoadDuration ends a run by time, and counts a custom success status.
func TestLoadDuration(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	defer ts.Close()
	res, err := Load{Concurrency: 3, Duration: 50 * time.Millisecond, New: Get(ts.URL),
		OK: func(s int) bool { return s == http.StatusAccepted }}.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || res.OK != res.Requests || res.Errors != nil {
		t.Fatalf("got %d requests, %d ok, errors %v", res.Requests, res.OK, res.Errors)
	}
	if _, err := (Load{New: Get(ts.URL)}).Run(context.Background()); err == nil {
		t.Fatal("a load without a duration or count ran")
	}
}

// TestHello answers hello.
func TestHello(t *testing.T) {
	h, err := StartHello()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	resp, err := http.Get(h.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	if resp.StatusCode != 200 || b.String() != "hello" {
		t.Fatalf("%d %q", resp.StatusCode, b.String())
	}
}

// TestFigureOutput prints JSON lines and a table with every figure.
func TestFigureOutput(t *testing.T) {
	f := Figure{Name: "x", Value: 12_345, Unit: "ops/s", Target: "≥ 10,000", Met: true}
	f.compare("anchor", 1000)
	figs := []Figure{f, {Name: "y", Value: 0.5, Unit: "req/s"}}
	var j bytes.Buffer
	if err := WriteJSON(&j, figs); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(j.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d JSON lines", len(lines))
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"name": "x", "value": 12345.0, "unit": "ops/s", "anchor": "anchor", "anchor_value": 1000.0, "ratio": 12.345, "target": "≥ 10,000", "met": true} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	var tb bytes.Buffer
	if err := WriteTable(&tb, figs); err != nil {
		t.Fatal(err)
	}
	if s := tb.String(); !strings.Contains(s, "12,345 ops/s") || !strings.Contains(s, "12.35×") || !strings.Contains(s, "yes") {
		t.Fatalf("table:\n%s", s)
	}
	if Median([]float64{3, 1, 2}) != 2 || Median([]float64{4, 1, 3, 2}) != 2.5 || Median(nil) != 0 {
		t.Fatal("median")
	}
}

// TestBenchNetwork is a valid, bookable network.
func TestBenchNetwork(t *testing.T) {
	b := BenchNetwork(shanghaiToday().AddDays(1), 2, 3)
	if len(b.Services) != 2 || len(b.Services[0].Stops) != len(benchStops) || len(b.Fares) != 2*10 {
		t.Fatalf("%d services, %d fares", len(b.Services), len(b.Fares))
	}
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	docs := map[string]bool{}
	for _, i := range []int{0, 1, 999, 1000, 12_345, 99_999} {
		p := benchPassenger(i)
		if _, err := (realname.Passenger{Name: p.Name, DocType: realname.DocType(p.DocType), DocNumber: p.DocNumber}).Validate(); err != nil {
			t.Fatalf("passenger %d: %v", i, err)
		}
		if docs[p.DocNumber] {
			t.Fatalf("passenger %d repeats a document", i)
		}
		docs[p.DocNumber] = true
	}
}

// TestBenchmarksRun runs each benchmark tiny, for what it checks (the
// booking check in particular), not for its figures.
func TestBenchmarksRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs piao")
	}
	ctx := t.Context()
	figs, err := Engine(ctx, EngineOptions{Seconds: 0.05, Runs: 1})
	if err != nil || len(figs) != 2 || figs[0].Value <= 0 {
		t.Fatalf("engine: %v %+v", err, figs)
	}
	figs, err = Query(ctx, QueryOptions{Seconds: 0.2, Runs: 1, Concurrency: 4})
	if err != nil || len(figs) != 4 || figs[1].Value <= 0 {
		t.Fatalf("query: %v %+v", err, figs)
	}
	figs, err = Booking(ctx, BookingOptions{Bookings: 40, Runs: 1, Concurrency: 4, Trains: 2, Days: 2})
	if err != nil || len(figs) != 2 || figs[0].Value <= 0 || !strings.Contains(figs[0].Note, "0 problems") {
		t.Fatalf("booking: %v %+v", err, figs)
	}
}
