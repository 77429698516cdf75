package sheet

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

func table() Table {
	t := Table{Name: "对账 reconciliation", Header: []string{"id", "名称", "amount_fen"}}
	t.Add("p-1", "=HYPERLINK(\"x\")", int64(-1250))
	t.Add("p-2", "宁波轨道交通", 300)
	return t
}

func TestCSV(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, CSV, table()); err != nil {
		t.Fatal(err)
	}
	want := "\ufeffid,名称,amount_fen\np-1,\"'=HYPERLINK(\"\"x\"\")\",-1250\np-2,宁波轨道交通,300\n"
	if b.String() != want {
		t.Fatalf("csv:\n%q\nwant\n%q", b.String(), want)
	}
}

func TestXLSX(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, XLSX, table()); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	name := f.GetSheetName(0)
	rows, err := f.GetRows(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[1][1] != "=HYPERLINK(\"x\")" || rows[2][1] != "宁波轨道交通" || rows[1][2] != "-1250" {
		t.Fatalf("rows %q", rows)
	}
	if formula, _ := f.GetCellFormula(name, "B2"); formula != "" {
		t.Fatalf("B2 became a formula %q", formula)
	}
	if typ, _ := f.GetCellType(name, "C2"); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
		t.Fatalf("C2 has type %v, want a number", typ)
	}
	if !strings.HasPrefix(name, "对账") {
		t.Fatalf("sheet %q", name)
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"": CSV, "CSV": CSV, "xlsx": XLSX} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	if _, err := ParseFormat("pdf"); err == nil {
		t.Fatal("pdf accepted")
	}
}
