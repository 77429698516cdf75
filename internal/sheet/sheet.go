// Package sheet writes tables for people to open in a spreadsheet: CSV
// (UTF-8 with a byte order mark, so spreadsheets read Chinese right) and
// XLSX (through excelize). Every export of piao — reconciliations,
// statements, ledger entries, campaign statistics — goes through it, so
// each is offered in both formats and no cell is ever taken for a formula.
package sheet

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"piao/internal/fault"
)

// Format is a file format of an export.
type Format string

// The formats an export is offered in.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// ErrFormat refuses a format piao does not write.
var ErrFormat = fault.New(fault.Invalid, "export_format", "导出格式只能是 csv 或 xlsx", "the export format must be csv or xlsx")

// ParseFormat reads a format name; empty is CSV.
func ParseFormat(s string) (Format, error) {
	switch Format(strings.ToLower(strings.TrimSpace(s))) {
	case "", CSV:
		return CSV, nil
	case XLSX:
		return XLSX, nil
	}
	return "", ErrFormat
}

// ContentType is the media type of a file in the format.
func (f Format) ContentType() string {
	if f == XLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8"
}

// FileName is base with the format's extension.
func (f Format) FileName(base string) string { return base + "." + string(f) }

// Table is what an export holds: a name (the XLSX sheet's), a header row
// and rows of cells. A cell is a string, or an integer (int, int64: money
// in fen, counts), which XLSX keeps as a number.
type Table struct {
	Name   string
	Header []string
	Rows   [][]any
}

// Add appends a row.
func (t *Table) Add(cells ...any) { t.Rows = append(t.Rows, cells) }

// Write writes t to w in format f.
func Write(w io.Writer, f Format, t Table) error {
	if f == XLSX {
		return writeXLSX(w, t)
	}
	return writeCSV(w, t)
}

func writeCSV(w io.Writer, t Table) error {
	var b bytes.Buffer
	b.WriteString("\ufeff")
	cw := csv.NewWriter(&b)
	cw.Write(t.Header)
	for _, row := range t.Rows {
		out := make([]string, len(row))
		for i, c := range row {
			out[i] = Cell(text(c))
		}
		cw.Write(out)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fault.Wrap(err, "write csv")
	}
	_, err := w.Write(b.Bytes())
	return err
}

func writeXLSX(w io.Writer, t Table) error {
	f := excelize.NewFile()
	defer f.Close()
	name := t.Name
	if name == "" {
		name = "Sheet1"
	}
	if len([]rune(name)) > 31 { // XLSX's limit on sheet names
		name = string([]rune(name)[:31])
	}
	if err := f.SetSheetName("Sheet1", name); err != nil {
		return fault.Wrap(err, "name sheet")
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return fault.Wrap(err, "xlsx stream")
	}
	header := make([]any, len(t.Header))
	for i, h := range t.Header {
		header[i] = h
	}
	if err := sw.SetRow("A1", header); err != nil {
		return fault.Wrap(err, "xlsx header")
	}
	for r, row := range t.Rows {
		cells := make([]any, len(row))
		for i, c := range row {
			switch v := c.(type) {
			case int, int64, int32:
				cells[i] = v
			default:
				cells[i] = text(c) // written as a string cell, never a formula
			}
		}
		at, _ := excelize.CoordinatesToCellName(1, r+2)
		if err := sw.SetRow(at, cells); err != nil {
			return fault.Wrap(err, "xlsx row")
		}
	}
	if err := sw.Flush(); err != nil {
		return fault.Wrap(err, "xlsx flush")
	}
	return fault.Wrap(f.Write(w), "write xlsx")
}

func text(c any) string {
	switch v := c.(type) {
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case nil:
		return ""
	}
	return fmt.Sprint(c)
}

// Cell makes a CSV cell safe to open in a spreadsheet: text starting like a
// formula (=, +, -, @, tab, return) gets a leading apostrophe; numbers,
// negative or not, stay numbers.
func Cell(s string) string {
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
