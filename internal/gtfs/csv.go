package gtfs

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"iter"
	"strconv"
	"strings"
)

// progress counts uncompressed bytes read across the feed's files.
type progress struct {
	fn          func(done, total int64)
	done, total int64
	last        int64
}

const progressStep = 64 << 10

func (p *progress) add(n int) {
	p.done += int64(n)
	if p.fn != nil && p.done-p.last >= progressStep {
		p.last = p.done
		if p.done > p.total {
			p.total = p.done
		}
		p.fn(p.done, p.total)
	}
}

func (p *progress) finish() {
	if p.fn != nil {
		if p.done > p.total {
			p.total = p.done
		}
		p.fn(p.total, p.total)
	}
}

type countingReader struct {
	r io.Reader
	p *progress
}

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.p.add(n)
	return n, err
}

// table reads one CSV file of the feed row by row, looking fields up by header name.
type table struct {
	name   string
	rc     io.ReadCloser
	r      *csv.Reader
	header []string
	cols   map[string]int
	rec    []string
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// maxFileBytes bounds one file of a feed once decompressed. archive/zip
// refuses data longer than the size a file declares, so checking the
// declared size keeps a zip bomb from exhausting memory or disk.
const maxFileBytes = 2 << 30

// openTable opens a file of the archive and reads its header. An empty
// file yields a table with no header and no rows.
func openTable(f *zip.File, p *progress) (*table, error) {
	t := &table{name: f.Name, cols: map[string]int{}}
	if f.UncompressedSize64 > maxFileBytes {
		return nil, newError(f.Name, 0, "", "文件解压后超过 %d 字节", "file is larger than %d bytes uncompressed", int64(maxFileBytes))
	}
	rc, err := f.Open()
	if err != nil {
		return nil, newError(f.Name, 0, "", "无法读取文件：%v", "cannot read file: %v", err)
	}
	t.rc = rc
	br := bufio.NewReaderSize(countingReader{rc, p}, 64<<10)
	if b, _ := br.Peek(3); bytes.Equal(b, utf8BOM) {
		br.Discard(3)
	}
	t.r = csv.NewReader(br)
	t.r.ReuseRecord = true
	rec, err := t.r.Read()
	if err == io.EOF {
		return t, nil
	}
	if err != nil {
		rc.Close()
		return nil, t.readError(rec, err)
	}
	t.header = make([]string, len(rec))
	for i, h := range rec {
		h = strings.TrimSpace(h)
		t.header[i] = h
		if h == "" {
			continue
		}
		if _, dup := t.cols[h]; dup {
			rc.Close()
			return nil, newError(t.name, 1, h, "列名重复", "duplicate column")
		}
		t.cols[h] = i
	}
	return t, nil
}

func (t *table) close() {
	if t != nil && t.rc != nil {
		t.rc.Close()
	}
}

// col returns the index of a column, or -1 if the file does not have it.
func (t *table) col(name string) int {
	if i, ok := t.cols[name]; ok {
		return i
	}
	return -1
}

// require checks that every named column is present.
func (t *table) require(names ...string) error {
	if t.header == nil {
		return newError(t.name, 1, "", "文件为空，缺少表头", "file is empty: no header row")
	}
	for _, n := range names {
		if _, ok := t.cols[n]; !ok {
			return newError(t.name, 1, n, "缺少必需的列", "missing required column")
		}
	}
	return nil
}

// rows iterates over the file's records, each made current in turn. A read
// error is yielded once, as the last value; a nil value means a row is ready.
func (t *table) rows() iter.Seq[error] {
	return func(yield func(error) bool) {
		if t.header == nil {
			return
		}
		for {
			rec, err := t.r.Read()
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(t.readError(rec, err))
				return
			}
			t.rec = rec
			if !yield(nil) {
				return
			}
		}
	}
}

// readError turns a CSV or decompression error into an *Error.
func (t *table) readError(rec []string, err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return newError(t.name, 0, "", "无法读取文件：%v", "cannot read file: %v", err)
	}
	if errors.Is(pe.Err, csv.ErrFieldCount) {
		return newError(t.name, pe.StartLine, "", "该行有 %d 个字段，表头有 %d 个", "row has %d fields, header has %d", len(rec), len(t.header))
	}
	// On a quote error the reader returns the fields completed before the
	// faulty one, so the faulty field's index is len(rec).
	col := ""
	if len(rec) < len(t.header) {
		col = t.header[len(rec)]
	}
	at, atZH := "", ""
	if pe.Line != pe.StartLine {
		at = " (at line " + itoa(pe.Line) + ", character " + itoa(pe.Column) + ")"
		atZH = "（第 " + itoa(pe.Line) + " 行第 " + itoa(pe.Column) + " 个字符处）"
	} else {
		at = " (at character " + itoa(pe.Column) + ")"
		atZH = "（第 " + itoa(pe.Column) + " 个字符处）"
	}
	return &Error{File: t.name, Line: pe.StartLine, Column: col, Msg: "malformed CSV: " + pe.Err.Error() + at, MsgZH: "CSV 格式错误（引号不匹配）" + atZH}
}

func itoa(n int) string { return strconv.Itoa(n) }

// get returns field i of the current row, or "" when the column is absent.
func (t *table) get(i int) string {
	if i < 0 {
		return ""
	}
	return t.rec[i]
}

// line returns the line on which field i of the current row starts (the
// row's first line if i < 0).
func (t *table) line(i int) int {
	if i < 0 {
		i = 0
	}
	l, _ := t.r.FieldPos(i)
	return l
}

// errf reports a problem with field i of the current row (the whole row if i < 0).
func (t *table) errf(i int, zh, en string, args ...any) error {
	col := ""
	if i >= 0 {
		col = t.header[i]
	}
	return newError(t.name, t.line(i), col, zh, en, args...)
}

// errAt reports a problem found after reading, at a remembered line and a column name.
func (t *table) errAt(line int, col, zh, en string, args ...any) error {
	return newError(t.name, line, col, zh, en, args...)
}
