// Package bench measures piao's performance for `piao bench`: an HTTP load
// generator, the plain net/http ceiling it is compared with, and the
// engine, query and booking figures of SPEC section Q, each printed as a
// ratio against its anchor or ceiling measured in the same run.
//
// These are benchmarks, run by hand on a known machine; no test depends on
// their timing.
package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// NewClient returns a keep-alive HTTP/1.1 client for a load of concurrency
// workers on one host: one idle connection kept per worker, no proxy, no
// compression, no HTTP/2.
func NewClient(concurrency int) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        concurrency,
		MaxIdleConnsPerHost: concurrency,
		MaxConnsPerHost:     0,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
		WriteBufferSize:     16 << 10,
		ReadBufferSize:      16 << 10,
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// Load is one run of the load generator: Concurrency workers send requests
// made by New back to back, each on its own keep-alive connection, until
// Duration has passed or Requests requests have been sent, whichever comes
// first (a zero limit is no limit; at least one must be set).
type Load struct {
	Client      *http.Client // default NewClient(Concurrency)
	Concurrency int          // default 1
	Duration    time.Duration
	Requests    int64
	// New makes request seq (0, 1, 2, … across all workers) for a worker.
	// It may return a nil request to stop that worker early (the request
	// budget is spent), or an error, counted as a failed request.
	New func(worker int, seq int64) (*http.Request, error)
	// OK says whether a status counts as success (default: 2xx).
	OK func(status int) bool
}

// Result is what a Load did.
type Result struct {
	Requests int64            // requests sent (answered or failed)
	OK       int64            // requests answered with a success status
	Errors   map[string]int64 // failures by status code ("409") or "transport"
	Elapsed  time.Duration    // from the first request to the last answer
	// Latency percentiles of every request, successful or not.
	P50, P90, P99, Max time.Duration
}

// Rate is successful requests per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// Failed is the number of requests that did not succeed.
func (r Result) Failed() int64 { return r.Requests - r.OK }

// ErrorSummary lists the failures, most frequent first ("409×12, transport×1"),
// or "none".
func (r Result) ErrorSummary() string {
	if len(r.Errors) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(r.Errors))
	for k := range r.Errors {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if r.Errors[keys[i]] != r.Errors[keys[j]] {
			return r.Errors[keys[i]] > r.Errors[keys[j]]
		}
		return keys[i] < keys[j]
	})
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += k + "×" + strconv.FormatInt(r.Errors[k], 10)
	}
	return s
}

// String summarises a result on one line.
func (r Result) String() string {
	return fmt.Sprintf("%d requests in %s: %.0f ok/s, p50 %s, p99 %s, errors: %s",
		r.Requests, r.Elapsed.Round(time.Millisecond), r.Rate(), fmtLatency(r.P50), fmtLatency(r.P99), r.ErrorSummary())
}

func fmtLatency(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64) + " ms"
}

// workerStats is one worker's tally, merged at the end.
type workerStats struct {
	requests, ok int64
	errors       map[string]int64
	lat          []time.Duration
}

// Run runs the load and returns what it did. It stops early, with what it
// has, when ctx ends.
func (l Load) Run(ctx context.Context) (Result, error) {
	if l.New == nil {
		return Result{}, fmt.Errorf("bench: Load.New is required")
	}
	if l.Duration <= 0 && l.Requests <= 0 {
		return Result{}, fmt.Errorf("bench: a load needs a duration or a request count")
	}
	n := max(l.Concurrency, 1)
	client := l.Client
	if client == nil {
		client = NewClient(n)
	}
	ok := l.OK
	if ok == nil {
		ok = func(s int) bool { return s >= 200 && s < 300 }
	}
	if l.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, l.Duration)
		defer cancel()
	}
	var seq atomic.Int64
	stats := make([]workerStats, n)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := &stats[w]
			st.errors = map[string]int64{}
			buf := make([]byte, 32<<10)
			for ctx.Err() == nil {
				i := seq.Add(1) - 1
				if l.Requests > 0 && i >= l.Requests {
					return
				}
				req, err := l.New(w, i)
				if err == nil && req == nil {
					return
				}
				t0 := time.Now()
				status := 0
				if err == nil {
					// The deadline ends the run, not requests in flight:
					// they finish and count.
					var resp *http.Response
					resp, err = client.Do(req)
					if err == nil {
						status = resp.StatusCode
						_, err = io.CopyBuffer(io.Discard, resp.Body, buf)
						resp.Body.Close()
					}
				}
				st.lat = append(st.lat, time.Since(t0))
				st.requests++
				switch {
				case err != nil:
					st.errors["transport"]++
				case ok(status):
					st.ok++
				default:
					st.errors[strconv.Itoa(status)]++
				}
			}
		}()
	}
	wg.Wait()
	res := Result{Elapsed: time.Since(start), Errors: map[string]int64{}}
	var lat []time.Duration
	for _, st := range stats {
		res.Requests += st.requests
		res.OK += st.ok
		for k, v := range st.errors {
			res.Errors[k] += v
		}
		lat = append(lat, st.lat...)
	}
	if len(res.Errors) == 0 {
		res.Errors = nil
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
		res.P50, res.P90, res.P99, res.Max = pct(0.50), pct(0.90), pct(0.99), lat[len(lat)-1]
	}
	return res, nil
}

// Hello is the ceiling server: a plain net/http server answering "hello"
// to every request, with the same server settings piao serves with.
type Hello struct {
	URL string // http://127.0.0.1:port
	srv *http.Server
}

// StartHello starts a hello-world server on 127.0.0.1 at a free port.
func StartHello() (*Hello, error) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "hello")
	})
	url, srv, err := serve(h)
	if err != nil {
		return nil, err
	}
	return &Hello{URL: url, srv: srv}, nil
}

// Ceiling measures the hello-world ceiling right after a run, on as many
// connections, warmed up first: 300 ms unmeasured, then 2 s measured.
func (h *Hello) Ceiling(ctx context.Context, client *http.Client, concurrency int) (float64, error) {
	l := Load{Client: client, Concurrency: concurrency, Duration: 300 * time.Millisecond, New: Get(h.URL)}
	if _, err := l.Run(ctx); err != nil {
		return 0, err
	}
	l.Duration = 2 * time.Second
	r, err := l.Run(ctx)
	return r.Rate(), err
}

// Close stops the server.
func (h *Hello) Close() error { return h.srv.Close() }

// serve serves h on a fresh 127.0.0.1 port with the timeouts of `piao serve`.
func serve(h http.Handler) (string, *http.Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), srv, nil
}

// Get returns a Load.New making GET requests of url.
func Get(url string) func(int, int64) (*http.Request, error) {
	return func(int, int64) (*http.Request, error) { return http.NewRequest(http.MethodGet, url, nil) }
}
