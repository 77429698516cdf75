package distribution_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"piao/internal/benefits"
	"piao/internal/distribution"
	"piao/internal/fault"
)

// TestParseRosterRefusesBadLines checks that each kind of bad line is
// named by its line and column, and that a refused roster yields no rows.
func TestParseRosterRefusesBadLines(t *testing.T) {
	cases := []struct {
		name, csv string
		want      []string // "line:column" of each error, in order
	}{
		{"empty file", "", []string{"1:"}},
		{"header only", "phone\n", []string{"2:"}},
		{"unknown column", "phone,name\n13800000000,x\n", []string{"1:name"}},
		{"no recipient column", "note\nhello\n", []string{"1:"}},
		{"two recipient columns", "phone,account\n13800000000,3\n", []string{"1:account"}},
		{"not a mobile number", "phone\n13800000000\n12345\n", []string{"3:phone"}},
		{"landline prefix", "phone\n12800000000\n", []string{"2:phone"}},
		{"missing phone", "phone,note\n,hello\n", []string{"2:phone"}},
		{"duplicate phone", "phone\n13800000000\n13900000000\n+86 138-0000-0000\n", []string{"4:phone"}},
		{"bad account", "account\n3\n0\nabc\n-4\n", []string{"3:account", "4:account", "5:account"}},
		{"duplicate account", "account\n3\n4\n3\n", []string{"4:account"}},
		{"ragged row", "phone,note\n13800000000,a\n13900000000\n13700000000,b,c\n", []string{"3:", "4:"}},
		{"note too long", "phone,note\n13800000000," + strings.Repeat("长", 201) + "\n", []string{"2:note"}},
		{"not utf-8", "phone,note\n13800000000,ok\n13900000000,\xb2\xe2\xca\xd4\n", []string{"3:"}},
		{"unbalanced quote", "phone,note\n13800000000,\"open\n", []string{"2:"}},
		{"several errors", "phone\n1\n13800000000\n2\n", []string{"2:phone", "4:phone"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, rows, err := distribution.ParseRoster([]byte(c.csv))
			var re *distribution.RosterError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a RosterError", err)
			}
			if rows != nil {
				t.Errorf("rows = %v, want none", rows)
			}
			if fault.CodeOf(err) != fault.Invalid || fault.As(err).Reason != "bad_list" {
				t.Errorf("fault = %v", err)
			}
			var got []string
			for _, l := range re.Lines {
				got = append(got, fmt.Sprintf("%d:%s", l.Line, l.Column))
				if !strings.Contains(l.Message(), fmt.Sprintf("第 %d 行", l.Line)) || !strings.Contains(l.Message(), fmt.Sprintf("line %d", l.Line)) {
					t.Errorf("message %q does not name line %d", l.Message(), l.Line)
				}
			}
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("errors at %v, want %v (%+v)", got, c.want, re.Lines)
			}
			if re.Total != len(re.Lines) {
				t.Errorf("total %d, lines %d", re.Total, len(re.Lines))
			}
		})
	}
}

func TestParseRosterReadsGoodLists(t *testing.T) {
	kind, rows, err := distribution.ParseRoster([]byte("\ufeffPhone , note\r\n138 0000 0000,VIP\r\n\r\n+8613900000000,\r\n"))
	if err != nil || kind != distribution.ByPhone || len(rows) != 2 {
		t.Fatalf("ParseRoster = %v %v %v", kind, rows, err)
	}
	if rows[0] != (distribution.Row{Line: 2, Phone: "13800000000", Note: "VIP"}) || rows[1] != (distribution.Row{Line: 4, Phone: "13900000000"}) {
		t.Errorf("rows = %+v", rows)
	}
	kind, rows, err = distribution.ParseRoster([]byte("account\n7\n9\n"))
	if err != nil || kind != distribution.ByAccount || len(rows) != 2 || rows[1].Account != 9 || rows[1].Line != 3 {
		t.Fatalf("accounts = %v %+v %v", kind, rows, err)
	}
}

func TestParseRosterBounds(t *testing.T) {
	var b strings.Builder
	b.WriteString("account\n")
	for i := 1; i <= distribution.MaxRows; i++ {
		fmt.Fprintf(&b, "%d\n", i)
	}
	if _, rows, err := distribution.ParseRoster([]byte(b.String())); err != nil || len(rows) != distribution.MaxRows {
		t.Fatalf("a full list: %d rows, %v", len(rows), err)
	}
	b.WriteString("0\n")
	_, _, err := distribution.ParseRoster([]byte(b.String()))
	var re *distribution.RosterError
	if !errors.As(err, &re) || re.Lines[len(re.Lines)-1].Line != distribution.MaxRows+2 {
		t.Fatalf("one line too many: %v", err)
	}
	// Many bad lines: the first MaxErrors are named, all are counted.
	var bad strings.Builder
	bad.WriteString("phone\n")
	for range 250 {
		bad.WriteString("x\n")
	}
	_, _, err = distribution.ParseRoster([]byte(bad.String()))
	if !errors.As(err, &re) || len(re.Lines) != distribution.MaxErrors || re.Total != 250 {
		t.Fatalf("many errors: %d named of %d", len(re.Lines), re.Total)
	}
}

func TestVerdict(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	fresh := benefits.Ticket{ID: 1, Holder: 5, State: benefits.Held, RidesTotal: 2, RidesLeft: 2, Window: benefits.Window{From: now.Add(-time.Hour), Until: now.Add(time.Hour)}}
	cases := []struct {
		name string
		edit func(*benefits.Ticket)
		want distribution.Outcome
	}{
		{"unused and held", func(*benefits.Ticket) {}, distribution.Revoke},
		{"not yet valid", func(t *benefits.Ticket) { t.Window.From = now.Add(time.Minute) }, distribution.Revoke},
		{"one ride taken", func(t *benefits.Ticket) { t.RidesLeft = 1 }, distribution.Used},
		{"consumed", func(t *benefits.Ticket) { t.State, t.RidesLeft = benefits.Consumed, 0 }, distribution.Used},
		{"being gifted", func(t *benefits.Ticket) { t.State = benefits.Gifting }, distribution.Gifted},
		{"given away", func(t *benefits.Ticket) { t.Holder = 6 }, distribution.Gifted},
		{"expired", func(t *benefits.Ticket) { t.Window.Until = now }, distribution.Lapsed},
		{"revoked before", func(t *benefits.Ticket) { t.State = benefits.Revoked }, distribution.AlreadyRevoked},
	}
	for _, c := range cases {
		tk := fresh
		c.edit(&tk)
		if got := distribution.Verdict(tk, 5, now); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
