package employer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"piao/internal/distribution"
	"piao/internal/fault"
	"piao/internal/realname"
	"piao/internal/sheet"
)

// MaxImportBytes bounds an uploaded roster: 10,000 lines of some 100 bytes.
const MaxImportBytes = 1 << 20

// Columns are the roster's CSV columns, in export order; number, name and
// phone are required on import, the others optional.
var Columns = []string{"number", "name", "phone", "department", "joined"}

// headerAliases lets a roster use the Chinese column names its export
// shows beside the English ones.
var headerAliases = map[string]string{
	"工号": "number", "姓名": "name", "手机号": "phone", "手机": "phone", "部门": "department", "入职日期": "joined",
}

// importErrs collects what is wrong with a roster, line by line.
type importErrs struct{ lines []distribution.LineError }

func (e *importErrs) add(line int, column, zh, en string) {
	e.lines = append(e.lines, distribution.LineError{Line: line, Column: column, ZH: zh, EN: en})
}

func (e *importErrs) addf(line int, column, zh, en string, args ...any) {
	e.add(line, column, fmt.Sprintf(zh, args...), fmt.Sprintf(en, args...))
}

// err refuses the whole roster naming every error (the first
// distribution.MaxErrors by line), or is nil without errors.
func (e *importErrs) err() error {
	n := len(e.lines)
	if n == 0 {
		return nil
	}
	slices.SortStableFunc(e.lines, func(a, b distribution.LineError) int { return a.Line - b.Line })
	return &distribution.RosterError{
		Fault: fault.Newf(fault.Invalid, "bad_roster", "花名册有 %d 处错误，未导入任何员工", "the roster has errors (%d); nobody was imported", n),
		Lines: e.lines[:min(n, distribution.MaxErrors)], Total: n,
	}
}

// ImportLine is an employee read from a roster, with its line number.
type ImportLine struct {
	Line int
	Employee
}

// ParseRoster reads a roster: UTF-8 CSV (a byte-order mark, CRLF and blank
// lines are fine), a header naming the columns (Columns, or their Chinese
// names), then 1 to MaxRoster employees. Every line is checked; a number
// or phone given twice is refused on its second line, naming the first.
// Any error refuses the whole roster with a *distribution.RosterError
// naming each bad line and column.
func ParseRoster(data []byte) ([]ImportLine, error) {
	var e importErrs
	rows := parseRoster(data, &e)
	if err := e.err(); err != nil {
		return nil, err
	}
	return rows, nil
}

func parseRoster(data []byte, e *importErrs) []ImportLine {
	if len(data) > MaxImportBytes {
		e.addf(1, "", "花名册最大 %d 字节", "a roster is at most %d bytes", MaxImportBytes)
		return nil
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if len(bytes.TrimSpace(data)) == 0 {
		e.add(1, "", "花名册为空：第一行应为表头", "the roster is empty: its first line must be the header")
		return nil
	}
	if !utf8.Valid(data) {
		e.add(1, "", "不是 UTF-8 编码（请将文件另存为 UTF-8 CSV）", "not UTF-8 text (save the file as UTF-8 CSV)")
		return nil
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		e.add(1, "", "无法读取表头", "the header cannot be read")
		return nil
	}
	col := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if a, ok := headerAliases[strings.TrimSpace(h)]; ok {
			name = a
		}
		switch {
		case !slices.Contains(Columns, name):
			e.addf(1, h, "未知的列 %q（可用 %s）", "unknown column %q (use %s)", h, strings.Join(Columns, ", "))
		case col[name] > 0:
			e.addf(1, name, "列 %s 重复", "column %s is given twice", name)
		default:
			col[name] = i + 1 // 0 means absent
		}
	}
	for _, need := range []string{"number", "name", "phone"} {
		if col[need] == 0 {
			e.addf(1, need, "表头缺少 %s 列", "the header has no %s column", need)
		}
	}
	if len(e.lines) > 0 {
		return nil
	}
	get := func(rec []string, name string) string {
		if i := col[name]; i > 0 {
			return rec[i-1]
		}
		return ""
	}
	var rows []ImportLine
	firstNumber, firstPhone := map[string]int{}, map[string]int{}
	lines := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			e.add(line, "", "CSV 格式错误（引号不配对？）", "malformed CSV (an unbalanced quote?)")
			break
		}
		if !slices.ContainsFunc(rec, func(f string) bool { return strings.TrimSpace(f) != "" }) {
			continue
		}
		lines++
		if lines > MaxRoster {
			e.addf(line, "", "一次最多导入 %d 名员工", "one import holds at most %d employees", MaxRoster)
			break
		}
		if len(rec) != len(header) {
			e.addf(line, "", "有 %d 列，表头有 %d 列", "has %d columns where the header has %d", len(rec), len(header))
			continue
		}
		emp := Employee{Number: get(rec, "number"), Name: get(rec, "name"), Phone: get(rec, "phone"), Department: get(rec, "department"), Status: Active}
		before := len(e.lines)
		if f := emp.check(); f != nil {
			fe := fault.As(f.err)
			e.add(line, f.column, fe.ZH, fe.EN)
		}
		if d, err := parseDate(get(rec, "joined")); err != nil {
			fe := fault.As(err)
			e.add(line, "joined", fe.ZH, fe.EN)
		} else {
			emp.Joined = d
		}
		if len(e.lines) > before {
			continue
		}
		if first := firstNumber[emp.Number]; first > 0 {
			e.addf(line, "number", "工号与第 %d 行重复", "the number repeats line %d", first)
		} else {
			firstNumber[emp.Number] = line
		}
		if first := firstPhone[emp.Phone]; first > 0 {
			e.addf(line, "phone", "手机号与第 %d 行重复", "the phone repeats line %d", first)
		} else {
			firstPhone[emp.Phone] = line
		}
		if len(e.lines) == before {
			rows = append(rows, ImportLine{Line: line, Employee: emp})
		}
	}
	if lines == 0 && len(e.lines) == 0 {
		e.add(2, "", "花名册没有员工", "the roster names nobody")
	}
	return rows
}

// Sheet is the roster as an export table (CSV or XLSX through
// internal/sheet), phones masked: an export leaves the platform.
func Sheet(es []Employee) sheet.Table {
	t := sheet.Table{Name: "roster", Header: []string{"number", "name", "phone", "department", "joined", "status", "left", "linked"}}
	for _, e := range es {
		linked := "no"
		if e.Account != 0 {
			linked = "yes"
		}
		t.Add(e.Number, e.Name, realname.MaskPhone(e.Phone), e.Department, dateText(e.Joined), string(e.Status), dateText(e.Left), linked)
	}
	return t
}

func dateText(d interface {
	IsZero() bool
	String() string
}) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}
