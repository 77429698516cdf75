package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"piao/internal/abuse"
	"piao/internal/identity"
	"piao/internal/network"
	"piao/internal/realname"
	"piao/internal/store/sealed"
)

// piaoBin is the binary under test, built once by TestMain.
var piaoBin string

// TestMain builds cmd/piao once for every test of the package, with the
// race detector when the tests run under it, so races in the server fail
// the tests too.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "piao-e2e-bin")
	if err != nil {
		panic(err)
	}
	piaoBin = filepath.Join(dir, "piao")
	args := []string{"build", "-o", piaoBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "piao/cmd/piao")
	start := time.Now()
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building piao: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "e2e: built piao (race=%v) in %s\n", raceEnabled, time.Since(start).Round(time.Millisecond))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// childEnv is the test's environment without any PIAO_ setting, so a
// developer's shell cannot change what the binary under test does.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PIAO_") {
			env = append(env, kv)
		}
	}
	return append(env, "PIAO_LIMITS="+loadLimits())
}

// loadLimits is serve's --limit setting for these tests: every rate limit
// 1,000 times the default, since all their load comes from one address.
func loadLimits() string {
	var out []string
	for a, rule := range abuse.Defaults().Scaled(1000).Rules {
		for k, r := range rule {
			out = append(out, string(a)+"."+string(k)+"="+r.String())
		}
	}
	return strings.Join(out, ",")
}

// testKeys writes a fresh personal-data key file in a temporary directory
// and returns the global flag naming it, with the keys, so the test's piao
// processes and its own stores share them.
func testKeys(t *testing.T) ([]string, *sealed.Keyring) {
	t.Helper()
	keys := sealed.Generate()
	path := filepath.Join(t.TempDir(), "pii-keys.json")
	if err := sealed.Save(path, keys); err != nil {
		t.Fatal(err)
	}
	return []string{"--pii-key-file", path}, keys
}

// runPiao runs a piao command to completion (bounded by a minute) and
// returns its combined output.
func runPiao(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, piaoBin, args...)
	cmd.Env = childEnv()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if strings.Contains(out.String(), "WARNING: DATA RACE") {
		t.Errorf("data race in piao %s:\n%s", strings.Join(args, " "), out.String())
	}
	return out.String(), err
}

// syncBuffer is a bytes.Buffer safe for a writer and readers at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// consoleLine is what serve prints once it listens.
var consoleLine = regexp.MustCompile(`console 控制台:\s+(http://\S+)/`)

// urlWriter collects a server's stdout and reports the console URL once.
type urlWriter struct {
	syncBuffer
	once sync.Once
	url  chan string
}

func (w *urlWriter) Write(p []byte) (int, error) {
	n, err := w.syncBuffer.Write(p)
	if m := consoleLine.FindStringSubmatch(w.String()); m != nil {
		w.once.Do(func() { w.url <- m[1] })
	}
	return n, err
}

// server is one running `piao serve` process.
type server struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	base   string
	stdout *urlWriter
	stderr *syncBuffer
	exited chan struct{}
	err    error // from Wait, once exited is closed
}

// startServe starts `piao ARGS… serve SERVEARGS… --addr 127.0.0.1:0` and
// waits (at most 2 minutes: demo seeding under the race detector is slow)
// until it prints its URL. The process is killed when the test ends.
func startServe(t *testing.T, name string, global []string, serveArgs ...string) *server {
	t.Helper()
	s := startServeAsync(t, name, global, serveArgs...)
	s.waitReady()
	return s
}

func startServeAsync(t *testing.T, name string, global []string, serveArgs ...string) *server {
	t.Helper()
	args := append(append(append([]string{}, global...), "--log-level", "warn", "serve", "--addr", "127.0.0.1:0"), serveArgs...)
	s := &server{t: t, name: name, cmd: exec.Command(piaoBin, args...), stdout: &urlWriter{url: make(chan string, 1)}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	s.cmd.Env = childEnv()
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		s.kill()
		if strings.Contains(s.stderr.String(), "WARNING: DATA RACE") {
			t.Errorf("data race in server %s", s.name)
		}
		if t.Failed() {
			t.Logf("server %s stdout:\n%s\nstderr (last 8 KiB):\n%s", s.name, s.stdout.String(), tail(s.stderr.String(), 8<<10))
		}
	})
	return s
}

func (s *server) waitReady() {
	s.t.Helper()
	select {
	case u := <-s.stdout.url:
		s.base = u
	case <-s.exited:
		s.t.Fatalf("%s exited before serving: %v\n%s\n%s", s.name, s.err, s.stdout.String(), s.stderr.String())
	case <-time.After(2 * time.Minute):
		s.t.Fatalf("%s printed no URL within 2 minutes:\n%s\n%s", s.name, s.stdout.String(), s.stderr.String())
	}
}

// kill sends SIGKILL (no clean-up of any kind in the process) and waits.
func (s *server) kill() {
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Kill()
	<-s.exited
}

// stop asks the server to shut down as an operator's Ctrl-C does, and kills
// it if it has not exited within 20 s.
func (s *server) stop() {
	s.t.Helper()
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.exited:
		if s.err != nil {
			s.t.Errorf("%s exited with %v after SIGINT", s.name, s.err)
		}
	case <-time.After(20 * time.Second):
		s.t.Errorf("%s did not stop within 20 s of SIGINT", s.name)
		s.kill()
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// problem is the part of an RFC 9457 problem the tests look at.
type problem struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Reason string `json:"reason"`
	Detail string `json:"message_en"`
}

// apiClient calls one piao API with bounded connections and time.
type apiClient struct {
	http *http.Client
}

func newClient(maxConnsPerHost int) *apiClient {
	tr := &http.Transport{MaxConnsPerHost: maxConnsPerHost, MaxIdleConnsPerHost: maxConnsPerHost, IdleConnTimeout: 30 * time.Second}
	return &apiClient{http: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}
}

func (c *apiClient) close() { c.http.CloseIdleConnections() }

// call sends a JSON request; a 2xx body is decoded into out, any other
// into the returned problem. err is set only when no answer came.
func (c *apiClient) call(ctx context.Context, method, url, token string, body, out any) (int, problem, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, problem{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, problem{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Accept-Language", "en")
	res, err := c.http.Do(req)
	if err != nil {
		return 0, problem{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, problem{}, err
	}
	var p problem
	if res.StatusCode/100 == 2 {
		if out != nil {
			if err := json.Unmarshal(data, out); err != nil {
				return res.StatusCode, p, fmt.Errorf("decode %s %s: %w: %.200s", method, url, err, data)
			}
		}
		return res.StatusCode, p, nil
	}
	if err := json.Unmarshal(data, &p); err != nil || p.Reason == "" {
		p.Reason, p.Detail = "unparsed", string(data)
	}
	return res.StatusCode, p, nil
}

// mustCall is call that fails the test on anything but a 2xx answer.
func (c *apiClient) mustCall(t *testing.T, method, url, token string, body, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	status, p, err := c.call(ctx, method, url, token, body, out)
	if err != nil || status/100 != 2 {
		t.Fatalf("%s %s: %d %+v %v", method, url, status, p, err)
	}
}

// login returns a bearer token for a username and password.
func (c *apiClient) login(t *testing.T, base, username, password string) string {
	t.Helper()
	var tok struct {
		Token string `json:"token"`
	}
	c.mustCall(t, "POST", base+"/api/v1/auth/login", "", map[string]string{"username": username, "password": password}, &tok)
	return tok.Token
}

// account is a passenger account with an API token.
type account struct {
	ID    int64
	Token string
}

// createAccounts stores n passenger accounts directly (argon2 at production
// cost would take minutes for thousands; the hash here is a real argon2id
// hash at minimal cost, so the accounts can log in) and issues a token each.
func createAccounts(t *testing.T, store identity.Store, prefix string, n int) []account {
	t.Helper()
	hash, err := identity.HashPassword("e2e-passenger-password", identity.Params{Memory: 64, Time: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	ids := identity.NewService(store, time.Now)
	out := make([]account, n)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := range next {
				a, err := store.CreateAccount(ctx, identity.Account{Username: fmt.Sprintf("%s%05d", prefix, i), DisplayName: "e2e passenger", Role: identity.Passenger, PasswordHash: hash, CreatedAt: time.Now()})
				if err != nil {
					errs <- err
					return
				}
				tok, err := ids.Issue(ctx, a.ID, identity.APIToken)
				if err != nil {
					errs <- err
					return
				}
				out[i] = account{ID: a.ID, Token: tok}
			}
		}()
	}
	func() {
		defer close(next)
		for i := range n {
			select {
			case next <- i:
			case err := <-errs:
				t.Errorf("create account %d: %v", i, err)
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("create account: %v", err)
	}
	if t.Failed() {
		t.FailNow()
	}
	return out
}

// passengerReq is one passenger of a booking request.
type passengerReq struct {
	Name      string `json:"name"`
	DocType   string `json:"doc_type"`
	DocNumber string `json:"doc_number"`
	SeatClass string `json:"seat_class"`
	Berth     string `json:"berth,omitempty"`
}

// passenger is a valid traveller, distinct for each i below 40,000.
func passenger(i int, class network.SeatClass, berth network.Berth) passengerReq {
	birth := time.Date(1960+i/1000, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC)
	family := []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
	given := []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂")
	name := string(family[i%len(family)]) + string(given[(i/len(family))%len(given)]) + string(given[(i/len(family)/len(given))%len(given)])
	return passengerReq{Name: name, DocType: string(realname.IDCard), DocNumber: realname.MakeID("360102", birth, i%1000), SeatClass: string(class), Berth: string(berth)}
}

type bookReq struct {
	Train      string         `json:"train"`
	Date       string         `json:"date"`
	From       string         `json:"from"`
	To         string         `json:"to"`
	Passengers []passengerReq `json:"passengers"`
}

type ticket struct {
	ID        int64  `json:"id"`
	OrderID   int64  `json:"order_id"`
	From      int    `json:"from_index"`
	To        int    `json:"to_index"`
	Car       int    `json:"car"`
	Seat      string `json:"seat"`
	SeatClass string `json:"seat_class"`
	Berth     string `json:"berth"`
	Status    string `json:"status"`
	DocNumber string `json:"doc_number"`
	FareFen   int64  `json:"fare_fen"`
}

type order struct {
	ID            int64     `json:"id"`
	AccountID     int64     `json:"account_id"`
	Status        string    `json:"status"`
	HoldExpiresAt time.Time `json:"hold_expires_at"`
	CreatedAt     time.Time `json:"created_at"`
	Train         struct {
		ServiceID string `json:"service_id"`
		Date      string `json:"date"`
	} `json:"train"`
	Tickets []ticket `json:"tickets"`
	Events  []struct {
		At     time.Time `json:"at"`
		Action string    `json:"action"`
		To     string    `json:"to"`
	} `json:"events"`
}

type booked struct {
	Order order `json:"order"`
}

// checkReport is what `piao check inventory --json` prints per train date.
type checkReport struct {
	Train struct {
		ServiceID string `json:"service_id"`
		Date      string `json:"date"`
	} `json:"train"`
	Seats    int      `json:"seats"`
	Tickets  int      `json:"active_tickets"`
	Problems []string `json:"problems"`
}

// checkInventory runs `piao GLOBAL… check inventory --json` and returns the
// reports; it fails the test if the command fails or reports a problem.
func checkInventory(t *testing.T, global ...string) []checkReport {
	t.Helper()
	args := append(append([]string{}, global...), "--log-level", "warn", "check", "inventory", "--json")
	out, err := runPiao(t, args...)
	if err != nil {
		t.Fatalf("piao check inventory: %v\n%s", err, out)
	}
	var reps []checkReport
	if err := json.Unmarshal([]byte(out), &reps); err != nil {
		t.Fatalf("check inventory output: %v\n%s", err, out)
	}
	for _, r := range reps {
		if len(r.Problems) > 0 {
			t.Errorf("check inventory exited 0 but reports problems on %s@%s: %v", r.Train.ServiceID, r.Train.Date, r.Problems)
		}
	}
	return reps
}

// seatLeg is one leg of one seat of a train date.
type seatLeg struct {
	train, date string
	car         int
	seat        string
	leg         int
}

// overlaps returns a description of every seat leg held by two tickets.
func overlaps(orders []order) []string {
	owner := map[seatLeg]int64{}
	var out []string
	for _, o := range orders {
		for _, tk := range o.Tickets {
			for l := tk.From; l < tk.To; l++ {
				k := seatLeg{o.Train.ServiceID, o.Train.Date, tk.Car, tk.Seat, l}
				if prev, ok := owner[k]; ok {
					out = append(out, fmt.Sprintf("car %d seat %s leg %d of %s@%s: tickets %d and %d", tk.Car, tk.Seat, l, o.Train.ServiceID, o.Train.Date, prev, tk.ID))
				}
				owner[k] = tk.ID
			}
		}
	}
	return out
}

// shanghaiToday is the business day now.
func shanghaiToday(t *testing.T) network.Date {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return network.DateOf(time.Now().In(loc))
}

// waitFor polls cond every interval until it returns true or the limit passes.
func waitFor(limit, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
	}
}
