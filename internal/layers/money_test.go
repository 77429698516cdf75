package layers_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// moneyPackages are where money is computed, kept or moved: no float may
// appear in them (SPEC: money is integer fen; docs/MONEY.md's rounding rule),
// except the few values the allowlist names, which are not money.
var moneyPackages = []string{
	"internal/ledger", "internal/purchase", "internal/payment", "internal/payment/sandbox",
	"internal/fees", "internal/merchant", "internal/distribution", "internal/subsidy",
	"internal/metro", "internal/benefits", "internal/booking", "internal/sheet",
	"internal/employer", "internal/reconcile", "internal/invoice", "internal/sale",
}

// floatAllowed names, as "package/file.go:identifier", the floats in money
// packages that are not money: the identifier is the declared field or
// variable, or the function a conversion is in.
var floatAllowed = map[string]string{
	"internal/fees/fees.go:MinHoursBefore":  "hours before departure, not money",
	"internal/benefits/store.go:Conversion": "a share of tickets used, not money",
	"internal/benefits/store.go:Finish":     "computes Conversion from counts",
	"internal/booking/waitlist.go:estimate": "a waitlist entry's chance of a seat, from counts",
	"internal/invoice/pdf.go:*":             "page geometry in millimetres; amounts are printed from fen with integers",
}

// TestNoFloatOnMoneyPaths fails when a money package declares a float or
// converts to one outside the allowlist: a float on a money path loses fen.
func TestNoFloatOnMoneyPaths(t *testing.T) {
	root := moduleRoot(t)
	for _, pkg := range moneyPackages {
		files, _ := filepath.Glob(filepath.Join(root, pkg, "*.go"))
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			rel := pkg + "/" + filepath.Base(file)
			f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, found := range floatsIn(f) {
				_, whole := floatAllowed[rel+":*"]
				if _, ok := floatAllowed[rel+":"+found]; !ok && !whole && !seen[found] {
					seen[found] = true
					t.Errorf("%s: a float in %s, on a money path (integer fen only; if it is not money, add it to floatAllowed with why)", rel, found)
				}
			}
		}
	}
}

// floatsIn returns, for each float type or conversion in f, the name of the
// field or variable declared with it or of the function it is in.
func floatsIn(f *ast.File) []string {
	var out []string
	isFloat := func(e ast.Expr) bool {
		id, ok := e.(*ast.Ident)
		return ok && (id.Name == "float64" || id.Name == "float32")
	}
	for _, d := range f.Decls {
		where := ""
		if fn, ok := d.(*ast.FuncDecl); ok {
			where = fn.Name.Name
		}
		ast.Inspect(d, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.Field:
				if isFloat(n.Type) {
					for _, name := range n.Names {
						out = append(out, name.Name)
					}
					if len(n.Names) == 0 {
						out = append(out, where)
					}
				}
			case *ast.ValueSpec:
				if n.Type != nil && isFloat(n.Type) {
					for _, name := range n.Names {
						out = append(out, name.Name)
					}
				}
			case *ast.CallExpr:
				if isFloat(n.Fun) {
					out = append(out, where)
				}
			case *ast.BasicLit:
				if n.Kind == token.FLOAT {
					out = append(out, where)
				}
			}
			return true
		})
	}
	return out
}

// moduleRoot is the directory holding go.mod.
func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

// TestFloatsIn: the finder sees float fields, variables, conversions and
// literals, and names where each is.
func TestFloatsIn(t *testing.T) {
	src := `package p
type Line struct{ AmountFen int64; Rate float64 }
var total float32
func fee(fen int64) int64 { return int64(float64(fen) * 0.006) }
func ok(fen int64) int64 { return fen * 6 / 1000 }
`
	f, err := parser.ParseFile(token.NewFileSet(), "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(floatsIn(f), ",")
	if got != "Rate,total,fee,fee" {
		t.Fatalf("found %q", got)
	}
}
