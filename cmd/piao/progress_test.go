package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestProgressPlainLines checks that, off a terminal, a phase of many steps
// prints five plain lines (start and each quarter) and no bar frames.
func TestProgressPlainLines(t *testing.T) {
	var out bytes.Buffer
	p := &progress{w: &out}
	for i := int64(0); i <= 1000; i++ {
		p.set("reading feed.zip (bytes)", i, 1000)
	}
	for i := int64(1); i <= 22730; i += 7 {
		p.set("writing rows", i, 22730)
	}
	p.set("writing rows", 22730, 22730)
	p.finish()

	if strings.ContainsAny(out.String(), "\r\x1b") {
		t.Fatalf("plain output holds carriage returns or escapes: %q", out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 10 {
		t.Fatalf("%d lines, want 5 per phase:\n%s", len(lines), out.String())
	}
	for i, want := range []string{"reading feed.zip (bytes): 0/1000 (0 %)", "reading feed.zip (bytes): 1000/1000 (100 %)", "writing rows: 1/22730 (0 %)", "writing rows: 22730/22730 (100 %)"} {
		got := lines[[]int{0, 4, 5, 9}[i]]
		if !strings.HasPrefix(got, want) {
			t.Errorf("line %q, want it to start %q", got, want)
		}
	}
}

// TestQuarter pins the rounding of quarters, including empty and overshot totals.
func TestQuarter(t *testing.T) {
	for _, c := range []struct {
		done, total int64
		want        int
	}{{0, 0, 0}, {5, 0, 0}, {0, 100, 0}, {24, 100, 0}, {25, 100, 1}, {99, 100, 3}, {100, 100, 4}, {150, 100, 4}, {-1, 100, 0}} {
		if got := quarter(c.done, c.total); got != c.want {
			t.Errorf("quarter(%d, %d) = %d, want %d", c.done, c.total, got, c.want)
		}
	}
}
