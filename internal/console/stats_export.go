package console

import (
	"bytes"
	"net/http"
	"strconv"

	"piao/internal/sheet"
)

// sheetDownload writes an export's rows (a header, then data) in the
// format the query asks for (?format=csv, the default, or xlsx) through
// internal/sheet, as base.csv or base.xlsx. Integer cells become numbers
// in XLSX; every other cell stays text, never a formula.
func (c *Console) sheetDownload(w http.ResponseWriter, r *http.Request, st *state, base, name string, rows [][]string) {
	f, err := sheet.ParseFormat(r.URL.Query().Get("format"))
	if err != nil {
		c.fail(w, r, st, err)
		return
	}
	t := sheet.Table{Name: name}
	if len(rows) > 0 {
		t.Header = rows[0]
		rows = rows[1:]
	}
	for _, row := range rows {
		cells := make([]any, len(row))
		for i, s := range row {
			cells[i] = s
			if n, err := strconv.ParseInt(s, 10, 64); err == nil && strconv.FormatInt(n, 10) == s {
				cells[i] = n
			}
		}
		t.Rows = append(t.Rows, cells)
	}
	var b bytes.Buffer
	if err := sheet.Write(&b, f, t); err != nil {
		c.fail(w, r, st, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ContentType())
	h.Set("Content-Disposition", `attachment; filename="`+f.FileName(base)+`"`)
	w.Write(b.Bytes())
}
