package main_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"piao/internal/realname"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var builtBinary string

// TestMain builds the binary once for every test in the package.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "piao-bin")
	if err != nil {
		panic(err)
	}
	builtBinary = filepath.Join(dir, "piao")
	if out, err := exec.Command("go", "build", "-o", builtBinary, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func piaoBinary(t *testing.T) string {
	t.Helper()
	return builtBinary
}

func run(t *testing.T, bin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "PIAO_DATABASE=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func TestCommands(t *testing.T) {
	bin := piaoBinary(t)
	data := t.TempDir()
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"migrate", "--help"}, {"import", "gtfs", "--help"}, {"openapi", "--help"}, {"version", "--help"}} {
		out, err := run(t, bin, args...)
		if err != nil || !strings.Contains(out, "Usage: piao") {
			t.Errorf("piao %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if out, err := run(t, bin, "version"); err != nil || !strings.HasPrefix(out, "piao ") {
		t.Errorf("version: %v %s", err, out)
	}
	// Without a personal-data key nothing opens the database, serve included.
	if out, err := run(t, bin, "--data-dir", data, "migrate"); err == nil || !strings.Contains(out, "no personal-data key") {
		t.Errorf("migrate without a key: %v %s", err, out)
	}
	if out, err := run(t, bin, "--data-dir", data, "serve", "--addr", "127.0.0.1:0"); err == nil || !strings.Contains(out, "piao keys init") {
		t.Errorf("serve without a key: %v %s", err, out)
	}
	if out, err := run(t, bin, "--data-dir", data, "keys", "init"); err != nil || !strings.Contains(out, "pii-keys.json") {
		t.Errorf("keys init: %v %s", err, out)
	}
	if out, err := run(t, bin, "--data-dir", data, "keys", "init"); err == nil {
		t.Errorf("a second keys init replaced the key file: %s", out)
	}
	if out, err := run(t, bin, "--data-dir", data, "migrate"); err != nil || !regexp.MustCompile(`schema at version [1-9]`).MatchString(out) {
		t.Errorf("migrate: %v %s", err, out)
	}
	if out, err := run(t, bin, "--data-dir", data, "keys", "rotate"); err != nil || !strings.Contains(out, "rotated the personal-data key 1 → 2") {
		t.Errorf("keys rotate: %v %s", err, out)
	}
	if out, err := run(t, bin, "openapi"); err != nil || !strings.Contains(out, `"openapi":"3.1`) {
		t.Errorf("openapi: %v %.200s", err, out)
	}
	if out, err := run(t, bin, "--database", "mysql://x", "migrate"); err == nil || !strings.Contains(out, "unsupported database") {
		t.Errorf("bad database url accepted: %s", out)
	}
}

// TestImportGTFS imports the real LIRR feed through the command line:
// every row lands, a second import writes nothing, a corrupted copy is
// refused with file, line and column and leaves the database as it was.
func TestImportGTFS(t *testing.T) {
	bin := piaoBinary(t)
	data := t.TempDir()
	feed := "../../testdata/lirr.zip"
	if out, err := run(t, bin, "--data-dir", data, "keys", "init"); err != nil {
		t.Fatalf("keys init: %v\n%s", err, out)
	}
	out, err := run(t, bin, "--data-dir", data, "import", "gtfs", feed)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	for _, want := range []string{`stations\s+127\b`, `lines\s+13\b`, `services\s+2081\b`, `service_stops\s+22730\b`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("import output lacks %s:\n%s", want, out)
		}
	}
	out, err = run(t, bin, "--data-dir", data, "import", "gtfs", feed)
	if err != nil || !strings.Contains(out, "unchanged") {
		t.Errorf("second import: %v\n%s", err, out)
	}
	bad := filepath.Join(t.TempDir(), "lirr.zip")
	corruptZip(t, feed, bad, "stop_times.txt", 1234, "arrival_time", "25:6x:00")
	out, err = run(t, bin, "--data-dir", data, "import", "gtfs", bad)
	if err == nil || !strings.Contains(out, "stop_times.txt") || !strings.Contains(out, "1234") || !strings.Contains(out, "arrival_time") {
		t.Errorf("corrupted feed: %v\n%s", err, out)
	}
	out, err = run(t, bin, "--data-dir", data, "import", "gtfs", feed)
	if err != nil || !strings.Contains(out, "unchanged") {
		t.Errorf("after the refused import the feed must be as before: %v\n%s", err, out)
	}
}

// corruptZip copies a zip, replacing one cell (line is 1-based, header = 1).
func corruptZip(t *testing.T, src, dst, file string, line int, column, value string) {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	for _, zf := range zr.File {
		r, _ := zf.Open()
		b, _ := io.ReadAll(r)
		r.Close()
		if zf.Name == file {
			lines := strings.Split(string(b), "\n")
			header := strings.Split(strings.TrimSpace(lines[0]), ",")
			cells := strings.Split(lines[line-1], ",")
			for i, h := range header {
				if h == column {
					cells[i] = value
				}
			}
			lines[line-1] = strings.Join(cells, ",")
			b = []byte(strings.Join(lines, "\n"))
		}
		w, _ := zw.Create(zf.Name)
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestServeDemo starts `piao serve --demo` on a fresh data directory, as
// the README's first command does, and expects /healthz to answer with the
// console URL and every demo login printed.
func TestServeDemo(t *testing.T) {
	bin := piaoBinary(t)
	dir := filepath.Join(t.TempDir(), "fresh")
	cmd := exec.Command(bin, "--data-dir", dir, "serve", "--demo", "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "PIAO_DATABASE=")
	stdout, _ := cmd.StdoutPipe()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	var printed strings.Builder
	base := ""
	for sc.Scan() {
		printed.WriteString(sc.Text() + "\n")
		if m := regexp.MustCompile(`console 控制台:\s+(http://\S+)/`).FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
		}
		if strings.Contains(sc.Text(), "gate") {
			break
		}
	}
	if base == "" {
		t.Fatalf("no console URL printed:\n%s", printed.String())
	}
	if !regexp.MustCompile(`demo booking month 演示购票月: \d+ simulated passengers .*: [1-9]\d* orders`).MatchString(printed.String()) {
		t.Errorf("no month of bookings seeded:\n%s", printed.String())
	}
	if !regexp.MustCompile(`demo merchants 演示商户: 2 approved .* 2 staff, 1 application waiting`).MatchString(printed.String()) ||
		!regexp.MustCompile(`demo merchant day 演示商户日: .* [1-9]\d* purchases paid .* [1-9]\d* trips settled charging the merchants ¥[1-9]`).MatchString(printed.String()) {
		t.Errorf("no demo merchants and their day seeded:\n%s", printed.String())
	}
	for _, login := range []string{"admin", "reviewer", "auditor", "merchant", "staff", "bank", "teller", "passenger", "partner", "gate"} {
		if !strings.Contains(printed.String(), login) {
			t.Errorf("login %s not printed", login)
		}
	}
	res, err := http.Get(base + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v", err)
	}
	// The demo trusts a demo ride-code issuer, so its gate can redeem rides.
	if _, err := os.Stat(filepath.Join(dir, "ridecodes", "demo.pub.pem")); err != nil {
		t.Errorf("no demo ride-code issuer: %v", err)
	}
	// Timing is reported, not asserted: speed targets live in benchmarks.
	t.Logf("healthz answered %s after start", time.Since(start).Round(time.Millisecond))

	// The demo made its key file, for its owner only, and the month of
	// bookings left no ID number in plain text in the database.
	if st, err := os.Stat(filepath.Join(dir, "pii-keys.json")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("the demo's key file: %v, %v", st, err)
	}
	var raw []byte
	for _, f := range []string{"piao.db", "piao.db-wal"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		raw = append(raw, b...)
	}
	if n := bytes.Count(raw, []byte("pii1:1:")); n < 100 {
		t.Errorf("the demo database holds %d sealed values: were its bookings stored?", n)
	}
	ids := 0
	for _, m := range regexp.MustCompile(`[1-9][0-9]{5}(19|20)[0-9]{2}(0[1-9]|1[0-2])[0-9]{5}[0-9X]`).FindAll(raw, -1) {
		if _, err := (realname.Passenger{Name: "张三", DocType: realname.IDCard, DocNumber: string(m)}).Validate(); err == nil {
			ids++
			t.Errorf("the demo database holds the ID number %s in plain text", m)
		}
		if ids > 3 {
			break
		}
	}
}

// TestServeWithoutSandbox checks that the sandbox payment gateway, whose
// pages take no money, is absent unless asked for, and that a production
// process refuses it.
func TestServeWithoutSandbox(t *testing.T) {
	bin := piaoBinary(t)
	dir := filepath.Join(t.TempDir(), "plain")
	if out, err := run(t, bin, "--data-dir", dir, "keys", "init"); err != nil {
		t.Fatalf("keys init: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--data-dir", dir, "serve", "--addr", "127.0.0.1:0")
	cmd.Env = append(envWithout("PIAO_SANDBOX_PAYMENTS", "PIAO_PRODUCTION"), "PIAO_DATABASE=")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	var printed strings.Builder
	base := ""
	for sc.Scan() {
		printed.WriteString(sc.Text() + "\n")
		if m := regexp.MustCompile(`console 控制台:\s+(http://\S+)/`).FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
		}
		if strings.Contains(sc.Text(), "沙箱支付") {
			break
		}
	}
	if base == "" || !strings.Contains(printed.String(), "sandbox payments 沙箱支付: off") {
		t.Fatalf("printed:\n%s", printed.String())
	}
	for _, path := range []string{"/sandbox/pay/pay_0123456789abcdef01234567", "/sandbox/api/pay/pay_0123456789abcdef01234567"} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404: the sandbox must not be mounted", path, res.StatusCode)
		}
	}

	for _, flags := range [][]string{{"--production", "--demo"}, {"--production", "--sandbox-payments"}} {
		args := append([]string{"--data-dir", filepath.Join(t.TempDir(), "prod"), "serve", "--addr", "127.0.0.1:0"}, flags...)
		c := exec.Command(bin, args...)
		c.Env = append(os.Environ(), "PIAO_DATABASE=")
		out, err := c.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "--production refuses") {
			t.Errorf("serve %v: err %v, output %s", flags, err, out)
		}
	}
}

// envWithout is the test's environment without the named variables.
func envWithout(names ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(names, name) {
			out = append(out, kv)
		}
	}
	return out
}
