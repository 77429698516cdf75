package distribution

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"piao/internal/fault"
)

// Kind is what a list's lines name: phone numbers or account IDs.
type Kind string

// List kinds, named by the header of the list's one recipient column.
const (
	ByPhone   Kind = "phone"
	ByAccount Kind = "account"
)

// Roster limits.
const (
	// MaxRows is the most recipient lines one list holds.
	MaxRows = 10_000
	// MaxErrors is the most line errors one refusal names.
	MaxErrors = 100
	// MaxNote is the most characters a line's note keeps.
	MaxNote = 200
	// MaxBytes bounds an uploaded list (the API's body limit): 10,000
	// lines of a phone and a note of some 30 Chinese characters.
	MaxBytes = 1 << 20
)

// Row is one recipient line of a roster as uploaded.
type Row struct {
	Line    int    // the line number in the file, the header being line 1
	Phone   string // canonical 11-digit mobile number, for ByPhone
	Account int64  // for ByAccount
	Note    string
}

// LineError is what is wrong with one line (and column) of a roster.
type LineError struct {
	Line   int    `json:"line"`
	Column string `json:"column,omitempty"`
	ZH     string `json:"message_zh"`
	EN     string `json:"message_en"`
}

// Message is the error in both languages, naming its line and column:
// "第 7 行 phone 列：… / line 7, column phone: …".
func (e LineError) Message() string {
	if e.Column == "" {
		return fmt.Sprintf("第 %d 行：%s / line %d: %s", e.Line, e.ZH, e.Line, e.EN)
	}
	return fmt.Sprintf("第 %d 行 %s 列：%s / line %d, column %s: %s", e.Line, e.Column, e.ZH, e.Line, e.Column, e.EN)
}

// RosterError refuses a whole roster: every line error found (at most
// MaxErrors of them; Total counts all), nothing issued.
type RosterError struct {
	Fault *fault.Error
	Lines []LineError
	Total int
}

// Error returns the fault's message.
func (e *RosterError) Error() string { return e.Fault.Error() }

// Unwrap returns the fault, so fault.As and fault.CodeOf see it.
func (e *RosterError) Unwrap() error { return e.Fault }

// errs collects line errors.
type errs struct{ lines []LineError }

func (e *errs) add(line int, column, zh, en string) {
	e.lines = append(e.lines, LineError{Line: line, Column: column, ZH: zh, EN: en})
}

func (e *errs) addf(line int, column, zh, en string, args ...any) {
	e.add(line, column, fmt.Sprintf(zh, args...), fmt.Sprintf(en, args...))
}

// err is the refusal of the roster, or nil without errors: the first
// MaxErrors errors by line, and how many there are.
func (e *errs) err() error {
	n := len(e.lines)
	if n == 0 {
		return nil
	}
	slices.SortStableFunc(e.lines, func(a, b LineError) int { return a.Line - b.Line })
	return &RosterError{
		Fault: fault.Newf(fault.Invalid, "bad_list", "名单有 %d 处错误，未发放任何票券", "the list has errors (%d); nothing was issued", n),
		Lines: e.lines[:min(n, MaxErrors)], Total: n,
	}
}

// ParseRoster reads a roster: CSV in UTF-8 (a byte-order mark is skipped),
// a header naming one recipient column, phone or account, and optionally
// a note column; then 1 to MaxRows recipient lines. It checks every line
// and returns the rows, or a *RosterError naming each bad line and column.
// A phone line's number must be a mainland mobile number (+86, spaces and
// hyphens are forgiven); an account line's a positive account ID. A
// recipient listed twice is refused on its second line, naming the first.
func ParseRoster(data []byte) (Kind, []Row, error) {
	var e errs
	kind, rows := parseRoster(data, &e)
	if err := e.err(); err != nil {
		return "", nil, err
	}
	return kind, rows, nil
}

// parseRoster reads a roster as ParseRoster does, adding each error to e,
// and returns its kind ("" if the header is wrong) and the rows that are
// right.
func parseRoster(data []byte, e *errs) (Kind, []Row) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if len(bytes.TrimSpace(data)) == 0 {
		e.add(1, "", "名单为空：第一行应为表头 phone 或 account", "the list is empty: its first line must be the header, phone or account")
		return "", nil
	}
	if bad := firstBadUTF8Line(data); bad > 0 {
		e.add(bad, "", "不是 UTF-8 编码（请将文件另存为 UTF-8 CSV）", "not UTF-8 text (save the file as UTF-8 CSV)")
		return "", nil
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1 // ragged rows are reported per line below
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		e.add(csvLine(err, 1), "", "无法读取表头", "the header cannot be read")
		return "", nil
	}
	kind, col, noteCol := Kind(""), -1, -1
	for i, h := range header {
		switch name := strings.ToLower(strings.TrimSpace(h)); name {
		case string(ByPhone), string(ByAccount):
			if col >= 0 {
				e.add(1, name, "表头只能有一个收件人列（phone 或 account）", "the header names one recipient column only (phone or account)")
				continue
			}
			kind, col = Kind(name), i
		case "note":
			noteCol = i
		default:
			e.addf(1, h, "未知的列 %q（可用 phone 或 account，及可选的 note）", "unknown column %q (use phone or account, and optionally note)", h)
		}
	}
	if col < 0 && len(e.lines) == 0 {
		e.add(1, "", "表头应有 phone 或 account 列", "the header must name a phone or account column")
	}
	if len(e.lines) > 0 {
		return "", nil
	}
	var rows []Row
	firstPhone, firstAccount := map[string]int{}, map[int64]int{}
	lines := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			e.add(csvLine(err, line), "", "CSV 格式错误（引号不配对？）", "malformed CSV (an unbalanced quote?)")
			break // the reader cannot resynchronise after a quoting error
		}
		if blank(rec) {
			continue // a line of only white space or empty fields
		}
		lines++
		if lines > MaxRows {
			e.addf(line, "", "名单最多 %d 行", "a list holds at most %d lines", MaxRows)
			break
		}
		if len(rec) != len(header) {
			e.addf(line, "", "有 %d 列，表头有 %d 列", "has %d columns where the header has %d", len(rec), len(header))
			continue
		}
		row, before := Row{Line: line}, len(e.lines)
		if noteCol >= 0 {
			row.Note = strings.TrimSpace(rec[noteCol])
			if utf8.RuneCountInString(row.Note) > MaxNote {
				e.addf(line, "note", "备注最多 %d 字", "a note is at most %d characters", MaxNote)
			}
		}
		v := strings.TrimSpace(rec[col])
		switch kind {
		case ByPhone:
			p, ok := mobile(v)
			switch {
			case v == "":
				e.add(line, "phone", "缺少手机号", "the phone number is missing")
			case !ok:
				e.add(line, "phone", "不是有效的手机号", "not a mobile number")
			case firstPhone[p] > 0:
				e.addf(line, "phone", "与第 %d 行重复", "duplicate of line %d", firstPhone[p])
			default:
				firstPhone[p], row.Phone = line, p
			}
		case ByAccount:
			id, err := strconv.ParseInt(v, 10, 64)
			switch {
			case v == "":
				e.add(line, "account", "缺少账号", "the account is missing")
			case err != nil || id < 1:
				e.add(line, "account", "不是有效的账号编号", "not an account ID")
			case firstAccount[id] > 0:
				e.addf(line, "account", "与第 %d 行重复", "duplicate of line %d", firstAccount[id])
			default:
				firstAccount[id], row.Account = line, id
			}
		}
		if len(e.lines) == before {
			rows = append(rows, row)
		}
	}
	if lines == 0 && len(e.lines) == 0 {
		e.add(2, "", "名单没有收件人", "the list names nobody")
	}
	return kind, rows
}

// mobile returns the canonical form of a mainland mobile number: 11 digits
// starting 1[3-9], after dropping +86/86, spaces and hyphens.
func mobile(s string) (string, bool) {
	s = strings.NewReplacer(" ", "", "-", "", "\u00a0", "").Replace(s)
	if len(s) == 14 && strings.HasPrefix(s, "+86") {
		s = s[3:]
	} else if len(s) == 13 && strings.HasPrefix(s, "86") {
		s = s[2:]
	}
	if len(s) != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9' {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	return s, true
}

// blank reports whether every field of rec is white space.
func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// firstBadUTF8Line is the first line holding bytes that are not UTF-8, or 0.
func firstBadUTF8Line(data []byte) int {
	if utf8.Valid(data) {
		return 0
	}
	for i, line := range bytes.Split(data, []byte("\n")) {
		if !utf8.Valid(line) {
			return i + 1
		}
	}
	return 1
}

// csvLine is the line a CSV parse error names, or def.
func csvLine(err error, def int) int {
	var pe *csv.ParseError
	if errors.As(err, &pe) && pe.Line > 0 {
		return pe.Line
	}
	return def
}
